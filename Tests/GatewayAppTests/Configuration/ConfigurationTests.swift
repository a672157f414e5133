import Foundation
import GatewayCore
import GatewayTestSupport
import Testing

@testable import GatewayApp

@Suite struct ConfigurationTests {
    @Test func defaultsAreValid() throws {
        let configuration = try GatewayConfiguration.load(tomlText: nil, environment: [:])
        #expect(configuration == GatewayConfiguration())
        #expect(configuration.tickets.policy.p0Urban.arriveSeconds == 30 * 60)
        #expect(configuration.tickets.policy.p0Rural.arriveSeconds == 60 * 60)
    }

    @Test func fileValuesThenEnvironmentOverridesApply() throws {
        let toml = """
            [mqtt]
            host = "broker.example"
            port = 8883
            [mqtt.tls]
            verify_hostname = false
            [spool]
            fsync_interval_ms = 0
            """
        let configuration = try GatewayConfiguration.load(
            tomlText: toml,
            environment: [
                "METER_GATEWAY_MQTT_PORT": "1884", "METER_GATEWAY_POSTGRES_CONNINFO": "dbname=x", "PATH": "/bin",
            ]
        )
        #expect(configuration.mqtt.host == "broker.example")
        #expect(configuration.mqtt.port == 1884)
        #expect(configuration.mqtt.tls.verifyHostname == false)
        #expect(configuration.spool.fsyncIntervalMilliseconds == 0)
        #expect(configuration.postgres.conninfo == "dbname=x")
    }

    @Test(arguments: [
        ("[mqtt]\nport = 70000", "mqtt.port"),
        ("[mqtt]\nport = \"x\"", "mqtt.port"),
        ("[mqtt]\nhots = \"typo\"", "mqtt.hots"),
        ("[mqttt]\nhost = \"a\"", "mqttt"),
        ("[log]\nlevel = \"loud\"", "log.level"),
        ("[mqtt.tls]\nenabled = true", "mqtt.tls.ca_file"),
        ("[mqtt]\npassword = \"secret\"", "mqtt.password"),
        ("[mqtt]\ntopic_prefix = \"gm/#\"", "mqtt.topic_prefix"),
        ("[tickets]\np0_urban_arrive_minutes = 90", "tickets.p0_urban_arrive_minutes"),
    ])
    func anInvalidSettingIsNamedInTheError(toml: String, setting: String) throws {
        do {
            _ = try GatewayConfiguration.load(tomlText: toml, environment: [:])
            Issue.record("expected an error naming \(setting)")
        } catch let error as ConfigurationError {
            #expect(error.setting == setting)
            #expect(error.description.contains(setting))
        }
    }

    @Test func aBadEnvironmentValueNamesTheVariable() throws {
        #expect(throws: ConfigurationError.self) {
            try GatewayConfiguration.load(tomlText: nil, environment: ["METER_GATEWAY_SPOOL_SEGMENT_MB": "lots"])
        }
        do {
            _ = try GatewayConfiguration.load(tomlText: nil, environment: ["METER_GATEWAY_MQTT_PROT": "1"])
            Issue.record("an unknown METER_GATEWAY_ variable must be rejected")
        } catch let error as ConfigurationError {
            #expect(error.setting == "METER_GATEWAY_MQTT_PROT")
        }
    }

    @Test func aSecretIsNeverEchoedInAnError() throws {
        do {
            _ = try GatewayConfiguration.load(tomlText: "[mqtt]\npassword = \"hunter2\"", environment: [:])
            Issue.record("expected an error")
        } catch let error as ConfigurationError {
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test func malformedTOMLReportsTheLine() throws {
        do {
            _ = try GatewayConfiguration.load(tomlText: "[mqtt]\nport = = 1", environment: [:])
            Issue.record("expected an error")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("line 2"))
        }
    }

    @Test func theExampleFileDocumentsEverySettingAndParsesToTheDefaults() throws {
        let path = Repository.url("config/meter-gateway.example.toml").path
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(committed == GatewayConfiguration.exampleFile(), "regenerate with: meter-gateway config --example")
        for setting in GatewayConfiguration.settings {
            #expect(committed.contains(setting.environmentName))
        }
        #expect(try GatewayConfiguration.load(tomlText: committed, environment: [:]) == GatewayConfiguration())
    }
}

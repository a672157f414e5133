import Foundation
import GatewayCore
import GatewayDomain
import GatewayHTTP
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

    private static let digest = "7771a0cec1279f8ca878a66c694f3344b16bee8128c78b8ef5fd0656b35b02ee"

    @Test func credentialsAreNamedWithRolesAndAHash() throws {
        let toml = """
            [http]
            port = 8081
            [[http.credentials]]
            name = "desk-3"
            roles = ["dispatch"]
            token_sha256 = "\(Self.digest)"
            [[http.credentials]]
            name = "ops"
            roles = ["supervisor", "review"]
            token_sha256 = "\(String(repeating: "ab", count: 32))"
            """
        let configuration = try GatewayConfiguration.load(tomlText: toml, environment: [:])
        #expect(configuration.http.port == 8081)
        #expect(configuration.http.credentials.map(\.name) == ["desk-3", "ops"])
        #expect(configuration.http.credentials.map(\.roles) == [[.dispatch], [.supervisor, .review]])
        #expect(GatewayConfiguration().http.credentials.isEmpty)
    }

    @Test(arguments: [
        ("name = \"desk 3\"\nroles = [\"dispatch\"]\ntoken_sha256 = \"D\"", "http.credentials[0]"),
        ("name = \"desk-3\"\nroles = [\"driver\"]\ntoken_sha256 = \"D\"", "http.credentials[0].roles"),
        ("name = \"desk-3\"\nroles = \"dispatch\"\ntoken_sha256 = \"D\"", "http.credentials[0].roles"),
        ("name = \"desk-3\"\nroles = [\"dispatch\"]\ntoken_sha256 = \"abc\"", "http.credentials[0]"),
        ("name = \"desk-3\"\nroles = [\"dispatch\"]", "http.credentials[0].token_sha256"),
        ("name = \"desk-3\"\nroles = [\"dispatch\"]\ntoken_sha256 = \"D\"\ntoken = \"x\"", "http.credentials[0].token"),
        (
            "name = \"a\"\nroles = [\"dispatch\"]\ntoken_sha256 = \"D\"\n[[http.credentials]]\nname = \"b\"\n"
                + "roles = [\"review\"]\ntoken_sha256 = \"D\"",
            "http.credentials"
        ),
    ])
    func aBadCredentialIsNamedWithoutEchoingItsHash(body: String, setting: String) throws {
        let toml = "[[http.credentials]]\n" + body.replacingOccurrences(of: "\"D\"", with: "\"\(Self.digest)\"")
        do {
            _ = try GatewayConfiguration.load(tomlText: toml, environment: [:])
            Issue.record("expected an error naming \(setting)")
        } catch let error as ConfigurationError {
            #expect(error.setting == setting)
            #expect(!error.description.contains(Self.digest))
        }
    }

    @Test func theOldSharedTokensAreRefusedWithWhatToWriteInstead() throws {
        for (toml, environment, setting) in [
            ("[http]\ndispatch_token = \"0123456789abcdef0123\"", [String: String](), "http.dispatch_token"),
            ("[http]\nreview_token = \"\"", [:], "http.review_token"),
            (
                "", ["METER_GATEWAY_HTTP_DISPATCH_TOKEN": "0123456789abcdef0123"],
                "http.dispatch_token (from METER_GATEWAY_HTTP_DISPATCH_TOKEN)"
            ),
        ] {
            do {
                _ = try GatewayConfiguration.load(tomlText: toml, environment: environment)
                Issue.record("expected \(setting) to be refused")
            } catch let error as ConfigurationError {
                #expect(error.setting == setting)
                #expect(error.problem.contains("[[http.credentials]]"))
                #expect(error.problem.contains("meter-gateway credentials hash"))
                #expect(!error.description.contains("0123456789abcdef0123"))
            }
        }
    }

    @Test func theMaximumOutageIsASettingOfOneToOneHundredSixtyEightHours() throws {
        #expect(GatewayConfiguration().dispatch.outagePolicy.maximumSeconds == 12 * 3600)
        let configuration = try GatewayConfiguration.load(
            tomlText: "[dispatch]\nmax_outage_hours = 48",
            environment: [:]
        )
        #expect(configuration.dispatch.outagePolicy.maximumSeconds == 48 * 3600)
        for hours in [0, 169] {
            #expect(throws: ConfigurationError.self) {
                try GatewayConfiguration.load(tomlText: "[dispatch]\nmax_outage_hours = \(hours)", environment: [:])
            }
        }
    }
}

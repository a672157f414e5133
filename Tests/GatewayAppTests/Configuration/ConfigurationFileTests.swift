import Foundation
import GatewayTestSupport
import Testing

@testable import GatewayApp

/// Which configuration file is read: `--config`, else `METER_GATEWAY_CONFIG`, else
/// /etc/meter-gateway/meter-gateway.toml when it exists; `run` refuses to start on built-in defaults alone.
@Suite struct ConfigurationFileTests {
    @Test func choosesTheOptionThenTheVariableThenTheDefaultPath() {
        let exists: (String) -> Bool = { $0 == ConfigurationFile.defaultPath }
        let none: (String) -> Bool = { _ in false }
        let variable = [ConfigurationFile.environmentName: "/srv/gw.toml"]
        #expect(
            ConfigurationFile.choose(option: "a.toml", environment: variable, fileExists: exists) == .option("a.toml")
        )
        #expect(
            ConfigurationFile.choose(option: nil, environment: variable, fileExists: exists)
                == .environment("/srv/gw.toml")
        )
        #expect(
            ConfigurationFile.choose(option: nil, environment: [:], fileExists: exists)
                == .defaultPath("/etc/meter-gateway/meter-gateway.toml")
        )
        #expect(ConfigurationFile.choose(option: nil, environment: [:], fileExists: none) == .none)
        #expect(
            ConfigurationFile.choose(
                option: nil,
                environment: [ConfigurationFile.environmentName: ""],
                fileExists: none
            )
                == .none
        )
    }

    @Test func theVariableIsNotAnUnknownSetting() throws {
        let configuration = try GatewayConfiguration.load(
            tomlText: nil,
            environment: [ConfigurationFile.environmentName: "/srv/gw.toml", "METER_GATEWAY_MQTT_PORT": "1884"]
        )
        #expect(configuration.mqtt.port == 1884)
    }

    /// Through the built binary.
    @Test func theBinaryReadsTheNamedFileAndRefusesToRunWithoutAny() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Repository.gatewayBinary), "build meter-gateway")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("gw.toml").path
        try "[mqtt]\nport = 70000\n".write(toFile: file, atomically: true, encoding: .utf8)

        // `config` checks the file the variable names: its bad port is found, so the file was read.
        let checked = try runProgram(
            Repository.gatewayBinary,
            ["config"],
            environment: [ConfigurationFile.environmentName: file]
        )
        #expect(checked.status != 0 && checked.stderr.contains("mqtt.port"), "\(checked.stderr)")
        try "[mqtt]\nport = 1884\n".write(toFile: file, atomically: true, encoding: .utf8)
        let valid = try runProgram(
            Repository.gatewayBinary,
            ["config"],
            environment: [ConfigurationFile.environmentName: file]
        )
        #expect(valid.status == 0 && valid.stdout == "configuration is valid\n", "\(valid.stderr)")
        // --config wins over the variable.
        let explicit = try runProgram(
            Repository.gatewayBinary,
            ["config", "--config", file],
            environment: [ConfigurationFile.environmentName: folder.appendingPathComponent("missing.toml").path]
        )
        #expect(explicit.status == 0, "\(explicit.stderr)")

        // A file the variable names must exist.
        let missing = folder.appendingPathComponent("missing.toml").path
        let named = try runProgram(
            Repository.gatewayBinary,
            ["run"],
            environment: [ConfigurationFile.environmentName: missing]
        )
        #expect(named.status != 0)
        #expect(
            named.stderr.contains("cannot read configuration file \(missing) (METER_GATEWAY_CONFIG)"),
            "\(named.stderr)"
        )

        // No file anywhere and no setting: `run` says what to write. (Skipped where the default file exists.)
        guard !FileManager.default.fileExists(atPath: ConfigurationFile.defaultPath) else { return }
        let bare = try runProgram(Repository.gatewayBinary, ["run"])
        #expect(bare.status != 0)
        #expect(bare.stderr.contains("no configuration"), "\(bare.stderr)")
        #expect(bare.stderr.contains(ConfigurationFile.defaultPath))
        #expect(bare.stderr.contains("meter-gateway config --example"))
    }
}

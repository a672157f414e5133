import Foundation
import GatewayCore
import PostgresSink
import Testing

@testable import GatewayApp

/// Secrets come from exactly one place: the file's value, a `<key>_file`, or the environment (value or `_FILE`).
@Suite struct SecretSourcesTests {
    private static let password = "s3cret-mqtt-Pa55"

    /// A fresh folder with a secret file of the given content and mode.
    private static func secretFile(
        _ content: String,
        mode: Int = 0o600,
        name: String = "secret"
    ) throws -> (folder: String, path: String) {
        let folder = NSTemporaryDirectory() + "gateway-secrets-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return (folder, path)
    }

    private static let user = "[mqtt]\nusername = \"gw\"\n"

    @Test func aSecretFileNamedInTheFileIsReadWithoutItsTrailingNewline() throws {
        let file = try Self.secretFile(Self.password + "\n")
        defer { try? FileManager.default.removeItem(atPath: file.folder) }
        let configuration = try GatewayConfiguration.load(
            tomlText: Self.user + "password_file = \"\(file.path)\"",
            environment: [:]
        )
        #expect(configuration.mqtt.password == Self.password)
    }

    @Test func aSecretComesFromTheEnvironmentAsAValueOrAFile() throws {
        let file = try Self.secretFile("dbname=from_file password=pw\r\n")
        defer { try? FileManager.default.removeItem(atPath: file.folder) }
        let fromFile = try GatewayConfiguration.load(
            tomlText: nil,
            environment: ["METER_GATEWAY_POSTGRES_CONNINFO_FILE": file.path]
        )
        #expect(fromFile.postgres.conninfo == "dbname=from_file password=pw")
        let fromValue = try GatewayConfiguration.load(
            tomlText: Self.user,
            environment: ["METER_GATEWAY_MQTT_PASSWORD": Self.password]
        )
        #expect(fromValue.mqtt.password == Self.password)
    }

    @Test func aRelativePathIsInsideTheCredentialsDirectoryAndNeedsIt() throws {
        let file = try Self.secretFile(Self.password, name: "mqtt-password")
        defer { try? FileManager.default.removeItem(atPath: file.folder) }
        let configuration = try GatewayConfiguration.load(
            tomlText: Self.user + "password_file = \"mqtt-password\"",
            environment: ["CREDENTIALS_DIRECTORY": file.folder]
        )
        #expect(configuration.mqtt.password == Self.password)
        do {
            _ = try GatewayConfiguration.load(
                tomlText: Self.user + "password_file = \"mqtt-password\"",
                environment: [:]
            )
            Issue.record("a relative path without $CREDENTIALS_DIRECTORY must be refused")
        } catch let error as ConfigurationError {
            #expect(error.setting == "mqtt.password_file")
            #expect(error.problem.contains("CREDENTIALS_DIRECTORY"))
        }
    }

    @Test func twoSourcesForOneSecretAreAnErrorNamingBothAndNeitherValue() throws {
        let file = try Self.secretFile(Self.password)
        defer { try? FileManager.default.removeItem(atPath: file.folder) }
        let cases: [(toml: String, environment: [String: String], origins: [String])] = [
            (
                Self.user + "password = \"\(Self.password)\"\npassword_file = \"\(file.path)\"", [:],
                ["mqtt.password", "mqtt.password_file"]
            ),
            (
                Self.user + "password = \"\(Self.password)\"",
                ["METER_GATEWAY_MQTT_PASSWORD": "other-\(Self.password)"],
                ["mqtt.password", "METER_GATEWAY_MQTT_PASSWORD"]
            ),
            (
                Self.user,
                ["METER_GATEWAY_MQTT_PASSWORD": Self.password, "METER_GATEWAY_MQTT_PASSWORD_FILE": file.path],
                ["METER_GATEWAY_MQTT_PASSWORD", "METER_GATEWAY_MQTT_PASSWORD_FILE"]
            ),
        ]
        for (toml, environment, origins) in cases {
            do {
                _ = try GatewayConfiguration.load(tomlText: toml, environment: environment)
                Issue.record("two sources of mqtt.password must be refused: \(origins)")
            } catch let error as ConfigurationError {
                #expect(error.setting == "mqtt.password")
                for origin in origins { #expect(error.problem.contains(origin)) }
                #expect(!error.description.contains(Self.password))
            }
        }
    }

    @Test(arguments: [0o644, 0o604, 0o660, 0o666])
    func aSecretFileOthersMayReadOrItsGroupMayWriteIsRefused(mode: Int) throws {
        let file = try Self.secretFile(Self.password, mode: mode)
        defer { try? FileManager.default.removeItem(atPath: file.folder) }
        do {
            _ = try GatewayConfiguration.load(
                tomlText: Self.user + "password_file = \"\(file.path)\"",
                environment: [:]
            )
            Issue.record("mode \(String(mode, radix: 8)) must be refused")
        } catch let error as ConfigurationError {
            #expect(error.setting == "mqtt.password_file")
            #expect(error.problem.contains("mode \(String(mode, radix: 8))"))
            #expect(!error.description.contains(Self.password))
        }
    }

    @Test func aGroupReadableSecretFileIsAccepted() throws {
        let file = try Self.secretFile(Self.password, mode: 0o640)
        defer { try? FileManager.default.removeItem(atPath: file.folder) }
        let configuration = try GatewayConfiguration.load(
            tomlText: Self.user + "password_file = \"\(file.path)\"",
            environment: [:]
        )
        #expect(configuration.mqtt.password == Self.password)
    }

    @Test func anEmptyOrMissingSecretFileIsRefused() throws {
        let file = try Self.secretFile("\n")
        defer { try? FileManager.default.removeItem(atPath: file.folder) }
        for path in [file.path, file.folder + "/missing"] {
            #expect(throws: ConfigurationError.self) {
                try GatewayConfiguration.load(tomlText: Self.user + "password_file = \"\(path)\"", environment: [:])
            }
        }
    }

    @Test func aFileVariantExistsOnlyForSecrets() throws {
        #expect(throws: ConfigurationError.self) {
            try GatewayConfiguration.load(tomlText: "[mqtt]\nhost_file = \"/etc/hostname\"", environment: [:])
        }
        #expect(throws: ConfigurationError.self) {
            try GatewayConfiguration.load(tomlText: nil, environment: ["METER_GATEWAY_MQTT_HOST_FILE": "/etc/hostname"])
        }
    }

    @Test func eachServiceConninfoFallsBackToTheOwners() throws {
        let plain = try GatewayConfiguration.load(tomlText: "[postgres]\nconninfo = \"dbname=a\"", environment: [:])
        #expect(
            [plain.postgres.ingest, plain.postgres.validation, plain.postgres.http]
                == Array(repeating: "dbname=a", count: 3)
        )
        let split = try GatewayConfiguration.load(
            tomlText: "[postgres]\nconninfo = \"dbname=a\"\ningest_conninfo = \"dbname=a user=i\"",
            environment: ["METER_GATEWAY_POSTGRES_HTTP_CONNINFO": "dbname=a user=h"]
        )
        #expect(split.postgres.ingest == "dbname=a user=i")
        #expect(split.postgres.validation == "dbname=a")
        #expect(split.postgres.http == "dbname=a user=h")
    }

    @Test func theMasterKeyFileHoldsSixtyFourHexDigitsAndIsNeverEchoed() throws {
        let hex = String(repeating: "7e", count: 32)
        let good = try Self.secretFile(hex + "\n")
        defer { try? FileManager.default.removeItem(atPath: good.folder) }
        let configuration = try GatewayConfiguration.load(
            tomlText: "[meters]\nmaster_key_file = \"\(good.path)\"",
            environment: [:]
        )
        #expect(configuration.meters.masterKey == Hex.decode(hex))
        #expect(configuration.meters.keySealer != nil)
        #expect(GatewayConfiguration().meters.keySealer == nil)
        let short = String(repeating: "7e", count: 16)
        let bad = try Self.secretFile(short)
        defer { try? FileManager.default.removeItem(atPath: bad.folder) }
        do {
            _ = try GatewayConfiguration.load(tomlText: "[meters]\nmaster_key_file = \"\(bad.path)\"", environment: [:])
            Issue.record("a 16-byte master key must be refused")
        } catch let error as ConfigurationError {
            #expect(error.setting == "meters.master_key_file")
            #expect(!error.description.contains(short))
        }
    }

    @Test func theExampleFileSaysHowToGiveEachSecret() throws {
        let example = GatewayConfiguration.exampleFile()
        for setting in GatewayConfiguration.settings where setting.isSecret {
            #expect(example.contains(setting.fileEnvironmentName))
            #expect(example.contains("\(setting.key)_file = "))
        }
        #expect(
            GatewayConfiguration.settings.filter(\.isSecret).map(\.name).sorted() == [
                "mqtt.password", "postgres.conninfo", "postgres.http_conninfo", "postgres.ingest_conninfo",
                "postgres.validation_conninfo",
            ]
        )
    }
    @Test func theKeyFileIsAMeterCSVOfKeysAndExcludesTheMasterKey() throws {
        let key = "2B7E151628AED2A6ABF7158809CF4F3C"
        let good = try Self.secretFile("protocol,address,aes_key\nnative,1000001,\(key)\nwmbus,ELS-12345678-51-03,\n")
        defer { try? FileManager.default.removeItem(atPath: good.folder) }
        let configuration = try GatewayConfiguration.load(
            tomlText: "[meters]\nkey_file = \"\(good.path)\"",
            environment: [:]
        )
        let table = try #require(configuration.meters.keyTable)
        #expect(table.count == 1)
        #expect(table.key(protocol: .native, address: "1000001") == Hex.decode(key))
        let typo = String(key.dropLast()) + "X"
        let bad = try Self.secretFile("protocol,address,aes_key\nnative,1000001,\(typo)\n")
        defer { try? FileManager.default.removeItem(atPath: bad.folder) }
        for (toml, problem) in [
            ("[meters]\nkey_file = \"\(bad.path)\"", "line 2, column aes_key"),
            (
                "[meters]\nkey_file = \"\(good.path)\"\nmaster_key_file = \"\(good.path)\"",
                "not both"
            ),
        ] {
            do {
                _ = try GatewayConfiguration.load(tomlText: toml, environment: [:])
                Issue.record("expected meters.key_file to be refused: \(problem)")
            } catch let error as ConfigurationError {
                #expect(error.setting == "meters.key_file")
                #expect(error.problem.contains(problem), "\(error)")
                #expect(!error.description.contains(typo) && !error.description.contains(key))
            }
        }
    }

    /// The console's session key file is a secret file: with it and a token's digest anyone can sign a console
    /// session. It follows the same rules: others may not read it, a relative path is inside
    /// `$CREDENTIALS_DIRECTORY`, the trailing newline is trimmed, and fewer than 32 bytes are refused.
    @Test func theConsoleSessionKeyFileIsReadAsASecretFile() throws {
        let key = String(repeating: "5a", count: 32)
        let file = try Self.secretFile(key + "\n", name: "console-key")
        defer { try? FileManager.default.removeItem(atPath: file.folder) }
        var http = GatewayConfiguration.HTTP()
        http.consoleSessionKeyFile = file.path
        #expect(try http.consoleSessionKey(environment: [:]) == Array(key.utf8))

        http.consoleSessionKeyFile = "console-key"
        #expect(try http.consoleSessionKey(environment: ["CREDENTIALS_DIRECTORY": file.folder]) == Array(key.utf8))
        #expect(throws: ConfigurationError.self, "a relative path without $CREDENTIALS_DIRECTORY") {
            try http.consoleSessionKey(environment: [:])
        }

        http.consoleSessionKeyFile = file.path
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        let readable = #expect(throws: ConfigurationError.self) { try http.consoleSessionKey(environment: [:]) }
        #expect(readable?.setting == "http.console_session_key_file")
        #expect(readable?.problem.contains("mode 644") == true)
        #expect(readable.map { !"\($0)".contains(key) } == true, "the message never shows the key")

        let short = try Self.secretFile("too-short\n", name: "short-key")
        defer { try? FileManager.default.removeItem(atPath: short.folder) }
        http.consoleSessionKeyFile = short.path
        #expect(throws: ConfigurationError.self) { try http.consoleSessionKey(environment: [:]) }
    }
}

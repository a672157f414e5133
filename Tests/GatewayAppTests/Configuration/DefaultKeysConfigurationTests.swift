import Foundation
import GatewayCore
import Testing

@testable import GatewayApp

/// `[meters.default_keys]`: published default keys per manufacturer, empty unless set, each manufacturer's keys given
/// one way only, checked at start without ever echoing a key.
@Suite struct DefaultKeysConfigurationTests {
    static let zero = "00000000000000000000000000000000"
    static let other = "0102030405060708090A0B0C0D0E0F11"

    private static func keyFile(_ content: String, mode: Int = 0o600) throws -> (folder: String, path: String) {
        let folder = NSTemporaryDirectory() + "gateway-default-keys-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/keys"
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return (folder, path)
    }

    private static func load(_ toml: String?, _ environment: [String: String] = [:]) throws -> GatewayConfiguration {
        try GatewayConfiguration.load(tomlText: toml, environment: environment)
    }

    private static func problem(_ toml: String?, _ environment: [String: String] = [:]) -> String? {
        do {
            _ = try load(toml, environment)
            return nil
        } catch let error as ConfigurationError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test func emptyByDefault() throws {
        let configuration = try Self.load(nil)
        #expect(configuration.meters.defaultKeys.isEmpty)
        #expect(configuration.meters.defaultKeySet.isEmpty)
    }

    @Test func keysComeFromTheFileAFileOrTheEnvironment() throws {
        let inline = try Self.load("[meters.default_keys]\nAPA = [\"\(Self.zero)\", \"\(Self.other)\"]\n")
        #expect(inline.meters.defaultKeys["APA"]?.count == 2)
        let apa = try #require(MBusAddress(registryAddress: "APA-00012345-5-03"))
        #expect(inline.meters.defaultKeySet.keyring(forManufacturer: apa.manufacturerCode).count == 2)
        #expect(inline.meters.defaultKeySet.keyring(forManufacturer: apa.manufacturerCode).source == .manufacturerDefault)

        let file = try Self.keyFile("\(Self.zero)\n\(Self.other)\n")
        defer { try? FileManager.default.removeItem(atPath: file.folder) }
        let fromFile = try Self.load("[meters.default_keys]\nAPA_file = \"\(file.path)\"\n")
        #expect(fromFile.meters.defaultKeys == inline.meters.defaultKeys)
        let fromEnvironment = try Self.load(nil, ["METER_GATEWAY_METERS_DEFAULT_KEYS_APA": "\(Self.zero), \(Self.other)"])
        #expect(fromEnvironment.meters.defaultKeys == inline.meters.defaultKeys)
        let fromEnvironmentFile = try Self.load(nil, ["METER_GATEWAY_METERS_DEFAULT_KEYS_APA_FILE": file.path])
        #expect(fromEnvironmentFile.meters.defaultKeys == inline.meters.defaultKeys)
    }

    @Test func badEntriesStopStartUpNamingTheManufacturerNeverTheKey() throws {
        let twice = Self.problem(
            "[meters.default_keys]\nAPA = [\"\(Self.zero)\"]\n",
            ["METER_GATEWAY_METERS_DEFAULT_KEYS_APA": Self.other]
        )
        #expect(twice?.contains("meters.default_keys.APA") == true && twice?.contains("more than once") == true)
        let short = Self.problem("[meters.default_keys]\nAPA = [\"\(Self.zero)\", \"0011\"]\n")
        #expect(short?.contains("key 2 is not 32 hexadecimal digits") == true)
        let repeated = Self.problem("[meters.default_keys]\nAPA = [\"\(Self.other)\", \"\(Self.other)\"]\n")
        #expect(repeated?.contains("key 2 repeats") == true)
        let tooMany = Self.problem(
            "[meters.default_keys]\nAPA = [" + (1...5).map { "\"\(String(repeating: "\($0)", count: 32))\"" }
                .joined(separator: ", ") + "]\n"
        )
        #expect(tooMany?.contains("at most 4") == true)
        let lower = Self.problem("[meters.default_keys]\napa = [\"\(Self.zero)\"]\n")
        #expect(lower?.contains("three capital letters") == true)
        let empty = Self.problem("[meters.default_keys]\nAPA = []\n")
        #expect(empty?.contains("holds no key") == true)
        let notList = Self.problem("[meters.default_keys]\nAPA = 5\n")
        #expect(notList?.contains("must be a list") == true)
        for text in [twice, short, repeated, tooMany, lower, empty] {
            #expect(text?.contains(Self.other) == false && text?.contains(Self.zero) == false, "\(text ?? "")")
        }
        let open = try Self.keyFile(Self.zero, mode: 0o644)
        defer { try? FileManager.default.removeItem(atPath: open.folder) }
        #expect(Self.problem("[meters.default_keys]\nAPA_file = \"\(open.path)\"\n")?.contains("others may read") == true)
    }

    @Test func theExampleFileShowsTheTableCommentedOut() {
        let example = GatewayConfiguration.exampleFile()
        #expect(example.contains("# [meters.default_keys]\n# APA = [\"\(Self.zero)\"]"))
        #expect(!example.contains("\n[meters.default_keys]"))
    }
}

import GatewayCore
import TOMLKit

/// `[meters.default_keys]`: published default AES-128 keys per wM-Bus manufacturer, tried only for a registered
/// meter without a key of its own (``GatewayCore/MBusDefaultKeys``). Empty by default.
///
/// Each entry is the three manufacturer letters and its keys (1 to ``GatewayCore/MBusKeyring/capacity``, 32
/// hexadecimal digits each). The keys are printed in vendor documents and so protect nothing, but they are handled
/// like the other secrets all the same: given one way only, per manufacturer, as
///
/// | way | example |
/// |---|---|
/// | a list in the file | `APA = ["00000000000000000000000000000000"]` |
/// | a file | `APA_file = "apator-default-keys"` (keys separated by line breaks, spaces or commas) |
/// | an environment variable | `METER_GATEWAY_METERS_DEFAULT_KEYS_APA=…` (keys separated by spaces or commas) |
/// | an environment variable naming a file | `METER_GATEWAY_METERS_DEFAULT_KEYS_APA_FILE=/run/secrets/apa` |
///
/// Errors name the manufacturer and the place, and count keys by position; they never show a key.
struct DefaultKeySources: Sendable {
    /// The TOML table and the prefix of its environment variables.
    static let name = "meters.default_keys"
    static let environmentPrefix = Setting.environmentName(of: name) + "_"

    private var given: [String: [(origin: String, source: SecretSources.Source)]] = [:]

    /// Records the entries of the `[meters.default_keys]` table.
    /// - Parameter value: The table's TOML value.
    /// - Throws: ``ConfigurationError`` for a value that is not a table of key lists and file paths.
    mutating func add(table value: any TOMLValueConvertible) throws {
        guard let table = value.table else {
            throw ConfigurationError(
                setting: Self.name,
                problem: "must be a table of manufacturer = [\"<32 hexadecimal digits>\", …]"
            )
        }
        for (key, entry) in table {
            let origin = "\(Self.name).\(key)"
            if key.hasSuffix("_file") {
                guard let path = entry.string, !path.isEmpty else {
                    throw ConfigurationError(setting: origin, problem: "must be the path of a file")
                }
                given[String(key.dropLast(5)), default: []].append((origin, .file(path)))
            } else if let list = entry.array {
                var keys: [String] = []
                for item in list {
                    guard let text = item.string else {
                        throw ConfigurationError(setting: origin, problem: "each key must be a string")
                    }
                    keys.append(text)
                }
                given[key, default: []].append((origin, .value(keys.joined(separator: ","))))
            } else if let text = entry.string {
                given[key, default: []].append((origin, .value(text)))
            } else {
                throw ConfigurationError(setting: origin, problem: "must be a list of keys (strings)")
            }
        }
    }

    /// Records the `METER_GATEWAY_METERS_DEFAULT_KEYS_<MFR>[_FILE]` variables.
    /// - Parameter environment: The process environment.
    mutating func add(environment: [String: String]) {
        for (name, text) in environment where name.hasPrefix(Self.environmentPrefix) {
            let suffix = String(name.dropFirst(Self.environmentPrefix.count))
            if suffix.hasSuffix("_FILE") {
                given[String(suffix.dropLast(5)), default: []].append((name, .file(text)))
            } else {
                given[suffix, default: []].append((name, .value(text)))
            }
        }
    }

    /// Reads and checks every manufacturer's keys.
    /// - Parameter environment: The process environment (for `CREDENTIALS_DIRECTORY`).
    /// - Returns: The keys by manufacturer letters, in the order given.
    /// - Throws: ``ConfigurationError`` naming the manufacturer and where its keys came from, never a key.
    func resolve(environment: [String: String]) throws -> [String: [[UInt8]]] {
        var resolved: [String: [[UInt8]]] = [:]
        for manufacturer in given.keys.sorted() {
            guard let sources = given[manufacturer], let (origin, source) = sources.first else { continue }
            let setting = "\(Self.name).\(manufacturer)"
            guard manufacturer.utf8.count == 3, manufacturer.utf8.allSatisfy({ (65...90).contains($0) }) else {
                throw ConfigurationError(
                    setting: "\(setting) (from \(origin))",
                    problem: "a manufacturer is three capital letters A-Z, as in the registry address (APA, KAM)"
                )
            }
            if sources.count > 1 {
                throw ConfigurationError(
                    setting: setting,
                    problem: "is given more than once (\(sources.map(\.origin).joined(separator: ", "))); "
                        + "give a manufacturer's keys one way only"
                )
            }
            let text: String
            let place: String
            switch source {
            case .value(let value):
                (text, place) = (value, origin)
            case .file(let path):
                (text, place) = (try SecretSources.read(path: path, origin: origin, environment: environment), "\(origin) = \(path)")
            }
            resolved[manufacturer] = try Self.parseKeys(text, setting: "\(setting) (from \(place))")
        }
        return resolved
    }

    /// Splits keys at line breaks, spaces and commas and checks each.
    /// - Throws: ``ConfigurationError`` saying which key (by position) is wrong, never its text.
    static func parseKeys(_ text: String, setting: String) throws -> [[UInt8]] {
        let words = text.split(whereSeparator: { $0 == "," || $0.isWhitespace })
        guard !words.isEmpty else {
            throw ConfigurationError(setting: setting, problem: "holds no key")
        }
        guard words.count <= MBusKeyring.capacity else {
            throw ConfigurationError(
                setting: setting,
                problem: "holds \(words.count) keys; at most \(MBusKeyring.capacity) per manufacturer (each is one "
                    + "more decryption of every frame of its keyless meters)"
            )
        }
        var keys: [[UInt8]] = []
        for (index, word) in words.enumerated() {
            guard word.utf8.count == 32, let bytes = Hex.decode(word), bytes.count == 16 else {
                throw ConfigurationError(setting: setting, problem: "key \(index + 1) is not 32 hexadecimal digits")
            }
            guard !keys.contains(bytes) else {
                throw ConfigurationError(setting: setting, problem: "key \(index + 1) repeats an earlier key")
            }
            keys.append(bytes)
        }
        return keys
    }
}

extension GatewayConfiguration.Meters {
    /// The default keys as the decoder uses them.
    var defaultKeySet: MBusDefaultKeys {
        var set = MBusDefaultKeys()
        for (manufacturer, keys) in defaultKeys {
            set.set(keys.compactMap { AES128Key(bytes: $0) }, forManufacturer: manufacturer)
        }
        return set
    }

    /// The commented example of the default keys, appended to the `[meters]` section of the example file.
    static let defaultKeysExample = [
        "",
        "# Published default AES-128 keys per wM-Bus manufacturer (three letters, as in the registry address), tried",
        "# only for a registered meter WITHOUT a key of its own; a meter with its own key never falls back to them,",
        "# and an unregistered meter stays unknown_meter. A default key is printed in a public document: what it",
        "# opens is stored with protection = plain and key_source = default (anyone who read the document can read",
        "# and forge it). At most \(MBusKeyring.capacity) keys per manufacturer. Empty by default. Each manufacturer's keys",
        "# are given ONE way only: a list here, MFR_file = \"/path\" (keys separated by line breaks, spaces or commas;",
        "# relative: inside $CREDENTIALS_DIRECTORY; not readable by others), or the environment variables",
        "# \(DefaultKeySources.environmentPrefix)<MFR> (keys separated by spaces or commas) or ..._<MFR>_FILE.",
        "# [meters.default_keys]",
        "# APA = [\"00000000000000000000000000000000\"]",
    ]
}

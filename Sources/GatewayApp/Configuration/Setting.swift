import Foundation

/// A configuration problem, always naming the setting (`mqtt.port`) and never echoing a secret's value.
struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    var setting: String
    var problem: String
    var description: String { setting.isEmpty ? "configuration: \(problem)" : "configuration: \(setting): \(problem)" }
}

/// One documented setting: where it lives, how it is read and checked.
struct Setting: Sendable {
    enum Kind: Sendable {
        case string(any WritableKeyPath<GatewayConfiguration, String> & Sendable, isSecret: Bool, allowed: [String]?)
        case integer(any WritableKeyPath<GatewayConfiguration, Int> & Sendable, range: ClosedRange<Int>)
        case boolean(any WritableKeyPath<GatewayConfiguration, Bool> & Sendable)
    }

    var section: String
    var key: String
    var kind: Kind
    var help: String

    var name: String { "\(section).\(key)" }
    var environmentName: String { Self.environmentName(of: name) }

    /// Whether the value is a secret: never echoed, and also accepted from a file (``fileName``) or the
    /// environment, from exactly one of those places.
    var isSecret: Bool {
        if case .string(_, let isSecret, _) = kind { return isSecret }
        return false
    }

    /// `mqtt.password_file`: the TOML name of the file a secret setting may be read from instead.
    var fileName: String { name + "_file" }
    /// `METER_GATEWAY_MQTT_PASSWORD_FILE`: the environment variable naming that file.
    var fileEnvironmentName: String { environmentName + "_FILE" }

    /// `METER_GATEWAY_MQTT_TLS_CA_FILE` for `mqtt.tls.ca_file`.
    /// - Parameter name: The setting's full TOML name.
    /// - Returns: The environment variable's name.
    static func environmentName(of name: String) -> String {
        "METER_GATEWAY_" + name.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

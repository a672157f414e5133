/// Which configuration file a command reads: `--config`, else `METER_GATEWAY_CONFIG`, else the default path
/// `/etc/meter-gateway/meter-gateway.toml` when it exists, else none (built-in defaults and `METER_GATEWAY_*`
/// variables only).
///
/// An explicit choice (the option or the variable) must be readable; the default path is read only when it exists.
/// `run` refuses to start with no file and no `METER_GATEWAY_*` setting at all (``missingMessage``): a service
/// started on built-in defaults alone is almost always a missing file, not a choice.
enum ConfigurationFile: Equatable, Sendable {
    /// Named by `--config`.
    case option(String)
    /// Named by `METER_GATEWAY_CONFIG`.
    case environment(String)
    /// The default path, which exists.
    case defaultPath(String)
    /// No file.
    case none

    /// The default path, as the Debian package installs it.
    static let defaultPath = "/etc/meter-gateway/meter-gateway.toml"
    /// The variable that names a file instead of the default (tests use it; no root writes to `/etc`).
    static let environmentName = "METER_GATEWAY_CONFIG"

    /// Chooses the file.
    /// - Parameters:
    ///   - option: The `--config` value.
    ///   - environment: The process environment.
    ///   - defaultPath: The default path (``defaultPath`` outside tests).
    ///   - fileExists: Whether a path exists.
    /// - Returns: The choice.
    static func choose(
        option: String?,
        environment: [String: String],
        defaultPath: String = Self.defaultPath,
        fileExists: (String) -> Bool
    ) -> ConfigurationFile {
        if let option { return .option(option) }
        if let path = environment[environmentName], !path.isEmpty { return .environment(path) }
        return fileExists(defaultPath) ? .defaultPath(defaultPath) : .none
    }

    /// The chosen path, or `nil` for none.
    var path: String? {
        switch self {
        case .option(let path), .environment(let path), .defaultPath(let path): path
        case .none: nil
        }
    }

    /// How the file was chosen, for the log line naming it.
    var origin: String {
        switch self {
        case .option: "--config"
        case .environment: Self.environmentName
        case .defaultPath: "default path"
        case .none: "none: built-in defaults and METER_GATEWAY_* variables"
        }
    }

    /// The refusal of `run` with no file and no setting from the environment.
    static func missingMessage(defaultPath: String = Self.defaultPath) -> String {
        "no configuration: no --config given, \(environmentName) is not set and \(defaultPath) does not exist. "
            + "Write \(defaultPath) (`meter-gateway config --example` prints every setting with its default), "
            + "pass --config FILE, or set METER_GATEWAY_* variables."
    }
}

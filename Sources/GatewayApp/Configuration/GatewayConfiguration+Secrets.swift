import Foundation

/// Where the secret settings (``Setting/isSecret``: `mqtt.password`, the `postgres` conninfos) came from while the
/// configuration is read, so that each is taken from exactly one place.
///
/// A secret `K` may be given as its value in the file (`password = "…"`), as a file holding it (`password_file =
/// "/run/secrets/mqtt"`), as the environment variable `METER_GATEWAY_<SECTION>_<KEY>`, or as the environment variable
/// `METER_GATEWAY_<SECTION>_<KEY>_FILE` naming a file. Two of them for one secret is a configuration error: which one
/// wins would otherwise depend on an order an operator cannot see, and a forgotten old password would keep working.
///
/// A secret file is read whole, its trailing line breaks trimmed. A relative path is taken inside
/// `$CREDENTIALS_DIRECTORY` (systemd's `LoadCredential=`), and refused when that variable is not set. A file that
/// others may read or write, or that its group may write, is refused: the secret would not be one.
struct SecretSources {
    /// One place a secret was given.
    enum Source: Equatable {
        case value(String)
        case file(String)
    }

    private var given: [String: [(origin: String, source: Source)]] = [:]
    /// The `[meters.default_keys]` entries, which follow the same one-way-only rule per manufacturer.
    var defaultKeys = DefaultKeySources()

    /// Records one place a secret was given.
    /// - Parameters:
    ///   - setting: The secret setting.
    ///   - source: Its value, or the path of the file holding it.
    ///   - origin: Where it was given (`mqtt.password_file`, `METER_GATEWAY_MQTT_PASSWORD`), for messages.
    mutating func add(_ setting: Setting, _ source: Source, origin: String) {
        given[setting.name, default: []].append((origin, source))
    }

    /// The value of each secret that was given, read from its file when it was given as one.
    /// - Parameter environment: The process environment (for `CREDENTIALS_DIRECTORY`).
    /// - Returns: Per secret setting that was given, its value and where it came from.
    /// - Throws: ``ConfigurationError`` naming the setting when it was given more than once, or its file cannot be
    ///   used; never with the secret's value or the file's content.
    func resolve(environment: [String: String]) throws -> [(setting: Setting, value: String, origin: String)] {
        var resolved: [(setting: Setting, value: String, origin: String)] = []
        for setting in GatewayConfiguration.settings where setting.isSecret {
            guard let sources = given[setting.name], let (origin, source) = sources.first else { continue }
            if sources.count > 1 {
                throw ConfigurationError(
                    setting: setting.name,
                    problem: "is given more than once (\(sources.map(\.origin).joined(separator: ", "))); "
                        + "give a secret one way only"
                )
            }
            switch source {
            case .value(let value):
                resolved.append((setting, value, origin))
            case .file(let path):
                let value = try Self.read(path: path, origin: origin, environment: environment)
                resolved.append((setting, value, "\(origin) = \(path)"))
            }
        }
        return resolved
    }

    /// Reads a secret file: whole, trailing line breaks trimmed, refused when others may read it.
    /// - Parameters:
    ///   - path: An absolute path, or one relative to `$CREDENTIALS_DIRECTORY`.
    ///   - origin: The setting or variable that named it, for messages.
    ///   - environment: The process environment.
    /// - Returns: The secret.
    /// - Throws: ``ConfigurationError`` naming `origin` and the path (never the content).
    static func read(path: String, origin: String, environment: [String: String]) throws -> String {
        var full = path
        if !path.hasPrefix("/") {
            guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
                throw ConfigurationError(
                    setting: origin,
                    problem: "\(path) is a relative path, which is taken inside $CREDENTIALS_DIRECTORY "
                        + "(systemd LoadCredential=), and that is not set; give an absolute path"
                )
            }
            full = (directory.hasSuffix("/") ? directory : directory + "/") + path
        }
        var status = stat()
        guard stat(full, &status) == 0 else {
            throw ConfigurationError(setting: origin, problem: "file \(full) cannot be read: \(errnoText())")
        }
        guard Int(status.st_mode) & Int(S_IFMT) == Int(S_IFREG) else {
            throw ConfigurationError(setting: origin, problem: "\(full) is not a regular file")
        }
        let permissions = Int(status.st_mode) & 0o777
        if permissions & 0o027 != 0 {
            throw ConfigurationError(
                setting: origin,
                problem: "file \(full) has mode \(String(permissions, radix: 8)): others may read it or its group may "
                    + "write it; make it readable by the gateway's user (and group) only, e.g. chmod 0600 or 0640"
            )
        }
        guard let data = FileManager.default.contents(atPath: full) else {
            throw ConfigurationError(setting: origin, problem: "file \(full) cannot be read: \(errnoText())")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(setting: origin, problem: "file \(full) is not UTF-8 text")
        }
        while let last = text.last, last == "\n" || last == "\r\n" || last == "\r" { text.removeLast() }
        if text.isEmpty {
            throw ConfigurationError(setting: origin, problem: "file \(full) is empty")
        }
        return text
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

extension GatewayConfiguration {
    /// The lines the example file shows under each secret setting.
    /// - Parameter setting: A secret setting.
    /// - Returns: Comment lines saying where else the secret may come from.
    static func secretExampleLines(_ setting: Setting) -> [String] {
        [
            "# Secret: give it ONE way only: here, as \(setting.key)_file = \"/path\" (the file's content, trailing",
            "# newline trimmed; a relative path is inside $CREDENTIALS_DIRECTORY; the file must not be readable by",
            "# others), or in the environment as \(setting.environmentName) or \(setting.fileEnvironmentName).",
        ]
    }
}

import Foundation
import GatewayCore
import GatewayHTTP
import TOMLKit

/// Everything the gateway can be configured with. Defaults are safe for a single instance on one host.
///
/// Sources, later ones winning: built-in defaults, the TOML file (`--config`, else the file
/// `METER_GATEWAY_CONFIG` names, else `/etc/meter-gateway/meter-gateway.toml` if it exists: ``ConfigurationFile``),
/// then environment variables named `METER_GATEWAY_<SECTION>_<KEY>` in upper case (for example
/// `METER_GATEWAY_MQTT_PORT=8883`). A secret (`mqtt.password`, the `postgres` conninfos) comes from exactly one place:
/// its value in the file, a file named by
/// `<key>_file`, or `METER_GATEWAY_<SECTION>_<KEY>` / `…_FILE` (``SecretSources``). Every setting is listed in ``GatewayConfiguration/settings``, which also
/// produces the documented example file `config/meter-gateway.example.toml`. The HTTP credentials are the one
/// array of tables, `[[http.credentials]]`, read from the file only (``HTTP/credentials(from:)``). A removed setting
/// (``HTTP/removedSettings``) is refused with what to write instead.
///
/// Settings are grouped per component, one nested type and file per TOML section (``MQTT``, ``Postgres``,
/// ``Spool``, ``Pipeline``, ``Meters``, ``Tickets``, ``HTTP``, ``Dispatch``, ``Complaints``, ``Signatures``, ``Validation``,
/// ``Storage``, ``Log``), each with its own rows of the settings registry.
struct GatewayConfiguration: Sendable, Equatable {
    var mqtt = MQTT()
    var postgres = Postgres()
    var spool = Spool()
    var pipeline = Pipeline()
    var meters = Meters()
    var tickets = Tickets()
    var http = HTTP()
    var dispatch = Dispatch()
    var complaints = Complaints()
    var signatures = Signatures()
    var validation = Validation()
    var storage = Storage()
    var log = Log()
}

extension GatewayConfiguration {
    /// Every setting, in the order of the example file.
    static let settings: [Setting] =
        MQTT.settings + Postgres.settings + Spool.settings + Pipeline.settings + Meters.settings + Tickets.settings
        + HTTP.settings + Dispatch.settings + Complaints.settings + Signatures.settings + Validation.settings
        + Storage.settings
        + Log.settings

    /// Reads defaults, then the TOML text (if any), then the environment; checks every value.
    /// - Parameters:
    ///   - tomlText: The configuration file's text, or `nil` for none.
    ///   - environment: Variables to apply as overrides (normally the process environment).
    /// - Throws: ``ConfigurationError`` naming the first bad setting.
    static func load(tomlText: String?, environment: [String: String]) throws -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        var secrets = SecretSources()
        var fileTable: TOMLTable?
        if let tomlText {
            let table: TOMLTable
            do {
                table = try TOMLTable(string: tomlText)
                fileTable = table
            } catch let error as TOMLParseError {
                throw ConfigurationError(
                    setting: "",
                    problem:
                        "file is not valid TOML at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)"
                )
            }
            try configuration.apply(table: table, prefix: "", secrets: &secrets)
        }
        for setting in settings {
            if setting.isSecret {
                if let text = environment[setting.environmentName] {
                    secrets.add(setting, .value(text), origin: setting.environmentName)
                }
                if let path = environment[setting.fileEnvironmentName] {
                    secrets.add(setting, .file(path), origin: setting.fileEnvironmentName)
                }
            } else if let text = environment[setting.environmentName] {
                try configuration.assign(setting, fromText: text, origin: setting.environmentName)
            }
        }
        secrets.defaultKeys.add(environment: environment)
        for name in environment.keys where name.hasPrefix("METER_GATEWAY_") {
            if name.hasPrefix(DefaultKeySources.environmentPrefix) { continue }
            if name == ConfigurationFile.environmentName { continue }
            if let (removed, instead) = HTTP.removedSettings.first(where: {
                Setting.environmentName(of: $0.key) == name
            }) {
                throw ConfigurationError(setting: "\(removed) (from \(name))", problem: instead)
            }
            if !settings.contains(where: {
                $0.environmentName == name || ($0.isSecret && $0.fileEnvironmentName == name)
            }) {
                throw ConfigurationError(setting: name, problem: "unknown environment setting")
            }
        }
        for (setting, value, origin) in try secrets.resolve(environment: environment) {
            try configuration.assign(setting, fromText: value, origin: origin)
        }
        configuration.meters.defaultKeys = try secrets.defaultKeys.resolve(environment: environment)
        if !configuration.meters.masterKeyFile.isEmpty && !configuration.meters.keyFile.isEmpty {
            throw ConfigurationError(
                setting: "meters.key_file",
                problem: "give meters.key_file (keys from a file) or meters.master_key_file (keys sealed in the "
                    + "database), not both"
            )
        }
        if !configuration.meters.keyFile.isEmpty {
            configuration.meters.keyTable = try Meters.readKeyTable(
                path: configuration.meters.keyFile,
                environment: environment
            )
        }
        if !configuration.meters.masterKeyFile.isEmpty {
            configuration.meters.masterKey = try Meters.readMasterKey(
                path: configuration.meters.masterKeyFile,
                environment: environment
            )
        }
        guard MBusDriverSet(names: configuration.meters.mbusDrivers) != nil else {
            throw ConfigurationError(
                setting: "meters.mbus_drivers",
                problem: "names a driver the gateway does not have (known: "
                    + MBusDriverID.allCases.map(\.rawValue).joined(separator: ", ") + ")"
            )
        }
        try configuration.resolveTimeZones(table: fileTable, environment: environment)
        try configuration.validateCombinations()
        try configuration.validateTransportSecurity(environment: environment)
        return configuration
    }

    private mutating func apply(table: TOMLTable, prefix: String, secrets: inout SecretSources) throws {
        for (key, value) in table {
            let name = prefix.isEmpty ? key : "\(prefix).\(key)"
            if let instead = HTTP.removedSettings[name] {
                throw ConfigurationError(setting: name, problem: instead)
            }
            if name == HTTP.credentialsName {
                http.credentials = try HTTP.credentials(from: value)
                continue
            }
            if name == DefaultKeySources.name {
                try secrets.defaultKeys.add(table: value)
                continue
            }
            if let nested = value.table {
                guard Self.settings.contains(where: { $0.section == name || $0.section.hasPrefix(name + ".") }) else {
                    throw ConfigurationError(setting: name, problem: "unknown section")
                }
                try apply(table: nested, prefix: name, secrets: &secrets)
                continue
            }
            if let secret = Self.settings.first(where: { $0.isSecret && $0.fileName == name }) {
                guard let path = value.string, !path.isEmpty else {
                    throw ConfigurationError(setting: name, problem: "must be the path of a file")
                }
                secrets.add(secret, .file(path), origin: name)
                continue
            }
            guard let setting = Self.settings.first(where: { $0.name == name }) else {
                throw ConfigurationError(setting: name, problem: "unknown setting")
            }
            switch setting.kind {
            case .string:
                guard let text = value.string else {
                    throw ConfigurationError(setting: name, problem: "must be a string")
                }
                if setting.isSecret {
                    // An empty secret in the file (as the example shows) is no secret given.
                    if !text.isEmpty { secrets.add(setting, .value(text), origin: name) }
                } else {
                    try assign(setting, fromText: text, origin: name)
                }
            case .integer:
                guard let number = value.int else {
                    throw ConfigurationError(setting: name, problem: "must be an integer")
                }
                try assign(setting, fromText: String(number), origin: name)
            case .boolean:
                guard let flag = value.bool else {
                    throw ConfigurationError(setting: name, problem: "must be true or false")
                }
                try assign(setting, fromText: flag ? "true" : "false", origin: name)
            }
        }
    }

    private mutating func assign(_ setting: Setting, fromText text: String, origin: String) throws {
        let name = origin == setting.name ? setting.name : "\(setting.name) (from \(origin))"
        switch setting.kind {
        case .string(let path, let isSecret, let allowed):
            if let allowed, !allowed.contains(text) {
                let shown = isSecret ? "the given value" : "\"\(text)\""
                throw ConfigurationError(
                    setting: name,
                    problem: "\(shown) is not one of \(allowed.joined(separator: ", "))"
                )
            }
            self[keyPath: path] = text
        case .integer(let path, let range):
            guard let number = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError(setting: name, problem: "\"\(text)\" is not an integer")
            }
            guard range.contains(number) else {
                throw ConfigurationError(
                    setting: name,
                    problem: "\(number) is outside \(range.lowerBound)…\(range.upperBound)"
                )
            }
            self[keyPath: path] = number
        case .boolean(let path):
            switch text.lowercased() {
            case "true", "1", "yes", "on": self[keyPath: path] = true
            case "false", "0", "no", "off": self[keyPath: path] = false
            default: throw ConfigurationError(setting: name, problem: "\"\(text)\" is not true or false")
            }
        }
    }

    private func validateCombinations() throws {
        if mqtt.host.isEmpty { throw ConfigurationError(setting: "mqtt.host", problem: "must not be empty") }
        if mqtt.clientID.isEmpty || mqtt.clientID.contains(where: { $0.isWhitespace }) {
            throw ConfigurationError(setting: "mqtt.client_id", problem: "must be a non-empty id without spaces")
        }
        if mqtt.topicPrefix.isEmpty || mqtt.topicPrefix.contains("#") || mqtt.topicPrefix.contains("+")
            || mqtt.topicPrefix.hasSuffix("/")
        {
            throw ConfigurationError(
                setting: "mqtt.topic_prefix",
                problem: "must be non-empty, without wildcards or a trailing /"
            )
        }
        if mqtt.sharedGroup.contains("/") || mqtt.sharedGroup.contains("#") || mqtt.sharedGroup.contains("+") {
            throw ConfigurationError(setting: "mqtt.shared_group", problem: "must not contain /, # or +")
        }
        if mqtt.reconnectMinMilliseconds > mqtt.reconnectMaxMilliseconds {
            throw ConfigurationError(setting: "mqtt.reconnect_min_ms", problem: "must not exceed mqtt.reconnect_max_ms")
        }
        if mqtt.tls.isEnabled && mqtt.tls.caFile.isEmpty {
            throw ConfigurationError(setting: "mqtt.tls.ca_file", problem: "is required when mqtt.tls.enabled is true")
        }
        if mqtt.tls.certFile.isEmpty != mqtt.tls.keyFile.isEmpty {
            throw ConfigurationError(
                setting: "mqtt.tls.key_file",
                problem: "cert_file and key_file must be given together"
            )
        }
        for (setting, path) in [
            ("mqtt.tls.ca_file", mqtt.tls.caFile), ("mqtt.tls.cert_file", mqtt.tls.certFile),
            ("mqtt.tls.key_file", mqtt.tls.keyFile),
        ]
        where mqtt.tls.isEnabled && !path.isEmpty && !FileManager.default.isReadableFile(atPath: path) {
            throw ConfigurationError(setting: setting, problem: "file \(path) is not readable")
        }
        if validation.highUsagePercent >= validation.extremeUsagePercent {
            throw ConfigurationError(
                setting: "validation.high_usage_percent",
                problem: "must be below validation.extreme_usage_percent"
            )
        }
        do {
            _ = try CredentialStore(http.credentials)
        } catch {
            throw ConfigurationError(setting: HTTP.credentialsName, problem: error.description)
        }
        if mqtt.username.isEmpty && !mqtt.password.isEmpty {
            throw ConfigurationError(setting: "mqtt.password", problem: "is set but mqtt.username is empty")
        }
        if postgres.conninfo.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ConfigurationError(setting: "postgres.conninfo", problem: "must not be empty")
        }
        if spool.directory.isEmpty {
            throw ConfigurationError(setting: "spool.directory", problem: "must not be empty")
        }
        if pipeline.retryMinMilliseconds > pipeline.retryMaxMilliseconds {
            throw ConfigurationError(setting: "pipeline.retry_min_ms", problem: "must not exceed pipeline.retry_max_ms")
        }
        if tickets.p0UrbanArriveMinutes > tickets.p0RuralArriveMinutes {
            throw ConfigurationError(
                setting: "tickets.p0_urban_arrive_minutes",
                problem: "must not exceed tickets.p0_rural_arrive_minutes"
            )
        }
    }

    /// The documented example file: every setting with its help text and default.
    static func exampleFile() -> String {
        let defaults = GatewayConfiguration()
        var lines = [
            "# meter-gateway configuration. Every setting is shown with its default.",
            "# Each can be overridden by an environment variable METER_GATEWAY_<SECTION>_<KEY>, e.g. METER_GATEWAY_MQTT_PORT.",
            "# Secrets (marked below) are the exception: each is given one way only, and their lines are commented out.",
            "# Start-up stops with a message naming the setting when a value is invalid.",
        ]
        var section = ""
        for setting in settings {
            if setting.section != section {
                if section == "http" { lines += HTTP.credentialsExample }
                if section == "meters" { lines += Meters.defaultKeysExample }
                section = setting.section
                lines.append("")
                lines.append("[\(section)]")
            }
            lines.append("# \(setting.help) (env \(setting.environmentName))")
            if setting.isSecret { lines += secretExampleLines(setting) }
            switch setting.kind {
            case .string(let path, let isSecret, let allowed):
                if let allowed { lines.append("# One of: \(allowed.joined(separator: ", ")).") }
                // A secret's line is commented out, so a copy of this file does not clash with the secret given
                // another way.
                lines.append("\(isSecret ? "# " : "")\(setting.key) = \"\(defaults[keyPath: path])\"")
            case .integer(let path, let range):
                lines.append("# Range \(range.lowerBound)…\(range.upperBound).")
                // An older zone setting's line is commented out, so that setting the zone by name in a copy of this
                // file does not give both forms.
                let isOlderForm = TimeZoneSetting.olderSettings.contains(setting.name)
                lines.append("\(isOlderForm ? "# " : "")\(setting.key) = \(defaults[keyPath: path])")
            case .boolean(let path):
                lines.append("\(setting.key) = \(defaults[keyPath: path])")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

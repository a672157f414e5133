import GatewayCore
import PostgresSink

extension GatewayConfiguration {
    /// `[meters]`: facts about meters that their frames do not carry, such as the zone of their clocks.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Meters: Sendable, Equatable {
        var cjt188ClockOffsetMinutes = 480
        var mbusClockOffsetMinutes = 60
        var cjt188ClockTimeZone = ""
        var mbusClockTimeZone = ""
        /// The zones of meter clocks, resolved at load from the zone settings or the minutes.
        var cjt188Zone = TimeZoneRules(fixedOffsetSeconds: 480 * 60)
        var mbusZone = TimeZoneRules(fixedOffsetSeconds: 60 * 60)
        var masterKeyFile = ""
        var keyFile = ""
        var mbusDrivers = ""
        /// The master key read from ``masterKeyFile`` when the configuration was loaded (32 bytes), or nil.
        var masterKey: [UInt8]?
        /// The keys read from ``keyFile`` when the configuration was loaded, or nil.
        var keyTable: MeterKeyTable?
        /// `[meters.default_keys]`: published default keys by manufacturer letters (``DefaultKeySources``).
        var defaultKeys: [String: [[UInt8]]] = [:]

        /// The M-Bus drivers the decoder may run: those of documented layout plus the ones ``mbusDrivers`` names
        /// (validated when the configuration is loaded).
        var mbusDriverSet: MBusDriverSet { MBusDriverSet(names: mbusDrivers) ?? .documented }

        /// The sealer of meter keys, when a master key is configured.
        var keySealer: MeterKeySealer? { masterKey.flatMap { MeterKeySealer(masterKey: $0) } }
    }
}

extension GatewayConfiguration.Meters {
    /// The `[meters]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "meters",
            key: "cjt188_clock_time_zone",
            kind: .string(\.meters.cjt188ClockTimeZone, isSecret: false, allowed: nil),
            help:
                "Zone of CJ/T 188 meter clocks (they carry no zone): an IANA name (Asia/Shanghai) or a fixed offset "
                + "(+08:00). Empty: cjt188_clock_utc_offset_minutes."
        ),
        Setting(
            section: "meters",
            key: "cjt188_clock_utc_offset_minutes",
            kind: .integer(\.meters.cjt188ClockOffsetMinutes, range: -720...840),
            help:
                "Older form: zone of CJ/T 188 meter clocks, in minutes east of UTC. 480 = China Standard Time. Give "
                + "this or cjt188_clock_time_zone, not both."
        ),
        Setting(
            section: "meters",
            key: "mbus_clock_time_zone",
            kind: .string(\.meters.mbusClockTimeZone, isSecret: false, allowed: nil),
            help:
                "Zone of wireless and wired M-Bus meter clocks (they carry no zone): an IANA name (Europe/Berlin) "
                + "for meters that follow summer time, or a fixed offset (+01:00). A meter time in the hour repeated "
                + "when clocks go back is taken nearer the receive time and flagged; one in the skipped hour is not "
                + "used (the receive time, flagged as an invalid clock). Empty: mbus_clock_utc_offset_minutes."
        ),
        Setting(
            section: "meters",
            key: "mbus_clock_utc_offset_minutes",
            kind: .integer(\.meters.mbusClockOffsetMinutes, range: -720...840),
            help:
                "Older form: zone of M-Bus meter clocks, in minutes east of UTC. 60 = Central European Time; a fixed "
                + "offset does not follow summer time. Give this or mbus_clock_time_zone, not both."
        ),
        Setting(
            section: "meters",
            key: "master_key_file",
            kind: .string(\.meters.masterKeyFile, isSecret: false, allowed: nil),
            help:
                "File holding the master key (64 hexadecimal digits: openssl rand -hex 32) that seals meter keys in "
                + "the database (AES-256-GCM). With it, meters import stores keys sealed and meters seal-keys seals "
                + "plaintext ones. Relative: inside $CREDENTIALS_DIRECTORY. Must not be readable by others. Empty: "
                + "keys are stored in plaintext, and sealed keys cannot be read."
        ),
        Setting(
            section: "meters",
            key: "key_file",
            kind: .string(\.meters.keyFile, isSecret: false, allowed: nil),
            help:
                "CSV file of meter keys (header protocol,address,aes_key; keys as 32 hexadecimal digits) used "
                + "instead of the keys in the database, which are then ignored; a meter not in it has no key. Read "
                + "at start. Relative: inside $CREDENTIALS_DIRECTORY. Must not be readable by others. Not together "
                + "with master_key_file."
        ),
        Setting(
            section: "meters",
            key: "mbus_drivers",
            kind: .string(\.meters.mbusDrivers, isSecret: false, allowed: nil),
            help:
                "Comma-separated M-Bus drivers of inferred scale to run besides the documented ones (see the README, "
                + "Proprietary payloads): apator08. Their readings carry status bit 41 (inferred scale); check them "
                + "against the meter's display before billing. Empty: frames only such a driver reads are "
                + "quarantined as unsupported_frame."
        ),
    ]

    /// Reads the key file: a meter CSV with the columns protocol, address and aes_key, not readable by others.
    /// - Parameters:
    ///   - path: The file, absolute or inside `$CREDENTIALS_DIRECTORY`.
    ///   - environment: The process environment.
    /// - Returns: The keys.
    /// - Throws: ``ConfigurationError`` naming `meters.key_file` and the first bad line (never a key).
    static func readKeyTable(path: String, environment: [String: String]) throws -> MeterKeyTable {
        let text = try SecretSources.read(path: path, origin: "meters.key_file", environment: environment)
        let parsed = MeterCSV.parse(text)
        if let problem = parsed.problems.first {
            throw ConfigurationError(
                setting: "meters.key_file",
                problem: "\(problem) (\(parsed.problems.count) problems)"
            )
        }
        guard parsed.columns == [.protocol, .address, .aesKey] else {
            throw ConfigurationError(
                setting: "meters.key_file",
                problem: "the columns must be protocol,address,aes_key"
            )
        }
        return MeterKeyTable(
            parsed.rows.compactMap { row in
                row.profile.aesKey.map { (row.profile.protocol, row.profile.address, $0) }
            }
        )
    }

    /// Reads the master key file: 64 hexadecimal digits (trailing newline trimmed), not readable by others.
    /// - Parameters:
    ///   - path: The file, absolute or inside `$CREDENTIALS_DIRECTORY`.
    ///   - environment: The process environment.
    /// - Returns: The 32-byte master key.
    /// - Throws: ``ConfigurationError`` naming `meters.master_key_file` (never the content).
    static func readMasterKey(path: String, environment: [String: String]) throws -> [UInt8] {
        let text = try SecretSources.read(path: path, origin: "meters.master_key_file", environment: environment)
        guard text.count == 64, let bytes = Hex.decode(text), bytes.count == 32 else {
            throw ConfigurationError(
                setting: "meters.master_key_file",
                problem: "the file must hold 64 hexadecimal digits (32 bytes; make one with openssl rand -hex 32)"
            )
        }
        return bytes
    }
}

extension GatewayConfiguration.Meters {
    /// The zones of meter clocks per protocol.
    var clocks: MeterClocks {
        MeterClocks(
            cjt188: MeterClock(zone: cjt188Zone),
            mbus: MeterClock(zone: mbusZone)
        )
    }
}

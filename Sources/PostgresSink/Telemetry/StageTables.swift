import GatewayCore

/// The temporary staging tables a write COPYs into before `INSERT … SELECT … ON CONFLICT DO NOTHING`.
///
/// Each stage table has a `seq` identity column, filled in COPY order, so that when a batch holds the same
/// natural key twice the earlier row wins deterministically. `seq` is not part of the COPY stream. The stream
/// for readings and frames is the same as for their real tables, so one encoding serves the direct COPY attempt
/// and the staged fallback; intervals are always staged and merged into `interval_days` (``IntervalDaysSQL``). Column types match the wire types the encoder writes.
enum StageTables {
    /// How stage tables live.
    enum Strategy: Sendable {
        /// Created once per connection, `ON COMMIT DELETE ROWS` (emptied at each commit, no catalog churn).
        case perSession
        /// Created in every transaction, `ON COMMIT DROP`.
        case perTransaction
    }

    struct Table: Sendable {
        let name: String
        /// `name type …` for each column the COPY stream carries, in stream order.
        let columns: [(name: String, type: String)]
        /// The real table with exactly these columns, for a direct COPY attempt; nil when always staged.
        let directTarget: String?
        /// Whether the table gets a `seq` identity column (false for tables filled by `INSERT … SELECT`).
        var hasSequence = true

        private var columnList: String { columns.map(\.name).joined(separator: ", ") }

        /// `COPY` into the stage table.
        var copySQL: String { "COPY \(name) (\(columnList)) FROM STDIN (FORMAT binary)" }

        /// `COPY` straight into the real table (same stream).
        var directCopySQL: String? {
            directTarget.map { "COPY \($0) (\(columnList)) FROM STDIN (FORMAT binary)" }
        }

        /// `INSERT` of rows sent as one array parameter per column (``ColumnArrays``) into `target`, a table with
        /// these columns: `$n` is column n's array; timestamps arrive as microseconds since 2000-01-01 UTC.
        func insertFromArraysSQL(into target: String) -> String {
            var arrays: [String] = []
            var values: [String] = []
            for (index, column) in columns.enumerated() {
                // The type without its constraint: "timestamptz NOT NULL" → "timestamptz".
                let type = column.type.prefix { $0 != " " }
                let isTimestamp = type == "timestamptz"
                arrays.append("$\(index + 1)::\(isTimestamp ? "bigint" : type)[]")
                values.append(
                    isTimestamp
                        ? "timestamptz '2000-01-01 00:00:00+00' + u.\(column.name) * interval '1 microsecond'"
                        : "u.\(column.name)"
                )
            }
            return """
                INSERT INTO \(target) (\(columnList))
                SELECT \(values.joined(separator: ", "))
                FROM unnest(\(arrays.joined(separator: ", "))) AS u (\(columnList))
                """
        }

        func createSQL(_ strategy: Strategy) -> String {
            let onCommit = strategy == .perSession ? "DELETE ROWS" : "DROP"
            var definitions = columns.map { "\($0.name) \($0.type)" }
            if hasSequence { definitions.insert("seq bigint GENERATED ALWAYS AS IDENTITY", at: 0) }
            return
                "CREATE TEMP TABLE IF NOT EXISTS \(name) (\(definitions.joined(separator: ", "))) ON COMMIT \(onCommit)"
        }
    }

    static let readings = Table(
        name: "gw_stage_readings",
        columns: [
            ("meter_id", "bigint NOT NULL"), ("read_at", "timestamptz NOT NULL"), ("kind", "smallint NOT NULL"),
            ("received_at", "timestamptz NOT NULL"), ("volume_ml", "bigint NOT NULL"),
            ("register_modulus_ml", "bigint NOT NULL"), ("flow_ml_per_h", "bigint"), ("valve", "smallint NOT NULL"),
            ("battery_mv", "integer"), ("temperature_centi_c", "integer"), ("signal_dbm", "smallint"),
            ("status_bits", "bigint NOT NULL"), ("frame_counter", "bigint"), ("source", "smallint NOT NULL"),
            ("basis", "smallint NOT NULL"), ("storage", "smallint NOT NULL"), ("tariff", "smallint NOT NULL"),
            ("protection_flags", "smallint NOT NULL"),
        ],
        directTarget: "readings"
    )
    static let intervals = Table(
        name: "gw_stage_intervals",
        columns: [
            ("meter_id", "bigint NOT NULL"), ("interval_start", "timestamptz NOT NULL"),
            ("interval_minutes", "smallint NOT NULL"), ("volume_ml", "bigint NOT NULL"),
            ("end_index_ml", "bigint NOT NULL"), ("received_at", "timestamptz NOT NULL"),
            ("protection", "protection_level NOT NULL"), ("key_source", "text"),
        ],
        directTarget: nil
    )
    static let alarms = Table(
        name: "gw_stage_alarms",
        columns: [
            ("meter_id", "bigint NOT NULL"), ("raised_at", "timestamptz NOT NULL"),
            ("received_at", "timestamptz NOT NULL"), ("source", "text NOT NULL"), ("raw_code", "integer NOT NULL"),
            ("condition", "text NOT NULL"), ("is_cleared", "boolean NOT NULL"), ("priority", "text NOT NULL"),
            ("valve", "smallint NOT NULL"), ("detail", "bigint NOT NULL"), ("frame_counter", "bigint"),
            ("opens_ticket", "boolean NOT NULL"), ("protection", "protection_level NOT NULL"),
            ("key_source", "text"),
        ],
        directTarget: nil
    )
    static let quarantine = Table(
        name: "gw_stage_quarantine",
        columns: [
            ("received_at", "timestamptz NOT NULL"), ("topic", "text NOT NULL"), ("payload", "bytea NOT NULL"),
            ("payload_hash", "bigint NOT NULL"), ("reason", "text NOT NULL"), ("detail", "text NOT NULL"),
            ("source", "text"), ("meter_address", "text"),
        ],
        directTarget: nil
    )
    /// The frame gates of a batch (``GatewayCore/FrameGate``); `idx` is the gate's index in the batch.
    static let gates = Table(
        name: "gw_stage_gates",
        columns: [
            ("idx", "integer NOT NULL"), ("meter_id", "bigint NOT NULL"), ("kind", "smallint NOT NULL"),
            ("identity", "bigint NOT NULL"), ("fingerprint", "bigint NOT NULL"), ("source", "smallint NOT NULL"),
            ("received_at", "timestamptz NOT NULL"),
        ],
        directTarget: nil,
        hasSequence: false
    )
    /// Per (meter, counter kind) the lowest and highest authenticated counter of the batch (the replay check).
    static let marks = Table(
        name: "gw_stage_marks",
        columns: [
            ("meter_id", "bigint NOT NULL"), ("kind", "smallint NOT NULL"), ("low", "bigint NOT NULL"),
            ("high", "bigint NOT NULL"),
        ],
        directTarget: nil,
        hasSequence: false
    )
    /// The alarms this transaction inserted (filled from `INSERT … RETURNING`), input of the ticket step.
    static let newAlarms = Table(
        name: "gw_new_alarms",
        columns: [
            ("id", "bigint NOT NULL"), ("meter_id", "bigint NOT NULL"), ("raised_at", "timestamptz NOT NULL"),
            ("received_at", "timestamptz NOT NULL"), ("condition", "text NOT NULL"), ("is_cleared", "boolean NOT NULL"),
            ("priority", "text NOT NULL"), ("opens_ticket", "boolean NOT NULL"),
        ],
        directTarget: nil,
        hasSequence: false
    )
    static let meters = Table(
        name: "gw_stage_meters",
        columns: [
            ("protocol", "text NOT NULL"), ("address", "text NOT NULL"), ("district", "text"),
            ("is_rural", "boolean NOT NULL"), ("aes_key", "bytea"), ("size", "text"), ("qmin_ml_per_h", "bigint"),
            ("qt_ml_per_h", "bigint"), ("qmax_ml_per_h", "bigint"), ("accuracy_class", "text"),
            ("register_digits", "smallint"), ("customer_class", "text"), ("verified_on_days", "integer"),
            ("verification_expires_on_days", "integer"), ("continuous_appliance", "boolean NOT NULL"),
            ("methane_detector_linked", "boolean NOT NULL"), ("role", "text NOT NULL"),
            ("min_protection", "protection_level NOT NULL"),
        ],
        directTarget: nil
    )

    static let all: [Table] = [readings, intervals, alarms, quarantine, newAlarms, meters, gates, marks]

    /// The frame log's columns (not a stage table: its rows go straight into `uplink_frames`, v27).
    static let frameLog = Table(
        name: "uplink_frames",
        columns: [
            ("meter_id", "bigint NOT NULL"), ("frame_counter", "bigint NOT NULL"), ("frame_type", "smallint NOT NULL"),
            ("meter_time", "timestamptz NOT NULL"), ("received_at", "timestamptz NOT NULL"),
        ],
        directTarget: "uplink_frames",
        hasSequence: false
    )
    /// The columns of a new frame identity (not a stage table: the fast path writes them straight into
    /// `frame_identities`; the slow path stages ``gates``).
    static let identities = Table(
        name: "frame_identities",
        columns: [
            ("meter_id", "bigint NOT NULL"), ("kind", "smallint NOT NULL"), ("identity", "bigint NOT NULL"),
            ("fingerprint", "bigint NOT NULL"), ("source", "smallint NOT NULL"),
            ("first_received_at", "timestamptz NOT NULL"),
        ],
        directTarget: "frame_identities",
        hasSequence: false
    )

    /// Makes `tables` exist as session tables (`ON COMMIT DELETE ROWS`) from inside the caller's transaction, in
    /// one round trip, for stores that keep no per-connection state (``ValidationStore``).
    ///
    /// A table that exists already is left as it is (`IF NOT EXISTS`: no catalog change), so after the first commit
    /// of a connection this costs one short statement. If the transaction rolls back, its creation rolls back too and
    /// the next call creates the table again. Creating them `ON COMMIT DROP` in every transaction instead (as the
    /// validator did at first) wrote and deleted catalog rows for two tables and a sequence per transaction: 1.4–3.8
    /// ms of server time and about 650 buffer accesses each time, besides the drop at commit.
    /// - Parameters:
    ///   - tables: The stage tables the transaction uses.
    ///   - connection: A connection inside a transaction.
    /// - Throws: ``PostgresError``.
    static func ensureSessionTables(_ tables: [Table], on connection: PostgresConnection) throws {
        try connection.executeScript(tables.map { $0.createSQL(.perSession) }.joined(separator: ";\n"))
    }
}

extension RowFieldWriter {
    /// Appends a reading as one tuple of the `readings` COPY stream (18 fields, in ``StageTables/readings`` order;
    /// the source travels as its code and the protection level with the key source as one flags code, migration
    /// v28: ``FrameProtocol/storageCode``, ``GatewayCore/ReadingRecord/protectionFlags``).
    ///
    /// Public so that the allocation probe measures the real encode path.
    /// - Parameters:
    ///   - reading: The reading.
    public mutating func append(_ reading: ReadingRecord) {
        beginTuple(fieldCount: 18)
        writeInt64(reading.meterID)
        writeTimestamp(reading.readAt)
        writeInt16(reading.kind.rawValue)
        writeTimestamp(reading.receivedAt)
        writeInt64(reading.volumeMillilitres)
        writeInt64(reading.registerModulusMillilitres)
        writeInt64(reading.flowMillilitresPerHour)
        writeInt16(reading.valve.rawValue)
        writeInt32(reading.batteryMillivolts)
        writeInt32(reading.temperatureCentiCelsius)
        writeInt16(reading.signalDBm)
        writeInt64(reading.statusBits)
        writeInt64(reading.frameCounter)
        writeInt16(reading.source.storageCode)
        writeInt16(reading.basis.rawValue)
        writeInt16(reading.storage)
        writeInt16(reading.tariff)
        writeInt16(reading.protectionFlags)
    }

    /// Appends an interval as one tuple of the `gw_stage_intervals` COPY stream (8 fields).
    ///
    /// Public so that the allocation probe measures the real encode path.
    /// - Parameters:
    ///   - interval: The interval row.
    public mutating func append(_ interval: IntervalRecord) {
        beginTuple(fieldCount: 8)
        writeInt64(interval.meterID)
        writeTimestamp(interval.intervalStart)
        writeInt16(interval.intervalMinutes)
        writeInt64(interval.volumeMillilitres)
        writeInt64(interval.endIndexMillilitres)
        writeTimestamp(interval.receivedAt)
        writeText(interval.protection.code)
        writeText(interval.keySource?.code)
    }

    mutating func append(_ frame: UplinkFrameRecord) {
        beginTuple(fieldCount: 5)
        writeInt64(frame.meterID)
        writeInt64(frame.frameCounter)
        writeInt16(frame.frameType)
        writeTimestamp(frame.meterTime)
        writeTimestamp(frame.receivedAt)
    }

    mutating func append(_ alarm: AlarmRecord, opensTicket: Bool) {
        beginTuple(fieldCount: 14)
        writeInt64(alarm.meterID)
        writeTimestamp(alarm.raisedAt)
        writeTimestamp(alarm.receivedAt)
        writeText(alarm.source.rawValue)
        writeInt32(alarm.rawCode)
        writeText(alarm.condition.rawValue)
        writeBool(alarm.isCleared)
        writeText(alarm.priority.rawValue)
        writeInt16(alarm.valve.rawValue)
        writeInt64(alarm.detail)
        writeInt64(alarm.frameCounter)
        writeBool(opensTicket)
        writeText(alarm.protection.code)
        writeText(alarm.keySource?.code)
    }

    /// Quarantine text comes from frames that failed to decode; PostgreSQL text cannot hold U+0000, and one
    /// such value would abort the whole batch, so NULs become U+FFFD. The raw bytes stay intact in `payload`.
    mutating func append(_ record: QuarantineRecord) {
        beginTuple(fieldCount: 8)
        writeTimestamp(record.receivedAt)
        writeText(record.topic.withoutNUL)
        writeBytea(record.payload)
        writeInt64(record.payloadHash)
        writeText(record.reason.withoutNUL)
        writeText(record.detail.withoutNUL)
        writeText(record.source?.rawValue)
        writeText(record.meterAddress?.withoutNUL)
    }

    /// A gate as one tuple of the direct `frame_identities` COPY stream (``WriterSQL/copyIdentities``).
    mutating func appendIdentity(_ gate: FrameGate) {
        beginTuple(fieldCount: 6)
        writeInt64(gate.meterID)
        writeInt16(gate.identity.kind)
        writeInt64(gate.identity.key)
        writeInt64(gate.fingerprint)
        writeInt16(gate.source.storageCode)
        writeTimestamp(gate.receivedAt)
    }

    mutating func append(_ gate: FrameGate, index: Int) {
        beginTuple(fieldCount: 7)
        writeInt32(Int32(clamping: index))
        writeInt64(gate.meterID)
        writeInt16(gate.identity.kind)
        writeInt64(gate.identity.key)
        writeInt64(gate.fingerprint)
        writeInt16(gate.source.storageCode)
        writeTimestamp(gate.receivedAt)
    }

    /// Dates travel as days since 1970-01-01 (`integer`); the upsert turns them into `date`. The minimum protection
    /// is the profile's, else the default of its key.
    mutating func append(_ profile: MeterProfile) {
        beginTuple(fieldCount: 18)
        writeText(profile.protocol.rawValue)
        writeText(profile.address.withoutNUL)
        writeText(profile.district?.withoutNUL)
        writeBool(profile.isRural)
        writeBytea(profile.aesKey)
        writeText(profile.size?.rawValue)
        writeInt64(profile.qminMillilitresPerHour)
        writeInt64(profile.qtMillilitresPerHour)
        writeInt64(profile.qmaxMillilitresPerHour)
        writeText(profile.accuracyClass?.rawValue)
        if let digits = profile.registerDigits { writeInt16(Int16(clamping: digits)) } else { writeNull() }
        writeText(profile.customerClass?.rawValue)
        writeInt32(profile.verifiedOn.map { Int32(clamping: $0.daysSinceEpoch) })
        writeInt32(profile.verificationExpiresOn.map { Int32(clamping: $0.daysSinceEpoch) })
        writeBool(profile.hasContinuousAppliance)
        writeBool(profile.isMethaneDetectorLinked)
        writeText(profile.role.rawValue)
        writeText(profile.effectiveMinProtection.code)
    }
}

extension String {
    /// The string with every U+0000 replaced by U+FFFD; the same string (no copy) when it has none.
    var withoutNUL: String {
        guard utf8.contains(0) else { return self }
        return String(String.UnicodeScalarView(unicodeScalars.map { $0 == "\0" ? "\u{FFFD}" : $0 }))
    }
}

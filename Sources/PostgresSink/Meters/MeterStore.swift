public import GatewayCore

/// The meter registry (`meters`): lookups for the decoders and bulk provisioning.
///
/// Thread rules: a value over a ``PostgresDatabase``; every statement runs on the database's own thread.
///
/// Keys: a meter's key is stored in plaintext (`aes_key`) or, with a master key (``MeterKeySealer``), sealed
/// (`aes_key_sealed`, migration v13). With a sealer every key written is sealed; keys read are opened, plaintext ones
/// are still read (a database from before v13 keeps working until ``sealKeys()`` runs). With a ``MeterKeyTable``
/// (a key file) the keys of loaded meters come from the table alone.
public struct MeterStore: Sendable {
    let database: any PostgresDatabase
    let sealer: MeterKeySealer?
    private let keyTable: MeterKeyTable?

    /// Creates a store over a session or pool.
    /// - Parameters:
    ///   - database: Where the SQL runs.
    ///   - sealer: The master key that seals and opens meter keys; nil when none is configured.
    ///   - keyTable: Keys from a key file, which then replace the database's keys on every load; nil for none.
    public init(_ database: any PostgresDatabase, sealer: MeterKeySealer? = nil, keyTable: MeterKeyTable? = nil) {
        self.database = database
        self.sealer = sealer
        self.keyTable = keyTable
    }

    /// Loads every registered meter of one protocol (for a decoder's address → meter table).
    /// - Parameters:
    ///   - protocol: The protocol whose meters to load.
    /// - Returns: The meters, ordered by id, with their keys opened.
    /// - Throws: ``PostgresError``; ``MeterKeyError`` when sealed keys are stored but no master key is configured,
    ///   or the master key does not open them (naming how many meters, never a key).
    public func loadMeters(protocol frameProtocol: FrameProtocol) async throws -> [RegisteredMeter] {
        let stored = try await database.withConnection { connection in
            try connection.query(MeterSQL.byProtocol, [frameProtocol], as: StoredMeter.self)
        }
        return try open(stored, what: "\(frameProtocol.rawValue) meters")
    }

    /// Looks up one meter by protocol and address.
    /// - Parameters:
    ///   - protocol: The protocol.
    ///   - address: The address as the protocol writes it.
    /// - Returns: The meter, or nil when it is not registered.
    /// - Throws: ``PostgresError``; ``MeterKeyError`` as for ``loadMeters(protocol:)``.
    public func lookupMeter(protocol frameProtocol: FrameProtocol, address: String) async throws -> RegisteredMeter? {
        let stored = try await database.withConnection { connection in
            try connection.query(MeterSQL.byAddress, [frameProtocol, address], as: StoredMeter.self)
        }
        return try open(stored, what: "meter").first
    }

    /// How many meters hold their key in plaintext and how many sealed.
    /// - Returns: The two counts.
    /// - Throws: ``PostgresError``.
    public func keyCounts() async throws -> (plaintext: Int, sealed: Int) {
        try await database.withConnection { connection in
            let row = try connection.query(MeterSQL.keyCounts, parameters: []).first ?? []
            let values = row.map { $0.flatMap { Int($0) } ?? 0 }
            return (values.first ?? 0, values.count > 1 ? values[1] : 0)
        }
    }

    /// Seals every plaintext key with the master key and removes the plaintext, in one transaction
    /// (`meters seal-keys`). Running it again seals nothing more.
    /// - Returns: The number of keys sealed.
    /// - Throws: ``MeterKeyError`` when the store has no master key; ``PostgresError`` (nothing is changed).
    public func sealKeys() async throws -> Int {
        guard let sealer else { throw MeterKeyError(problem: "no master key is configured (meters.master_key_file)") }
        return try await database.withTransaction { connection in
            let rows = try connection.query(MeterSQL.plaintextKeys, [], as: StoredMeter.self)
            for row in rows {
                guard let key = row.meter.aesKey else { continue }
                let sealed = try sealer.seal(key, protocol: row.meter.protocol, address: row.meter.address)
                _ = try connection.execute(MeterSQL.sealKey, parameters: [String(row.meter.id), Hex.encode(sealed)])
            }
            return rows.count
        }
    }

    /// Re-seals every sealed key under this store's master key, opening it with the previous one, in one
    /// transaction (`meters seal-keys --previous-master-key-file`): a change of master key.
    /// - Parameter previous: The master key the keys are sealed with now.
    /// - Returns: The number of keys re-sealed.
    /// - Throws: ``MeterKeyError`` when the store has no master key or the previous one does not open every sealed
    ///   key (naming how many; nothing is changed); ``PostgresError``.
    public func resealKeys(from previous: MeterKeySealer) async throws -> Int {
        guard let sealer else { throw MeterKeyError(problem: "no master key is configured (meters.master_key_file)") }
        return try await database.withTransaction { connection in
            let rows = try connection.query(MeterSQL.sealedKeys, [], as: StoredMeter.self)
            var resealed: [(id: Int64, sealed: [UInt8])] = []
            for row in rows {
                guard let sealed = row.sealedKey,
                    let key = previous.open(sealed, protocol: row.meter.protocol, address: row.meter.address)
                else { continue }
                resealed.append(
                    (row.meter.id, try sealer.seal(key, protocol: row.meter.protocol, address: row.meter.address))
                )
            }
            if resealed.count < rows.count {
                throw MeterKeyError(
                    problem: "the previous master key does not open the sealed keys of \(rows.count - resealed.count) "
                        + "of \(rows.count) meters; nothing was changed"
                )
            }
            for (id, sealed) in resealed {
                _ = try connection.execute(MeterSQL.sealKey, parameters: [String(id), Hex.encode(sealed)])
            }
            return resealed.count
        }
    }

    func open(_ stored: [StoredMeter], what: String) throws -> [RegisteredMeter] {
        if let keyTable {
            return stored.map { row in
                var meter = row.meter
                meter.aesKey = keyTable.key(protocol: meter.protocol, address: meter.address)
                return meter
            }
        }
        let sealedCount = stored.count(where: { $0.sealedKey != nil })
        guard sealedCount > 0 else { return stored.map(\.meter) }
        guard let sealer else {
            throw MeterKeyError(
                problem: "\(sealedCount) \(what) have sealed keys but no master key is configured "
                    + "(meters.master_key_file)"
            )
        }
        var meters: [RegisteredMeter] = []
        meters.reserveCapacity(stored.count)
        var unopened = 0
        for row in stored {
            var meter = row.meter
            if let sealed = row.sealedKey {
                meter.aesKey = sealer.open(sealed, protocol: meter.protocol, address: meter.address)
                if meter.aesKey == nil { unopened += 1 }
            }
            meters.append(meter)
        }
        if unopened > 0 {
            throw MeterKeyError(
                problem: "the master key (meters.master_key_file) does not open the sealed keys of \(unopened) of "
                    + "\(sealedCount) \(what); is it the key they were sealed with?"
            )
        }
        return meters
    }

    /// Forgets a meter's counter high-water marks and the identities of its counted frames, so that its counter
    /// may start again (`meters reset-counter`): for a meter given a new key (its counter restarts at 0, native spec
    /// §8.1) or replaced. Frames of the old key no longer authenticate, so they cannot be replayed afterwards. One
    /// statement, so it is atomic.
    /// - Parameter meterID: The meter's registry id.
    /// - Returns: The mark rows and the identities forgotten.
    /// - Throws: ``PostgresError``.
    public func resetCounters(meterID: Int64) async throws -> (marks: Int, identities: Int) {
        try await database.withConnection { connection in
            let row = try connection.query(CounterMarkSQL.resetMeter, parameters: [String(meterID)]).first ?? []
            let values = row.map { $0.flatMap { Int($0) } ?? 0 }
            return (values.first ?? 0, values.count > 1 ? values[1] : 0)
        }
    }

    /// Creates or updates meters by (protocol, address), setting district, rural flag, key and minimum protection
    /// as given (a nil key removes the stored one; a nil minimum is the default of the key). Uses one binary COPY, so bulk provisioning is fast.
    /// - Parameters:
    ///   - registrations: The meters; for a repeated (protocol, address) the last one wins.
    /// - Returns: The number of meters inserted or updated.
    /// - Throws: ``PostgresError`` with code `.invalidArgument` for a key that is not 16 bytes or an address
    ///   containing NUL (nothing is written), otherwise as for a write.
    public func registerMeters(_ registrations: [MeterRegistration]) async throws -> Int {
        let profiles = registrations.map { registration in
            var profile = MeterProfile(protocol: registration.protocol, address: registration.address)
            profile.district = registration.district
            profile.isRural = registration.isRural
            profile.aesKey = registration.aesKey
            profile.minProtection = registration.minProtection
            return profile
        }
        return try await importMeters(profiles, columns: [.district, .rural, .aesKey, .minProtection])
    }

    /// Creates or updates meters by (protocol, address) in one transaction (one binary COPY), setting only the
    /// fields in `columns`; a new meter gets defaults for the others. With a master key, keys are stored sealed
    /// (and a meter's plaintext key removed).
    /// - Parameters:
    ///   - profiles: The meters; for a repeated (protocol, address) the last one wins.
    ///   - columns: The fields to set (``MeterCSV/Column/protocol`` and ``MeterCSV/Column/address`` are implied).
    /// - Returns: The number of meters inserted or updated.
    /// - Throws: ``PostgresError`` with code `.invalidArgument` for a key that is not 16 bytes or an empty address
    ///   or one containing NUL (nothing is written); a database refusal (e.g. a CHECK constraint) writes nothing.
    public func importMeters(_ profiles: [MeterProfile], columns: Set<MeterCSV.Column>) async throws -> Int {
        guard !profiles.isEmpty else { return 0 }
        let staged = try prepareForImport(profiles, columns: columns)
        return try await database.withTransaction { connection in
            try connection.execute(StageTables.meters.createSQL(.perTransaction))
            return try Self.upsert(staged, columns: columns, sealed: sealer != nil, on: connection)
        }
    }

    /// Checks profiles for ``importMeters(_:columns:)`` and seals their keys when a master key is configured.
    /// - Throws: ``PostgresError`` `.invalidArgument` for a key that is not 16 bytes, an empty address or one
    ///   containing NUL, or a collector id that is not a ``CollectorID``.
    func prepareForImport(_ profiles: [MeterProfile], columns: Set<MeterCSV.Column>) throws -> [MeterProfile] {
        for profile in profiles {
            if let key = profile.aesKey, key.count != 16 {
                throw PostgresError(
                    code: .invalidArgument,
                    message: "an AES-128 meter key must be 16 bytes, got \(key.count)"
                )
            }
            if profile.address.utf8.contains(0) || profile.address.isEmpty {
                throw PostgresError(
                    code: .invalidArgument,
                    message: "a meter address must be non-empty and free of NUL"
                )
            }
            if columns.contains(.collectors) { try Self.checkCollectorIDs(profile.collectors) }
        }
        var sealed = profiles
        if let sealer, columns.contains(.aesKey) {
            for index in sealed.indices {
                guard let key = sealed[index].aesKey else { continue }
                sealed[index].aesKey = try sealer.seal(
                    key,
                    protocol: sealed[index].protocol,
                    address: sealed[index].address
                )
            }
        }
        return sealed
    }

    /// Stages `profiles` (checked and sealed) with one binary COPY and upserts them, inside the caller's transaction
    /// whose stage table exists.
    /// - Returns: The number of meters inserted or updated.
    static func upsert(
        _ profiles: [MeterProfile],
        columns: Set<MeterCSV.Column>,
        sealed: Bool,
        on connection: PostgresConnection
    ) throws -> Int {
        // Exists already (ON COMMIT DELETE ROWS) when the session strategy created it; otherwise dropped at commit.
        try connection.execute("TRUNCATE \(StageTables.meters.name)")
        var encoder = BinaryCopyEncoder(reservingCapacity: profiles.count * 160 + 64)
        for profile in profiles { encoder.append(profile) }
        encoder.finish()
        try connection.copyIn(sql: StageTables.meters.copySQL, data: encoder.bytes)
        let written = try connection.execute(MeterSQL.upsertMeters(columns: columns, sealed: sealed))
        if columns.contains(.collectors) { try replaceAssignments(of: profiles, on: connection) }
        return written
    }

    /// Replaces the collector assignments of the staged meters with their profiles' (the last profile of a repeated
    /// meter wins, as for the other fields). Runs in the import's transaction, after the upsert.
    private static func replaceAssignments(of profiles: [MeterProfile], on connection: PostgresConnection) throws {
        var collectorsByMeter: [String: [String]] = [:]
        for profile in profiles {
            collectorsByMeter["\(profile.protocol.rawValue)|\(profile.address)"] = profile.collectors
        }
        var meterIDs: [Int64] = []
        var pairs: (meters: [Int64], collectors: [String]) = ([], [])
        for row in try connection.rows(MeterSQL.stagedMeterIDs) {
            let key = "\(try row.decode(0, as: String.self))|\(try row.decode(1, as: String.self))"
            let id: Int64 = try row.decode(2)
            meterIDs.append(id)
            for collector in collectorsByMeter[key] ?? [] {
                pairs.meters.append(id)
                pairs.collectors.append(collector)
            }
        }
        _ = try connection.execute(MeterSQL.clearAssignments, parameters: [meterIDs.postgresText])
        if !pairs.meters.isEmpty {
            _ = try connection.execute(
                MeterSQL.insertAssignments,
                parameters: [pairs.meters.postgresText, pairs.collectors.postgresText]
            )
        }
    }

    // MARK: Collector assignments

    /// Loads every (meter, collector) assignment, for the registry.
    /// - Returns: The pairs, ordered by collector and meter.
    /// - Throws: ``PostgresError``.
    public func loadCollectorAssignments() async throws -> [(meterID: Int64, collector: String)] {
        try await database.withConnection { connection in
            try connection.rows(MeterSQL.allAssignments).map { row in
                (try row.decode(0, as: Int64.self), try row.decode(1, as: String.self))
            }
        }
    }

    /// Assigns a meter to collectors; pairs that exist already are kept as they are.
    /// - Parameters:
    ///   - meterID: The meter's registry id.
    ///   - collectors: The collector ids.
    /// - Returns: How many pairs were new.
    /// - Throws: ``PostgresError`` `.invalidArgument` for an id that is not a ``CollectorID`` (nothing written).
    public func assignCollectors(meterID: Int64, collectors: [String]) async throws -> Int {
        try Self.checkCollectorIDs(collectors)
        return try await database.withConnection { connection in
            try connection.execute(MeterSQL.assign, parameters: [String(meterID), collectors.postgresText])
        }
    }

    /// Removes a meter from collectors.
    /// - Parameters:
    ///   - meterID: The meter's registry id.
    ///   - collectors: The collector ids.
    /// - Returns: How many pairs were removed (a collector the meter was not assigned to counts none).
    /// - Throws: ``PostgresError`` `.invalidArgument` for an id that is not a ``CollectorID``.
    public func unassignCollectors(meterID: Int64, collectors: [String]) async throws -> Int {
        try Self.checkCollectorIDs(collectors)
        return try await database.withConnection { connection in
            try connection.execute(MeterSQL.unassign, parameters: [String(meterID), collectors.postgresText])
        }
    }

    /// Lists assignments, optionally of one collector and/or one meter.
    /// - Parameters:
    ///   - collector: Only this collector's meters, or all.
    ///   - meterID: Only this meter's collectors, or all.
    /// - Returns: The assignments, ordered by collector, protocol and address.
    /// - Throws: ``PostgresError``.
    public func collectorAssignments(
        collector: String? = nil,
        meterID: Int64? = nil
    ) async throws -> [CollectorAssignment] {
        if let collector { try Self.checkCollectorIDs([collector]) }
        return try await database.withConnection { connection in
            try connection.rows(MeterSQL.listAssignments, [collector, meterID]).map { row in
                CollectorAssignment(
                    collector: try row.decode(0),
                    protocol: try row.decode(1),
                    address: try row.decode(2),
                    meterID: try row.decode(3)
                )
            }
        }
    }

    private static func checkCollectorIDs(_ collectors: [String]) throws {
        if let message = collectors.lazy.compactMap(CollectorID.problem).first {
            throw PostgresError(code: .invalidArgument, message: message)
        }
    }
}

extension RegisteredMeter: PostgresRowDecodable {
    /// Decodes the columns of ``MeterSQL/columns``: id, protocol, address, district, is_rural, key as hex, minimum
    /// protection.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) for a NULL or malformed column.
    public init(row: PostgresRow) throws {
        let aesKey = try row.decodeHexBytes(5)
        self.init(
            id: try row.decode(0),
            protocol: try row.decode(1),
            address: try row.decode(2),
            district: try row.decode(3, as: String?.self),
            isRural: try row.decode(4),
            aesKey: aesKey,
            minProtection: try ProtectionLevel(storedCode: row.decode(6), column: 6)
        )
    }
}

/// A `meters` row as stored: the meter, and its sealed key when it has one (then `meter.aesKey` is nil).
struct StoredMeter: PostgresRowDecodable {
    var meter: RegisteredMeter
    var sealedKey: [UInt8]?

    /// Decodes the columns of ``MeterSQL/columns``: those of ``RegisteredMeter``, then the sealed key as hex.
    init(row: PostgresRow) throws {
        meter = try RegisteredMeter(row: row)
        sealedKey = try row.decodeHexBytes(7)
    }
}

extension PostgresRow {
    /// The bytes of a column written as `encode(…, 'hex')`; `nil` for NULL.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when the text is not hexadecimal.
    fileprivate func decodeHexBytes(_ column: Int) throws -> [UInt8]? {
        try decode(column, as: String?.self).map { hex in
            guard let bytes = Hex.decode(hex) else {
                throw PostgresError(code: .unexpectedResult, message: "column \(column) is not hex")
            }
            return bytes
        }
    }
}

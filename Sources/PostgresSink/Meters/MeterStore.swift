public import GatewayCore

/// The meter registry (`meters`): lookups for the decoders and bulk provisioning.
///
/// Thread rules: a value over a ``PostgresDatabase``; every statement runs on the database's own thread.
public struct MeterStore: Sendable {
    private let database: any PostgresDatabase

    /// Creates a store over a session or pool.
    /// - Parameter database: Where the SQL runs.
    public init(_ database: any PostgresDatabase) {
        self.database = database
    }

    /// Loads every registered meter of one protocol (for a decoder's address → meter table).
    /// - Parameters:
    ///   - protocol: The protocol whose meters to load.
    /// - Returns: The meters, ordered by id.
    /// - Throws: ``PostgresError``.
    public func loadMeters(protocol frameProtocol: FrameProtocol) async throws -> [RegisteredMeter] {
        try await database.withConnection { connection in
            try connection.query(MeterSQL.byProtocol, [frameProtocol], as: RegisteredMeter.self)
        }
    }

    /// Looks up one meter by protocol and address.
    /// - Parameters:
    ///   - protocol: The protocol.
    ///   - address: The address as the protocol writes it.
    /// - Returns: The meter, or nil when it is not registered.
    /// - Throws: ``PostgresError``.
    public func lookupMeter(protocol frameProtocol: FrameProtocol, address: String) async throws -> RegisteredMeter? {
        try await database.withConnection { connection in
            try connection.query(MeterSQL.byAddress, [frameProtocol, address], as: RegisteredMeter.self).first
        }
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
    /// fields in `columns`; a new meter gets defaults for the others.
    /// - Parameters:
    ///   - profiles: The meters; for a repeated (protocol, address) the last one wins.
    ///   - columns: The fields to set (``MeterCSV/Column/protocol`` and ``MeterCSV/Column/address`` are implied).
    /// - Returns: The number of meters inserted or updated.
    /// - Throws: ``PostgresError`` with code `.invalidArgument` for a key that is not 16 bytes or an empty address
    ///   or one containing NUL (nothing is written); a database refusal (e.g. a CHECK constraint) writes nothing.
    public func importMeters(_ profiles: [MeterProfile], columns: Set<MeterCSV.Column>) async throws -> Int {
        guard !profiles.isEmpty else { return 0 }
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
        return try await database.withTransaction { connection in
            // Exists already (ON COMMIT DELETE ROWS) when the session strategy created it; otherwise dropped at commit.
            try connection.execute(StageTables.meters.createSQL(.perTransaction))
            try connection.execute("TRUNCATE \(StageTables.meters.name)")
            var encoder = BinaryCopyEncoder(reservingCapacity: profiles.count * 160 + 64)
            for profile in profiles { encoder.append(profile) }
            encoder.finish()
            try connection.copyIn(sql: StageTables.meters.copySQL, data: encoder.bytes)
            let written = try connection.execute(MeterSQL.upsertMeters(columns: columns))
            if columns.contains(.collectors) { try Self.replaceAssignments(of: profiles, on: connection) }
            return written
        }
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
        let hexKey = try row.decode(5, as: String?.self)
        let aesKey = try hexKey.map { hex in
            guard let bytes = Hex.decode(hex) else {
                throw PostgresError(code: .unexpectedResult, message: "column 5 is not hex")
            }
            return bytes
        }
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

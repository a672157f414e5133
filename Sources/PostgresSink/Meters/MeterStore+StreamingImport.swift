public import GatewayCore

/// What a streaming import did.
public struct MeterImportSummary: Sendable, Equatable {
    /// Meters inserted or updated.
    public var written: Int
    /// Rows refused because their meter appeared on an earlier line of the file.
    public var repeated: Int

    public init(written: Int, repeated: Int) {
        self.written = written
        self.repeated = repeated
    }
}

extension MeterStore {
    /// How many rows one batch of a streaming import stages (one COPY and one upsert each).
    public static let importBatchRows = 5_000

    /// Creates or updates meters read a batch at a time, all in one transaction: memory holds one batch, not the file.
    ///
    /// Each batch is checked (as ``importMeters(_:columns:)`` does), its keys sealed with a master key, staged with
    /// one binary COPY and upserted. A meter that an earlier line of the file named already is not imported: it is
    /// handed to `repeated` with both line numbers, so that it is reported, never dropped in silence (the identities
    /// seen are kept in a temporary table of the transaction, not in memory). Any error rolls the whole import
    /// back: nothing is written.
    /// - Parameters:
    ///   - columns: The fields to set (``MeterCSV/Column/protocol`` and ``MeterCSV/Column/address`` are implied).
    ///   - next: Returns the next batch of rows (line number and meter), or nil at the end. It runs on the
    ///     database's thread, inside the transaction, so it may block (read a file).
    ///   - repeated: Called with the line, the earlier line and the meter for each repeated meter.
    /// - Returns: How many meters were written and how many rows were repeats.
    /// - Throws: What `next` throws; ``PostgresError`` (`.invalidArgument` as for ``importMeters(_:columns:)``, or a
    ///   database refusal); nothing is written then.
    public func importMeters(
        columns: Set<MeterCSV.Column>,
        next: @Sendable () throws -> [(line: Int, profile: MeterProfile)]?,
        repeated: @Sendable (_ line: Int, _ firstLine: Int, _ profile: MeterProfile) -> Void
    ) async throws -> MeterImportSummary {
        let isSealed = sealer != nil
        return try await database.withTransaction { connection in
            try connection.execute(StageTables.meters.createSQL(.perTransaction))
            try connection.execute(MeterSQL.createImportSeen)
            var summary = MeterImportSummary(written: 0, repeated: 0)
            while let batch = try next() {
                guard !batch.isEmpty else { continue }
                let parameters = [
                    Self.arrayLiteral(batch.map(\.profile.protocol.rawValue)),
                    Self.arrayLiteral(batch.map(\.profile.address)),
                    batch.map { Int64($0.line) }.postgresText,
                ]
                try connection.execute(MeterSQL.insertImportSeen, parameters: parameters)
                var firstLines: [Int: Int] = [:]
                for row in try connection.query(MeterSQL.importRepeats, parameters: parameters) {
                    guard let line = row.first.flatMap({ $0.flatMap { Int($0) } }),
                        let first = row.last.flatMap({ $0.flatMap { Int($0) } })
                    else { continue }
                    firstLines[line] = first
                }
                var fresh: [MeterProfile] = []
                fresh.reserveCapacity(batch.count)
                for (line, profile) in batch {
                    if let first = firstLines[line] {
                        repeated(line, first, profile)
                        summary.repeated += 1
                    } else {
                        fresh.append(profile)
                    }
                }
                guard !fresh.isEmpty else { continue }
                let prepared = try prepareForImport(fresh, columns: columns)
                summary.written += try Self.upsert(prepared, columns: columns, sealed: isSealed, on: connection)
            }
            return summary
        }
    }

    /// A PostgreSQL text array literal with every element quoted (`{"a","b \"c\""}`), whatever the elements hold.
    static func arrayLiteral(_ elements: [String]) -> String {
        var text = "{"
        for (index, element) in elements.enumerated() {
            if index > 0 { text += "," }
            text += "\""
            for scalar in element.unicodeScalars {
                if scalar == "\"" || scalar == "\\" { text += "\\" }
                text.unicodeScalars.append(scalar)
            }
            text += "\""
        }
        return text + "}"
    }
}

/// Runs the merge of the staged intervals into `interval_days` (``IntervalDaysSQL``) inside the caller's write
/// transaction.
enum IntervalDaysWriter {
    /// Merges `gw_stage_intervals` into `interval_days` and returns how many intervals were stored (the rest of the
    /// staged rows are duplicates, or conflicts that ``IntervalDaysSQL/conflicts`` records).
    /// - Parameters:
    ///   - connection: A connection inside the write transaction, with the batch's intervals COPYed into the stage.
    /// - Returns: The number of intervals newly stored.
    /// - Throws: ``PostgresError``.
    static func merge(on connection: PostgresConnection) throws -> Int {
        let fresh = try counts(connection.query(IntervalDaysSQL.insertNewDays), expected: 3)
        let (days, insertedDays, insertedPoints) = (fresh[0], fresh[1], fresh[2])
        guard insertedDays < days else { return insertedPoints }
        // Some day was stored already (another frame of the day, a replay, another gateway): merge under lock.
        _ = try connection.query(IntervalDaysSQL.lockStoredDays)
        let merged = try counts(connection.query(IntervalDaysSQL.mergeIntoStoredDays), expected: 2)
        return insertedPoints + merged[0]
    }

    /// The integers of a one-row result.
    private static func counts(_ rows: [[String?]], expected: Int) throws -> [Int] {
        guard rows.count == 1, rows[0].count == expected else {
            throw PostgresError(
                code: .unexpectedResult,
                message: "interval merge returned \(rows.count) rows, expected 1"
            )
        }
        return try rows[0].map { field in
            guard let field, let value = Int(field) else {
                throw PostgresError(code: .unexpectedResult, message: "interval merge returned a non-integer count")
            }
            return value
        }
    }
}

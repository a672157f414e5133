/// Creates the monthly partitions of `readings` and `interval_days` ahead of time, moves rows that landed in their
/// DEFAULT partition into a partition of their month, and drops partitions past retention (migration v23).
///
/// It runs on the schema owner's connection (`postgres.conninfo`, the one that migrates): the services' roles may not
/// create, attach or drop tables. Each partition is created or dropped in a transaction of its own, so a failure
/// leaves every earlier step done and nothing half done; a rerun continues (idempotent). A run holds a session
/// advisory lock per table while it plans and acts, so a second run at once (two cron entries, two hosts) changes
/// nothing and fails with ``PartitionMaintenanceError`` naming the other run, instead of racing it. It sets the
/// session's `TimeZone` to UTC and `DateStyle` to ISO (it reads partition bounds as text). Not thread-safe: one
/// connection, used by one caller at a time.
public struct PartitionMaintenance {
    /// One partitioned table and how it is partitioned.
    public struct Table: Sendable, Equatable {
        public let name: String
        /// The partition column.
        public let column: String
        /// Whether the column is a `timestamptz` (else a `date`), which decides the bounds' literals.
        public let isTimestamp: Bool
        /// Whether the table's rows have verdicts kept apart (`reading_verdicts` v25, `validated_reading_months` v30),
        /// removed with a dropped partition's rows.
        public let hasVerdicts: Bool

        public static let readings = Table(
            name: "readings",
            column: "read_at",
            isTimestamp: true,
            hasVerdicts: true
        )
        public static let intervalDays = Table(
            name: "interval_days",
            column: "day",
            isTimestamp: false,
            hasVerdicts: false
        )
    }

    /// What a run did to one table.
    public struct Outcome: Sendable, Equatable {
        public let table: String
        /// Partitions created, with the rows moved into each from DEFAULT.
        public var created: [(name: String, movedRows: Int)] = []
        /// Partitions dropped.
        public var dropped: [String] = []

        public static func == (lhs: Outcome, rhs: Outcome) -> Bool {
            lhs.table == rhs.table && lhs.dropped == rhs.dropped
                && lhs.created.map(\.name) == rhs.created.map(\.name)
                && lhs.created.map(\.movedRows) == rhs.created.map(\.movedRows)
        }
    }

    private let connection: PostgresConnection
    /// How long a step waits for a table lock before it gives up (the ingest writer holds `readings` briefly).
    private let lockTimeoutSeconds: Int

    /// - Parameters:
    ///   - connection: A connection as the schema owner, with no transaction open.
    ///   - lockTimeoutSeconds: How long each step may wait for its locks (1…).
    public init(connection: PostgresConnection, lockTimeoutSeconds: Int = 10) {
        self.connection = connection
        self.lockTimeoutSeconds = max(1, lockTimeoutSeconds)
    }

    /// Runs one table's plan.
    /// - Parameters:
    ///   - table: The table.
    ///   - current: The current month (UTC), from the caller's clock.
    ///   - monthsAhead: Months after the current one that must have a partition.
    ///   - retentionMonths: Whole months kept before the current one; 0 keeps everything.
    /// - Returns: What was created and dropped.
    /// - Throws: `PartitionMaintenanceError` when the table is not partitioned as v23 made it or another run is
    ///   maintaining it; `PostgresError` when a statement fails (`55P03` lock timeout: rerun later); the steps done
    ///   before stay done.
    public func maintain(
        _ table: Table,
        current: PartitionMonth,
        monthsAhead: Int,
        retentionMonths: Int
    ) throws -> Outcome {
        try connection.execute("SET TimeZone = 'UTC'")
        try connection.execute("SET DateStyle = 'ISO, YMD'")
        let key = [table.name]
        guard
            try connection.query("SELECT pg_try_advisory_lock(\(Self.lockKey))::text", parameters: key).first?.first
                == "true"
        else {
            throw PartitionMaintenanceError(
                table: table.name,
                problem: "is being maintained by another run (its advisory lock is held); nothing was done"
            )
        }
        defer { _ = try? connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", parameters: key) }
        let plan = PartitionPlan(
            table: table.name,
            current: current,
            monthsAhead: monthsAhead,
            retentionMonths: retentionMonths,
            partitions: try partitions(of: table),
            monthsInDefault: try monthsInDefault(of: table)
        )
        var outcome = Outcome(table: table.name)
        for action in plan.actions {
            switch action {
            case .create(let name, let month):
                outcome.created.append((name, try create(name, month: month, of: table)))
            case .drop(let name, let lower, let upper):
                try drop(name, lower: lower, upper: upper, of: table)
                outcome.dropped.append(name)
            }
        }
        return outcome
    }

    /// The range partitions of `table` with their bounds in months.
    func partitions(of table: Table) throws -> [RangePartition] {
        let rows = try connection.query(
            """
            SELECT p.relkind::text, c.relname, pg_get_expr(c.relpartbound, c.oid)
            FROM pg_class p
            LEFT JOIN pg_inherits i ON i.inhparent = p.oid
            LEFT JOIN pg_class c ON c.oid = i.inhrelid
            WHERE p.oid = to_regclass($1)
            ORDER BY c.relname
            """,
            parameters: [table.name]
        )
        guard let kind = rows.first?[0], kind == "p" else {
            throw PartitionMaintenanceError(table: table.name, problem: "is not a partitioned table (run `migrate`)")
        }
        var partitions: [RangePartition] = []
        var hasDefault = false
        for row in rows {
            guard let name = row[1], let bound = row[2] else { continue }
            if bound == "DEFAULT" {
                hasDefault = true
                continue
            }
            guard let range = Self.parse(bound: bound) else {
                throw PartitionMaintenanceError(
                    table: table.name,
                    problem: "partition \(name) has bounds \(bound), not whole UTC months"
                )
            }
            partitions.append(RangePartition(name: name, lower: range.lower, upper: range.upper))
        }
        guard hasDefault else {
            throw PartitionMaintenanceError(table: table.name, problem: "has no DEFAULT partition")
        }
        return partitions
    }

    /// Reads `FOR VALUES FROM (…) TO (…)` as printed with `TimeZone` UTC and `DateStyle` ISO.
    static func parse(bound: String) -> (lower: PartitionMonth?, upper: PartitionMonth?)? {
        let prefix = "FOR VALUES FROM ("
        guard bound.hasPrefix(prefix), bound.hasSuffix(")") else { return nil }
        let inner = bound.dropFirst(prefix.count).dropLast()
        let sides = inner.split(separator: ") TO (", omittingEmptySubsequences: false)
        guard sides.count == 2 else { return nil }
        let lowerText = String(sides[0])
        let upperText = String(sides[1])
        func month(_ text: String, open: String) -> PartitionMonth?? {
            if text == open { return .some(nil) }
            guard text.count > 2, text.hasPrefix("'"), text.hasSuffix("'") else { return nil }
            guard let month = PartitionMonth.parse(bound: String(text.dropFirst().dropLast())) else { return nil }
            return .some(month)
        }
        guard let lower = month(lowerText, open: "MINVALUE"), let upper = month(upperText, open: "MAXVALUE") else {
            return nil
        }
        return (lower, upper)
    }

    /// The months of the rows in the DEFAULT partition.
    func monthsInDefault(of table: Table) throws -> Set<PartitionMonth> {
        let column = table.isTimestamp ? "\(table.column) AT TIME ZONE 'UTC'" : table.column
        let rows = try connection.query(
            """
            SELECT DISTINCT extract(year FROM \(column))::integer, extract(month FROM \(column))::integer
            FROM \(table.name)_default
            """
        )
        return Set(
            rows.compactMap { row in
                guard let year = row[0].flatMap({ Int($0) }), let month = row[1].flatMap({ Int($0) }) else {
                    return nil
                }
                return PartitionMonth(year: year, month: month)
            }
        )
    }

    private func literal(_ month: PartitionMonth, _ table: Table) -> String {
        table.isTimestamp ? "'\(month.firstDay) 00:00:00+00'::timestamptz" : "'\(month.firstDay)'::date"
    }

    /// Creates `name` standalone, moves the DEFAULT partition's rows of `month` into it, and attaches it (a CHECK of
    /// the range lets the attach skip its scan). Returns the rows moved.
    private func create(_ name: String, month: PartitionMonth, of table: Table) throws -> Int {
        let lower = literal(month, table)
        let upper = literal(month.adding(months: 1), table)
        let range = "\(table.column) >= \(lower) AND \(table.column) < \(upper)"
        return try inTransaction {
            // The DEFAULT partition first: writers of this month's rows wait here, not halfway.
            try connection.execute("LOCK TABLE \(table.name)_default IN ACCESS EXCLUSIVE MODE")
            try connection.execute(
                """
                CREATE TABLE \(name) (LIKE \(table.name) INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE
                    INCLUDING COMPRESSION INCLUDING STATISTICS)
                """
            )
            try connection.execute("ALTER TABLE \(name) ADD CONSTRAINT \(name)_range CHECK (\(range))")
            let moved = try connection.execute(
                """
                WITH moved AS (DELETE FROM \(table.name)_default WHERE \(range) RETURNING *)
                INSERT INTO \(name) SELECT * FROM moved
                """
            )
            try connection.execute(
                "ALTER TABLE \(table.name) ATTACH PARTITION \(name) FOR VALUES FROM (\(lower)) TO (\(upper))"
            )
            try connection.execute("ALTER TABLE \(name) DROP CONSTRAINT \(name)_range")
            return moved
        }
    }

    /// Drops `name` and, for `readings`, the verdicts of its range (v25), in one transaction.
    private func drop(_ name: String, lower: PartitionMonth?, upper: PartitionMonth, of table: Table) throws {
        try inTransaction {
            if table.hasVerdicts {
                // Verdicts are keyed by read time (reading_verdicts) and by UTC month (validated_reading_months,
                // v30); a partition's bounds are UTC month starts, so both ranges are exactly the partition's.
                let from = lower.map { "read_at >= \(literal($0, table)) AND " } ?? ""
                try connection.execute("DELETE FROM reading_verdicts WHERE \(from)read_at < \(literal(upper, table))")
                let fromMonth = lower.map { "month >= '\($0.firstDay)'::date AND " } ?? ""
                try connection.execute(
                    "DELETE FROM validated_reading_months WHERE \(fromMonth)month < '\(upper.firstDay)'::date"
                )
            }
            try connection.execute("DROP TABLE \(Self.quoted(name))")
        }
    }

    /// The session advisory lock key of one table's maintenance; `$1` is the table's name.
    static let lockKey = "hashtextextended('storage maintain/' || $1::text, 7411)"

    private static func quoted(_ identifier: String) -> String {
        "\"" + identifier.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    private func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try connection.execute("BEGIN")
        do {
            try connection.execute("SET LOCAL lock_timeout = '\(lockTimeoutSeconds)s'")
            let result = try body()
            try connection.execute("COMMIT")
            return result
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }
}

/// A partitioned table is not as `meter-gateway storage maintain` expects (migration v23).
public struct PartitionMaintenanceError: Error, Sendable, CustomStringConvertible {
    public let table: String
    public let problem: String

    public var description: String { "table \(table) \(problem)" }
}

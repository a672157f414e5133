/// A calendar month (UTC), counted from year 0: `year * 12 + month - 1`.
public struct PartitionMonth: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let index: Int

    public init(index: Int) {
        self.index = index
    }

    /// - Parameters:
    ///   - year: The year, e.g. 2026.
    ///   - month: 1…12.
    public init(year: Int, month: Int) {
        self.index = year * 12 + month - 1
    }

    public var year: Int { index >= 0 ? index / 12 : (index - 11) / 12 }
    public var month: Int { index - year * 12 + 1 }

    /// `YYYY-MM-01`, the month's first day (the partition bound's text).
    public var firstDay: String { "\(Self.padded(year, 4))-\(Self.padded(month, 2))-01" }
    /// `YYYY_MM`, the suffix of the month's partition name.
    public var suffix: String { "\(Self.padded(year, 4))_\(Self.padded(month, 2))" }
    public var description: String { "\(Self.padded(year, 4))-\(Self.padded(month, 2))" }

    public func adding(months: Int) -> PartitionMonth { PartitionMonth(index: index + months) }

    public static func < (lhs: PartitionMonth, rhs: PartitionMonth) -> Bool { lhs.index < rhs.index }

    /// Reads the month of a partition bound as PostgreSQL prints it with `DateStyle` ISO and `TimeZone` UTC:
    /// `2027-01-01` (date) or `2027-01-01 00:00:00+00` (timestamptz). Nil unless it is a month's first instant.
    static func parse(bound text: String) -> PartitionMonth? {
        let parts = text.split(separator: " ", maxSplits: 1)
        guard let date = parts.first, parts.count == 1 || parts[1] == "00:00:00+00" else { return nil }
        let fields = date.split(separator: "-")
        guard fields.count == 3, fields[2] == "01", let year = Int(fields[0]), let month = Int(fields[1]),
            (1...12).contains(month)
        else { return nil }
        return PartitionMonth(year: year, month: month)
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// One range partition of a partitioned table: `[lower, upper)` in months; nil is `MINVALUE` / `MAXVALUE`.
public struct RangePartition: Sendable, Equatable {
    public let name: String
    public let lower: PartitionMonth?
    public let upper: PartitionMonth?

    public init(name: String, lower: PartitionMonth?, upper: PartitionMonth?) {
        self.name = name
        self.lower = lower
        self.upper = upper
    }

    func covers(_ month: PartitionMonth) -> Bool {
        (lower.map { $0 <= month } ?? true) && (upper.map { month < $0 } ?? true)
    }
}

/// What one maintenance run does to one partitioned table (pure: the store lists the partitions and executes it).
///
/// Rules: every month from the current one to `monthsAhead` months later, and every month that has rows in the
/// DEFAULT partition, gets a partition unless one covers it (the DEFAULT's rows of that month move into it); with a
/// retention of R months (0 keeps everything), a partition whose every month is before the current month minus R is
/// dropped. The DEFAULT partition is never dropped, and neither is a partition that covers the current month or a
/// later one.
public struct PartitionPlan: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Create the partition `name` of `month`, moving the DEFAULT partition's rows of that month into it.
        case create(name: String, month: PartitionMonth)
        /// Drop the partition `name` (every row in it is past retention).
        case drop(name: String, lower: PartitionMonth?, upper: PartitionMonth)
    }

    public let actions: [Action]

    /// - Parameters:
    ///   - table: The partitioned table; a month's partition is named `table_YYYY_MM`.
    ///   - current: The current month (UTC), from the caller's clock.
    ///   - monthsAhead: How many months after the current one must have a partition (0…).
    ///   - retentionMonths: Whole months kept before the current month; 0 keeps everything.
    ///   - partitions: The table's range partitions (not the DEFAULT one).
    ///   - monthsInDefault: The months of the rows in the DEFAULT partition.
    public init(
        table: String,
        current: PartitionMonth,
        monthsAhead: Int,
        retentionMonths: Int,
        partitions: [RangePartition],
        monthsInDefault: Set<PartitionMonth>
    ) {
        var actions: [Action] = []
        let wanted = Set((0...max(0, monthsAhead)).map { current.adding(months: $0) }).union(monthsInDefault)
        for month in wanted.sorted() where !partitions.contains(where: { $0.covers(month) }) {
            actions.append(.create(name: "\(table)_\(month.suffix)", month: month))
        }
        if retentionMonths > 0 {
            let cutoff = current.adding(months: -retentionMonths)
            let created = actions.compactMap { action -> RangePartition? in
                guard case .create(let name, let month) = action else { return nil }
                return RangePartition(name: name, lower: month, upper: month.adding(months: 1))
            }
            for partition in partitions + created {
                guard let upper = partition.upper, upper <= cutoff else { continue }
                actions.append(.drop(name: partition.name, lower: partition.lower, upper: upper))
            }
        }
        self.actions = actions
    }
}

import GatewayCore
import GatewayDomain

/// The verdicts of a batch, gathered per table and written with one statement each (``ValidationBatchSQL``).
///
/// Thread rules: a value used inside one transaction on the database's thread.
struct ValidationBatchWrites {
    /// Changed reading verdicts, as the columns of ``ValidationBatchSQL/recordVerdicts``.
    private var readings = TextArrayColumns(count: 7)
    /// Readings newly found plainly valid that have no verdict row to remove (most readings of a first validation):
    /// only listed in their day's row (``ValidationBatchSQL/listValidReads``).
    private var listing = ValidReadListing()
    /// Changed days, as the columns of ``ValidationBatchSQL/upsertDays``.
    private var days = TextArrayColumns(count: 16)
    /// Days to publish, in order, as the columns of ``ValidationBatchSQL/publishDays``.
    private var publications = TextArrayColumns(count: 5)
    private var publicationCount = 0
    /// Signature alarms in meter order.
    var alarms: [AlarmRecord] = []

    /// Queues a reading whose stored verdict changed.
    /// - Parameters:
    ///   - was: The verdict stored before (nil: never validated): only a reading whose stored verdict was not
    ///     plainly valid can have a `reading_verdicts` row to remove.
    mutating func addVerdict(
        _ channel: ChannelKey,
        read: IndexRead,
        quality: ReadQuality,
        reasons: [String],
        was: (quality: ReadQuality?, reasons: [String]?)
    ) {
        let mayHaveRow = was.quality != nil && (was.quality != .valid || was.reasons != [])
        if quality == .valid, reasons.isEmpty, !mayHaveRow {
            listing.add(channel, readAtMicros: read.readAt.microsecondsSinceEpoch, kind: read.kind.rawValue)
            return
        }
        readings.append([
            String(channel.meter), String(channel.basis), String(read.readAt.microsecondsSinceEpoch),
            String(read.kind.rawValue), quality.postgresText, reasons.joined(separator: ","),
            mayHaveRow ? "t" : "f",
        ])
    }

    /// Queues the days whose determinants differ from the stored ones (a new version each), and their
    /// publication where ``BillingDay/isPublished(_:wasPublished:)`` says so.
    mutating func addDays(
        _ determined: [DailyDeterminant],
        channel: ChannelKey,
        stored: [Timestamp: StoredDay],
        settings: ValidationSettings
    ) {
        let meter = String(channel.meter)
        let basis = String(channel.basis)
        for day in determined {
            let fields = ValidationStore.dayFields(day, settings: settings)
            let known = stored[day.dayStart]
            if let known, known.fingerprint == fields.fingerprint { continue }
            let version = (known?.version ?? 0) + 1
            let wasPublished = (known?.published ?? 0) > 0
            let publish = BillingDay.isPublished(day.quality, wasPublished: wasPublished)
            days.append(
                [meter, basis] + fields.values
                    + [String(version), publish ? String(version) : String(known?.published ?? 0), day.protection.code]
            )
            guard publish else { continue }
            publications.append([meter, basis, fields.values[0], String(version), wasPublished ? "true" : "false"])
            publicationCount += 1
            if wasPublished { corrections += 1 }
        }
    }

    /// Publications that correct an earlier one.
    private var corrections = 0

    /// Writes the gathered reading verdicts, days and publications, in the caller's transaction.
    mutating func store(
        on connection: PostgresConnection,
        into summary: inout MeterValidationSummary
    ) throws {
        if listing.count > 0 {
            try connection.execute(ValidationBatchSQL.listValidReads, parameters: listing.parameters())
            summary.readsChanged += listing.count
        }
        if readings.rows > 0 {
            summary.readsChanged += try connection.query(
                ValidationBatchSQL.recordVerdicts,
                parameters: readings.arrayLiterals
            ).count
        }
        if days.rows > 0 {
            try connection.execute(ValidationBatchSQL.upsertDays, parameters: days.arrayLiterals)
            summary.daysChanged += days.rows
        }
        if publicationCount > 0 {
            // Held until commit: feed rows commit in `seq` order, so paging by seq never skips one.
            try connection.execute(ValidationSQL.lockFeed)
            let inserted = try connection.execute(
                ValidationBatchSQL.publishDays,
                parameters: publications.arrayLiterals
            )
            guard inserted == publicationCount else {
                throw PostgresError(
                    code: .unexpectedResult,
                    message: "billing feed: \(inserted) of \(publicationCount) days published"
                )
            }
            summary.published += publicationCount
            summary.corrections += corrections
        }
    }

    /// Writes the signature alarms gathered and runs the ticket step for them, in the caller's transaction.
    func storeAlarms(
        rules: TicketRules,
        now: Timestamp,
        on connection: PostgresConnection,
        into summary: inout MeterValidationSummary
    ) throws {
        guard !alarms.isEmpty else { return }
        let commit = try ValidationStore.storeAlarms(alarms, rules: rules, now: now, on: connection)
        summary.signatureAlarms += commit.alarmsInserted
        summary.ticketEvents += commit.events
    }
}

/// Columns of text values, each sent as one PostgreSQL array literal (`{"a",NULL,"b"}`) for `unnest`: every
/// element is quoted and escaped, so any text (including an array literal of its own) travels unchanged, and a
/// nil is SQL NULL.
struct TextArrayColumns {
    private var columns: [String]
    private(set) var rows = 0

    init(count: Int) {
        columns = Array(repeating: "", count: count)
    }

    /// Appends one row; `values` has one entry per column.
    mutating func append(_ values: [String?]) {
        precondition(values.count == columns.count, "a row has one value per column")
        for (index, value) in values.enumerated() {
            if rows > 0 { columns[index].append(",") }
            guard let value else {
                columns[index].append("NULL")
                continue
            }
            columns[index].append("\"")
            // Most values (numbers, names, array literals of numbers) have nothing to escape: appended whole.
            if value.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                for character in value.unicodeScalars {
                    if character == "\"" || character == "\\" { columns[index].append("\\") }
                    columns[index].unicodeScalars.append(character)
                }
            } else {
                columns[index].append(value)
            }
            columns[index].append("\"")
        }
        rows += 1
    }

    /// One array literal per column.
    var arrayLiterals: [String?] { columns.map { "{" + $0 + "}" } }
}

/// Plainly valid readings grouped by channel and UTC month, in the arrays of ``ValidationBatchSQL/listValidReads``:
/// one entry per group (meter, basis, the month's first day, and the group's first and last position in one flat
/// array of read codes). Readings arrive channel by channel in read order, so a group is the run of readings of one
/// month.
struct ValidReadListing {
    private var meters: [Int64] = []
    private var bases: [Int16] = []
    /// The first day of each group's UTC month, in days since 1970-01-01.
    private var months: [Int64] = []
    /// The month of the last reading added: (its day, the first day of its month), so a run of readings of one day
    /// converts the day once.
    private var lastMonth: (day: Int64, month: Int64)?
    private var firsts: [Int] = []
    private var lasts: [Int] = []
    private var codes: [Int64] = []

    /// The readings listed.
    var count: Int { codes.count }

    /// Adds a reading (its code as ``ValidationBatchSQL/readCode(_:_:)``).
    mutating func add(_ channel: ChannelKey, readAtMicros: Int64, kind: Int16) {
        let (quotient, remainder) = readAtMicros.quotientAndRemainder(dividingBy: 86_400_000_000)
        let day = remainder < 0 ? quotient - 1 : quotient
        let month: Int64
        if let lastMonth, lastMonth.day == day {
            month = lastMonth.month
        } else {
            month = Self.monthStart(ofDay: day)
            lastMonth = (day, month)
        }
        codes.append(readAtMicros * 4 + Int64(kind))
        if let last = meters.indices.last, meters[last] == channel.meter, bases[last] == channel.basis,
            months[last] == month
        {
            lasts[last] = codes.count
        } else {
            meters.append(channel.meter)
            bases.append(channel.basis)
            months.append(month)
            firsts.append(codes.count)
            lasts.append(codes.count)
        }
    }

    /// The statement's parameters, each group's codes in ascending order (arrays in SQL count from 1).
    func parameters() -> [String?] {
        var sorted = codes
        for group in firsts.indices { sorted[(firsts[group] - 1)..<lasts[group]].sort() }
        return [
            meters.postgresText, bases.postgresText, months.postgresText, firsts.postgresText, lasts.postgresText,
            sorted.postgresText,
        ]
    }

    /// The first day of the UTC month of a day, both in days since 1970-01-01.
    static func monthStart(ofDay day: Int64) -> Int64 {
        let civil = CivilTime(utcSeconds: day * 86_400)
        return CivilTime(year: civil.year, month: civil.month, day: 1).utcSeconds / 86_400
    }
}

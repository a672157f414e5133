import ArgumentParser
import Foundation
import GatewayCore
import GatewayDomain
import GatewayHTTP
import Logging
import PostgresSink

/// A date option: `YYYY-MM-DD`, or today in the billing day's zone (`validation.billing_day_time_zone`) when it was
/// not given.
/// - Throws: `ValidationError` naming the option when the text is not a date.
func dateOption(_ text: String?, name: String, _ configuration: GatewayConfiguration) throws -> CivilDate {
    guard let text else { return configuration.validation.billingZone.date(of: .now) }
    guard let date = CivilDate(iso: text) else { throw ValidationError("--\(name) must be YYYY-MM-DD") }
    return date
}

/// Opens the database for a one-shot command (one connection: a ``TelemetryStore``, whose ``TelemetryStore/database``
/// the other stores use), migrates it, runs `body`, closes it.
func withDatabase<R>(_ options: ConfigOptions, _ body: (TelemetryStore) async throws -> R) async throws -> R {
    try await withDatabase(configuration: try options.load(), body)
}

/// ``withDatabase(_:_:)`` for a command that has loaded its configuration already.
func withDatabase<R>(
    configuration: GatewayConfiguration,
    _ body: (TelemetryStore) async throws -> R
) async throws -> R {
    let logger = GatewayLogging.bootstrap(configuration.log)
    let writer = TelemetryStore(
        conninfo: configuration.postgres.conninfo,
        logger: logger,
        rules: configuration.ticketRules
    )
    do {
        try await writer.connect()
        _ = try await writer.migrate()
        let result = try await body(writer)
        await writer.close()
        return result
    } catch {
        await writer.close()
        throw error
    }
}

struct BillingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "billing",
        abstract: "Pull validated daily reads (the same feed as GET /billing/v1/daily-reads).",
        subcommands: [BillingExportCommand.self]
    )
}

struct BillingExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print published days after a cursor as CSV (or JSON), then the next cursor on standard error.",
        discussion: """
            Every publication arrives once, in order; a correction is a later row (version > 1) for the same meter, \
            basis and day. Keep the printed next cursor and pass it with --cursor next time. With --all the export \
            follows the cursor page after page (--limit days each) to the end of the feed: CSV prints one header \
            and every row, JSON one page object per line (JSON Lines, each as GET /billing/v1/daily-reads sends \
            it); a progress line per page and the final cursor go to standard error. CSV is the default here, \
            not a table: the export is a feed for billing systems.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Continue after this cursor (from the previous export); omit to start at the beginning.")
    var cursor: String?

    @Option(help: "At most this many days (per page with --all).")
    var limit = 1000

    @Option(help: "How to print the days.")
    var format: BillingExportFormat = .csv

    @Flag(help: "Follow the cursor to the end of the feed instead of printing one page.")
    var all = false

    func validate() throws {
        guard (1...BillingAPI.maximumPageSize).contains(limit) else {
            throw ValidationError("--limit must be 1…\(BillingAPI.maximumPageSize)")
        }
        if let cursor, BillingAPI.seq(fromCursor: cursor) == nil { throw ValidationError("not a billing cursor") }
    }

    func run() async throws {
        let start = cursor.flatMap(BillingAPI.seq(fromCursor:)) ?? 0
        let (end, more) = try await withDatabase(options) { writer in
            try await BillingExport(store: BillingStore(writer.database), limit: limit, format: format).run(
                after: start,
                all: all,
                write: { print($0, terminator: "") },
                progress: { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
            )
        }
        FileHandle.standardError.write(
            Data("next cursor: \(BillingAPI.cursor(end))\(more ? " (more)" : "")\n".utf8)
        )
    }
}

/// The pages of `billing export`: one, or every page to the end of the feed (`--all`).
struct BillingExport {
    let store: BillingStore
    let limit: Int
    let format: BillingExportFormat

    /// Prints pages after `start`.
    /// - Parameters:
    ///   - start: The feed position to start after.
    ///   - all: Follow the cursor until a page says no more follow.
    ///   - write: Receives the output text, a page at a time.
    ///   - progress: Receives a line per page with `all`.
    /// - Returns: The position after the last day printed, and whether more days follow it.
    func run(
        after start: Int64,
        all: Bool,
        write: (String) -> Void,
        progress: (String) -> Void
    ) async throws -> (end: Int64, more: Bool) {
        var after = start
        var pages = 0
        var days = 0
        while true {
            let reads = try await store.billingPage(after: after, limit: limit + 1)
            let shown = Array(reads.prefix(limit))
            let more = reads.count > limit
            switch format {
            case .csv:
                let text = BillingCSV.render(shown)
                // One header for the whole export.
                write(pages == 0 ? text : String(text.drop { $0 != "\n" }.dropFirst()))
            case .json:
                write(BillingAPI.renderPage(reads, limit: limit, after: after) + "\n")
            }
            pages += 1
            days += shown.count
            after = shown.last?.seq ?? after
            guard all else { return (after, more) }
            progress("billing export: page \(pages), \(days) days so far, cursor \(BillingAPI.cursor(after))")
            if !more { return (after, false) }
        }
    }
}

struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "List readings and days held for review, and accept or reject them.",
        subcommands: [ReviewListCommand.self, ReviewDecideCommand.self]
    )
}

struct ReviewListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List what is held for review.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "At most this many readings and this many days.")
    var limit = 100

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let items = try await withDatabase(options) { try await BillingStore($0.database).heldForReview(limit: limit) }
        var table = CommandTable(columns: ["protocol", "meter", "basis", "target", "kind", "volume_ml", "reasons"])
        for item in items {
            let target: String
            let kind: String
            switch item.target {
            case .reading(let readAt, let readingKind):
                target = readAt.description
                kind = String(readingKind.rawValue)
            case .day(let day):
                target = day
                kind = "day"
            }
            table.append([
                .text(item.protocol.rawValue), .text(item.meter), .text(item.basis.name), .text(target), .text(kind),
                TableCell(item.volumeMillilitres), .text(item.reasons.joined(separator: " ")),
            ])
        }
        print(table.render(output.format), terminator: "")
    }
}

struct ReviewDecideCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decide",
        abstract: "Accept or reject one held reading (--read-at) or day (--day); the decision and reason are recorded."
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The decision.")
    var decision: ReviewDecision

    @Option(help: "The meter's protocol.")
    var `protocol`: FrameProtocol

    @Option(help: "The meter's address.")
    var meter: String

    @Option(help: "The volume basis as listed.")
    var basis: VolumeBasis = .unspecified

    @Option(help: "The reading's read time as listed (ISO 8601, UTC).")
    var readAt: String?

    @Option(help: "The reading's kind as listed (0 periodic, 1 daily frozen, 2 alarm snapshot, 3 historic).")
    var kind: ReadingKind = .periodic

    @Option(help: "The billing day, YYYY-MM-DD (instead of --read-at).")
    var day: String?

    @Option(help: "Who decides.")
    var reviewer: String

    @Option(help: "Why.")
    var reason: String

    func run() async throws {
        let target: HeldItem.Target
        switch (readAt, day) {
        case (let text?, nil):
            guard let at = Timestamp(iso: text) else {
                throw ValidationError("--read-at must be like 2026-01-02T13:00:00Z")
            }
            target = .reading(readAt: at, kind: kind)
        case (nil, let date?):
            target = .day(date)
        default:
            throw ValidationError("give exactly one of --read-at and --day")
        }
        try await withDatabase(options) { writer in
            try await BillingStore(writer.database).review(
                meter: (self.protocol, meter),
                basis: basis,
                target: target,
                decision: decision,
                reviewer: reviewer,
                reason: reason
            )
        }
        print("recorded: \(decision.rawValue) by \(reviewer); the meter is queued for revalidation")
    }
}

struct MetersExpiredCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expired",
        abstract: "List meters whose verification has expired (their reads stay billable, flagged)."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "The date to judge on, YYYY-MM-DD (default: today in the billing day's time zone).")
    var asOf: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let configuration = try options.load()
        let date = try dateOption(asOf, name: "as-of", configuration)
        let meters = try await withDatabase(configuration: configuration) {
            try await BillingStore($0.database).expiredMeters(asOf: date)
        }
        var table = CommandTable(columns: ["protocol", "meter", "district", "verification_expires_on"])
        for meter in meters {
            table.append([
                .text(meter.protocol.rawValue), .text(meter.meter), TableCell(meter.district),
                .text("\(meter.expiresOn)"),
            ])
        }
        print(table.render(output.format), terminator: "")
    }
}

struct MetersTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Record a field, dispute or verification test result and judge it against the meter's class MPE."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "The meter's protocol.")
    var `protocol`: FrameProtocol

    @Option(help: "The meter's address.")
    var meter: String

    @Option(help: "The kind of test.")
    var kind: AccuracyTestKind

    @Option(help: "The test flow in m³/h, e.g. 2.5.")
    var flow: String

    @Option(help: "The measured error in percent; write a negative one as --error=-0.6.")
    var error: String

    @Option(help: "Who tested.")
    var tester: String

    @Option(help: "The test date, YYYY-MM-DD (default: today in the billing day's time zone).")
    var date: String?

    @Option(help: "A note.")
    var note: String?

    func run() async throws {
        guard let flowMillilitres = MeterCSV.millilitres(fromCubicMetres: flow), flowMillilitres > 0 else {
            throw ValidationError("--flow must be a positive number of m³/h")
        }
        guard let errorBasisPoints = AccuracyJudge.basisPoints(fromPercent: error) else {
            throw ValidationError("--error must be a percentage with at most two decimals")
        }
        let configuration = try options.load()
        let testedOn = try dateOption(date, name: "date", configuration)
        let judgement = try await withDatabase(configuration: configuration) { writer in
            try await BillingStore(writer.database).recordAccuracyTest(
                meter: (self.protocol, meter),
                testedOn: testedOn,
                kind: kind,
                flowMillilitresPerHour: flowMillilitres,
                errorBasisPoints: errorBasisPoints,
                tester: tester,
                note: note,
                table: configuration.validation.mpeTable,
                inServicePercent: Int64(configuration.validation.inServiceMPEPercent)
            )
        }
        let limit = judgement.limitBasisPoints.map { "±\($0 / 100).\(String(format: "%02d", $0 % 100)) %" } ?? "none"
        print(
            "\(judgement.verdict.rawValue): error \(error) % at \(flow) m³/h, band \(judgement.band ?? "-"), limit \(limit)"
        )
        if judgement.verdict == .fail { throw ExitCode(1) }
    }
}

import ArgumentParser
import Foundation
import GatewayCore
import GatewayDomain
import GatewayHTTP
import PostgresSink

/// Runs `body` with the complaint store of the command's configuration: its working calendar
/// (`complaints.calendar_dir`), the zone of billing days and the answer deadline.
func withComplaintStore<R>(_ options: ConfigOptions, _ body: (ComplaintStore) async throws -> R) async throws -> R {
    let configuration = try options.load()
    let calendar = try configuration.complaints.calendar()
    return try await withDatabase(configuration: configuration) {
        try await body(
            ComplaintStore(
                $0.database,
                calendar: calendar,
                zone: configuration.validation.billingZone,
                answerWorkingDays: configuration.complaints.answerWorkingDays
            )
        )
    }
}

struct ComplaintsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "complaints",
        abstract: "Complaints: receive, list, show, move along the lifecycle, record the return call, dispute files.",
        discussion:
            "A complaint is answered within complaints.answer_working_days working days (5) of its receipt, by the working calendar of complaints.calendar_dir; a late answer escalates once (meter-gateway run's dispatch service).",
        subcommands: [
            ComplaintsReceiveCommand.self, ComplaintsListCommand.self, ComplaintsShowCommand.self,
            ComplaintsStepCommand.self, ComplaintsReturnCallCommand.self, ComplaintsDisputeCommand.self,
            ComplaintsCalendarCommand.self, ComplaintsReportCommand.self,
        ]
    )
}

struct ComplaintsReceiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Record a complaint received now; prints its id and answer deadline."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "hotline, counter, web or app.")
    var channel: ComplaintChannel

    @Option(help: "billing_dispute, meter_accuracy, service_attitude, supply_interruption, safety or other.")
    var category: ComplaintCategory

    @Option(help: "The household's meter protocol.")
    var `protocol`: FrameProtocol = .native

    @Option(help: "The household's meter address (required for a billing dispute).")
    var meter: String?

    @Option(help: "The district, when there is no meter.")
    var district: String?

    @Option(help: "Who complains.")
    var complainant: String

    @Option(help: "How to reach them.")
    var contact: String?

    @Flag(help: "The complainant asked that their name not be passed on (hidden in the API's answers).")
    var confidential = false

    @Option(help: "What the complaint is about.")
    var summary: String

    @Option(help: "What the customer asked for.")
    var request: String?

    @Option(help: "First disputed day of a billing dispute (YYYY-MM-DD).")
    var disputedFrom: String?

    @Option(help: "Last disputed day of a billing dispute (YYYY-MM-DD).")
    var disputedTo: String?

    @Option(help: "Who took it (recorded).")
    var actor: String

    func run() async throws {
        var days: ClosedRange<CivilDate>?
        if disputedFrom != nil || disputedTo != nil {
            guard let first = disputedFrom.flatMap({ CivilDate(iso: $0) }),
                let last = disputedTo.flatMap({ CivilDate(iso: $0) }), first <= last
            else { throw ValidationError("--disputed-from and --disputed-to must be dates like 2026-02-01, in order") }
            days = first...last
        }
        let intake = ComplaintIntake(
            channel: channel,
            category: category,
            meter: meter.map { (self.protocol, $0) },
            district: district,
            complainant: complainant,
            contact: contact,
            isConfidential: confidential,
            summary: summary,
            request: request,
            disputedDays: days
        )
        let complaint = try await withComplaintStore(options) { try await $0.receive(intake, actor: actor) }
        print(
            "complaint \(complaint.id) received at \(complaint.receivedAt); answer by \(complaint.answerBy)"
                + (complaint.isAnswerByProvisional ? " (provisional: a year of the count has no working calendar)" : "")
        )
    }
}

struct ComplaintsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Open complaints, oldest first.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Only this status.")
    var status: ComplaintStatus?

    @Option(help: "Only this category.")
    var category: ComplaintCategory?

    @Option(help: "Only this district.")
    var district: String?

    @Flag(help: "Include closed complaints.")
    var all = false

    @OptionGroup var output: OutputOptions

    func run() async throws {
        var filter = ComplaintFilter()
        filter.status = status
        filter.category = category
        filter.district = district
        filter.includeClosed = all
        filter.limit = 100_000
        let complaints = try await withComplaintStore(options) { try await $0.complaints(filter) }
        var table = CommandTable(columns: [
            "id", "status", "category", "channel", "meter", "district", "received_at", "answer_by",
            "escalation_level",
        ])
        for complaint in complaints {
            table.append([
                TableCell(complaint.id), .text(complaint.status.rawValue), .text(complaint.category.rawValue),
                .text(complaint.channel.rawValue), TableCell(complaint.meter), TableCell(complaint.district),
                .text("\(complaint.receivedAt)"), .text("\(complaint.answerBy)"),
                TableCell(complaint.escalationLevel),
            ])
        }
        print(table.render(output.format), terminator: "")
    }
}

struct ComplaintsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "One complaint's events (every step with actor and time) and its return call."
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The complaint id.")
    var complaint: Int64

    @OptionGroup var output: OutputOptions

    func run() async throws {
        guard let found = try await withComplaintStore(options, { try await $0.complaint(complaint) }) else {
            throw ValidationError("no complaint \(complaint)")
        }
        var table = CommandTable(columns: ["event", "at", "kind", "actor", "detail"])
        for event in found.events {
            table.append([
                TableCell(event.id), .text("\(event.at)"), .text(event.kind), .text(event.actor),
                TableCell(event.detail),
            ])
        }
        if output.format == .table {
            let c = found.complaint
            print(
                "complaint \(c.id): \(c.category.rawValue) by \(c.channel.rawValue), \(c.status.rawValue); "
                    + "received \(c.receivedAt), answer by \(c.answerBy)"
            )
            if let call = found.returnCall {
                print("return call: \(call.outcome.rawValue), \(call.attempts) attempts, by \(call.actor)")
            }
        }
        print(table.render(output.format), terminator: "")
    }
}

struct ComplaintsStepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Record a step: accepted, not_accepted (--text: the reason), proposed, answered, closed.",
        discussion:
            "follow_up_done is recorded by return-call. The answer to a billing dispute needs --outcome (bill_confirmed, corrected, meter_replaced)."
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The complaint id.")
    var complaint: Int64

    @Argument(help: "The step reached.")
    var step: ComplaintStep

    @Option(help: "The reason, the proposal or the answer.")
    var text: String?

    @Option(help: "A billing dispute's outcome.")
    var outcome: ComplaintOutcome?

    @Option(help: "Who (recorded on the event).")
    var actor: String

    func run() async throws {
        let event = try await withComplaintStore(options) {
            try await $0.advance(complaint, to: step, text: text, outcome: outcome, actor: actor)
        }
        print("complaint \(complaint): \(event.kind) by \(event.actor) at \(event.at) (event \(event.id))")
    }
}

/// The options of a return call, shared by `complaints return-call` and `tickets return-call`.
struct ReturnCallOptions: ParsableArguments {
    @Option(help: "satisfied, not_satisfied, unreachable (after at least 3 attempts) or waived.")
    var outcome: ReturnCallOutcome

    @Option(help: "Calls made (default 1; 0 for a waiver).")
    var attempts: Int?

    @Option(help: "What the customer said; for a waiver, the reason (required).")
    var remarks: String?

    @Option(help: "Who called or waived (recorded).")
    var actor: String

    /// The checked call. The command line runs with the database owner's rights, so it may waive (a supervisor's
    /// act): the reason is required and recorded with the actor.
    func call() throws -> ReturnCall {
        do throws(ReturnCall.Refusal) {
            return try ReturnCall(
                outcome: outcome,
                attempts: attempts ?? (outcome == .waived ? 0 : 1),
                remarks: remarks,
                isSupervisor: true
            )
        } catch {
            throw ValidationError(error.message)
        }
    }
}

struct ComplaintsReturnCallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "return-call",
        abstract: "Record the return call (回访) of an answered or not-accepted complaint; then it may close."
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The complaint id.")
    var complaint: Int64

    @OptionGroup var call: ReturnCallOptions

    func run() async throws {
        let returnCall = try call.call()
        let event = try await withComplaintStore(options) {
            try await $0.recordReturnCall(complaint, returnCall, actor: call.actor)
        }
        print("complaint \(complaint): \(event.kind) (\(event.detail ?? "")) at \(event.at)")
    }
}

struct TicketsReturnCallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "return-call",
        abstract: "Record the return call (回访) of a resolved ticket (step follow_up_done); then it may close."
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The ticket id.")
    var ticket: Int64

    @OptionGroup var call: ReturnCallOptions

    func run() async throws {
        let returnCall = try call.call()
        let event = try await withDispatchStore(options) {
            try await $0.recordReturnCall(ticket, returnCall, actor: call.actor)
        }
        print("ticket \(event.ticket.id): \(event.event) by \(event.actor) at \(event.at) (event \(event.eventID))")
    }
}

struct ComplaintsDisputeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispute",
        abstract: "A billing dispute's file: dispute accuracy tests, the disputed days as validated, billing versions.",
        discussion:
            "Three tables (accuracy tests since the first disputed day, the days with quality and reasons, every billing-feed version of those days published since the complaint was received), each with a kind column."
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The complaint id.")
    var complaint: Int64

    @OptionGroup var output: OutputOptions

    func run() async throws {
        guard let file = try await withComplaintStore(options, { try await $0.disputeFile(complaint) }) else {
            throw ValidationError("no complaint \(complaint)")
        }
        var table = CommandTable(columns: ["kind", "day", "basis", "value", "quality_or_verdict", "detail"])
        for test in file.accuracyTests {
            table.append([
                "accuracy_test", .text(test.testedOn), .empty, TableCell(test.errorBasisPoints), .text(test.verdict),
                .text(
                    "flow \(test.flowMillilitresPerHour) ml/h, limit \(test.limitBasisPoints.map(String.init) ?? "-") bp, by \(test.tester)"
                ),
            ])
        }
        for day in file.days {
            table.append([
                "day", .text(day.day), TableCell(day.basis), TableCell(day.volumeMillilitres), .text(day.quality),
                .text(day.reasons.joined(separator: " ")),
            ])
        }
        for version in file.billingVersions {
            table.append([
                version.isCorrection ? "correction" : "billed", .text(version.day), TableCell(version.basis),
                TableCell(version.volumeMillilitres), .text(version.quality),
                .text("feed seq \(version.seq), version \(version.version), published \(version.publishedAt)"),
            ])
        }
        if output.format == .table {
            let c = file.complaint
            print(
                "complaint \(c.id) (\(c.category.rawValue)), days \(c.disputedFrom.map { "\($0)" } ?? "-") to "
                    + "\(c.disputedTo.map { "\($0)" } ?? "-"), \(c.status.rawValue)"
                    + (c.outcome.map { ", outcome \($0.rawValue)" } ?? "")
            )
        }
        print(table.render(output.format), terminator: "")
    }
}

struct ComplaintsCalendarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadline",
        abstract: "The answer deadline of a complaint received at an instant, by the configured working calendar."
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The instant of receipt, ISO 8601 UTC (2026-02-13T08:30:00Z, 16:30 in Beijing).")
    var received: String

    func run() async throws {
        guard let instant = Timestamp(iso: received) else {
            throw ValidationError("the instant must be like 2026-02-13T08:30:00Z")
        }
        let configuration = try options.load()
        let calendar = try configuration.complaints.calendar()
        let zone = configuration.validation.billingZone
        let deadline = calendar.deadline(
            workingDays: configuration.complaints.answerWorkingDays,
            after: instant,
            zone: zone
        )
        print(
            "received \(zone.date(of: instant)) (\(zone)); answer by \(deadline.at), the end of \(deadline.lastDay)"
                + (deadline.uncoveredYears.isEmpty
                    ? ""
                    : "; no calendar file for \(deadline.uncoveredYears.map(String.init).joined(separator: ", "))")
        )
    }
}

struct ComplaintsReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The monthly service-quality report per district (the columns of the API's report and its CSV).",
        discussion:
            "Emergency response (P0 arrival within deadline, p50/p90 minutes), network faults made safe within 6 h and repaired within 24 h, complaints answered within their working-day deadline and per 10,000 households by category, return-call rate and satisfaction, inspections done vs due. Months run in validation.billing_day_time_zone."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "The month, YYYY-MM.")
    var month: String

    @Option(help: "Only this district.")
    var district: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        guard let first = CivilDate(iso: month + "-01") else { throw ValidationError("--month must be like 2026-02") }
        let configuration = try options.load()
        let rows = try await withDatabase(configuration: configuration) {
            try await ServiceQualityStore($0.database).report(
                year: first.year,
                month: first.month,
                zone: configuration.validation.billingZone,
                residentialMonths: configuration.dispatch.inspectionResidentialMonths,
                nonResidentialMonths: configuration.dispatch.inspectionNonResidentialMonths,
                district: district
            )
        }
        var table = CommandTable(columns: ServiceQualityColumns.names)
        for row in rows {
            table.append(
                [.text(row.district)]
                    + ServiceQualityColumns.values(row).map { value in
                        guard let value else { return .empty }
                        return value.rounded() == value && abs(value) < 1e15 ? .integer(Int64(value)) : .decimal(value)
                    }
            )
        }
        print(table.render(output.format), terminator: "")
    }
}

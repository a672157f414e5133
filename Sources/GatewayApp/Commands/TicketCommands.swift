import ArgumentParser
import Foundation
import GatewayCore
import GatewayDomain
import GatewayHTTP
import PostgresSink

/// Runs `body` with the dispatch store of the command's configuration: its ticket policy and its outage limits.
func withDispatchStore<R>(_ options: ConfigOptions, _ body: (DispatchStore) async throws -> R) async throws -> R {
    let configuration = try options.load()
    return try await withDatabase(configuration: configuration) {
        try await body(
            DispatchStore(
                $0.database,
                policy: configuration.tickets.policy,
                outages: configuration.dispatch.outagePolicy
            )
        )
    }
}

struct TicketsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tickets",
        abstract: "Dispatch from the command line: list and move tickets, hotline tickets, planned outages, reports.",
        subcommands: [
            TicketsListCommand.self, TicketsStepCommand.self, TicketsHotlineCommand.self, TicketsOutageCommand.self,
            TicketsSLACommand.self, TicketsInspectionsDueCommand.self, TicketsReturnCallCommand.self,
        ]
    )
}

struct TicketsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Active tickets, most urgent first.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Only this priority.")
    var priority: TicketPriority?

    @Option(help: "Only this district.")
    var district: String?

    @Flag(help: "Include resolved and closed tickets.")
    var all = false

    @OptionGroup var output: OutputOptions

    func run() async throws {
        var filter = TicketFilter()
        filter.priority = priority
        filter.district = district
        filter.includeClosed = all
        let tickets = try await withDispatchStore(options) { try await $0.tickets(filter) }
        var table = CommandTable(columns: [
            "id", "priority", "status", "condition", "meter", "district", "opened_at", "next_deadline",
            "escalation_level", "incident_id",
        ])
        for ticket in tickets {
            table.append([
                TableCell(ticket.id), .text(ticket.priority.rawValue), .text("\(ticket.status)"),
                .text("\(ticket.condition)"), .text(ticket.meter), TableCell(ticket.district),
                .text("\(ticket.openedAt)"), TableCell(ticket.nextDeadline.map { "\($0)" }),
                TableCell(ticket.escalationLevel), TableCell(ticket.incidentID),
            ])
        }
        print(table.render(output.format), terminator: "")
    }
}

struct TicketsStepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract:
            "Record a lifecycle step: acknowledged, dispatched, on_site, made_safe, resolved, closed (follow_up_done: return-call)."
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The ticket id.")
    var ticket: Int64

    @Argument(help: "The step reached.")
    var step: TicketStep

    @Option(help: "Who (recorded on the event).")
    var actor: String

    @Option(help: "A note.")
    var note: String?

    func run() async throws {
        let event = try await withDispatchStore(options) {
            try await $0.advanceTicket(ticket, to: step, actor: actor, note: note)
        }
        print("ticket \(event.ticket.id): \(event.event) by \(event.actor) at \(event.at) (event \(event.eventID))")
    }
}

struct TicketsHotlineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hotline",
        abstract: "Open a ticket for a caller (a gas smell is P0), or add the call to the premises' active ticket."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "The premises' meter protocol.")
    var `protocol`: FrameProtocol = .native

    @Option(help: "The premises' meter address.")
    var meter: String

    @Option(help: "The condition reported.")
    var condition: AlarmCondition = .gasSmellReported

    @Option(help: "Who called.")
    var reporter: String

    @Option(help: "Who took the call.")
    var actor: String

    @Option(help: "What was said.")
    var note: String?

    func run() async throws {
        let result = try await withDispatchStore(options) {
            try await $0.openManualTicket(
                meter: (self.protocol, meter),
                condition: condition,
                reporter: reporter,
                actor: actor,
                note: note
            )
        }
        print(result.opened ? "opened ticket \(result.ticketID)" : "added to active ticket \(result.ticketID)")
    }
}

struct TicketsOutageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outage",
        abstract: "Planned outages: announce (the default), cancel, list.",
        subcommands: [
            TicketsOutageAnnounceCommand.self, TicketsOutageCancelCommand.self, TicketsOutageListCommand.self,
        ],
        defaultSubcommand: TicketsOutageAnnounceCommand.self
    )
}

struct TicketsOutageAnnounceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "announce",
        abstract: "Announce a planned outage: pressure-loss alarms from the district in the window open no ticket.",
        discussion: "The window lasts at most dispatch.max_outage_hours and must not end in the past."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "The district.")
    var district: String

    @Option(help: "Start, ISO 8601 UTC (2026-11-24T08:00:00Z).")
    var from: String

    @Option(help: "End, ISO 8601 UTC.")
    var to: String

    @Option(help: "Why (recorded).")
    var reason: String

    @Option(help: "Who announced it (recorded).")
    var by: String

    func run() async throws {
        guard let start = Timestamp(iso: from), let end = Timestamp(iso: to) else {
            throw ValidationError("--from and --to must be like 2026-11-24T08:00:00Z")
        }
        let id = try await outageRefusalsAsValidationErrors {
            try await withDispatchStore(options) {
                try await $0.announceOutage(district: district, from: start, to: end, reason: reason, by: by)
            }
        }
        print("planned outage \(id) recorded for \(district) from \(start) to \(end)")
    }
}

struct TicketsOutageCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a planned outage at once: pressure-loss alarms of its district open tickets again."
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The outage id.")
    var outage: Int64

    @Option(help: "Why (recorded).")
    var reason: String

    @Option(help: "Who cancelled it (recorded).")
    var by: String

    func run() async throws {
        let cancelled = try await outageRefusalsAsValidationErrors {
            try await withDispatchStore(options) {
                try await $0.cancelOutage(outage, reason: reason, by: by)
            }
        }
        guard let cancelled else { throw ValidationError("there is no planned outage \(outage)") }
        print(
            "planned outage \(cancelled.id) for \(cancelled.district) cancelled by \(cancelled.cancelledBy ?? by) at "
                + "\(cancelled.cancelledAt.map { "\($0)" } ?? "")"
        )
    }
}

struct TicketsOutageListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Planned outages not yet ended, cancelled ones included, by start."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Only this district.")
    var district: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let outages = try await withDispatchStore(options) {
            try await $0.currentOutages(district: district)
        }
        var table = CommandTable(columns: [
            "id", "district", "starts_at", "ends_at", "reason", "announced_by", "announced_at", "cancelled_at",
            "cancelled_by", "cancel_reason",
        ])
        for outage in outages {
            table.append([
                TableCell(outage.id), .text(outage.district), .text("\(outage.startsAt)"), .text("\(outage.endsAt)"),
                .text(outage.reason), .text(outage.announcedBy), .text("\(outage.announcedAt)"),
                TableCell(outage.cancelledAt.map { "\($0)" }), TableCell(outage.cancelledBy),
                TableCell(outage.cancelReason),
            ])
        }
        print(table.render(output.format), terminator: "")
    }
}

/// Runs `body`, turning a refusal of ``PlannedOutagePolicy`` into a usage error with its message.
private func outageRefusalsAsValidationErrors<R>(_ body: () async throws -> R) async throws -> R {
    do {
        return try await body()
    } catch let refusal as PlannedOutagePolicy.Refusal {
        throw ValidationError(refusal.message)
    }
}

struct TicketsSLACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sla",
        abstract: "SLA compliance per priority and district: share of tickets meeting each deadline, arrival times."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Tickets opened from (ISO 8601 UTC; default 30 days ago).")
    var from: String?

    @Option(help: "Tickets opened before (ISO 8601 UTC; default now).")
    var to: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let end =
            try to.map { text -> Timestamp in
                guard let at = Timestamp(iso: text) else { throw ValidationError("--to must be ISO 8601 UTC") }
                return at
            } ?? .now
        let start =
            try from.map { text -> Timestamp in
                guard let at = Timestamp(iso: text) else { throw ValidationError("--from must be ISO 8601 UTC") }
                return at
            } ?? end.adding(seconds: -30 * 86_400)
        let rows = try await withDispatchStore(options) {
            try await $0.slaReport(from: start, to: end)
        }
        let deadlines = ["acknowledge", "arrive", "make_safe", "repair"]
        var table = CommandTable(
            columns: ["priority", "district", "tickets"] + deadlines.map { "\($0)_met/decided" }
                + ["arrival_p50_min", "arrival_p90_min", "arrival_max_min"]
        )
        for row in rows {
            let met = deadlines.map { name -> TableCell in
                let counts = row.deadlines[name] ?? SLARow.Compliance(met: 0, decided: 0)
                return .text("\(counts.met)/\(counts.decided)")
            }
            let arrival = row.arrivalMinutes
            table.append(
                [.text("\(row.priority)"), .text("\(row.district)"), TableCell(row.tickets)] + met
                    + [TableCell(arrival?.p50), TableCell(arrival?.p90), TableCell(arrival?.max)]
            )
        }
        print(table.render(output.format), terminator: "")
    }
}

struct TicketsInspectionsDueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspections-due",
        abstract: "Premises due for a safety inspection (intervals: dispatch.inspection_*_months)."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "The date to judge on, YYYY-MM-DD (default: today in the billing day's time zone).")
    var asOf: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let configuration = try options.load()
        let date = try dateOption(asOf, name: "as-of", configuration)
        let due = try await withDatabase(configuration: configuration) {
            try await InspectionStore($0.database).inspectionsDue(
                asOf: date,
                residentialMonths: configuration.dispatch.inspectionResidentialMonths,
                nonResidentialMonths: configuration.dispatch.inspectionNonResidentialMonths,
                limit: 100_000
            )
        }
        var table = CommandTable(columns: [
            "protocol", "meter", "district", "customer_class", "last_inspection", "due_on",
        ])
        for item in due {
            table.append([
                .text(item.protocol.rawValue), .text(item.meter), TableCell(item.district),
                .text("\(item.customerClass)"), TableCell(item.lastInspection.map { "\($0)" }), .text("\(item.dueOn)"),
            ])
        }
        print(table.render(output.format), terminator: "")
    }
}

import Foundation
import GatewayCore
import GatewayDomain

/// The console's pages as HTML. Every value from the database or a request is escaped (``ConsoleHTML/escape(_:)``).
enum ConsolePages {
    private static func e(_ text: String) -> String { ConsoleHTML.escape(text) }

    /// The sign-in form.
    static func signIn(message: String?) -> String {
        var body = "<section class=\"signin\">\n<h1>Dispatch console</h1>\n"
        if let message { body += "<p class=\"error\" id=\"signin-error\">\(e(message))</p>\n" }
        body += """
            <form method="post" action="/console/sign-in">
            <label for="token">Access token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
            <button type="submit" id="signin">Sign in</button>
            </form>
            <p class="hint">The token of your credential (role dispatch or supervisor). It is checked once and never
            stored; the session lasts one shift.</p>
            </section>
            """
        return ConsoleHTML.page(title: "Sign in", page: "sign-in", actor: nil, csrf: nil, body: body)
    }

    /// The live list's frame; the script fills it.
    static func liveList(actor: String, csrf: String) -> String {
        func select(_ id: String, _ label: String, _ options: [String]) -> String {
            "<label>\(label) <select id=\"\(id)\"><option value=\"\">all</option>"
                + options.map { "<option>\(e($0))</option>" }.joined() + "</select></label>"
        }
        let statuses = TicketStatus.allCases.filter(\.isActive).map(\.rawValue)
        let body = """
            <div class="toolbar">
            <h1>Active tickets <span id="count" class="count"></span></h1>
            <div class="filters">
            \(select("filter-priority", "Priority", ["P0", "P1", "P2", "P3"]))
            \(select("filter-district", "District", []))
            \(select("filter-status", "Status", statuses))
            \(select("filter-origin", "Origin", ["alarm", "signature", "hotline"]))
            </div>
            <span id="live" class="live off">connecting…</span>
            </div>
            <table id="tickets" class="tickets">
            <thead><tr><th>Priority</th><th>Next deadline</th><th>Ticket</th><th>Condition</th><th>Meter</th>
            <th>District</th><th>Status</th><th>Origin</th><th>Opened</th><th></th></tr></thead>
            <tbody id="ticket-rows"></tbody>
            </table>
            <p id="empty" class="empty" hidden>No active tickets.</p>
            """
        return ConsoleHTML.page(title: "Active tickets", page: "list", actor: actor, csrf: csrf, body: body)
    }

    /// A ticket that does not exist.
    static func notFound(actor: String, csrf: String) -> String {
        ConsoleHTML.page(
            title: "No such ticket",
            page: "ticket",
            actor: actor,
            csrf: csrf,
            body: "<h1>No such ticket</h1><p><a href=\"/console\">Back to the live list</a></p>"
        )
    }

    /// The deadline not yet met that comes next: the earliest of those whose step is still pending.
    static func nextDeadline(_ ticket: TicketResponse) -> (name: String, at: String)? {
        guard let status = TicketStatus(rawValue: ticket.status) else { return nil }
        let deadlines: [(TicketDeadline, String?)] = [
            (.acknowledge, ticket.deadlines.acknowledgeBy), (.arrive, ticket.deadlines.arriveBy),
            (.makeSafe, ticket.deadlines.makeSafeBy), (.repair, ticket.deadlines.repairBy),
        ]
        let pending = deadlines.compactMap { deadline, at -> (String, String)? in
            guard let at, deadline.isPending(in: status) else { return nil }
            return (deadline.label, at)
        }
        return pending.min { $0.1 < $1.1 }
    }

    /// One ticket: header with countdown, steps, note, deadlines, chart, household file, events.
    static func ticket(
        _ ticket: TicketResponse,
        events: [TicketEventMessage],
        household: HouseholdResponse,
        actor: String,
        csrf: String
    ) -> String {
        let chart =
            "/dispatch/v1/meters/\(ConsoleHTML.pathSegment(ticket.meter.protocol))/"
            + "\(ConsoleHTML.pathSegment(ticket.meter.id))/consumption.svg?days=30&ticket=\(ticket.id)"
        var body = "<article class=\"ticket\" id=\"ticket\" data-ticket=\"\(ticket.id)\">\n"
        body += "<div class=\"ticket-head prio-\(e(ticket.priority))\">\n"
        body += "<span class=\"prio\">\(e(ticket.priority))</span>\n"
        body += "<h1>#\(ticket.id) \(e(ticket.condition.replacingOccurrences(of: "_", with: " ")))</h1>\n"
        body +=
            "<span class=\"status\" id=\"status\">\(e(ticket.status.replacingOccurrences(of: "_", with: " ")))</span>\n"
        if let next = nextDeadline(ticket) {
            body +=
                "<span class=\"countdown big\" data-deadline=\"\(e(next.at))\" data-label=\"\(e(next.name))\"></span>\n"
        }
        body += "<span id=\"live\" class=\"live off\">connecting…</span>\n"
        body += "</div>\n"
        body +=
            "<p class=\"meta\">Meter <strong id=\"meter\">\(e(ticket.meter.protocol)) \(e(ticket.meter.id))</strong>"
        body += " · district <strong>\(e(ticket.meter.district ?? "—"))</strong>"
        body += ticket.meter.rural ? " · rural" : ""
        body += " · origin \(e(ticket.origin)) · opened \(e(ConsoleHTML.time(ticket.openedAt)))"
        if let incident = ticket.incidentID { body += " · <strong>major incident #\(incident)</strong>" }
        if ticket.escalationLevel > 0 {
            body += " · <strong class=\"late\">escalated ×\(ticket.escalationLevel)</strong>"
        }
        if ticket.unauthenticatedAlarms { body += " · <strong class=\"late\">alarm not authenticated</strong>" }
        body += "</p>\n"
        if let reporter = ticket.reporter { body += "<p class=\"meta\">Reported by \(e(reporter))</p>\n" }
        if let note = ticket.note { body += "<p class=\"meta note\">\(e(note))</p>\n" }

        body += "<section class=\"steps\"><h2>Steps</h2>\n<div class=\"step-buttons\">\n"
        let taken = Dictionary(ticket.steps.taken.map { ($0.step, $0.at) }, uniquingKeysWith: { first, _ in first })
        // The step the lifecycle expects next: the first after the last one taken.
        let lastTaken = TicketStep.allCases.lastIndex { taken[$0.rawValue] != nil } ?? -1
        for (index, step) in TicketStep.allCases.enumerated() {
            let label = step.label
            if index == lastTaken + 1 {
                body += "<button class=\"step next\" data-step=\"\(step.rawValue)\">\(label)</button>\n"
            } else if let at = taken[step.rawValue] {
                body +=
                    "<button class=\"step done\" data-step=\"\(step.rawValue)\" title=\"\(e(ConsoleHTML.time(at)))\">"
                body += "✓ \(label)</button>\n"
            } else {
                body += "<button class=\"step\" data-step=\"\(step.rawValue)\">\(label)</button>\n"
            }
        }
        body += "</div>\n<form id=\"note-form\" class=\"note-form\"><input id=\"note\" name=\"note\" maxlength=\"2000\""
        body += " placeholder=\"Note for the ticket\" required><button type=\"submit\">Add note</button></form>\n"
        body += "</section>\n"

        body += "<section class=\"deadlines\"><h2>Deadlines</h2><table>\n"
        for (label, at) in [
            ("Acknowledge by", ticket.deadlines.acknowledgeBy), ("Arrive by", ticket.deadlines.arriveBy),
            ("Make safe by", ticket.deadlines.makeSafeBy), ("Repair by", ticket.deadlines.repairBy),
        ] {
            guard let at else { continue }
            body += "<tr><th>\(label)</th><td>\(e(ConsoleHTML.time(at)))</td></tr>\n"
        }
        body += "</table></section>\n"

        body += """
            <section class="chart"><h2>Consumption, last 30 days</h2>
            <img id="consumption-chart" src="\(e(chart))" alt="Consumption of meter \(e(ticket.meter.id)) over the last 30 days, marking what raised ticket \(ticket.id)" width="960" height="320">
            </section>

            """

        body += "<section class=\"household\" id=\"household\"><h2>Household file</h2>\n<ul class=\"flags\">"
        body += "<li>Customer class: <strong>\(e(household.customerClass ?? "unknown"))</strong></li>"
        body += "<li>Continuous appliance: <strong>\(household.continuousAppliance ? "yes" : "no")</strong></li>"
        body += "<li>Methane detector linked: <strong>\(household.methaneDetectorLinked ? "yes" : "no")</strong></li>"
        body += "</ul>\n"
        body += table(
            "Recent readings",
            id: "readings",
            header: ["Read at", "Volume (m³)", "Valve", "Quality"],
            rows: household.readings.map {
                [ConsoleHTML.time($0.readAt), cubicMetres($0.volumeMillilitres), $0.valve, $0.quality ?? ""]
            }
        )
        body += table(
            "Alarms",
            id: "alarms",
            header: ["Raised at", "Condition", "Priority", "Cleared", "Protection"],
            rows: household.alarms.map {
                [ConsoleHTML.time($0.raisedAt), $0.condition, $0.priority, $0.cleared ? "yes" : "no", $0.protection]
            }
        )
        body += table(
            "Tickets",
            id: "past-tickets",
            header: ["Ticket", "Condition", "Priority", "Status", "Opened"],
            rows: household.tickets.map {
                ["#\($0.id)", $0.condition, $0.priority, $0.status, ConsoleHTML.time($0.openedAt)]
            }
        )
        body += table(
            "Inspections",
            id: "inspections",
            header: ["Date", "Inspector", "Result"],
            rows: household.inspections.map { [$0.date, $0.inspector, $0.result] }
        )
        body += "</section>\n"

        body += table(
            "Events",
            id: "events",
            header: ["At", "Event", "Actor", "Detail"],
            rows: events.reversed().map {
                [ConsoleHTML.time($0.at.description), $0.event, $0.actor, $0.detail ?? ""]
            }
        )
        body += "</article>\n"
        return ConsoleHTML.page(title: "Ticket #\(ticket.id)", page: "ticket", actor: actor, csrf: csrf, body: body)
    }

    /// The SLA report and the inspections due.
    static func sla(
        _ report: SLAReportResponse,
        from: String,
        to: String,
        inspections: InspectionsDueResponse,
        hasMoreInspections: Bool,
        actor: String,
        csrf: String
    ) -> String {
        func share(_ deadline: SLAReportResponse.Deadline) -> String {
            guard let share = deadline.share else { return "—" }
            return "\(Int((share * 100).rounded())) % (\(deadline.met)/\(deadline.decided))"
        }
        func minutes(_ value: Double) -> String { String(Int(value.rounded())) }
        var body = """
            <h1>SLA</h1>
            <form class="period" method="get" action="/console/sla">
            <label>From <input name="from" value="\(e(from))"></label>
            <label>To <input name="to" value="\(e(to))"></label>
            <button type="submit">Show</button>
            </form>

            """
        body += table(
            "Deadlines met, per priority and district",
            id: "sla",
            header: [
                "Priority", "District", "Tickets", "Acknowledge", "Arrive", "Make safe", "Repair", "Arrival p50 (min)",
                "p90", "max",
            ],
            rows: report.rows.map { row in
                [
                    row.priority, row.district, "\(row.tickets)", share(row.acknowledge), share(row.arrive),
                    share(row.makeSafe), share(row.repair), row.arrivalMinutes.map { minutes($0.p50) } ?? "—",
                    row.arrivalMinutes.map { minutes($0.p90) } ?? "—",
                    row.arrivalMinutes.map { minutes($0.max) } ?? "—",
                ]
            }
        )
        body += table(
            "Safety inspections due as of \(inspections.asOf)",
            id: "inspections-due",
            header: ["Due on", "Meter", "District", "Customer class", "Last inspection"],
            rows: inspections.due.map {
                [
                    $0.dueOn, "\($0.protocol) \($0.meter)", $0.district ?? "—", $0.customerClass,
                    $0.lastInspection ?? "never",
                ]
            }
        )
        if hasMoreInspections {
            body +=
                "<p class=\"hint\">The first 200 are shown; the full list: GET /dispatch/v1/reports/inspections-due.</p>"
        }
        return ConsoleHTML.page(title: "SLA and inspections", page: "sla", actor: actor, csrf: csrf, body: body)
    }

    /// The monthly service-quality report: one row per figure (``ServiceQualityColumns``, as the API and CSV name
    /// them), one column per district; "—" where a rate has no base.
    static func serviceQuality(
        _ rows: [ServiceQuality],
        month: String,
        zone: String,
        actor: String,
        csrf: String
    ) -> String {
        var body = """
            <h1>Service quality</h1>
            <form class="period" method="get" action="/console/service-quality">
            <label>Month <input name="month" value="\(e(month))"></label>
            <button type="submit">Show</button>
            </form>
            <p class="hint">Months in \(e(zone)). The same figures: GET /dispatch/v1/reports/service-quality(.csv)?month=\(
                e(month)).</p>

            """
        let values = rows.map(ServiceQualityColumns.values)
        body += table(
            "Per district, \(month)",
            id: "service-quality",
            header: ["Figure"] + rows.map(\.district),
            rows: ServiceQualityColumns.names.dropFirst().enumerated().map { index, name in
                [name.replacingOccurrences(of: "_", with: " ")]
                    + values.map { $0[index].map(ServiceQualityColumns.text) ?? "—" }
            }
        )
        if rows.isEmpty { body += "<p class=\"hint\">No district has households or cases in this month.</p>" }
        return ConsoleHTML.page(title: "Service quality", page: "service-quality", actor: actor, csrf: csrf, body: body)
    }

    /// A titled table; every cell is escaped here.
    static func table(_ title: String, id: String, header: [String], rows: [[String]]) -> String {
        var html = "<h3>\(e(title))</h3>\n"
        guard !rows.isEmpty else { return html + "<p class=\"empty\" id=\"\(id)-empty\">None.</p>\n" }
        html += "<table class=\"data\" id=\"\(id)\"><thead><tr>"
        html += header.map { "<th>\(e($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for row in rows { html += "<tr>" + row.map { "<td>\(e($0))</td>" }.joined() + "</tr>\n" }
        return html + "</tbody></table>\n"
    }

    private static func cubicMetres(_ millilitres: Int64) -> String {
        let whole = millilitres / 1_000_000
        let rest = abs(millilitres % 1_000_000)
        let fraction = String(rest / 1000)
        return "\(millilitres < 0 && whole == 0 ? "-" : "")\(whole)."
            + String(repeating: "0", count: 3 - fraction.count)
            + fraction
    }
}

extension TicketStep {
    /// The button's words.
    var label: String {
        switch self {
        case .acknowledged: "Acknowledge"
        case .dispatched: "Dispatch crew"
        case .onSite: "On site"
        case .madeSafe: "Made safe"
        case .resolved: "Resolved"
        case .followUpDone: "Follow-up done"
        case .closed: "Close"
        }
    }
}

extension TicketDeadline {
    /// The countdown's words.
    var label: String {
        switch self {
        case .acknowledge: "acknowledge"
        case .arrive: "arrive"
        case .makeSafe: "make safe"
        case .repair: "repair"
        }
    }
}

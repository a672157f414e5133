import Foundation
import GatewayCore
import GatewayDomain
public import Hummingbird
public import PostgresSink

/// The dispatch interface over HTTP. Every route needs `Authorization: Bearer <http.dispatch_token>`; with no token
/// configured the routes answer 401.
///
/// * `GET /dispatch/v1/tickets?priority=P0&district=D&due_before=ISO&include_closed=true` — most urgent first.
/// * `GET /dispatch/v1/tickets/{id}` — the ticket, its events and the household file.
/// * `POST /dispatch/v1/tickets/{id}/steps` `{"step":"acknowledged","actor":"…","note":"…"}` — one lifecycle step.
/// * `POST /dispatch/v1/tickets/{id}/notes` `{"actor":"…","note":"…"}`.
/// * `POST /dispatch/v1/tickets` `{"protocol","meter","reporter","actor","note","condition"}` — a hotline ticket
///   (condition defaults to `gas_smell_reported`, P0).
/// * `POST /dispatch/v1/outages` `{"district","starts_at","ends_at","reason","announced_by"}`.
/// * `POST /dispatch/v1/inspections` `{"protocol","meter","date","inspector","result","note"}`.
/// * `GET /dispatch/v1/reports/sla?from=ISO&to=ISO` and `GET /dispatch/v1/reports/inspections-due?as_of=DATE`.
public struct DispatchAPI: Sendable {
    private let store: DispatchStore
    private let inspections: InspectionStore
    private let token: String
    private let residentialMonths: Int
    private let nonResidentialMonths: Int

    /// Creates the API.
    /// - Parameters:
    ///   - store: The tickets, over the API's own database connection(s).
    ///   - inspections: The inspections, over the same.
    ///   - token: The bearer token; empty disables the routes.
    ///   - residentialMonths: Inspection interval of residential premises.
    ///   - nonResidentialMonths: Inspection interval of other premises.
    public init(
        store: DispatchStore,
        inspections: InspectionStore,
        token: String,
        residentialMonths: Int,
        nonResidentialMonths: Int
    ) {
        self.store = store
        self.inspections = inspections
        self.token = token
        self.residentialMonths = residentialMonths
        self.nonResidentialMonths = nonResidentialMonths
    }

    /// Adds the routes to a router.
    public func register(on router: Router<BasicRequestContext>) {
        let store = store
        let inspections = inspections
        let token = token
        let residential = residentialMonths
        let nonResidential = nonResidentialMonths
        let group = router.group("dispatch/v1")
        group.get("tickets") { request, _ -> Response in
            guard BillingAPI.authorised(request, token: token) else { return Self.unauthorised }
            let query = request.uri.queryParameters
            var filter = TicketFilter()
            if let text = query["priority"] {
                guard let priority = TicketPriority(rawValue: String(text)) else { return Self.bad("bad_priority") }
                filter.priority = priority
            }
            filter.district = query["district"].map(String.init)
            if let text = query["due_before"] {
                guard let at = Timestamp(iso: text) else { return Self.bad("bad_due_before") }
                filter.dueBefore = at
            }
            filter.includeClosed = query["include_closed"] == "true"
            var json = JSONWriter()
            json.beginObject()
            json.key("tickets")
            json.beginArray()
            for ticket in try await store.tickets(filter) { Self.write(ticket, into: &json) }
            json.endArray()
            json.endObject()
            return BillingAPI.json(json.text)
        }
        group.get("tickets/{id}") { request, context -> Response in
            guard BillingAPI.authorised(request, token: token) else { return Self.unauthorised }
            guard let id = context.parameters.get("id").flatMap({ Int64($0) }) else { return Self.bad("bad_id") }
            guard let found = try await store.ticket(id) else {
                return BillingAPI.error(.notFound, "no_such_ticket")
            }
            return BillingAPI.json(Self.render(found.ticket, events: found.events, household: found.household))
        }
        group.post("tickets/{id}/steps") { request, context -> Response in
            guard BillingAPI.authorised(request, token: token) else { return Self.unauthorised }
            guard let id = context.parameters.get("id").flatMap({ Int64($0) }) else { return Self.bad("bad_id") }
            guard let body = try await Self.body(request),
                let step = (body["step"] as? String).flatMap(TicketStep.init),
                let actor = body["actor"] as? String
            else { return Self.bad("bad_step") }
            do {
                let event = try await store.advanceTicket(id, to: step, actor: actor, note: body["note"] as? String)
                return BillingAPI.json(
                    "{\"event_id\":\(event.id),\"ticket_id\":\(event.ticketID),\"event\":\"\(event.kind)\"}"
                )
            } catch let error as PostgresError where error.code == .invalidArgument {
                return BillingAPI.error(.conflict, "step_not_allowed", message: error.message)
            }
        }
        group.post("tickets/{id}/notes") { request, context -> Response in
            guard BillingAPI.authorised(request, token: token) else { return Self.unauthorised }
            guard let id = context.parameters.get("id").flatMap({ Int64($0) }) else { return Self.bad("bad_id") }
            guard let body = try await Self.body(request), let actor = body["actor"] as? String,
                let note = body["note"] as? String
            else { return Self.bad("bad_note") }
            do {
                let event = try await store.noteTicket(id, actor: actor, note: note)
                return BillingAPI.json("{\"event_id\":\(event.id),\"ticket_id\":\(event.ticketID),\"event\":\"note\"}")
            } catch let error as PostgresError where error.code == .invalidArgument {
                return BillingAPI.error(.notFound, "no_such_ticket", message: error.message)
            }
        }
        group.post("tickets") { request, _ -> Response in
            guard BillingAPI.authorised(request, token: token) else { return Self.unauthorised }
            guard let body = try await Self.body(request),
                let source = (body["protocol"] as? String).flatMap(FrameProtocol.init(rawValue:)),
                let meter = body["meter"] as? String, let reporter = body["reporter"] as? String,
                let actor = body["actor"] as? String,
                let condition = AlarmCondition(rawValue: body["condition"] as? String ?? "gas_smell_reported")
            else { return Self.bad("bad_ticket") }
            do {
                let result = try await store.openManualTicket(
                    meter: (source, meter),
                    condition: condition,
                    reporter: reporter,
                    actor: actor,
                    note: body["note"] as? String
                )
                return BillingAPI.json("{\"ticket_id\":\(result.ticketID),\"opened\":\(result.opened)}")
            } catch let error as PostgresError where error.code == .invalidArgument {
                return BillingAPI.error(.notFound, "no_such_meter", message: error.message)
            }
        }
        group.post("outages") { request, _ -> Response in
            guard BillingAPI.authorised(request, token: token) else { return Self.unauthorised }
            guard let body = try await Self.body(request), let district = body["district"] as? String,
                let start = (body["starts_at"] as? String).flatMap({ Timestamp(iso: $0) }),
                let end = (body["ends_at"] as? String).flatMap({ Timestamp(iso: $0) }),
                let reason = body["reason"] as? String, let by = body["announced_by"] as? String
            else { return Self.bad("bad_outage") }
            do {
                let id = try await store.announceOutage(
                    district: district,
                    from: start,
                    to: end,
                    reason: reason,
                    by: by
                )
                return BillingAPI.json("{\"outage_id\":\(id)}")
            } catch let error as PostgresError where error.code == .invalidArgument {
                return BillingAPI.error(.badRequest, "bad_outage", message: error.message)
            }
        }
        group.post("inspections") { request, _ -> Response in
            guard BillingAPI.authorised(request, token: token) else { return Self.unauthorised }
            guard let body = try await Self.body(request),
                let source = (body["protocol"] as? String).flatMap(FrameProtocol.init(rawValue:)),
                let meter = body["meter"] as? String,
                let date = (body["date"] as? String).flatMap({ CivilDate(iso: $0) }),
                let inspector = body["inspector"] as? String, let result = body["result"] as? String
            else { return Self.bad("bad_inspection") }
            do {
                try await inspections.recordInspection(
                    meter: (source, meter),
                    on: date,
                    inspector: inspector,
                    result: result,
                    note: body["note"] as? String
                )
                return BillingAPI.json("{\"recorded\":true}")
            } catch let error as PostgresError where error.code == .invalidArgument {
                return BillingAPI.error(.notFound, "no_such_meter", message: error.message)
            }
        }
        group.get("reports/sla") { request, _ -> Response in
            guard BillingAPI.authorised(request, token: token) else { return Self.unauthorised }
            let query = request.uri.queryParameters
            guard let from = query["from"].flatMap({ Timestamp(iso: $0) }),
                let to = query["to"].flatMap({ Timestamp(iso: $0) })
            else { return Self.bad("bad_period") }
            return BillingAPI.json(Self.render(try await store.slaReport(from: from, to: to)))
        }
        group.get("reports/inspections-due") { request, _ -> Response in
            guard BillingAPI.authorised(request, token: token) else { return Self.unauthorised }
            let text = request.uri.queryParameters["as_of"].map(String.init) ?? ""
            guard let date = text.isEmpty ? BillingAPI.today : CivilDate(iso: text) else { return Self.bad("bad_date") }
            let due = try await inspections.inspectionsDue(
                asOf: date,
                residentialMonths: residential,
                nonResidentialMonths: nonResidential,
                limit: 5000
            )
            var json = JSONWriter()
            json.beginObject()
            json.field("as_of", string: date.description)
            json.key("due")
            json.beginArray()
            for item in due {
                json.beginObject()
                json.field("protocol", string: item.protocol.rawValue)
                json.field("meter", string: item.meter)
                if let district = item.district {
                    json.field("district", string: district)
                } else {
                    json.fieldNull("district")
                }
                json.field("customer_class", string: item.customerClass)
                if let last = item.lastInspection {
                    json.field("last_inspection", string: last)
                } else {
                    json.fieldNull("last_inspection")
                }
                json.field("due_on", string: item.dueOn)
                json.endObject()
            }
            json.endArray()
            json.endObject()
            return BillingAPI.json(json.text)
        }
    }

    // MARK: Helpers

    static let unauthorised = BillingAPI.error(.unauthorized, "dispatch_token_required")

    static func bad(_ code: String) -> Response { BillingAPI.error(.badRequest, code) }

    static func body(_ request: Request) async throws -> [String: Any]? {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 * 1024)
        return try? JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any]
    }

    static func write(_ ticket: DispatchTicket, into json: inout JSONWriter) {
        json.beginObject()
        json.field("id", integer: ticket.id)
        json.key("meter")
        json.beginObject()
        json.field("protocol", string: ticket.protocol.rawValue)
        json.field("id", string: ticket.meter)
        if let district = ticket.district {
            json.field("district", string: district)
        } else {
            json.fieldNull("district")
        }
        json.field("rural", bool: ticket.isRural)
        json.endObject()
        json.field("condition", string: ticket.condition)
        json.field("priority", string: ticket.priority.rawValue)
        json.field("status", string: ticket.status)
        json.field("origin", string: ticket.origin)
        if let incident = ticket.incidentID {
            json.field("incident_id", integer: incident)
        } else {
            json.fieldNull("incident_id")
        }
        json.field("escalation_level", integer: ticket.escalationLevel)
        json.field("alarm_count", integer: ticket.alarmCount)
        json.field("opened_at", string: ticket.openedAt.description)
        json.key("deadlines")
        json.beginObject()
        for name in ["acknowledge_by", "arrive_by", "make_safe_by", "repair_by"] {
            if let at = ticket.deadlines[name] {
                json.field(name, string: at.description)
            } else {
                json.fieldNull(name)
            }
        }
        json.endObject()
        json.key("steps")
        json.beginObject()
        for step in TicketStep.allCases {
            if let at = ticket.steps[step.rawValue] { json.field(step.rawValue, string: at.description) }
        }
        json.endObject()
        if let reporter = ticket.reporter { json.field("reporter", string: reporter) }
        if let note = ticket.note { json.field("note", string: note) }
        json.endObject()
    }

    static func render(_ ticket: DispatchTicket, events: [DispatchEvent], household: HouseholdFile) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.key("ticket")
        write(ticket, into: &json)
        json.key("events")
        json.beginArray()
        for event in events {
            json.beginObject()
            json.field("id", integer: event.id)
            json.field("at", string: event.at.description)
            json.field("kind", string: event.kind)
            json.field("actor", string: event.actor)
            if let alarm = event.alarmID { json.field("alarm_id", integer: alarm) } else { json.fieldNull("alarm_id") }
            if let detail = event.detail { json.field("detail", string: detail) } else { json.fieldNull("detail") }
            json.endObject()
        }
        json.endArray()
        json.key("household")
        json.beginObject()
        json.field("continuous_appliance", bool: household.hasContinuousAppliance)
        json.field("methane_detector_linked", bool: household.isMethaneDetectorLinked)
        if let customer = household.customerClass {
            json.field("customer_class", string: customer)
        } else {
            json.fieldNull("customer_class")
        }
        json.key("readings")
        json.beginArray()
        for reading in household.readings {
            json.beginObject()
            json.field("read_at", string: reading.readAt.description)
            json.field("volume_ml", integer: reading.volumeMillilitres)
            json.field("valve", string: reading.valve.name)
            if let quality = reading.quality {
                json.field("quality", string: quality.name)
            } else {
                json.fieldNull("quality")
            }
            json.endObject()
        }
        json.endArray()
        json.key("alarms")
        json.beginArray()
        for alarm in household.alarms {
            json.beginObject()
            json.field("raised_at", string: alarm.raisedAt.description)
            json.field("condition", string: alarm.condition)
            json.field("priority", string: alarm.priority)
            json.field("cleared", bool: alarm.isCleared)
            json.endObject()
        }
        json.endArray()
        json.key("tickets")
        json.beginArray()
        for past in household.tickets {
            json.beginObject()
            json.field("id", integer: past.id)
            json.field("condition", string: past.condition)
            json.field("priority", string: past.priority)
            json.field("status", string: past.status)
            json.field("opened_at", string: past.openedAt.description)
            json.endObject()
        }
        json.endArray()
        json.key("inspections")
        json.beginArray()
        for inspection in household.inspections {
            json.beginObject()
            json.field("date", string: inspection.date)
            json.field("inspector", string: inspection.inspector)
            json.field("result", string: inspection.result)
            json.endObject()
        }
        json.endArray()
        json.endObject()
        json.endObject()
        return json.text
    }

    static func render(_ rows: [SLARow]) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.key("rows")
        json.beginArray()
        for row in rows {
            json.beginObject()
            json.field("priority", string: row.priority)
            json.field("district", string: row.district)
            json.field("tickets", integer: row.tickets)
            for name in ["acknowledge", "arrive", "make_safe", "repair"] {
                let counts = row.deadlines[name] ?? SLARow.Compliance(met: 0, decided: 0)
                json.key(name)
                json.beginObject()
                json.field("met", integer: counts.met)
                json.field("decided", integer: counts.decided)
                if counts.decided > 0 {
                    json.field("share", literal: String(format: "%.4f", Double(counts.met) / Double(counts.decided)))
                } else {
                    json.fieldNull("share")
                }
                json.endObject()
            }
            json.key("arrival_minutes")
            if let arrival = row.arrivalMinutes {
                json.beginObject()
                json.field("p50", literal: String(arrival.p50))
                json.field("p90", literal: String(arrival.p90))
                json.field("max", literal: String(arrival.max))
                json.endObject()
            } else {
                json.null()
            }
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.text
    }
}

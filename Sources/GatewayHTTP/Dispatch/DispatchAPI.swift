public import GatewayCore
public import GatewayDomain
public import Hummingbird
public import PostgresSink

/// The dispatch interface over HTTP. Every route needs `Authorization: Bearer <token>` of a configured credential
/// (``AuthenticationMiddleware``): the `dispatch` role (or `supervisor`, `admin`), and `supervisor` (or `admin`) for
/// planned outages; else `401` `unauthenticated` or `403` `forbidden`.
///
/// The actor of every event and the announcer or canceller of an outage is the credential's name. Request bodies
/// carry no actor; an `actor` or `announced_by` member a client still sends is ignored.
///
/// * `GET /dispatch/v1/tickets?priority=P0&district=D&due_before=ISO&include_closed=true&limit=N&cursor=C` — most
///   urgent first (priority, next pending deadline, id).
/// * `GET /dispatch/v1/tickets/{id}` — the ticket, its events and the household file.
/// * `POST /dispatch/v1/tickets/{id}/steps` `{"step":"acknowledged","note":"…"}` — one lifecycle step.
/// * `POST /dispatch/v1/tickets/{id}/notes` `{"note":"…"}`.
///
///   A step and a note answer `201` with the event's `TicketEventMessage` (GatewayDomain), the JSON NOTIFY and the
///   MQTT dispatch topic carry; the ticket's `events` are those messages too.
/// * `POST /dispatch/v1/tickets` `{"protocol","meter","reporter","note","condition"}` — a hotline ticket
///   (condition defaults to `gas_smell_reported`, P0): `201` and `Location: /dispatch/v1/tickets/{id}` when it
///   opened one, `200` (same body and `Location`) when the meter already had an active ticket of that condition.
/// * `POST /dispatch/v1/inspections` `{"protocol","meter","date","inspector","result","note"}`: `201`.
///
/// Every list (tickets, outages, inspections due) is paginated the same way: `limit` and `cursor` in, `next_cursor`
/// and a `Link: <…>; rel="next"` header out (see ``Page``).
/// * `GET /dispatch/v1/reports/sla?from=ISO&to=ISO` and `GET /dispatch/v1/reports/inspections-due?as_of=DATE`.
///
/// Supervisor:
/// * `GET /dispatch/v1/outages?district=D` — outages not yet ended, cancelled ones included.
/// * `POST /dispatch/v1/outages` `{"district","starts_at","ends_at","reason"}` — at most `dispatch.max_outage_hours`
///   long, not ending in the past: `201`.
/// * `POST /dispatch/v1/outages/{id}/cancel` `{"reason":"…"}` — cancels it at once; it explains no further alarm.
///
/// Failures are ``APIError``s: `400` (`bad_priority`, `bad_due_before`, `bad_id`, `bad_step`, `bad_note`,
/// `bad_ticket`, `bad_outage`, `outage_too_long`, `outage_in_the_past`, `bad_inspection`, `bad_period`,
/// `bad_date`), `401` (`unauthenticated`), `403` (`forbidden`), `404` (`no_such_ticket`, `no_such_meter`,
/// `no_such_outage`), `409` (`step_not_allowed`, `outage_already_cancelled`, `outage_already_over`), and the
/// database's `503`/`500`.
public struct DispatchAPI: Sendable {
    let store: DispatchStore
    let inspections: InspectionStore
    let credentials: CredentialStore
    /// The billing day's zone: a date left out of a request is today there.
    let zone: TimeZoneRules
    /// The leak signatures' thresholds and zone the charts mark with (`DispatchAPI+Charts.swift`); the validator's
    /// in the gateway, the defaults in UTC unless set.
    public var signatureSettings = SignatureSettings()
    let residentialMonths: Int
    let nonResidentialMonths: Int
    /// The dispatch console's sessions, accepted instead of a bearer token for `GET` and `HEAD` (the console's pages
    /// read tickets and charts through this API); `nil` without a console.
    let consoleSessions: ConsoleSessions?

    /// Creates the API.
    /// - Parameters:
    ///   - store: Tickets and their steps, on a database used for the HTTP APIs only.
    ///   - inspections: Safety inspections, on the same database.
    ///   - credentials: The credentials the routes accept; none refuses every request.
    ///   - residentialMonths: Inspection interval of residential premises.
    ///   - nonResidentialMonths: Inspection interval of other premises.
    ///   - consoleSessions: The dispatch console's sessions, accepted for `GET`/`HEAD` (``AuthenticationMiddleware``);
    ///     `nil` for bearer tokens only.
    public init(
        store: DispatchStore,
        inspections: InspectionStore,
        credentials: CredentialStore,
        residentialMonths: Int,
        nonResidentialMonths: Int,
        zone: TimeZoneRules = .utc,
        consoleSessions: ConsoleSessions? = nil
    ) {
        self.consoleSessions = consoleSessions
        self.store = store
        self.inspections = inspections
        self.credentials = credentials
        self.residentialMonths = residentialMonths
        self.nonResidentialMonths = nonResidentialMonths
        self.zone = zone
    }

    /// Adds the routes to a router made by ``GatewayHTTPServer/makeRouter(readiness:metrics:)``.
    /// - Parameter router: The router.
    public func register(on router: Router<GatewayRequestContext>) {
        let store = store
        let inspections = inspections
        let residential = residentialMonths
        let nonResidential = nonResidentialMonths
        let zone = zone
        let group = router.group("dispatch/v1")
            .add(middleware: AuthenticationMiddleware(credentials, requiring: .dispatch, sessions: consoleSessions))
        group.get("tickets") { request, _ -> Response in
            let page = try Page(request, list: "tickets", keyCount: 1...3)
            let query = request.uri.queryParameters
            var filter = TicketFilter()
            if let text = query["priority"] {
                guard let priority = TicketPriority(rawValue: String(text)) else {
                    throw APIError.badRequest("bad_priority")
                }
                filter.priority = priority
            }
            filter.district = query["district"].map(String.init)
            if let text = query["due_before"] {
                guard let at = Timestamp(iso: text) else { throw APIError.badRequest("bad_due_before") }
                filter.dueBefore = at
            }
            filter.includeClosed = try Self.includeClosed(request)
            filter.limit = page.limit + 1
            switch page.after?.count {
            case 3?: filter.after = try Self.ticketPosition(page.after ?? [])
            case 1?: filter.afterTicket = try page.afterID()  // a cursor of an earlier version
            case nil: break
            default: throw APIError.badRequest("bad_cursor_or_limit")
            }
            let (tickets, next) = page.slice(try await store.tickets(filter), list: "tickets") {
                Self.cursorKey(TicketListPosition(of: $0))
            }
            return try Page.response(
                TicketListResponse(tickets: tickets.map(TicketResponse.init), nextCursor: next),
                nextCursor: next,
                for: request
            )
        }
        group.get("tickets/{id}") { _, context -> TicketDetailResponse in
            let id = try Self.ticketID(context)
            guard let found = try await store.ticket(id) else { throw APIError.notFound("no_such_ticket") }
            return TicketDetailResponse(
                ticket: TicketResponse(found.ticket),
                events: found.events,
                household: HouseholdResponse(found.household)
            )
        }
        group.post("tickets/{id}/steps") { request, context -> Response in
            let id = try Self.ticketID(context)
            let body = try await request.decodeJSON(as: StepRequest.self, context: context, orRefuseWith: "bad_step")
            guard let step = TicketStep(rawValue: body.step) else { throw APIError.badRequest("bad_step") }
            do {
                return try GatewayJSONEncoder().created(
                    TicketEventRecordedResponse(
                        try await store.advanceTicket(id, to: step, actor: try context.actor(), note: body.note)
                    )
                )
            } catch let error as PostgresError where error.code == .invalidArgument {
                throw APIError(.conflict, "step_not_allowed", message: error.message)
            }
        }
        group.post("tickets/{id}/notes") { request, context -> Response in
            let id = try Self.ticketID(context)
            let body = try await request.decodeJSON(as: NoteRequest.self, context: context, orRefuseWith: "bad_note")
            do {
                return try GatewayJSONEncoder().created(
                    TicketEventRecordedResponse(
                        try await store.noteTicket(id, actor: try context.actor(), note: body.note)
                    )
                )
            } catch let error as PostgresError where error.code == .invalidArgument {
                throw APIError.notFound("no_such_ticket", message: error.message)
            }
        }
        group.post("tickets") { request, context -> Response in
            let body = try await request.decodeJSON(
                as: ManualTicketRequest.self,
                context: context,
                orRefuseWith: "bad_ticket"
            )
            guard let source = FrameProtocol(rawValue: body.protocol),
                let condition = AlarmCondition(rawValue: body.condition ?? "gas_smell_reported")
            else { throw APIError.badRequest("bad_ticket") }
            do {
                let result = try await store.openManualTicket(
                    meter: (source, body.meter),
                    condition: condition,
                    reporter: body.reporter,
                    actor: try context.actor(),
                    note: body.note
                )
                let body = ManualTicketResponse(ticketID: result.ticketID, opened: result.opened)
                var response = try GatewayJSONEncoder().response(body, status: result.opened ? .created : .ok)
                response.headers[.location] = "/dispatch/v1/tickets/\(result.ticketID)"
                return response
            } catch let error as PostgresError where error.code == .invalidArgument {
                throw APIError.notFound("no_such_meter", message: error.message)
            }
        }
        registerOutages(on: router.group("dispatch/v1/outages"), store: store)
        registerCharts(on: group, charts: ChartStore(sharing: store), settings: signatureSettings)
        group.post("inspections") { request, context -> Response in
            let body = try await request.decodeJSON(
                as: InspectionRequest.self,
                context: context,
                orRefuseWith: "bad_inspection"
            )
            guard let source = FrameProtocol(rawValue: body.protocol), let date = CivilDate(iso: body.date) else {
                throw APIError.badRequest("bad_inspection")
            }
            do {
                try await inspections.recordInspection(
                    meter: (source, body.meter),
                    on: date,
                    inspector: body.inspector,
                    result: body.result,
                    note: body.note,
                    recordedBy: try context.actor()
                )
                return try GatewayJSONEncoder().created(RecordedResponse())
            } catch let error as PostgresError where error.code == .invalidArgument {
                throw APIError.notFound("no_such_meter", message: error.message)
            }
        }
        group.get("reports/sla") { request, _ -> SLAReportResponse in
            let query = request.uri.queryParameters
            guard let from = query["from"].flatMap({ Timestamp(iso: $0) }),
                let to = query["to"].flatMap({ Timestamp(iso: $0) })
            else { throw APIError.badRequest("bad_period") }
            return SLAReportResponse(try await store.slaReport(from: from, to: to))
        }
        group.get("reports/inspections-due") { request, _ -> Response in
            let page = try Page(request, list: "inspections-due", keyCount: 3...3)
            let text = request.uri.queryParameters["as_of"].map(String.init) ?? ""
            guard let date = text.isEmpty ? zone.date(of: WallClock.now()) : CivilDate(iso: text) else {
                throw APIError.badRequest("bad_date")
            }
            var after: (due: CivilDate, protocol: FrameProtocol, address: String)?
            if let key = page.after {
                guard let due = CivilDate(iso: key[0]), let source = FrameProtocol(rawValue: key[1]) else {
                    throw APIError.badRequest("bad_cursor_or_limit")
                }
                after = (due, source, key[2])
            }
            let rows = try await inspections.inspectionsDue(
                asOf: date,
                residentialMonths: residential,
                nonResidentialMonths: nonResidential,
                limit: page.limit + 1,
                after: after
            )
            let (due, next) = page.slice(rows, list: "inspections-due") { [$0.dueOn, $0.protocol.rawValue, $0.meter] }
            return try Page.response(
                InspectionsDueResponse(asOf: date, due: due, nextCursor: next),
                nextCursor: next,
                for: request
            )
        }
    }

    /// The cursor key of a ticket's place in the list: priority, next deadline (µs, empty for none), id. The place
    /// is kept, not only the id, so that a ticket that moves before the next page is read (acknowledged, resolved,
    /// re-prioritised) does not move the page's start past the tickets between its old and new place.
    static func cursorKey(_ position: TicketListPosition) -> [String] {
        [
            position.priority.rawValue, position.nextDeadline.map { "\($0.microsecondsSinceEpoch)" } ?? "",
            "\(position.id)",
        ]
    }

    /// The place a ticket cursor key names (``cursorKey(_:)``).
    /// - Throws: ``APIError`` `400` `bad_cursor_or_limit` for a key no ticket can have.
    static func ticketPosition(_ key: [String]) throws(APIError) -> TicketListPosition {
        guard key.count == 3, let priority = TicketPriority(rawValue: key[0]), let id = Int64(key[2]) else {
            throw .badRequest("bad_cursor_or_limit")
        }
        if key[1].isEmpty { return TicketListPosition(priority: priority, nextDeadline: nil, id: id) }
        guard let micros = Int64(key[1]) else { throw .badRequest("bad_cursor_or_limit") }
        return TicketListPosition(priority: priority, nextDeadline: Timestamp(microsecondsSinceEpoch: micros), id: id)
    }

    /// The `include_closed` query parameter of a list: `true` or `false` (the default).
    /// - Throws: ``APIError`` `400` `bad_include_closed` for any other value.
    static func includeClosed(_ request: Request) throws(APIError) -> Bool {
        switch request.uri.queryParameters["include_closed"] {
        case nil, "false": return false
        case "true": return true
        default: throw .badRequest("bad_include_closed", message: "include_closed must be true or false")
        }
    }

    /// The `{id}` path parameter.
    /// - Throws: ``APIError`` `400` `bad_id` when it is not an integer.
    static func ticketID(_ context: GatewayRequestContext) throws(APIError) -> Int64 {
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }) else { throw .badRequest("bad_id") }
        return id
    }
}

public import GatewayCore
import GatewayDomain
public import Hummingbird
public import PostgresSink

/// Complaints and return calls over HTTP, beside the dispatch API and with its roles: every route needs the
/// `dispatch` role (or `supervisor`, `admin`); waiving a return call needs `supervisor`. The actor of every event is
/// the credential's name.
///
/// * `GET /dispatch/v1/complaints?status=S&category=C&district=D&include_closed=true&limit=N&cursor=C` — in order
///   of receipt.
/// * `POST /dispatch/v1/complaints` `{"channel","category","protocol","meter","district","complainant","contact",
///   "confidential","summary","request","disputed_from","disputed_to"}` — `201`, `Location`, the complaint with its
///   `answer_by` (the end of the 5th working day after the day of receipt, by the company's working calendar).
/// * `GET /dispatch/v1/complaints/{id}` — the complaint, its events and its return call.
/// * `POST /dispatch/v1/complaints/{id}/steps` `{"step","text","outcome"}` — `accepted`, `not_accepted` (text: the
///   reason), `proposed` (text: the proposal), `answered` (text: the answer; a billing dispute's `outcome`),
///   `closed`: `201` and the event.
/// * `POST /dispatch/v1/complaints/{id}/notes` `{"note"}` — `201`.
/// * `POST /dispatch/v1/complaints/{id}/return-call` and `POST /dispatch/v1/tickets/{id}/return-call`
///   `{"outcome","attempts","remarks"}` — the return call (satisfied, not_satisfied, unreachable after at least 3
///   attempts; `waived` by a supervisor with the reason as remarks), which moves the case to `follow_up_done`:
///   `201` and the event. Without it a case cannot close.
/// * `GET /dispatch/v1/reports/service-quality?month=YYYY-MM&district=D` (and `….csv`): the monthly
///   service-quality report per district (``ServiceQualityColumns``).
/// * `GET /dispatch/v1/complaints/{id}/dispute` — a billing dispute's file: the meter's dispute accuracy tests, the
///   validated days in question with their quality and reasons, and the billing-feed versions of those days
///   published since the complaint was received (the corrections).
///
/// Failures: `400` (`bad_complaint`, `bad_step`, `bad_note`, `bad_return_call`, `bad_id`, `bad_status`,
/// `bad_category`, `bad_include_closed`, `bad_cursor_or_limit`, `bad_month`), `403` (`forbidden`, also a waiver without
/// `supervisor`), `404` (`no_such_complaint`, `no_such_ticket`, `no_such_meter`), `409` (`step_not_allowed`).
public struct ComplaintsAPI: Sendable {
    private let store: ComplaintStore
    private let tickets: DispatchStore
    private let report: ServiceQualityStore
    private let settings: ReportSettings
    private let credentials: CredentialStore

    /// What the service-quality report needs beside the database.
    public struct ReportSettings: Sendable {
        /// The company's zone: months start at its local midnight.
        public var zone: TimeZoneRules
        /// Inspection interval of residential premises.
        public var residentialMonths: Int
        /// Inspection interval of other premises.
        public var nonResidentialMonths: Int

        /// Creates the settings.
        public init(zone: TimeZoneRules, residentialMonths: Int, nonResidentialMonths: Int) {
            self.zone = zone
            self.residentialMonths = residentialMonths
            self.nonResidentialMonths = nonResidentialMonths
        }
    }

    /// Creates the API.
    /// - Parameters:
    ///   - store: Complaints.
    ///   - tickets: Tickets, for their return calls.
    ///   - report: The service-quality report.
    ///   - settings: The report's zone and inspection intervals.
    ///   - credentials: The credentials the routes accept.
    public init(
        store: ComplaintStore,
        tickets: DispatchStore,
        report: ServiceQualityStore,
        settings: ReportSettings,
        credentials: CredentialStore
    ) {
        self.store = store
        self.tickets = tickets
        self.report = report
        self.settings = settings
        self.credentials = credentials
    }

    /// Adds the routes to a router.
    /// - Parameter router: The router.
    public func register(on router: Router<GatewayRequestContext>) {
        let store = store
        let tickets = tickets
        let settings = settings
        let group = router.group("dispatch/v1")
            .add(middleware: AuthenticationMiddleware(credentials, requiring: .dispatch))
        group.get("complaints") { request, _ -> Response in
            let page = try Page(request, list: "complaints", keyCount: 1...1)
            let query = request.uri.queryParameters
            var filter = ComplaintFilter()
            if let text = query["status"] {
                guard let status = ComplaintStatus(rawValue: String(text)) else {
                    throw APIError.badRequest("bad_status")
                }
                filter.status = status
            }
            if let text = query["category"] {
                guard let category = ComplaintCategory(rawValue: String(text)) else {
                    throw APIError.badRequest("bad_category")
                }
                filter.category = category
            }
            filter.district = query["district"].map(String.init)
            filter.includeClosed = try DispatchAPI.includeClosed(request)
            filter.limit = page.limit + 1
            filter.afterComplaint = try page.afterID()
            let (rows, next) = page.slice(try await store.complaints(filter), list: "complaints") { ["\($0.id)"] }
            return try Page.response(
                ComplaintListResponse(complaints: rows.map(ComplaintResponse.init), nextCursor: next),
                nextCursor: next,
                for: request
            )
        }
        group.post("complaints") { request, context -> Response in
            let body = try await request.decodeJSON(
                as: ComplaintRequest.self,
                context: context,
                orRefuseWith: "bad_complaint"
            )
            let intake = try body.intake()
            do {
                let complaint = try await store.receive(intake, actor: try context.actor())
                return try GatewayJSONEncoder().created(
                    ComplaintResponse(complaint),
                    location: "/dispatch/v1/complaints/\(complaint.id)"
                )
            } catch let error as PostgresError where error.code == .invalidArgument {
                if error.message.hasPrefix("no ") { throw APIError.notFound("no_such_meter", message: error.message) }
                throw APIError.badRequest("bad_complaint", message: error.message)
            }
        }
        group.get("complaints/{id}") { _, context -> ComplaintDetailResponse in
            let id = try DispatchAPI.ticketID(context)
            guard let found = try await store.complaint(id) else { throw APIError.notFound("no_such_complaint") }
            return ComplaintDetailResponse(
                complaint: ComplaintResponse(found.complaint),
                events: found.events.map(ComplaintEventResponse.init),
                returnCall: found.returnCall.map(ReturnCallResponse.init)
            )
        }
        group.post("complaints/{id}/steps") { request, context -> Response in
            let id = try DispatchAPI.ticketID(context)
            let body = try await request.decodeJSON(
                as: ComplaintStepRequest.self,
                context: context,
                orRefuseWith: "bad_step"
            )
            guard let step = ComplaintStep(rawValue: body.step), step != .followUpDone else {
                throw APIError.badRequest(
                    "bad_step",
                    message: "step must be accepted, not_accepted, proposed, answered or closed "
                        + "(follow_up_done is the return call)"
                )
            }
            var outcome: ComplaintOutcome?
            if let text = body.outcome {
                guard let value = ComplaintOutcome(rawValue: text) else { throw APIError.badRequest("bad_step") }
                outcome = value
            }
            do {
                let event = try await store.advance(
                    id,
                    to: step,
                    text: body.text,
                    outcome: outcome,
                    actor: try context.actor()
                )
                return try GatewayJSONEncoder().created(
                    ComplaintEventResponse(event),
                    location: "/dispatch/v1/complaints/\(id)"
                )
            } catch let error as PostgresError where error.code == .invalidArgument {
                throw Self.refusal(error)
            }
        }
        group.post("complaints/{id}/notes") { request, context -> Response in
            let id = try DispatchAPI.ticketID(context)
            let body = try await request.decodeJSON(as: NoteRequest.self, context: context, orRefuseWith: "bad_note")
            do {
                let event = try await store.note(id, actor: try context.actor(), note: body.note)
                return try GatewayJSONEncoder().created(
                    ComplaintEventResponse(event),
                    location: "/dispatch/v1/complaints/\(id)"
                )
            } catch let error as PostgresError where error.code == .invalidArgument {
                if error.message.hasPrefix("no complaint") { throw APIError.notFound("no_such_complaint") }
                throw APIError.badRequest("bad_note", message: error.message)
            }
        }
        group.post("complaints/{id}/return-call") { request, context -> Response in
            let id = try DispatchAPI.ticketID(context)
            let call = try await Self.returnCall(request, context: context)
            do {
                let event = try await store.recordReturnCall(id, call, actor: try context.actor())
                return try GatewayJSONEncoder().created(
                    ComplaintEventResponse(event),
                    location: "/dispatch/v1/complaints/\(id)"
                )
            } catch let error as PostgresError where error.code == .invalidArgument {
                throw Self.refusal(error)
            }
        }
        group.get("complaints/{id}/dispute") { _, context -> DisputeFileResponse in
            let id = try DispatchAPI.ticketID(context)
            guard let file = try await store.disputeFile(id) else { throw APIError.notFound("no_such_complaint") }
            return DisputeFileResponse(file)
        }
        let api = self
        group.get("reports/service-quality") { request, _ -> ServiceQualityReportResponse in
            let (year, month, district) = try Self.reportQuery(request)
            let rows = try await api.serviceQuality(year: year, month: month, district: district)
            return ServiceQualityReportResponse(
                month: Self.monthText(year, month),
                zone: settings.zone.identifier,
                districts: rows.map(ServiceQualityRowResponse.init)
            )
        }
        group.get("reports/service-quality.csv") { request, _ -> Response in
            let (year, month, district) = try Self.reportQuery(request)
            let rows = try await api.serviceQuality(year: year, month: month, district: district)
            return Response(
                status: .ok,
                headers: [.contentType: "text/csv; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: ServiceQualityColumns.csv(rows)))
            )
        }
        group.post("tickets/{id}/return-call") { request, context -> Response in
            let id = try DispatchAPI.ticketID(context)
            let call = try await Self.returnCall(request, context: context)
            do {
                return try GatewayJSONEncoder().created(
                    TicketEventRecordedResponse(
                        try await tickets.recordReturnCall(id, call, actor: try context.actor())
                    ),
                    location: "/dispatch/v1/tickets/\(id)"
                )
            } catch let error as PostgresError where error.code == .invalidArgument {
                if error.message.hasPrefix("no ticket") { throw APIError.notFound("no_such_ticket") }
                throw APIError(.conflict, "step_not_allowed", message: error.message)
            }
        }
    }

    /// `month=YYYY-MM` (required) and `district` of a report request.
    /// - Throws: ``APIError`` `400` `bad_month`.
    static func reportQuery(_ request: Request) throws(APIError) -> (year: Int, month: Int, district: String?) {
        let query = request.uri.queryParameters
        guard let text = query["month"], let date = CivilDate(iso: String(text) + "-01") else {
            throw .badRequest("bad_month", message: "month must be like 2026-02")
        }
        return (date.year, date.month, query["district"].map(String.init))
    }

    /// The service-quality report of a month in the company's zone, per district (or of one district).
    func serviceQuality(year: Int, month: Int, district: String? = nil) async throws -> [ServiceQuality] {
        try await report.report(
            year: year,
            month: month,
            zone: settings.zone,
            residentialMonths: settings.residentialMonths,
            nonResidentialMonths: settings.nonResidentialMonths,
            district: district
        )
    }

    /// The company's zone, in which report months start.
    var reportZone: TimeZoneRules { settings.zone }

    /// `YYYY-MM`.
    static func monthText(_ year: Int, _ month: Int) -> String {
        String(CivilDate(year: year, month: month, day: 1).description.prefix(7))
    }

    /// A refused complaint step: `404` for no such complaint, else `409` `step_not_allowed`.
    private static func refusal(_ error: PostgresError) -> APIError {
        if error.message.hasPrefix("no complaint") { return .notFound("no_such_complaint") }
        return APIError(.conflict, "step_not_allowed", message: error.message)
    }

    /// The body of a return call, checked by ``ReturnCall`` (a waiver only with the `supervisor` role).
    private static func returnCall(_ request: Request, context: GatewayRequestContext) async throws -> ReturnCall {
        let body = try await request.decodeJSON(
            as: ReturnCallRequest.self,
            context: context,
            orRefuseWith: "bad_return_call"
        )
        guard let outcome = ReturnCallOutcome(rawValue: body.outcome) else {
            throw APIError.badRequest(
                "bad_return_call",
                message: "outcome must be one of: "
                    + ReturnCallOutcome.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        let isSupervisor = context.credential?.has(.supervisor) ?? false
        if outcome == .waived, !isSupervisor {
            throw APIError(.forbidden, "forbidden", message: "only a supervisor may waive the return call")
        }
        do throws(ReturnCall.Refusal) {
            return try ReturnCall(
                outcome: outcome,
                attempts: body.attempts ?? (outcome == .waived ? 0 : 1),
                remarks: body.remarks,
                isSupervisor: isSupervisor
            )
        } catch {
            throw APIError.badRequest("bad_return_call", message: error.message)
        }
    }
}

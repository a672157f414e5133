import Foundation
public import GatewayCore
import GatewayDomain
import HTTPTypes
public import Hummingbird
public import PostgresSink

/// The dispatch console: web pages for dispatchers, served by the gateway under `/console`, working without internet
/// access (every asset is in the binary: ``ConsoleAssets``).
///
/// * `GET /console/sign-in`, `POST /console/sign-in` (form field `token`): signs in with a configured credential's
///   token (the same credentials as the APIs; the credential needs the `dispatch` role), sets the session cookie
///   (``ConsoleSessions``) and redirects to the live list. `POST /console/sign-out` (form field `csrf`) deletes it.
/// * `GET /console`: the live list of active tickets, most urgent first (priority, next deadline), with a countdown
///   to each ticket's next deadline (red once passed), filters by priority, district, status and origin, and the
///   tickets of a major incident grouped. The page reads `GET /dispatch/v1/tickets` with its cookie and re-reads it
///   whenever `GET /console/events` (server-sent events, fed by `NOTIFY ticket_events`: ``TicketEventFeed``)
///   announces a committed ticket event: no reload, no polling.
/// * `GET /console/tickets/{id}`: one ticket, its deadlines and events, the steps and a note, the household file and
///   the meter's consumption chart (`GET /dispatch/v1/meters/{protocol}/{meter}/consumption.svg?days=30&ticket=ID`).
/// * `GET /console/sla`: SLA compliance per priority and district (`from`, `to`; the last 7 days by default) and the
///   inspections due.
/// * `GET /console/service-quality?month=YYYY-MM`: the monthly service-quality report per district (this month in
///   the company's zone by default), the same figures as `GET /dispatch/v1/reports/service-quality`.
/// * `POST /console/tickets/{id}/steps` `{"step":…,"note":…}` and `POST /console/tickets/{id}/notes` `{"note":…}`:
///   the console's writes, with the session cookie, the `X-CSRF-Token` header and (when the browser sends one) an
///   `Origin` of this server; they answer as the dispatch API's steps and notes do (`201` with the event, `409`
///   `step_not_allowed` with the lifecycle's explanation), and record the signed-in credential's name as actor.
///
/// Every page carries a Content-Security-Policy that allows scripts, styles, images and connections from the gateway
/// only and no inline code, plus `X-Frame-Options: DENY`, `Referrer-Policy: same-origin` and
/// `Cache-Control: no-store`. Every text from the database is HTML-escaped (``ConsoleHTML/escape(_:)``); the script
/// writes texts with `textContent` only. Tokens are never logged: the sign-in form's body is read by this route alone.
public struct DispatchConsole: Sendable {
    let api: DispatchAPI
    /// Complaints and the service-quality report; `nil`: the console has no report page.
    let complaints: ComplaintsAPI?
    /// The sessions (the same object the dispatch API's middleware accepts for `GET`).
    public let sessions: ConsoleSessions
    /// The live ticket events.
    public let feed: TicketEventFeed
    private let now: @Sendable () -> Timestamp

    /// Creates the console.
    /// - Parameters:
    ///   - api: The dispatch API; its stores serve the pages, and it must have been made with the same `sessions`
    ///     (`consoleSessions:`) so the pages can read it with the cookie.
    ///   - sessions: The sign-in sessions.
    ///   - feed: The ticket events of the live list.
    ///   - complaints: The complaints API, whose service-quality report the console shows.
    ///   - now: The clock of the SLA and report pages' default periods.
    public init(
        api: DispatchAPI,
        sessions: ConsoleSessions,
        feed: TicketEventFeed,
        complaints: ComplaintsAPI? = nil,
        now: @escaping @Sendable () -> Timestamp = WallClock.now
    ) {
        self.api = api
        self.complaints = complaints
        self.sessions = sessions
        self.feed = feed
        self.now = now
    }

    /// The console's routes that are not an API (HTML pages, assets, the event stream and the cookie-authenticated
    /// writes of the pages): left out of the OpenAPI document on purpose.
    public static let routes: [String] = [
        "GET /console", "GET /console/sign-in", "POST /console/sign-in", "POST /console/sign-out",
        "GET /console/events", "GET /console/sla", "GET /console/service-quality", "GET /console/tickets/{id}",
        "POST /console/tickets/{id}/steps",
        "POST /console/tickets/{id}/notes", "GET /console/assets/console.js", "GET /console/assets/console.css",
    ]

    /// A valid session of a credential with the `dispatch` role.
    struct Session {
        var credential: Credential
        var cookie: String
        var csrf: String
    }

    func session(_ request: Request) -> Session? {
        guard let cookie = ConsoleSessions.cookie(named: ConsoleSessions.cookieName, in: request.headers[.cookie]),
            let credential = sessions.credential(cookieValue: cookie), credential.has(.dispatch)
        else { return nil }
        return Session(credential: credential, cookie: cookie, csrf: sessions.csrfToken(forCookie: cookie))
    }

    /// Whether the request's `Origin`, when it has one, is this server (host and port of the `Host` header).
    static func isSameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let authority = request.head.authority, let range = origin.range(of: "://") else { return false }
        return origin[range.upperBound...] == authority[...]
    }

    /// The session of a state-changing request: cookie, same origin, CSRF token.
    /// - Throws: ``APIError`` `401` `unauthenticated`, `403` `bad_origin` or `403` `bad_csrf_token`.
    func authorizeWrite(_ request: Request, csrf presented: String?) throws(APIError) -> Session {
        guard let session = session(request) else {
            throw APIError(.unauthorized, "unauthenticated", message: "sign in to the console again")
        }
        guard Self.isSameOrigin(request) else {
            throw APIError(.forbidden, "bad_origin", message: "the request came from another site")
        }
        guard sessions.isValidCSRFToken(presented, forCookie: session.cookie) else {
            throw APIError(.forbidden, "bad_csrf_token", message: "reload the page and try again")
        }
        return session
    }

    /// Adds the routes.
    /// - Parameter router: The router (``GatewayHTTPServer/makeRouter(readiness:metrics:)``).
    public func register(on router: Router<GatewayRequestContext>) {
        let console = self
        let group = router.group("console").add(middleware: ConsoleHeadersMiddleware())
        group.get("assets/console.js") { _, _ in
            Self.asset(ConsoleAssets.script, type: "text/javascript; charset=utf-8")
        }
        group.get("assets/console.css") { _, _ in
            Self.asset(ConsoleAssets.stylesheet, type: "text/css; charset=utf-8")
        }
        group.get("sign-in") { request, _ in
            if console.session(request) != nil { return Self.redirect(to: "/console") }
            return Self.html(ConsolePages.signIn(message: nil), status: .ok)
        }
        group.post("sign-in") { request, context in
            try await console.signIn(request, context: context)
        }
        group.post("sign-out") { request, context in
            var request = request
            let form = Self.form(try await request.collectBody(upTo: context.maxUploadSize))
            _ = try console.authorizeWrite(request, csrf: form["csrf"])
            var response = Self.redirect(to: "/console/sign-in")
            response.headers[.setCookie] = console.sessions.clearCookie()
            return response
        }
        group.get { request, _ in
            guard let session = console.session(request) else { return Self.redirect(to: "/console/sign-in") }
            return Self.html(ConsolePages.liveList(actor: session.credential.name, csrf: session.csrf), status: .ok)
        }
        group.get("events") { request, _ in
            guard console.session(request) != nil else {
                throw APIError(.unauthorized, "unauthenticated", message: "sign in to the console again")
            }
            return console.eventStream()
        }
        group.get("tickets/{id}") { request, context in
            guard let session = console.session(request) else { return Self.redirect(to: "/console/sign-in") }
            guard let id = context.parameters.get("id").flatMap({ Int64($0) }),
                let found = try await console.api.store.ticket(id)
            else {
                return Self.html(
                    ConsolePages.notFound(actor: session.credential.name, csrf: session.csrf),
                    status: .notFound
                )
            }
            let page = ConsolePages.ticket(
                TicketResponse(found.ticket),
                events: found.events,
                household: HouseholdResponse(found.household),
                actor: session.credential.name,
                csrf: session.csrf
            )
            return Self.html(page, status: .ok)
        }
        group.get("sla") { request, _ in
            guard let session = console.session(request) else { return Self.redirect(to: "/console/sign-in") }
            return Self.html(try await console.slaPage(request, session: session), status: .ok)
        }
        group.get("service-quality") { request, _ in
            guard let session = console.session(request) else { return Self.redirect(to: "/console/sign-in") }
            return Self.html(try await console.serviceQualityPage(request, session: session), status: .ok)
        }
        group.post("tickets/{id}/steps") { request, context -> Response in
            let session = try console.authorizeWrite(request, csrf: request.headers[Self.csrfHeader])
            let id = try DispatchAPI.ticketID(context)
            let body = try await request.decodeJSON(as: StepRequest.self, context: context, orRefuseWith: "bad_step")
            guard let step = TicketStep(rawValue: body.step) else { throw APIError.badRequest("bad_step") }
            do {
                let event = try await console.api.store.advanceTicket(
                    id,
                    to: step,
                    actor: session.credential.name,
                    note: body.note
                )
                return try GatewayJSONEncoder().created(TicketEventRecordedResponse(event))
            } catch let error as PostgresError where error.code == .invalidArgument {
                throw APIError(.conflict, "step_not_allowed", message: error.message)
            }
        }
        group.post("tickets/{id}/notes") { request, context -> Response in
            let session = try console.authorizeWrite(request, csrf: request.headers[Self.csrfHeader])
            let id = try DispatchAPI.ticketID(context)
            let body = try await request.decodeJSON(as: NoteRequest.self, context: context, orRefuseWith: "bad_note")
            do {
                let event = try await console.api.store.noteTicket(id, actor: session.credential.name, note: body.note)
                return try GatewayJSONEncoder().created(TicketEventRecordedResponse(event))
            } catch let error as PostgresError where error.code == .invalidArgument {
                throw APIError.notFound("no_such_ticket", message: error.message)
            }
        }
    }

    /// The header the pages' script sends the CSRF token in.
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    private func signIn(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard Self.isSameOrigin(request) else {
            return Self.html(ConsolePages.signIn(message: "The sign-in came from another site."), status: .forbidden)
        }
        var request = request
        let form = Self.form(try await request.collectBody(upTo: context.maxUploadSize))
        // A pasted token often brings a line feed or spaces along; a token never has white space.
        let token = form["token"]?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let token, let credential = sessions.credential(forToken: token) else {
            return Self.html(
                ConsolePages.signIn(message: "That token belongs to no configured credential."),
                status: .unauthorized
            )
        }
        guard credential.has(.dispatch) else {
            return Self.html(
                ConsolePages.signIn(message: "Credential \(credential.name) has no dispatch role."),
                status: .forbidden
            )
        }
        context.access.record(actor: credential.name)
        var response = Self.redirect(to: "/console")
        response.headers[.setCookie] = sessions.setCookie(sessions.cookieValue(for: credential))
        return response
    }

    private func serviceQualityPage(_ request: Request, session: Session) async throws -> String {
        guard let complaints else {
            throw APIError.notFound("no_service_quality_report", message: "this gateway serves no complaints API")
        }
        let today = complaints.reportZone.date(of: now())
        var (year, month) = (today.year, today.month)
        if let text = request.uri.queryParameters["month"], !text.isEmpty {
            (year, month, _) = try ComplaintsAPI.reportQuery(request)
        }
        let rows = try await complaints.serviceQuality(year: year, month: month)
        return ConsolePages.serviceQuality(
            rows,
            month: ComplaintsAPI.monthText(year, month),
            zone: complaints.reportZone.identifier,
            actor: session.credential.name,
            csrf: session.csrf
        )
    }

    private func slaPage(_ request: Request, session: Session) async throws -> String {
        let query = request.uri.queryParameters
        let to = query["to"].flatMap { Timestamp(iso: $0) } ?? now()
        let from = query["from"].flatMap { Timestamp(iso: $0) } ?? to.adding(seconds: -7 * 86_400)
        let rows = try await api.store.slaReport(from: from, to: to)
        let today = api.zone.date(of: now())
        let due = try await api.inspections.inspectionsDue(
            asOf: today,
            residentialMonths: api.residentialMonths,
            nonResidentialMonths: api.nonResidentialMonths,
            limit: 201,
            after: nil
        )
        return ConsolePages.sla(
            SLAReportResponse(rows),
            from: from.description,
            to: to.description,
            inspections: InspectionsDueResponse(asOf: today, due: Array(due.prefix(200))),
            hasMoreInspections: due.count > 200,
            actor: session.credential.name,
            csrf: session.csrf
        )
    }

    /// `text/event-stream`: `event: ticket` with the event's JSON for every committed ticket event, `event: resync`
    /// when events may have been missed, and a comment every 15 s so a closed connection is noticed.
    private func eventStream() -> Response {
        let feed = feed
        let body = ResponseBody { writer in
            let items = feed.subscribe()
            try await writer.write(ByteBuffer(string: "retry: 2000\n: connected\n\n"))
            for await item in items {
                let text: String
                switch item {
                case .event(let json):
                    text = "event: ticket\n" + json.split(separator: "\n").map { "data: \($0)\n" }.joined() + "\n"
                case .resync: text = "event: resync\ndata: {}\n\n"
                case .heartbeat: text = ": keep-alive\n\n"
                }
                try await writer.write(ByteBuffer(string: text))
            }
            try await writer.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: body)
    }

    static func html(_ text: String, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(to location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    /// The fields of an `application/x-www-form-urlencoded` body.
    static func form(_ body: ByteBuffer) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            func decode(_ text: Substring) -> String? {
                text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            if let key = decode(parts[0]), let value = decode(parts[1]) { fields[key] = value }
        }
        return fields
    }
}

/// The security headers of every console response.
struct ConsoleHeadersMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    /// Scripts, styles, images and connections from the gateway only; no inline code, no framing, no plugins.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        if let referrer = HTTPField.Name("Referrer-Policy") { response.headers[referrer] = "same-origin" }
        if let frameOptions = HTTPField.Name("X-Frame-Options") { response.headers[frameOptions] = "DENY" }
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

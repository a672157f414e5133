import Foundation
import GatewayCore
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresSink
import Testing

@testable import GatewayHTTP

/// The console's routes: sign-in and sign-out, the cookie flags, the CSRF and origin checks of its writes, the
/// security headers, and the dispatch API accepting the session cookie for `GET` only. Over a database that is never
/// reached (no route here needs it, or the answer shows authentication passed before it).
@Suite struct DispatchConsoleTests {
    static func makeRouter(
        conninfo: String = "host=127.0.0.1 port=1 connect_timeout=1"
    )
        -> (Router<GatewayRequestContext>, DispatchConsole)
    {
        let logger = Logger(label: "console-test")
        let database = PostgresSession(conninfo: conninfo, logger: logger)
        let sessions = ConsoleSessions(
            key: Array(repeating: 3, count: 32),
            credentials: TestCredentials.store,
            lifetimeSeconds: 3600,
            isSecure: false
        )
        let api = DispatchAPI(
            store: DispatchStore(database),
            inspections: InspectionStore(database),
            credentials: TestCredentials.store,
            residentialMonths: 12,
            nonResidentialMonths: 6,
            consoleSessions: sessions
        )
        let router = GatewayHTTPServer.makeRouter(readiness: { [] })
        api.register(on: router)
        let console = DispatchConsole(
            api: api,
            sessions: sessions,
            feed: TicketEventFeed(conninfo: conninfo, logger: logger)
        )
        console.register(on: router)
        return (router, console)
    }

    /// Signs in with the role's token and returns the cookie's value.
    static func signIn(_ client: some TestClientProtocol, role: Role = .dispatch) async throws -> String {
        try await client.execute(
            uri: "/console/sign-in",
            method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "token=" + TestCredentials.token(role))
        ) { response in
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/console")
            let setCookie = try #require(response.headers[.setCookie])
            let value = try #require(ConsoleSessions.cookie(named: ConsoleSessions.cookieName, in: setCookie))
            return String(value.prefix { $0 != ";" })
        }
    }

    static func csrf(_ console: DispatchConsole, cookie: String) -> String {
        console.sessions.csrfToken(forCookie: cookie)
    }

    @Test func signInSetsAStrictHttpOnlyCookieAndRefusesOtherTokens() async throws {
        let (router, _) = Self.makeRouter()
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/console", method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/console/sign-in")
            }
            try await client.execute(uri: "/console/sign-in", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
                #expect(!String(buffer: response.body).contains("<script>"))
            }
            for (token, status) in [
                ("nope-" + String(repeating: "x", count: 40), HTTPResponse.Status.unauthorized),
                (TestCredentials.token(.billing), .forbidden),
            ] {
                try await client.execute(
                    uri: "/console/sign-in",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "token=\(token)")
                ) { response in
                    #expect(response.status == status)
                    #expect(response.headers[.setCookie] == nil)
                    #expect(!String(buffer: response.body).contains(token))
                }
            }
            try await client.execute(
                uri: "/console/sign-in",
                method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=" + TestCredentials.token(.dispatch))
            ) { response in
                #expect(response.status == .seeOther)
                let cookie = try #require(response.headers[.setCookie])
                #expect(
                    cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Max-Age=3600")
                )
                #expect(!cookie.contains("Secure"))
                #expect(!cookie.contains(TestCredentials.token(.dispatch)))
            }
            let cookie = try await Self.signIn(client)
            try await client.execute(
                uri: "/console",
                method: .get,
                headers: [.cookie: "\(ConsoleSessions.cookieName)=\(cookie)"]
            ) { response in
                #expect(response.status == .ok)
                let html = String(buffer: response.body)
                #expect(html.contains(">desk-3<"))
                #expect(html.contains("name=\"csrf-token\""))
                #expect(html.contains("<script src=\"/console/assets/console.js\" defer></script>"))
                #expect(response.headers[.contentSecurityPolicy] == ConsoleHeadersMiddleware.contentSecurityPolicy)
                #expect(response.headers[.cacheControl] == "no-store")
            }
        }
    }

    @Test func aSignInFromAnotherSiteIsRefused() async throws {
        let (router, _) = Self.makeRouter()
        try await Application(router: router).test(.router) { client in
            try await client.execute(
                uri: "/console/sign-in",
                method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .origin: "http://evil.example"],
                body: ByteBuffer(string: "token=" + TestCredentials.token(.dispatch))
            ) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[.setCookie] == nil)
            }
        }
    }

    @Test func writesNeedTheCookieTheCSRFTokenAndThisOrigin() async throws {
        let (router, console) = Self.makeRouter()
        try await Application(router: router).test(.router) { client in
            let cookie = try await Self.signIn(client)
            let csrf = Self.csrf(console, cookie: cookie)
            let body = ByteBuffer(string: #"{"step":"acknowledged"}"#)
            let cases: [(HTTPFields, HTTPResponse.Status, String)] = [
                (
                    [.contentType: "application/json", DispatchConsole.csrfHeader: csrf], .unauthorized,
                    "unauthenticated"
                ),
                ([.cookie: "mg_console=\(cookie)", .contentType: "application/json"], .forbidden, "bad_csrf_token"),
                (
                    [
                        .cookie: "mg_console=\(cookie)", DispatchConsole.csrfHeader: "AAAA",
                        .contentType: "application/json",
                    ],
                    .forbidden, "bad_csrf_token"
                ),
                (
                    [
                        .cookie: "mg_console=\(cookie)", DispatchConsole.csrfHeader: csrf,
                        .origin: "https://evil.example",
                        .contentType: "application/json",
                    ], .forbidden, "bad_origin"
                ),
            ]
            for (headers, status, code) in cases {
                try await client.execute(uri: "/console/tickets/1/steps", method: .post, headers: headers, body: body) {
                    response in
                    #expect(response.status == status)
                    let error = try jsonObject(response.body)["error"] as? [String: Any]
                    #expect(error?["code"] as? String == code)
                }
            }
            // Sign-out needs the token too, then deletes the cookie.
            try await client.execute(
                uri: "/console/sign-out",
                method: .post,
                headers: [.cookie: "mg_console=\(cookie)", .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "csrf=wrong")
            ) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(
                uri: "/console/sign-out",
                method: .post,
                headers: [.cookie: "mg_console=\(cookie)", .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "csrf=\(csrf)")
            ) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/console/sign-in")
                #expect(response.headers[.setCookie]?.hasPrefix("mg_console=; Path=/; Max-Age=0; HttpOnly") == true)
            }
        }
    }

    /// The dispatch API takes the console's cookie for GET (the pages read it), never for a write: a POST with only
    /// the cookie is 401, so no other site can make a browser write through the API.
    @Test func theDispatchAPIAcceptsTheCookieForReadsOnly() async throws {
        let (router, console) = Self.makeRouter()
        try await Application(router: router).test(.router) { client in
            let cookie = try await Self.signIn(client)
            let headers: HTTPFields = [.cookie: "mg_console=\(cookie)"]
            try await client.execute(uri: "/dispatch/v1/tickets", method: .get, headers: headers) { response in
                // Past authentication: the (unreachable) database answers.
                #expect(response.status == .serviceUnavailable)
            }
            try await client.execute(uri: "/dispatch/v1/tickets", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            for (uri, body) in [
                ("/dispatch/v1/tickets/1/steps", #"{"step":"acknowledged"}"#),
                ("/dispatch/v1/tickets/1/notes", #"{"note":"x"}"#),
                ("/dispatch/v1/tickets", #"{"protocol":"native","meter":"1","reporter":"r"}"#),
            ] {
                var withCSRF = headers
                withCSRF[DispatchConsole.csrfHeader] = Self.csrf(console, cookie: cookie)
                withCSRF[.contentType] = "application/json"
                try await client.execute(uri: uri, method: .post, headers: withCSRF, body: ByteBuffer(string: body)) {
                    response in
                    #expect(response.status == .unauthorized, "\(uri)")
                }
            }
            // A session of a credential without the dispatch role does not read the dispatch API.
            let billing = TestCredentials.store.credential(named: TestCredentials.name(.billing))!
            let billingCookie = console.sessions.cookieValue(for: billing)
            try await client.execute(
                uri: "/dispatch/v1/tickets",
                method: .get,
                headers: [.cookie: "mg_console=\(billingCookie)"]
            ) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/console", method: .get, headers: [.cookie: "mg_console=\(billingCookie)"]) {
                response in
                #expect(response.status == .seeOther)
            }
        }
    }

    /// The middleware itself, every method: the cookie stands in for the bearer token on GET and HEAD only.
    @Test func theMiddlewareTakesTheCookieForSafeMethodsOnly() async throws {
        let sessions = ConsoleSessions(
            key: ConsoleSessions.randomKey(),
            credentials: TestCredentials.store,
            isSecure: false
        )
        let router = GatewayHTTPServer.makeRouter(readiness: { [] })
        let group = router.group("guarded")
            .add(middleware: AuthenticationMiddleware(TestCredentials.store, requiring: .dispatch, sessions: sessions))
        for method in [HTTPRequest.Method.get, .head, .post, .put, .delete, .patch] {
            group.on("x", method: method) { _, context in try context.actor() }
        }
        let desk = try #require(TestCredentials.store.credential(named: TestCredentials.name(.dispatch)))
        let cookie: HTTPFields = [.cookie: "\(ConsoleSessions.cookieName)=\(sessions.cookieValue(for: desk))"]
        try await Application(router: router).test(.router) { client in
            for method in [HTTPRequest.Method.get, .head] {
                try await client.execute(uri: "/guarded/x", method: method, headers: cookie) { response in
                    #expect(response.status == .ok, "\(method)")
                }
            }
            try await client.execute(uri: "/guarded/x", method: .get, headers: cookie) { response in
                #expect(String(buffer: response.body) == "desk-3")
            }
            for method in [HTTPRequest.Method.post, .put, .delete, .patch] {
                try await client.execute(uri: "/guarded/x", method: method, headers: cookie) { response in
                    #expect(response.status == .unauthorized, "\(method)")
                }
                try await client.execute(uri: "/guarded/x", method: method, headers: TestCredentials.bearer(.dispatch))
                {
                    response in
                    #expect(response.status == .ok, "\(method) with the bearer token")
                }
            }
            // A wrong bearer token is not rescued by a valid cookie.
            var both = cookie
            both[.authorization] = "Bearer wrong-token-wrong-token-wrong-token"
            try await client.execute(uri: "/guarded/x", method: .get, headers: both) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func theAssetsAreServedFromTheBinary() async throws {
        let (router, _) = Self.makeRouter()
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/console/assets/console.js", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                let script = String(buffer: response.body)
                #expect(script.contains("EventSource(\"/console/events\")"))
                #expect(!script.contains("innerHTML"))
            }
            try await client.execute(uri: "/console/assets/console.css", method: .get) { response in
                #expect(response.status == .ok)
                #expect(!String(buffer: response.body).contains("http"))
            }
        }
    }
}

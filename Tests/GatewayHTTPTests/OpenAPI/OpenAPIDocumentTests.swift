import Foundation
import GatewayCore
import GatewayDomain
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresSink
import Testing

@testable import GatewayHTTP

/// The OpenAPI document against the router: every route the gateway registers is documented, with its methods, and
/// the document names no route the router lacks; it is served open at `/openapi.json`.
@Suite struct OpenAPIDocumentTests {
    /// A router with every API and the dispatch console registered, over a database that is never reached (no
    /// route runs).
    private func fullRouter() -> Router<GatewayRequestContext> {
        let logger = Logger(label: "openapi-test")
        let conninfo = "host=127.0.0.1 port=1 connect_timeout=1"
        let database = PostgresSession(conninfo: conninfo, logger: logger)
        let router = GatewayHTTPServer.makeRouter(readiness: { [] })
        BillingAPI(store: BillingStore(database), credentials: TestCredentials.store).register(on: router)
        let sessions = ConsoleSessions(
            key: ConsoleSessions.randomKey(),
            credentials: TestCredentials.store,
            isSecure: false
        )
        let dispatch = DispatchAPI(
            store: DispatchStore(database),
            inspections: InspectionStore(database),
            credentials: TestCredentials.store,
            residentialMonths: 12,
            nonResidentialMonths: 6,
            consoleSessions: sessions
        )
        dispatch.register(on: router)
        ComplaintsAPI(
            store: ComplaintStore(database, calendar: .weekendsOnly, zone: .utc),
            tickets: DispatchStore(database),
            report: ServiceQualityStore(database),
            settings: .init(zone: .utc, residentialMonths: 12, nonResidentialMonths: 6),
            credentials: TestCredentials.store
        ).register(on: router)
        DispatchConsole(api: dispatch, sessions: sessions, feed: TicketEventFeed(conninfo: conninfo, logger: logger))
            .register(on: router)
        return router
    }

    private func document() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8))
        return try #require(object as? [String: Any])
    }

    /// `GET /path` for every operation of the document.
    private func documentedOperations() throws -> Set<String> {
        let paths = try #require(try document()["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
        var operations = Set<String>()
        for (path, item) in paths {
            for method in item.keys where methods.contains(method) {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    /// Every route is documented except the dispatch console's, which are listed by name in
    /// ``DispatchConsole/routes`` (HTML pages, assets, the event stream and the pages' cookie-and-CSRF writes: not an
    /// API for other programs); the console adds no route outside that list and the list names no route it lacks.
    @Test func everyRegisteredRouteIsDocumentedAndNoOtherIs() throws {
        let all = Set(fullRouter().routes.map { "\($0.method) \($0.path)" })
        let console = Set(DispatchConsole.routes)
        #expect(console.subtracting(all).sorted() == [], "console routes listed but not registered")
        #expect(all.filter { $0.contains(" /console") }.subtracting(console).sorted() == [], "unlisted console routes")
        let registered = all.subtracting(console)
        let documented = try documentedOperations()
        #expect(registered.subtracting(documented).sorted() == [], "routes missing from the OpenAPI document")
        #expect(documented.subtracting(registered).sorted() == [], "documented operations the router lacks")
        #expect(registered.count >= 20)
    }

    @Test func everyGuardedOperationNamesItsRoleAndEveryOpenOneNeedsNone() throws {
        let paths = try #require(try document()["paths"] as? [String: [String: [String: Any]]])
        let open: Set<String> = ["/healthz", "/readyz", "/metrics", "/openapi.json"]
        for (path, item) in paths {
            for (method, operation) in item {
                let security = try #require(operation["security"] as? [[String: Any]], "\(method) \(path)")
                let role = operation["x-required-role"] as? String
                if open.contains(path) {
                    #expect(security.isEmpty && role == nil, "\(method) \(path) is open")
                } else {
                    #expect(!security.isEmpty, "\(method) \(path) needs a credential")
                    #expect(role.flatMap(Role.init(rawValue:)) != nil, "\(method) \(path) names its role")
                }
            }
        }
    }

    @Test func everyListOperationTakesLimitAndCursorAndAnswersALink() throws {
        let paths = try #require(try document()["paths"] as? [String: [String: [String: Any]]])
        let lists = [
            "/billing/v1/daily-reads", "/billing/v1/daily-reads.csv", "/meters/v1/verification-expired",
            "/review/v1/held", "/dispatch/v1/tickets", "/dispatch/v1/outages", "/dispatch/v1/reports/inspections-due",
            "/dispatch/v1/complaints",
        ]
        for path in lists {
            let get = try #require(paths[path]?["get"], "\(path)")
            let names = (get["parameters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(names.contains("limit") && names.contains("cursor"), "\(path) takes limit and cursor")
            let ok = try #require((get["responses"] as? [String: [String: Any]])?["200"], "\(path)")
            #expect((ok["headers"] as? [String: Any])?["Link"] != nil, "\(path) documents its Link header")
        }
    }

    @Test func theDocumentIsServedOpenAsJSON() async throws {
        try await Application(router: fullRouter()).test(.router) { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let served = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8))
                #expect((served as? [String: Any])?["openapi"] as? String == "3.1.0")
            }
        }
    }

    @Test func anUnknownRouteAnswersTheOneErrorShape() async throws {
        try await Application(router: fullRouter()).test(.router) { client in
            for (uri, method) in [("/no/such/route", HTTPRequest.Method.get), ("/healthz", .post)] {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .notFound)
                    #expect(response.headers[.contentType] == "application/json")
                    let error = try jsonObject(response.body)["error"] as? [String: Any]
                    #expect(error?["code"] as? String == "not_found")
                }
            }
        }
    }
}

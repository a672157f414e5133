import Hummingbird
import HummingbirdTesting
import InMemoryLogging
import Logging
import PostgresSink
import Testing

@testable import GatewayHTTP

/// The access log: one `http access` line per request with method, path (no query), status, bytes, duration, the
/// credential and role when one was let through, and never a token or the Authorization header.
@Suite struct AccessLogMiddlewareTests {
    private func run(
        accessLog: Bool,
        _ requests: [(uri: String, headers: HTTPFields)]
    ) async throws -> [InMemoryLogHandler.Entry] {
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "access-test") { _ in logs }
        logger.logLevel = .trace
        let database = PostgresSession(
            conninfo: "host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=2",
            logger: logger
        )
        let router = GatewayHTTPServer.makeRouter(readiness: { [] }, metrics: MetricsExport(), accessLog: accessLog)
        DispatchAPI(
            store: DispatchStore(database),
            inspections: InspectionStore(database),
            credentials: TestCredentials.store,
            residentialMonths: 12,
            nonResidentialMonths: 6
        ).register(on: router)
        try await Application(router: router, logger: logger).test(.router) { client in
            for (uri, headers) in requests {
                try await client.execute(uri: uri, method: .get, headers: headers) { _ in }
            }
        }
        return logs.entries.filter { $0.message.description == "http access" }
    }

    @Test func logsOneSecretFreeLinePerRequest() async throws {
        let token = TestCredentials.token(.dispatch)
        let entries = try await run(
            accessLog: true,
            [
                ("/healthz?token=\(token)", [:]),
                ("/dispatch/v1/tickets?limit=5", TestCredentials.bearer(.dispatch)),
                ("/dispatch/v1/tickets", TestCredentials.bearer(.billing)),
                ("/dispatch/v1/tickets", [.authorization: "Bearer \(token)x"]),
                ("/no/such/route", [:]),
            ]
        )
        try #require(entries.count == 5)
        func field(_ index: Int, _ key: String) -> String? { entries[index].metadata[key]?.description }
        #expect(field(0, "http.method") == "GET")
        #expect(field(0, "http.path") == "/healthz")
        #expect(field(0, "http.status") == "200")
        #expect(field(0, "http.bytes") == "3")
        #expect(field(0, "http.actor") == nil)
        #expect(Double(field(0, "http.duration_ms") ?? "") != nil)
        #expect(field(0, "http.remote") != nil)
        // Let through with the dispatch role; the unreachable database answers 503 or 500.
        #expect(field(1, "http.path") == "/dispatch/v1/tickets")
        #expect(field(1, "http.actor") == TestCredentials.name(.dispatch))
        #expect(field(1, "http.role") == "dispatch")
        #expect(field(1, "http.status").map { $0.hasPrefix("5") } == true)
        #expect(field(2, "http.actor") == TestCredentials.name(.billing))
        #expect(field(2, "http.role") == nil)
        #expect(field(2, "http.status") == "403")
        #expect(field(3, "http.actor") == nil)
        #expect(field(3, "http.status") == "401")
        #expect(field(4, "http.status") == "404")
        let logged = entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
        for secret in [token, String(token.prefix(12)), "Bearer", "authorization", "Authorization", "limit=5"] {
            #expect(!logged.contains(secret), "the access log holds \(secret)")
        }
    }

    @Test func isOffWhenNotAsked() async throws {
        let entries = try await run(accessLog: false, [("/healthz", [:]), ("/readyz", [:])])
        #expect(entries.isEmpty)
    }
}

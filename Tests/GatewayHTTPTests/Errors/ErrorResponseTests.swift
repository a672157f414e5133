import Hummingbird
import HummingbirdTesting
import Logging
import PostgresSink
import Testing

@testable import GatewayHTTP

/// Every failure of the HTTP APIs, whatever its class, answers with the one JSON error body; a database that
/// cannot be reached is a retryable 503, not a bare 500. No database is needed: the store points at a closed port.
@Suite struct ErrorResponseTests {
    private func application() -> some ApplicationProtocol {
        let logger = Logger(label: "error-response-test")
        // Nothing listens on port 1: every query fails to connect.
        let conninfo = "host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=2"
        let database = PostgresSession(conninfo: conninfo, logger: logger)
        let router = GatewayHTTPServer.makeRouter(readiness: { [] })
        BillingAPI(store: BillingStore(database), credentials: TestCredentials.store)
            .register(on: router)
        DispatchAPI(
            store: DispatchStore(database),
            inspections: InspectionStore(database),
            credentials: TestCredentials.store,
            residentialMonths: 60,
            nonResidentialMonths: 12
        )
        .register(on: router)
        return Application(router: router)
    }

    private func expectError(
        _ response: TestResponse,
        _ status: HTTPResponse.Status,
        _ body: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
        #expect(String(buffer: response.body) == body + "\n", sourceLocation: sourceLocation)
    }

    @Test func badRequestsNameWhatIsWrong() async throws {
        let dispatch = TestCredentials.bearer(.dispatch)
        let billing = TestCredentials.bearer(.billing)
        try await application().test(.router) { client in
            // A limit that is not a number is refused like one out of range, not read as the default.
            for limit in ["0", "5001", "abc", ""] {
                try await client.execute(
                    uri: "/billing/v1/daily-reads?limit=\(limit)",
                    method: .get,
                    headers: billing
                ) { response in
                    expectError(
                        response,
                        .badRequest,
                        #"{"error":{"code":"bad_cursor_or_limit","message":"limit must be an integer from 1 to 5000"}}"#
                    )
                }
            }
            try await client.execute(
                uri: "/meters/v1/verification-expired?as_of=March",
                method: .get,
                headers: billing
            ) { response in
                expectError(response, .badRequest, #"{"error":{"code":"bad_date"}}"#)
            }
            try await client.execute(uri: "/dispatch/v1/tickets/abc", method: .get, headers: dispatch) { response in
                expectError(response, .badRequest, #"{"error":{"code":"bad_id"}}"#)
            }
            try await client.execute(uri: "/dispatch/v1/tickets?priority=P9", method: .get, headers: dispatch) {
                response in
                expectError(response, .badRequest, #"{"error":{"code":"bad_priority"}}"#)
            }
            for body in ["{", #"{"note":"acknowledged"}"#, #"{"step":"teleported"}"#] {
                try await client.execute(
                    uri: "/dispatch/v1/tickets/1/steps",
                    method: .post,
                    headers: dispatch,
                    body: ByteBuffer(string: body)
                ) { response in
                    expectError(response, .badRequest, #"{"error":{"code":"bad_step"}}"#)
                }
            }
            try await client.execute(
                uri: "/review/v1/decisions",
                method: .post,
                headers: TestCredentials.bearer(.review),
                body: ByteBuffer(string: #"{"protocol":"native","meter":"1","decision":"maybe","reason":"x"}"#)
            ) { response in
                expectError(response, .badRequest, #"{"error":{"code":"bad_review"}}"#)
            }
        }
    }

    @Test func missingOrWrongTokensAreUnauthorisedAndMissingRolesForbidden() async throws {
        let unauthenticated =
            #"{"error":{"code":"unauthenticated","message":"send Authorization: Bearer <token> of a configured "#
            + #"credential"}}"#
        try await application().test(.router) { client in
            for uri in ["/review/v1/held", "/billing/v1/daily-reads", "/dispatch/v1/tickets", "/dispatch/v1/outages"] {
                try await client.execute(uri: uri, method: .get) { response in
                    expectError(response, .unauthorized, unauthenticated)
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                }
            }
            // A known credential without the route's role is forbidden, and told which role the route needs.
            try await client.execute(uri: "/review/v1/held", method: .get, headers: TestCredentials.bearer(.dispatch)) {
                response in
                expectError(
                    response,
                    .forbidden,
                    #"{"error":{"code":"forbidden","message":"this route needs the review role"}}"#
                )
            }
            try await client.execute(
                uri: "/dispatch/v1/outages",
                method: .post,
                headers: TestCredentials.bearer(.dispatch),
                body: ByteBuffer(string: "{}")
            ) { response in
                expectError(
                    response,
                    .forbidden,
                    #"{"error":{"code":"forbidden","message":"this route needs the supervisor role"}}"#
                )
            }
        }
    }

    @Test func bodiesOverTheLimitAreTooLarge() async throws {
        let note = String(repeating: "x", count: 65 * 1024)
        try await application().test(.router) { client in
            try await client.execute(
                uri: "/dispatch/v1/tickets/1/notes",
                method: .post,
                headers: TestCredentials.bearer(.dispatch),
                body: ByteBuffer(string: #"{"note":"\#(note)"}"#)
            ) { response in
                expectError(response, .contentTooLarge, #"{"error":{"code":"content_too_large"}}"#)
            }
        }
    }

    @Test func unknownRoutesAreNotFound() async throws {
        try await application().test(.router) { client in
            try await client.execute(uri: "/billing/v2/daily-reads", method: .get) { response in
                expectError(response, .notFound, #"{"error":{"code":"not_found"}}"#)
            }
            // The billing side cannot change anything.
            try await client.execute(
                uri: "/billing/v1/daily-reads",
                method: .post,
                headers: TestCredentials.bearer(.admin)
            ) { response in
                expectError(response, .notFound, #"{"error":{"code":"not_found"}}"#)
            }
        }
    }

    @Test func unreachableDatabaseIsARetryableServiceUnavailable() async throws {
        let body =
            #"{"error":{"code":"database_unavailable","message":"the database is unavailable; retry later","#
            + #""retryable":true}}"#
        try await application().test(.router) { client in
            let billing = TestCredentials.bearer(.billing)
            try await client.execute(uri: "/billing/v1/daily-reads", method: .get, headers: billing) { response in
                expectError(response, .serviceUnavailable, body)
                #expect(response.headers[.retryAfter] == "5")
            }
            try await client.execute(uri: "/billing/v1/daily-reads.csv", method: .get, headers: billing) { response in
                expectError(response, .serviceUnavailable, body)
            }
            try await client.execute(
                uri: "/dispatch/v1/tickets",
                method: .get,
                headers: TestCredentials.bearer(.dispatch)
            ) { response in
                expectError(response, .serviceUnavailable, body)
            }
        }
    }
}

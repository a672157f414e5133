import Hummingbird
import HummingbirdTesting
import Logging
import PostgresSink
import Testing

@testable import GatewayHTTP

/// Every failure of the HTTP APIs, whatever its class, answers with the one JSON error body; a database that
/// cannot be reached is a retryable 503, not a bare 500. No database is needed: the store points at a closed port.
@Suite struct ErrorResponseTests {
    private static let reviewToken = "review-token-0123456789"
    private static let dispatchToken = "dispatch-token-0123456789"

    private func application() -> some ApplicationProtocol {
        let logger = Logger(label: "error-response-test")
        // Nothing listens on port 1: every query fails to connect.
        let conninfo = "host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=2"
        let database = PostgresSession(conninfo: conninfo, logger: logger)
        let router = GatewayHTTPServer.makeRouter(readiness: { [] }, metrics: { [] })
        BillingAPI(store: BillingStore(database), reviewToken: Self.reviewToken)
            .register(on: router)
        DispatchAPI(
            store: DispatchStore(database),
            inspections: InspectionStore(database),
            token: Self.dispatchToken,
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
        let dispatch: HTTPFields = [.authorization: "Bearer \(Self.dispatchToken)"]
        try await application().test(.router) { client in
            try await client.execute(uri: "/billing/v1/daily-reads?limit=0", method: .get) { response in
                expectError(response, .badRequest, #"{"error":{"code":"bad_cursor_or_limit"}}"#)
            }
            try await client.execute(uri: "/meters/v1/verification-expired?as_of=March", method: .get) { response in
                expectError(response, .badRequest, #"{"error":{"code":"bad_date"}}"#)
            }
            try await client.execute(uri: "/dispatch/v1/tickets/abc", method: .get, headers: dispatch) { response in
                expectError(response, .badRequest, #"{"error":{"code":"bad_id"}}"#)
            }
            try await client.execute(uri: "/dispatch/v1/tickets?priority=P9", method: .get, headers: dispatch) {
                response in
                expectError(response, .badRequest, #"{"error":{"code":"bad_priority"}}"#)
            }
            for body in ["{", #"{"step":"acknowledged"}"#, #"{"step":"teleported","actor":"desk-9"}"#] {
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
                headers: [.authorization: "Bearer \(Self.reviewToken)"],
                body: ByteBuffer(
                    string: #"{"protocol":"native","meter":"1","decision":"maybe","reviewer":"r","reason":"x"}"#
                )
            ) { response in
                expectError(response, .badRequest, #"{"error":{"code":"bad_review"}}"#)
            }
        }
    }

    @Test func missingOrWrongTokensAreUnauthorised() async throws {
        try await application().test(.router) { client in
            try await client.execute(uri: "/review/v1/held", method: .get) { response in
                expectError(response, .unauthorized, #"{"error":{"code":"review_token_required"}}"#)
            }
            // The dispatch token does not open the review routes, nor the other way round.
            try await client.execute(
                uri: "/review/v1/held",
                method: .get,
                headers: [.authorization: "Bearer \(Self.dispatchToken)"]
            ) { response in
                expectError(response, .unauthorized, #"{"error":{"code":"review_token_required"}}"#)
            }
            try await client.execute(
                uri: "/dispatch/v1/outages",
                method: .post,
                headers: [.authorization: "Bearer \(Self.reviewToken)"],
                body: ByteBuffer(string: "{}")
            ) { response in
                expectError(response, .unauthorized, #"{"error":{"code":"dispatch_token_required"}}"#)
            }
        }
    }

    @Test func bodiesOverTheLimitAreTooLarge() async throws {
        let note = String(repeating: "x", count: 65 * 1024)
        try await application().test(.router) { client in
            try await client.execute(
                uri: "/dispatch/v1/tickets/1/notes",
                method: .post,
                headers: [.authorization: "Bearer \(Self.dispatchToken)"],
                body: ByteBuffer(string: #"{"actor":"desk-9","note":"\#(note)"}"#)
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
            try await client.execute(uri: "/billing/v1/daily-reads", method: .post) { response in
                expectError(response, .notFound, #"{"error":{"code":"not_found"}}"#)
            }
        }
    }

    @Test func unreachableDatabaseIsARetryableServiceUnavailable() async throws {
        let body =
            #"{"error":{"code":"database_unavailable","message":"the database is unavailable; retry later","#
            + #""retryable":true}}"#
        try await application().test(.router) { client in
            try await client.execute(uri: "/billing/v1/daily-reads", method: .get) { response in
                expectError(response, .serviceUnavailable, body)
                #expect(response.headers[.retryAfter] == "5")
            }
            try await client.execute(uri: "/billing/v1/daily-reads.csv", method: .get) { response in
                expectError(response, .serviceUnavailable, body)
            }
            try await client.execute(
                uri: "/dispatch/v1/tickets",
                method: .get,
                headers: [.authorization: "Bearer \(Self.dispatchToken)"]
            ) { response in
                expectError(response, .serviceUnavailable, body)
            }
        }
    }
}

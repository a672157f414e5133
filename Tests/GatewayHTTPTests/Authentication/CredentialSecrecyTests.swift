import Hummingbird
import HummingbirdTesting
import InMemoryLogging
import Logging
import PostgresSink
import Testing

@testable import GatewayHTTP

/// A token is a secret: whatever a request carries, right or wrong, no log entry (at trace level) and no response
/// carries the token or its hash. The database is unreachable, so every authorised request fails and is logged.
@Suite struct CredentialSecrecyTests {
    @Test func tokensNeverAppearInLogsOrResponses() async throws {
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "secrecy-test") { _ in logs }
        logger.logLevel = .trace
        let database = PostgresSession(
            conninfo: "host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=2",
            logger: logger
        )
        let router = GatewayHTTPServer.makeRouter(readiness: { [] })
        BillingAPI(store: BillingStore(database), credentials: TestCredentials.store).register(on: router)
        DispatchAPI(
            store: DispatchStore(database),
            inspections: InspectionStore(database),
            credentials: TestCredentials.store,
            residentialMonths: 12,
            nonResidentialMonths: 6
        ).register(on: router)
        let wrong = "Bearer " + String(TestCredentials.token(.supervisor).reversed())
        let headers: [HTTPFields] =
            Role.allCases.map(TestCredentials.bearer) + [[.authorization: wrong], [.authorization: "Basic \(wrong)"]]
        let responses = try await Application(router: router, logger: logger).test(.router) { client in
            var responses: [String] = []
            for header in headers {
                for (uri, method, body) in [
                    ("/billing/v1/daily-reads", HTTPRequest.Method.get, ""),
                    ("/review/v1/held", .get, ""),
                    ("/dispatch/v1/tickets", .get, ""),
                    ("/dispatch/v1/tickets/1/notes", .post, #"{"note":"n"}"#),
                    ("/dispatch/v1/outages", .get, ""),
                ] {
                    try await client.execute(
                        uri: uri,
                        method: method,
                        headers: header,
                        body: ByteBuffer(string: body)
                    ) { response in
                        #expect(response.status != .ok)
                        responses.append("\(response.headers) \(String(buffer: response.body))")
                    }
                }
            }
            return responses
        }
        let entries = logs.entries
        // The failed database calls were logged: there is something to search.
        #expect(entries.contains { $0.level == .error })
        let logged = entries.map { "\($0.message) \($0.metadata) \(String(describing: $0.error))" }
        var secrets = Role.allCases.map(TestCredentials.token)
        secrets += try secrets.map(Credential.hexDigest(ofToken:))
        secrets.append(String(wrong.dropFirst("Bearer ".count)))
        for secret in secrets {
            #expect(!logged.contains { $0.contains(secret) })
            #expect(!responses.contains { $0.contains(secret) })
        }
    }
}

import Hummingbird
import HummingbirdTesting
import Testing

@testable import GatewayHTTP

/// One middleware guards a route group: only the exact `Bearer <token>` passes, and no token configured means
/// nothing passes.
@Suite struct BearerTokenMiddlewareTests {
    private func application(token: String) -> some ApplicationProtocol {
        let router = GatewayHTTPServer.makeRouter(readiness: { [] }, metrics: { [] })
        router.group("guarded")
            .add(middleware: BearerTokenMiddleware(token: token, errorCode: "guard_token_required"))
            .get("door") { _, _ in "open\n" }
        return Application(router: router)
    }

    @Test(arguments: [
        nil, "Bearer s3cret-token-x", "Bearer s3cret-tok", "Bearer s3cret-token-", "bearer s3cret-token",
        "s3cret-token",
    ])
    func refusesAnythingButTheExactToken(_ header: String?) async throws {
        let headers: HTTPFields = header.map { [.authorization: $0] } ?? [:]
        try await application(token: "s3cret-token").test(.router) { client in
            try await client.execute(uri: "/guarded/door", method: .get, headers: headers) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body) == #"{"error":{"code":"guard_token_required"}}"# + "\n")
            }
        }
    }

    @Test func letsTheExactTokenThrough() async throws {
        try await application(token: "s3cret-token").test(.router) { client in
            try await client.execute(
                uri: "/guarded/door",
                method: .get,
                headers: [.authorization: "Bearer s3cret-token"]
            ) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "open\n")
            }
        }
    }

    @Test func noConfiguredTokenClosesTheGroup() async throws {
        try await application(token: "").test(.router) { client in
            for header in ["Bearer ", "Bearer"] {
                try await client.execute(uri: "/guarded/door", method: .get, headers: [.authorization: header]) {
                    response in
                    #expect(response.status == .unauthorized)
                }
            }
        }
    }

    @Test func routesOutsideTheGroupNeedNoToken() async throws {
        try await application(token: "s3cret-token").test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}

import Hummingbird
import HummingbirdTesting
import Testing

@testable import GatewayHTTP

/// Named credentials with roles, without a database: hashing, parsing, which role grants which, and the one
/// middleware that answers 401 for no or an unknown token, 403 for a missing role, and otherwise hands the route the
/// credential whose name is the actor.
/// A token of 39 characters and its SHA-256 (from Python's hashlib).
private let sampleToken = "correct-horse-battery-staple-0123456789"

@Suite struct AuthenticationMiddlewareTests {
    private static let token = sampleToken
    private static let digest = "7771a0cec1279f8ca878a66c694f3344b16bee8128c78b8ef5fd0656b35b02ee"

    @Test func aTokenIsHashedWithSHA256AndMustBeLongAndPrintable() throws {
        #expect(try Credential.hexDigest(ofToken: Self.token) == Self.digest)
        #expect(throws: Credential.Problem.self) {
            try Credential.hexDigest(ofToken: String(repeating: "a", count: Credential.minimumTokenLength - 1))
        }
        #expect(throws: Credential.Problem.self) {
            try Credential.hexDigest(ofToken: "has a space in it and is long enough, surely")
        }
        #expect(Credential.minimumTokenLength == 32)
    }

    @Test func aCredentialNeedsAGoodNameRolesAndAFullDigest() throws {
        let credential = try Credential(name: "desk-3", roles: [.dispatch], tokenSHA256: Self.digest.uppercased())
        #expect(credential.name == "desk-3" && credential.roles == [.dispatch])
        for (name, roles, digest) in [
            ("", Set<Role>([.dispatch]), Self.digest), ("desk 3", [.dispatch], Self.digest),
            ("desk-3", [], Self.digest), ("desk-3", [.dispatch], String(Self.digest.dropLast(2))),
            ("desk-3", [.dispatch], String(Self.digest.dropLast()) + "g"),
        ] {
            #expect(throws: Credential.Problem.self) { try Credential(name: name, roles: roles, tokenSHA256: digest) }
        }
    }

    @Test func rolesGrantThemselvesAndAdminAndSupervisorGrantMore() {
        for role in Role.allCases {
            #expect(role.grants(role))
            #expect(Role.admin.grants(role))
        }
        #expect(Role.supervisor.grants(.dispatch))
        #expect(!Role.dispatch.grants(.supervisor))
        #expect(!Role.supervisor.grants(.review) && !Role.supervisor.grants(.billing))
        #expect(!Role.billing.grants(.dispatch) && !Role.review.grants(.billing) && !Role.dispatch.grants(.review))
    }

    @Test func theStoreRefusesSharedNamesAndSharedTokens() throws {
        let one = try Credential(name: "a", roles: [.billing], tokenSHA256: Self.digest)
        let sameName = try Credential(
            name: "a",
            roles: [.review],
            tokenSHA256: try Credential.hexDigest(ofToken: Self.token + "x")
        )
        let sameToken = try Credential(name: "b", roles: [.review], tokenSHA256: Self.digest)
        #expect(throws: Credential.Problem.self) { try CredentialStore([one, sameName]) }
        #expect(throws: Credential.Problem.self) { try CredentialStore([one, sameToken]) }
    }

    @Test(arguments: [
        nil, "Bearer", "Bearer ", "bearer \(sampleToken)", "Basic \(sampleToken)", "Bearer \(sampleToken)x",
        "Bearer \(sampleToken.dropLast())", "Bearer  \(sampleToken)", sampleToken,
    ])
    func onlyTheExactBearerTokenAuthenticates(_ header: String?) throws {
        let store = try CredentialStore([try Credential(name: "a", roles: [.billing], tokenSHA256: Self.digest)])
        #expect(store.authenticate(authorization: header) == nil)
        #expect(store.authenticate(authorization: "Bearer \(Self.token)")?.name == "a")
    }

    private func application() throws -> some ApplicationProtocol {
        let store = try CredentialStore([
            try Credential(name: "desk-3", roles: [.dispatch], tokenSHA256: Self.digest),
            try Credential(
                name: "sup-1",
                roles: [.supervisor],
                tokenSHA256: try Credential.hexDigest(ofToken: "S" + Self.token)
            ),
        ])
        let router = GatewayHTTPServer.makeRouter(readiness: { [] })
        router.group("desk")
            .add(middleware: AuthenticationMiddleware(store, requiring: .dispatch))
            .get("who") { _, context in try context.actor() + "\n" }
        router.group("plans")
            .add(middleware: AuthenticationMiddleware(store, requiring: .supervisor))
            .get("who") { _, context in try context.actor() + "\n" }
        return Application(router: router)
    }

    @Test func theRouteGetsTheCredentialAndAMissingRoleIsForbidden() async throws {
        try await application().test(.router) { client in
            let desk: HTTPFields = [.authorization: "Bearer \(Self.token)"]
            let supervisor: HTTPFields = [.authorization: "Bearer S\(Self.token)"]
            try await client.execute(uri: "/desk/who", method: .get, headers: desk) { response in
                #expect(response.status == .ok && String(buffer: response.body) == "desk-3\n")
            }
            try await client.execute(uri: "/desk/who", method: .get, headers: supervisor) { response in
                #expect(response.status == .ok && String(buffer: response.body) == "sup-1\n")
            }
            try await client.execute(uri: "/plans/who", method: .get, headers: desk) { response in
                #expect(response.status == .forbidden)
                #expect(
                    String(buffer: response.body)
                        == #"{"error":{"code":"forbidden","message":"this route needs the supervisor role"}}"# + "\n"
                )
            }
            for headers: HTTPFields in [[:], [.authorization: "Bearer not-\(Self.token)"]] {
                try await client.execute(uri: "/desk/who", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    #expect(String(buffer: response.body).contains(#""code":"unauthenticated""#))
                }
            }
            // The probes and metrics stay open.
            for uri in ["/healthz", "/readyz", "/metrics"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }
}

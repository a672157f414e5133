import GatewayHTTP
import Hummingbird

/// One credential per role, named as a person or system would be, each with its own 40-character token.
enum TestCredentials {
    /// The credential's name per role: the actor the routes must record.
    static func name(_ role: Role) -> String {
        switch role {
        case .billing: "billing-feed"
        case .dispatch: "desk-3"
        case .supervisor: "sup-1"
        case .review: "a.wang"
        case .admin: "ops-admin"
        }
    }

    /// The token of the credential with `role`.
    static func token(_ role: Role) -> String {
        "\(role.rawValue)-" + String(repeating: "k7", count: 20)
    }

    /// `Authorization: Bearer <token>` of the credential with `role`.
    static func bearer(_ role: Role) -> HTTPFields {
        [.authorization: "Bearer \(token(role))"]
    }

    /// Every role's credential.
    static let all: [Credential] = Role.allCases.map { role in
        do {
            return try Credential(
                name: name(role),
                roles: [role],
                tokenSHA256: Credential.hexDigest(ofToken: token(role))
            )
        } catch {
            preconditionFailure("test credential: \(error)")
        }
    }

    /// The store of ``all``.
    static let store: CredentialStore = {
        do {
            return try CredentialStore(all)
        } catch {
            preconditionFailure("test credentials: \(error)")
        }
    }()
}

/// The configured credentials, and the one place a presented token is checked against them.
///
/// A token is hashed once (SHA-256) and the digest compared with every credential's in full, without stopping at
/// the first difference or the first match, so the time taken does not tell how much of a guess was right or which
/// credential matched.
public struct CredentialStore: Sendable {
    private let credentials: [Credential]

    /// Creates the store.
    /// - Parameter credentials: The credentials; an empty list refuses every request to the guarded routes.
    /// - Throws: ``Credential/Problem`` when two credentials share a name or a token.
    public init(_ credentials: [Credential]) throws(Credential.Problem) {
        var names: Set<String> = []
        var digests: Set<[UInt8]> = []
        for credential in credentials {
            guard names.insert(credential.name).inserted else {
                throw Credential.Problem(description: "two credentials are named \(credential.name)")
            }
            guard digests.insert(credential.tokenDigest).inserted else {
                throw Credential.Problem(description: "credential \(credential.name) has the token of another")
            }
        }
        self.credentials = credentials
    }

    /// The credentials' names and roles, for a start-up log line (never the digests).
    public var summary: [(name: String, roles: [Role])] {
        credentials.map { ($0.name, $0.roles.sorted()) }
    }

    /// The credential whose token an `Authorization` header carries.
    /// - Parameter header: The header's value, `Bearer <token>`, or `nil` when the request has none.
    /// - Returns: The credential, or `nil` when the header is missing, not a bearer token, or no token matches.
    public func authenticate(authorization header: String?) -> Credential? {
        guard let header, header.hasPrefix("Bearer ") else { return nil }
        let presented = Credential.digest(of: header.dropFirst("Bearer ".count))
        var found: Credential?
        for credential in credentials {
            var difference: UInt8 = 0
            for (given, expected) in zip(presented, credential.tokenDigest) { difference |= given ^ expected }
            if difference == 0 { found = credential }
        }
        return found
    }

    /// The credential of that name (a console session names its credential).
    /// - Parameter name: The credential's name.
    /// - Returns: The credential, or `nil` when none has that name.
    public func credential(named name: String) -> Credential? {
        credentials.first { $0.name == name }
    }
}

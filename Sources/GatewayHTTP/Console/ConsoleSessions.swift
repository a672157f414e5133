import Crypto
import Foundation

/// The dispatch console's sign-in sessions: a stateless, HMAC-signed cookie.
///
/// Signing in posts a configured credential's token once; the gateway answers with the cookie
/// `mg_console=v1~<name>~<expiry>~<mac>` where `mac` is HMAC-SHA256, under the session key, of the name, the expiry
/// (Unix seconds) and the credential's token digest. The cookie holds no secret and no token; it is valid while the
/// MAC matches, the expiry has not passed and a credential of that name still has that token digest (so removing a
/// credential or changing its token ends its sessions at once).
///
/// Why stateless: several gateways behind one address share nothing but their configuration; with the same session
/// key (`http.console_session_key_file`) any of them accepts a cookie any other made, and no session table has to be
/// replicated or cleaned. What it costs: signing out deletes the cookie in the browser but cannot revoke a copy of it
/// before its expiry (`http.console_session_minutes`); rotating the session key or the credential's token does.
///
/// The cookie is `HttpOnly`, `SameSite=Strict`, `Path=/`, `Max-Age` of the lifetime, and `Secure` when the server
/// speaks TLS. Every state-changing console request also carries ``csrfToken(forCookie:)`` (an HMAC of the cookie,
/// sent as `X-CSRF-Token` or a `csrf` form field), and a request with an `Origin` header naming another origin is
/// refused.
public struct ConsoleSessions: Sendable {
    /// The cookie's name.
    public static let cookieName = "mg_console"
    /// The default session lifetime: one 12-hour shift.
    public static let defaultLifetimeSeconds = 12 * 3600

    private let key: SymmetricKey
    let credentials: CredentialStore
    /// How long a session lasts after sign-in.
    public let lifetimeSeconds: Int
    /// Whether the cookie carries `Secure` (the server speaks TLS).
    public let isSecure: Bool
    private let now: @Sendable () -> Int64

    /// Creates the sessions.
    /// - Parameters:
    ///   - key: The session key: at least 32 bytes; the same on every gateway behind one address.
    ///   - credentials: The configured credentials (the same as the APIs').
    ///   - lifetimeSeconds: How long a session lasts.
    ///   - isSecure: Whether the server speaks TLS.
    ///   - now: Unix seconds now (tests inject a clock); `nil` for the system clock.
    public init(
        key: [UInt8],
        credentials: CredentialStore,
        lifetimeSeconds: Int = ConsoleSessions.defaultLifetimeSeconds,
        isSecure: Bool,
        now: (@Sendable () -> Int64)? = nil
    ) {
        self.key = SymmetricKey(data: key)
        self.credentials = credentials
        self.lifetimeSeconds = lifetimeSeconds
        self.isSecure = isSecure
        self.now = now ?? { Int64(Date().timeIntervalSince1970) }
    }

    /// 32 random bytes, the session key of a gateway that has no key file (sessions end when it restarts).
    public static func randomKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// The credential a token belongs to.
    /// - Parameter token: The token the sign-in form posted.
    /// - Returns: The credential, or `nil`.
    func credential(forToken token: String) -> Credential? {
        credentials.authenticate(authorization: "Bearer " + token)
    }

    /// A new session cookie's value for a credential.
    /// - Parameter credential: The signed-in credential.
    /// - Returns: `v1~name~expiry~mac`.
    func cookieValue(for credential: Credential) -> String {
        let expiry = now() + Int64(lifetimeSeconds)
        return "v1~\(credential.name)~\(expiry)~\(mac(name: credential.name, expiry: expiry, credential: credential))"
    }

    /// The credential of a valid session cookie in a `Cookie` header.
    /// - Parameter header: The request's `Cookie` header, or `nil`.
    /// - Returns: The credential, or `nil` when there is no cookie, it is malformed, expired, forged, or its
    ///   credential is gone or has another token now.
    public func credential(cookieHeader header: String?) -> Credential? {
        guard let value = Self.cookie(named: Self.cookieName, in: header) else { return nil }
        return credential(cookieValue: value)
    }

    /// The credential of a session cookie's value (see ``credential(cookieHeader:)``).
    func credential(cookieValue value: String) -> Credential? {
        let parts = value.split(separator: "~", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let expiry = Int64(parts[2]), expiry > now(),
            let credential = credentials.credential(named: String(parts[1])),
            let presented = Self.bytes(fromBase64URL: String(parts[3]))
        else { return nil }
        let expected = HMAC<SHA256>.authenticationCode(
            for: Array(Self.signedText(name: credential.name, expiry: expiry, credential: credential).utf8),
            using: key
        )
        // Constant time: the MAC's own comparison.
        guard expected == presented else { return nil }
        return credential
    }

    /// The CSRF token of a session: an HMAC of the cookie's value under the session key, so it cannot be made
    /// without the key and is different for every session.
    /// - Parameter value: The session cookie's value.
    /// - Returns: The token (base64url).
    func csrfToken(forCookie value: String) -> String {
        Self.base64URL(Array(HMAC<SHA256>.authenticationCode(for: Array(("csrf|" + value).utf8), using: key)))
    }

    /// Whether a presented CSRF token is the session's, compared in constant time.
    func isValidCSRFToken(_ presented: String?, forCookie value: String) -> Bool {
        guard let presented, let given = Self.bytes(fromBase64URL: presented) else { return false }
        let expected = HMAC<SHA256>.authenticationCode(for: Array(("csrf|" + value).utf8), using: key)
        return expected == given
    }

    /// The `Set-Cookie` value that stores a session.
    func setCookie(_ value: String) -> String {
        "\(Self.cookieName)=\(value); Path=/; Max-Age=\(lifetimeSeconds); HttpOnly; SameSite=Strict"
            + (isSecure ? "; Secure" : "")
    }

    /// The `Set-Cookie` value that deletes the session cookie (sign-out).
    func clearCookie() -> String {
        "\(Self.cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + (isSecure ? "; Secure" : "")
    }

    private func mac(name: String, expiry: Int64, credential: Credential) -> String {
        let text = Self.signedText(name: name, expiry: expiry, credential: credential)
        return Self.base64URL(Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)))
    }

    private static func signedText(name: String, expiry: Int64, credential: Credential) -> String {
        "console-session|v1|\(name)|\(expiry)|" + credential.tokenDigest.map { String($0) }.joined(separator: ",")
    }

    /// The value of the cookie `name` in a `Cookie` header (`a=1; b=2`), or `nil`.
    static func cookie(named name: String, in header: String?) -> String? {
        guard let header else { return nil }
        for pair in header.split(separator: ";") {
            let trimmed = pair.drop { $0 == " " }
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            if trimmed[..<equals] == name { return String(trimmed[trimmed.index(after: equals)...]) }
        }
        return nil
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func bytes(fromBase64URL text: String) -> [UInt8]? {
        guard text.utf8.count <= 128 else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map { Array($0) }
    }
}

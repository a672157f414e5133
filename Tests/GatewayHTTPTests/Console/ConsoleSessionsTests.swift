import Testing

@testable import GatewayHTTP

/// The console's stateless session cookie: it names its credential, expires, cannot be forged or moved to another
/// credential, dies with the credential's token, and carries the flags a session cookie needs.
@Suite struct ConsoleSessionsTests {
    private let key = Array(repeating: UInt8(7), count: 32)

    private func sessions(now: Int64 = 1_000_000, secure: Bool = false) -> ConsoleSessions {
        ConsoleSessions(key: key, credentials: TestCredentials.store, lifetimeSeconds: 600, isSecure: secure) { now }
    }

    private var desk: Credential { TestCredentials.store.credential(named: TestCredentials.name(.dispatch))! }

    @Test func aCookieNamesItsCredentialUntilItExpires() {
        let value = sessions().cookieValue(for: desk)
        #expect(sessions().credential(cookieHeader: "a=1; \(ConsoleSessions.cookieName)=\(value); b=2") == desk)
        #expect(sessions(now: 1_000_599).credential(cookieValue: value) == desk)
        #expect(sessions(now: 1_000_600).credential(cookieValue: value) == nil)
        #expect(!value.contains(TestCredentials.token(.dispatch)))
    }

    @Test func aForgedMovedOrForeignCookieIsRefused() {
        let value = sessions().cookieValue(for: desk)
        var parts = value.split(separator: "~").map(String.init)
        // Another credential's name with this MAC.
        parts[1] = TestCredentials.name(.admin)
        #expect(sessions().credential(cookieValue: parts.joined(separator: "~")) == nil)
        // A later expiry with this MAC.
        parts = value.split(separator: "~").map(String.init)
        parts[2] = String(Int64(parts[2])! + 3600)
        #expect(sessions().credential(cookieValue: parts.joined(separator: "~")) == nil)
        // Another gateway's key.
        let other = ConsoleSessions(
            key: Array(repeating: 8, count: 32),
            credentials: TestCredentials.store,
            isSecure: false
        )
        #expect(other.credential(cookieValue: value) == nil)
        #expect(sessions().credential(cookieValue: "v1~desk-3~9999999999~") == nil)
        #expect(sessions().credential(cookieHeader: nil) == nil)
    }

    @Test func changingTheCredentialsTokenEndsItsSessions() throws {
        let value = sessions().cookieValue(for: desk)
        let rotated = try CredentialStore([
            Credential(
                name: desk.name,
                roles: [.dispatch],
                tokenSHA256: Credential.hexDigest(ofToken: String(repeating: "n", count: 40))
            )
        ])
        let after = ConsoleSessions(key: key, credentials: rotated, lifetimeSeconds: 600, isSecure: false) { 1_000_000 }
        #expect(after.credential(cookieValue: value) == nil)
    }

    @Test func theCSRFTokenBelongsToOneSession() {
        let first = sessions().cookieValue(for: desk)
        let second = sessions(now: 1_000_001).cookieValue(for: desk)
        let token = sessions().csrfToken(forCookie: first)
        #expect(sessions().isValidCSRFToken(token, forCookie: first))
        #expect(!sessions().isValidCSRFToken(token, forCookie: second))
        #expect(!sessions().isValidCSRFToken(nil, forCookie: first))
        #expect(!sessions().isValidCSRFToken("", forCookie: first))
    }

    @Test func theCookieIsHttpOnlyStrictAndSecureWithTLS() {
        let plain = sessions().setCookie("v")
        #expect(plain == "mg_console=v; Path=/; Max-Age=600; HttpOnly; SameSite=Strict")
        #expect(sessions(secure: true).setCookie("v").hasSuffix("; HttpOnly; SameSite=Strict; Secure"))
        #expect(sessions().clearCookie().contains("Max-Age=0"))
    }

    @Test func htmlEscapingCoversMarkupAndQuotes() {
        #expect(
            ConsoleHTML.escape(#"<img src=x onerror="a('b')">&"#)
                == "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;"
        )
        #expect(ConsoleHTML.pathSegment("7/../x y") == "7%2F..%2Fx%20y")
    }
}

import Crypto

/// One named credential of the HTTP APIs: its name (recorded as the actor of everything done with it), its roles,
/// and the SHA-256 digest of its token. The token itself is never stored or configured.
public struct Credential: Sendable, Equatable {
    /// The fewest characters a token may have. A token is a random secret made for one person or system (for
    /// example `openssl rand -hex 32`, 64 characters); 32 characters of hexadecimal are 128 bits.
    public static let minimumTokenLength = 32

    /// Who: the actor of every ticket event, review decision and outage written with this credential.
    public let name: String
    /// What it may do (see ``Role/grants(_:)``).
    public let roles: Set<Role>
    /// SHA-256 of the token's UTF-8 bytes.
    let tokenDigest: [UInt8]

    /// A refused credential definition, naming what is wrong (never a token or a digest).
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong.
        public var description: String
    }

    /// Creates a credential from its configuration.
    /// - Parameters:
    ///   - name: 1 to 64 characters of `A-Z a-z 0-9 . _ @ -`.
    ///   - roles: At least one.
    ///   - tokenSHA256: The token's SHA-256 as 64 hexadecimal digits (``hexDigest(ofToken:)``).
    /// - Throws: ``Problem`` naming the field that is wrong.
    public init(name: String, roles: Set<Role>, tokenSHA256: String) throws(Problem) {
        guard Self.isValidName(name) else {
            throw Problem(description: "name must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -")
        }
        guard !roles.isEmpty else { throw Problem(description: "roles must name at least one role") }
        guard let digest = Self.bytes(fromHex: tokenSHA256), digest.count == SHA256.byteCount else {
            throw Problem(description: "token_sha256 must be 64 hexadecimal digits (meter-gateway credentials hash)")
        }
        self.name = name
        self.roles = roles
        self.tokenDigest = digest
    }

    /// Whether the credential may use routes that need `role`.
    /// - Parameter role: The role a route group needs.
    /// - Returns: `true` when one of its roles grants it.
    public func has(_ role: Role) -> Bool {
        roles.contains { $0.grants(role) }
    }

    /// The SHA-256 of a token as 64 lower-case hexadecimal digits, the `token_sha256` of a credential.
    /// - Parameter token: The token.
    /// - Returns: The digest in hexadecimal.
    /// - Throws: ``Problem`` when the token is shorter than ``minimumTokenLength`` characters or has white space or
    ///   control characters (it travels in an HTTP header).
    public static func hexDigest(ofToken token: String) throws(Problem) -> String {
        guard token.count >= minimumTokenLength else {
            throw Problem(
                description:
                    "a token must have at least \(minimumTokenLength) characters (for example: openssl rand -hex 32)"
            )
        }
        guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw Problem(description: "a token must be printable ASCII without spaces")
        }
        return digest(of: token).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    /// SHA-256 of a token's UTF-8 bytes.
    static func digest(of token: some StringProtocol) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }

    private static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "@"),
                    UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }

    private static func bytes(fromHex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// How the content of a stored row was protected on its way from the meter, weakest first.
///
/// Decided per row, not per frame: a record or field outside what was decrypted or MAC-covered is ``plain`` even on
/// an encrypted frame (the OMS mode-5 TPL status byte, and the alarms derived from it, lie outside the encryption).
///
/// | level | means | from |
/// |---|---|---|
/// | `plain` | nothing but a CRC or checksum: anyone on the path could have written it | CJ/T 188, M-Bus mode 0, fields outside the protected part |
/// | `encrypted` | decrypted with the meter's key, not authenticated: a changed ciphertext decrypts to other values | M-Bus mode 5 (AES-CBC), ELL (AES-CTR) |
/// | `authenticated` | covered by a MAC that verified with the meter's key | native frames (CMAC), M-Bus mode 7 (AFL CMAC) |
///
/// Stored as the words `plain`, `encrypted`, `authenticated` (PostgreSQL enum `protection_level`, which orders them
/// the same way). One byte, so a row carries it at no cost on the decode path.
public enum ProtectionLevel: UInt8, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    /// No cryptographic protection.
    case plain = 0
    /// Confidentiality only.
    case encrypted = 1
    /// A MAC made with the meter's key verified.
    case authenticated = 2

    /// The stored word: `plain`, `encrypted` or `authenticated`.
    public var code: String {
        switch self {
        case .plain: "plain"
        case .encrypted: "encrypted"
        case .authenticated: "authenticated"
        }
    }

    /// The level a stored word names, or `nil`.
    /// - Parameter code: `plain`, `encrypted` or `authenticated`.
    public init?(code: some StringProtocol) {
        guard let level = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = level
    }

    public var description: String { code }

    public static func < (lhs: ProtectionLevel, rhs: ProtectionLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The most a meter of `frameProtocol` can reach, with or without a registered key: native `authenticated`
    /// (a key is required); CJ/T 188 `plain` (the protocol has no security); wireless M-Bus `authenticated` with a
    /// key (mode 7), wired M-Bus `encrypted` with a key (mode 5; the AFL that carries the mode-7 MAC is wireless
    /// only); M-Bus without a key `plain`.
    /// - Parameters:
    ///   - frameProtocol: The meter's protocol.
    ///   - hasKey: Whether the meter is registered with a key.
    /// - Returns: The strongest level its frames can carry.
    public static func reachable(by frameProtocol: FrameProtocol, hasKey: Bool) -> ProtectionLevel {
        switch frameProtocol {
        case .native: .authenticated
        case .cjt188: .plain
        case .wmbus: hasKey ? .authenticated : .plain
        case .mbus: hasKey ? .encrypted : .plain
        }
    }

    /// The minimum a meter is given when its registration does not say: `encrypted` for a meter registered with a
    /// key (an unprotected frame from it is refused, as before protection levels existed), `plain` without one;
    /// never more than the meter can reach (a CJ/T 188 meter's key protects nothing).
    /// - Parameters:
    ///   - frameProtocol: The meter's protocol.
    ///   - hasKey: Whether the meter is registered with a key.
    /// - Returns: The default minimum.
    public static func defaultMinimum(for frameProtocol: FrameProtocol, hasKey: Bool) -> ProtectionLevel {
        min(hasKey ? .encrypted : .plain, reachable(by: frameProtocol, hasKey: hasKey))
    }
}

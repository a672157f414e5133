/// Which key protected a stored row's content: the meter's own key, or a manufacturer's published default key.
///
/// A row with no cryptographic protection (``ProtectionLevel/plain`` because nothing was decrypted or MAC-checked
/// over it) has no key source (`nil`, stored as NULL). A row opened with a published default key is `plain` too: the
/// key is printed in a document anyone can read, so it proves neither origin nor secrecy
/// (``MBusSecurity/contentProtection``); its source says why it decoded at all.
///
/// Stored as the words `meter` and `default` (column `key_source`, schema v15).
public enum KeySource: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The meter's own registered key.
    case meter = 0
    /// A default key configured for the meter's manufacturer (`[meters.default_keys]`), tried because the meter is
    /// registered without a key of its own.
    case manufacturerDefault = 1

    /// The stored word: `meter` or `default`.
    public var code: String {
        switch self {
        case .meter: "meter"
        case .manufacturerDefault: "default"
        }
    }

    /// The source a stored word names, or `nil`.
    /// - Parameter code: `meter` or `default`.
    public init?(code: some StringProtocol) {
        guard let source = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = source
    }

    public var description: String { code }
}

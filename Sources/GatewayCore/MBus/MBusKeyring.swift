/// The keys the M-Bus decoder may try for one identity, and where they came from: the meter's own key, or up to
/// ``capacity`` default keys of its manufacturer.
///
/// A fixed-size value (no heap storage), so a key lookup per frame never allocates. The decoder tries the keys in
/// order and keeps the first one whose check passes (the ELL PayloadCRC, the mode-7 AFL MAC, or `2F 2F` at the
/// start of the first mode-5 block); with one key the checks run exactly as they always have.
public struct MBusKeyring: Sendable {
    /// The most keys one manufacturer may have configured (``MBusDefaultKeys``): each is one more AES trial on
    /// every frame of that manufacturer's keyless meters.
    public static let capacity = 4

    /// No key: the identity is not registered, or is registered without a key and its manufacturer has no default.
    public static let empty = MBusKeyring()

    /// Where the keys came from; `nil` when there are none.
    public private(set) var source: KeySource?
    /// The number of keys, 0 to ``capacity``.
    public private(set) var count: Int
    private var keys: InlineArray<4, AES128Key>

    private init() {
        source = nil
        count = 0
        keys = InlineArray(repeating: Self.filler)
    }

    /// A keyring of the meter's own key, or ``empty`` for `nil`.
    /// - Parameter meterKey: The meter's registered key, if any.
    public init(meterKey: AES128Key?) {
        guard let meterKey else {
            self = .empty
            return
        }
        source = .meter
        count = 1
        keys = InlineArray(repeating: meterKey)
    }

    /// A keyring of a manufacturer's default keys, tried in the given order.
    /// - Parameter defaultKeys: 1 to ``capacity`` keys.
    /// - Returns: `nil` when `defaultKeys` is empty or longer than ``capacity``.
    public init?(defaultKeys: [AES128Key]) {
        guard let first = defaultKeys.first, defaultKeys.count <= Self.capacity else { return nil }
        source = .manufacturerDefault
        count = defaultKeys.count
        keys = InlineArray(repeating: first)
        for index in defaultKeys.indices {
            keys[index] = defaultKeys[index]
        }
    }

    /// Whether there is no key to try.
    public var isEmpty: Bool { count == 0 }

    /// The key at `index` (`0..<count`).
    public subscript(index: Int) -> AES128Key {
        precondition(index >= 0 && index < count, "keyring index out of range")
        return keys[index]
    }

    /// Fills unused slots; never tried (``count`` bounds every loop).
    private static let filler = AES128Key(AES128.Block.zero)
}

/// The default keys configured per manufacturer (`[meters.default_keys]`), looked up by the manufacturer code of the
/// identity whose key is needed. Empty unless configured.
///
/// Consulted only for a meter that is registered without a key of its own: an unregistered meter stays
/// `unknown_meter`, and a meter with its own key never falls back to a default (a wrong own key stays `wrong_key`).
/// Content opened with a default key is ``ProtectionLevel/plain`` (see ``KeySource/manufacturerDefault``).
public struct MBusDefaultKeys: Sendable {
    private var keyrings: [UInt16: MBusKeyring] = [:]

    /// No default keys.
    public init() {}

    /// Whether no manufacturer has default keys.
    public var isEmpty: Bool { keyrings.isEmpty }

    /// The manufacturer codes that have default keys, in ascending order.
    public var manufacturerCodes: [UInt16] { keyrings.keys.sorted() }

    /// Sets a manufacturer's default keys, replacing any it had.
    /// - Parameters:
    ///   - keys: 1 to ``MBusKeyring/capacity`` keys, tried in this order.
    ///   - letters: The three manufacturer letters, e.g. `APA`.
    /// - Returns: `false` (and nothing set) when the letters are not three of `A`–`Z` or the key count is out of range.
    @discardableResult
    public mutating func set(_ keys: [AES128Key], forManufacturer letters: some StringProtocol) -> Bool {
        guard let code = MBusAddress.manufacturerCode(letters: letters),
            let keyring = MBusKeyring(defaultKeys: keys)
        else { return false }
        keyrings[code] = keyring
        return true
    }

    /// The default keys of a manufacturer, or ``MBusKeyring/empty``. One hash probe; never allocates.
    /// - Parameter manufacturerCode: The manufacturer code as on the wire (``MBusAddress/manufacturerCode``).
    /// - Returns: The keyring.
    public func keyring(forManufacturer manufacturerCode: UInt16) -> MBusKeyring {
        keyrings[manufacturerCode] ?? .empty
    }
}

extension MBusDefaultKeys {
    /// The keys to try for an identity of an M-Bus registry table: the meter's own key; its manufacturer's default
    /// keys only when it is registered without one; none when it is not registered (it stays `unknown_meter`).
    /// - Parameters:
    ///   - address: The identity whose key is needed (``MBusDecoder``'s key lookup contract).
    ///   - table: The protocol's registry table (``MeterRegistry/mbusTable(_:)``).
    /// - Returns: The keyring; never allocates.
    public func keyring(for address: MBusAddress, in table: MeterTable<Void>) -> MBusKeyring {
        guard let entry = table[address.registryKey] else { return .empty }
        if let key = entry.keyBlock { return MBusKeyring(meterKey: AES128Key(key)) }
        return keyring(forManufacturer: address.manufacturerCode)
    }
}

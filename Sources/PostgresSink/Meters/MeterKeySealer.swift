import Crypto
public import GatewayCore

/// Seals and opens meter keys with a master key (AES-256-GCM), for `meters.aes_key_sealed` (migration v13).
///
/// A sealed key is 44 bytes: a random 12-byte nonce, the 16-byte key encrypted, the 16-byte tag. The meter's protocol
/// and address are the associated data, so a sealed key opens only for the meter it was sealed for. The master key
/// lives outside the database (a file, `meters.master_key_file`): a copy of the database alone does not give the keys.
///
/// A value type without state beyond the key; safe to share between threads.
public struct MeterKeySealer: Sendable {
    /// Bytes of a sealed key.
    public static let sealedLength = 12 + 16 + 16

    private let key: SymmetricKey

    /// Creates a sealer from 32 bytes of master key.
    /// - Parameter masterKey: The master key, exactly 32 bytes.
    /// - Returns: nil when the key is not 32 bytes.
    public init?(masterKey: [UInt8]) {
        guard masterKey.count == 32 else { return nil }
        key = SymmetricKey(data: masterKey)
    }

    /// Seals one meter key.
    /// - Parameters:
    ///   - meterKey: The meter's 16-byte AES-128 key.
    ///   - protocol: The meter's protocol.
    ///   - address: The meter's address.
    /// - Returns: The 44 sealed bytes.
    /// - Throws: ``MeterKeyError`` when the key is not 16 bytes.
    public func seal(_ meterKey: [UInt8], protocol frameProtocol: FrameProtocol, address: String) throws -> [UInt8] {
        guard meterKey.count == 16 else { throw MeterKeyError(problem: "a meter key must be 16 bytes") }
        do {
            let box = try AES.GCM.seal(meterKey, using: key, authenticating: Self.binding(frameProtocol, address))
            guard let combined = box.combined, combined.count == Self.sealedLength else {
                throw MeterKeyError(problem: "sealing gave an unexpected length")
            }
            return Array(combined)
        } catch let error as MeterKeyError {
            throw error
        } catch {
            throw MeterKeyError(problem: "sealing failed")
        }
    }

    /// Opens one sealed meter key.
    /// - Parameters:
    ///   - sealed: The 44 sealed bytes.
    ///   - protocol: The meter's protocol.
    ///   - address: The meter's address.
    /// - Returns: The 16-byte key, or nil when this master key (or this meter) does not open it.
    public func open(_ sealed: [UInt8], protocol frameProtocol: FrameProtocol, address: String) -> [UInt8]? {
        guard sealed.count == Self.sealedLength,
            let box = try? AES.GCM.SealedBox(combined: sealed),
            let plain = try? AES.GCM.open(box, using: key, authenticating: Self.binding(frameProtocol, address)),
            plain.count == 16
        else { return nil }
        return Array(plain)
    }

    private static func binding(_ frameProtocol: FrameProtocol, _ address: String) -> [UInt8] {
        Array("meter-gateway meter key v1".utf8) + [0] + Array(frameProtocol.rawValue.utf8) + [0] + Array(address.utf8)
    }
}

/// Meter keys that cannot be used: sealed keys without a master key, or a master key that does not open them.
///
/// `description` names how many meters are affected and what to check, never a key or a master key.
public struct MeterKeyError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What is wrong, without any key material.
    public var problem: String

    /// Creates an error.
    /// - Parameter problem: What is wrong; must not contain key material.
    public init(problem: String) {
        self.problem = problem
    }

    public var description: String { "meter keys: \(problem)" }
}

/// Meter keys read from a key file (`meters.key_file`) instead of the database: per protocol and address, the key.
///
/// A store given a table takes every meter's key from it and ignores the keys in the database (plaintext or sealed):
/// a meter missing from the table has no key. The keys never leave the gateway's memory.
public struct MeterKeyTable: Sendable, Equatable, CustomStringConvertible {
    private let keys: [FrameProtocol: [String: [UInt8]]]

    /// Creates a table.
    /// - Parameter entries: Each meter's protocol, address and 16-byte key; for a repeated meter the last wins.
    public init(_ entries: [(protocol: FrameProtocol, address: String, key: [UInt8])]) {
        var keys: [FrameProtocol: [String: [UInt8]]] = [:]
        for entry in entries { keys[entry.protocol, default: [:]][entry.address] = entry.key }
        self.keys = keys
    }

    /// The number of keys.
    public var count: Int { keys.values.reduce(0) { $0 + $1.count } }

    /// One meter's key.
    /// - Parameters:
    ///   - protocol: The meter's protocol.
    ///   - address: The meter's address.
    /// - Returns: The key, or nil when the table has none for the meter.
    public func key(protocol frameProtocol: FrameProtocol, address: String) -> [UInt8]? {
        keys[frameProtocol]?[address]
    }

    public var description: String { "MeterKeyTable(\(count) keys)" }
}

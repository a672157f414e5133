/// AES-CMAC (RFC 4493, NIST SP 800-38B) with AES-128, fed in pieces and truncated on output.
///
/// A value type that never allocates: create one per message, ``update(_:)`` it with any number of byte ranges,
/// then ``finalize()`` (full 16-byte tag) or ``finalize(truncatedTo:)``.
///
/// ```swift
/// var mac = AESCMAC(key: key)
/// mac.update(header)
/// mac.update(payload)
/// let tag = mac.finalize()
/// ```
public struct AESCMAC: Sendable {
    private let key: AES128Key
    private let subkey1: AES128.Block
    private let subkey2: AES128.Block
    /// The CBC chaining value over every block already known not to be the last.
    private var chain: AES128.Block = .zero
    /// Up to 16 pending bytes; the last block of a message is held back until ``finalize()``.
    private var pending: AES128.Block = .zero
    private var pendingCount = 0

    /// The constant R_b of RFC 4493 §2.3 for 128-bit blocks.
    private static let rb: UInt32 = 0x87

    /// Starts a MAC computation, deriving the subkeys K1 and K2 (one block encryption).
    ///
    /// - Parameter key: The expanded AES-128 key.
    public init(key: AES128Key) {
        self.key = key
        let l = AES128.encrypt(.zero, with: key)
        var k1 = l.shiftedLeftByOne
        if l.word0 & 0x8000_0000 != 0 { k1.word3 ^= Self.rb }
        var k2 = k1.shiftedLeftByOne
        if k1.word0 & 0x8000_0000 != 0 { k2.word3 ^= Self.rb }
        self.subkey1 = k1
        self.subkey2 = k2
    }

    /// The subkeys (K1, K2) of RFC 4493 §2.3, exposed for tests against the RFC's values.
    public var subkeys: (k1: AES128.Block, k2: AES128.Block) { (subkey1, subkey2) }

    /// Feeds more message bytes.
    ///
    /// - Parameter bytes: The next bytes of the message; may be empty.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        var offset = 0
        while offset < count {
            if pendingCount == AES128.blockSize {
                chain = AES128.encrypt(chain ^ pending, with: key)
                pending = .zero
                pendingCount = 0
            }
            if pendingCount == 0 && count - offset > AES128.blockSize {
                // A whole block with more bytes after it cannot be the last block: process it directly.
                chain = AES128.encrypt(chain ^ AES128.Block(loadingFrom: base + offset), with: key)
                offset += AES128.blockSize
                continue
            }
            pending[byte: pendingCount] = base.load(fromByteOffset: offset, as: UInt8.self)
            pendingCount += 1
            offset += 1
        }
    }

    /// Completes the computation and returns the full 16-byte tag.
    ///
    /// - Returns: The tag T of RFC 4493 §2.4.
    public func finalize() -> AES128.Block {
        var last = pending
        if pendingCount == AES128.blockSize {
            last ^= subkey1
        } else {
            last[byte: pendingCount] = 0x80
            last ^= subkey2
        }
        return AES128.encrypt(chain ^ last, with: key)
    }

    /// Completes the computation and writes the first `output.count` (at most 16) bytes of the tag.
    ///
    /// - Parameter output: Where the truncated tag goes; its length is the truncation length.
    public func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count <= AES128.blockSize, "a CMAC tag has at most 16 bytes")
        let tag = finalize()
        for index in 0..<output.count {
            output[index] = tag[byte: index]
        }
    }

    /// Computes the first 8 bytes of the tag as a big-endian integer (the native protocol's MAC).
    ///
    /// - Returns: Tag bytes 0–7, byte 0 most significant.
    public func finalizeTruncatedTo64() -> UInt64 {
        let tag = finalize()
        return UInt64(tag.word0) << 32 | UInt64(tag.word1)
    }

    /// Computes the full tag of one message.
    ///
    /// - Parameters:
    ///   - message: The whole message.
    ///   - key: The expanded key.
    /// - Returns: The 16-byte tag.
    public static func authenticate(_ message: UnsafeRawBufferPointer, with key: AES128Key) -> AES128.Block {
        var mac = AESCMAC(key: key)
        mac.update(message)
        return mac.finalize()
    }
}

/// The AES-128 block cipher of FIPS-197: one 16-byte block at a time, encryption and decryption.
///
/// The cipher works on ``AES128/Block`` values and on raw memory, never allocates, and keeps no state besides
/// the ``AES128Key`` the caller passes in. Modes built on it (``AESCMAC``, CBC and CTR below) are the ones the
/// native protocol and OMS (EN 13757 / OMS security profiles A and B) need.
///
/// The implementation is a compact byte-sliced one with 256-byte S-boxes (no 4 KiB T-tables), which keeps the
/// cache footprint small. It is not constant-time against a local cache-timing attacker; the gateway's threat
/// model is a remote sender, for whom the key-dependent timing is not observable through MQTT.
public enum AES128 {
    /// The block size in bytes.
    public static let blockSize = 16

    /// One 16-byte AES block held as four big-endian 32-bit words (bytes 0–3, 4–7, 8–11, 12–15).
    public struct Block: Sendable, Hashable {
        /// Bytes 0–3 as a big-endian word.
        public var word0: UInt32
        /// Bytes 4–7 as a big-endian word.
        public var word1: UInt32
        /// Bytes 8–11 as a big-endian word.
        public var word2: UInt32
        /// Bytes 12–15 as a big-endian word.
        public var word3: UInt32

        /// The all-zero block.
        public static let zero = Block(word0: 0, word1: 0, word2: 0, word3: 0)

        /// Creates a block from four big-endian words.
        @inlinable
        public init(word0: UInt32, word1: UInt32, word2: UInt32, word3: UInt32) {
            self.word0 = word0
            self.word1 = word1
            self.word2 = word2
            self.word3 = word3
        }

        /// Loads a block from 16 bytes of memory (no alignment needed).
        ///
        /// - Parameter pointer: The first of 16 readable bytes.
        @inlinable
        public init(loadingFrom pointer: UnsafeRawPointer) {
            self.word0 = UInt32(bigEndian: pointer.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            self.word1 = UInt32(bigEndian: pointer.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            self.word2 = UInt32(bigEndian: pointer.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            self.word3 = UInt32(bigEndian: pointer.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        }

        /// Creates a block from exactly 16 bytes.
        ///
        /// - Parameter bytes: The block's bytes in order.
        /// - Returns: `nil` unless `bytes` holds exactly 16 bytes.
        public init?(bytes: some Collection<UInt8>) {
            guard bytes.count == 16 else { return nil }
            self = .zero
            for (index, byte) in bytes.enumerated() {
                self[byte: index] = byte
            }
        }

        /// Writes the block's 16 bytes to memory (no alignment needed).
        ///
        /// - Parameter pointer: The first of 16 writable bytes.
        @inlinable
        public func store(to pointer: UnsafeMutableRawPointer) {
            pointer.storeBytes(of: word0.bigEndian, toByteOffset: 0, as: UInt32.self)
            pointer.storeBytes(of: word1.bigEndian, toByteOffset: 4, as: UInt32.self)
            pointer.storeBytes(of: word2.bigEndian, toByteOffset: 8, as: UInt32.self)
            pointer.storeBytes(of: word3.bigEndian, toByteOffset: 12, as: UInt32.self)
        }

        /// The block's 16 bytes as an array (allocates; not for hot paths).
        public var bytes: [UInt8] {
            (0..<16).map { self[byte: $0] }
        }

        /// Byte `index` (0…15) of the block.
        @inlinable
        public subscript(byte index: Int) -> UInt8 {
            get {
                precondition(index >= 0 && index < 16, "AES block byte index out of range")
                let shift = UInt32(24 - 8 * (index & 3))
                switch index >> 2 {
                case 0: return UInt8(truncatingIfNeeded: word0 >> shift)
                case 1: return UInt8(truncatingIfNeeded: word1 >> shift)
                case 2: return UInt8(truncatingIfNeeded: word2 >> shift)
                default: return UInt8(truncatingIfNeeded: word3 >> shift)
                }
            }
            set {
                precondition(index >= 0 && index < 16, "AES block byte index out of range")
                let shift = UInt32(24 - 8 * (index & 3))
                let mask = ~(UInt32(0xFF) << shift)
                let value = UInt32(newValue) << shift
                switch index >> 2 {
                case 0: word0 = (word0 & mask) | value
                case 1: word1 = (word1 & mask) | value
                case 2: word2 = (word2 & mask) | value
                default: word3 = (word3 & mask) | value
                }
            }
        }

        /// The bitwise exclusive-or of two blocks.
        @inlinable
        public static func ^ (lhs: Block, rhs: Block) -> Block {
            Block(
                word0: lhs.word0 ^ rhs.word0,
                word1: lhs.word1 ^ rhs.word1,
                word2: lhs.word2 ^ rhs.word2,
                word3: lhs.word3 ^ rhs.word3
            )
        }

        /// Exclusive-ors another block into this one.
        @inlinable
        public static func ^= (lhs: inout Block, rhs: Block) {
            lhs = lhs ^ rhs
        }
    }

    /// Encrypts one block (FIPS-197 §5.1).
    ///
    /// - Parameters:
    ///   - block: The plaintext block.
    ///   - key: The expanded key.
    /// - Returns: The ciphertext block.
    public static func encrypt(_ block: Block, with key: AES128Key) -> Block {
        let rk = key.roundKeys
        var s0 = block.word0 ^ rk[0]
        var s1 = block.word1 ^ rk[1]
        var s2 = block.word2 ^ rk[2]
        var s3 = block.word3 ^ rk[3]
        var round = 1
        while round < 10 {
            let t0 = mixColumn(subShift(s0, s1, s2, s3))
            let t1 = mixColumn(subShift(s1, s2, s3, s0))
            let t2 = mixColumn(subShift(s2, s3, s0, s1))
            let t3 = mixColumn(subShift(s3, s0, s1, s2))
            s0 = t0 ^ rk[4 * round]
            s1 = t1 ^ rk[4 * round + 1]
            s2 = t2 ^ rk[4 * round + 2]
            s3 = t3 ^ rk[4 * round + 3]
            round += 1
        }
        return Block(
            word0: subShift(s0, s1, s2, s3) ^ rk[40],
            word1: subShift(s1, s2, s3, s0) ^ rk[41],
            word2: subShift(s2, s3, s0, s1) ^ rk[42],
            word3: subShift(s3, s0, s1, s2) ^ rk[43]
        )
    }

    /// Decrypts one block (the inverse cipher of FIPS-197 §5.3).
    ///
    /// - Parameters:
    ///   - block: The ciphertext block.
    ///   - key: The expanded key (the same value that encrypted).
    /// - Returns: The plaintext block.
    public static func decrypt(_ block: Block, with key: AES128Key) -> Block {
        let rk = key.roundKeys
        var s0 = block.word0 ^ rk[40]
        var s1 = block.word1 ^ rk[41]
        var s2 = block.word2 ^ rk[42]
        var s3 = block.word3 ^ rk[43]
        var round = 9
        while round > 0 {
            let t0 = invSubShift(s0, s3, s2, s1) ^ rk[4 * round]
            let t1 = invSubShift(s1, s0, s3, s2) ^ rk[4 * round + 1]
            let t2 = invSubShift(s2, s1, s0, s3) ^ rk[4 * round + 2]
            let t3 = invSubShift(s3, s2, s1, s0) ^ rk[4 * round + 3]
            s0 = invMixColumn(t0)
            s1 = invMixColumn(t1)
            s2 = invMixColumn(t2)
            s3 = invMixColumn(t3)
            round -= 1
        }
        return Block(
            word0: invSubShift(s0, s3, s2, s1) ^ rk[0],
            word1: invSubShift(s1, s0, s3, s2) ^ rk[1],
            word2: invSubShift(s2, s1, s0, s3) ^ rk[2],
            word3: invSubShift(s3, s2, s1, s0) ^ rk[3]
        )
    }

    /// Encrypts one block from memory to memory; `input` and `output` may be the same.
    ///
    /// - Parameters:
    ///   - input: 16 readable bytes of plaintext.
    ///   - output: 16 writable bytes for the ciphertext.
    ///   - key: The expanded key.
    public static func encryptBlock(_ input: UnsafeRawPointer, to output: UnsafeMutableRawPointer, with key: AES128Key)
    {
        encrypt(Block(loadingFrom: input), with: key).store(to: output)
    }

    /// Decrypts one block from memory to memory; `input` and `output` may be the same.
    ///
    /// - Parameters:
    ///   - input: 16 readable bytes of ciphertext.
    ///   - output: 16 writable bytes for the plaintext.
    ///   - key: The expanded key.
    public static func decryptBlock(_ input: UnsafeRawPointer, to output: UnsafeMutableRawPointer, with key: AES128Key)
    {
        decrypt(Block(loadingFrom: input), with: key).store(to: output)
    }

    // MARK: Round functions on big-endian column words.

    /// SubBytes and ShiftRows for one output column: row r of the result comes from column `c + r`.
    @inline(__always)
    static func subShift(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> UInt32 {
        UInt32(sBox[Int(a >> 24)]) << 24
            | UInt32(sBox[Int((b >> 16) & 0xFF)]) << 16
            | UInt32(sBox[Int((c >> 8) & 0xFF)]) << 8
            | UInt32(sBox[Int(d & 0xFF)])
    }

    /// InvShiftRows and InvSubBytes for one output column: row r of the result comes from column `c - r`.
    @inline(__always)
    static func invSubShift(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> UInt32 {
        UInt32(inverseSBox[Int(a >> 24)]) << 24
            | UInt32(inverseSBox[Int((b >> 16) & 0xFF)]) << 16
            | UInt32(inverseSBox[Int((c >> 8) & 0xFF)]) << 8
            | UInt32(inverseSBox[Int(d & 0xFF)])
    }

    /// Multiplies each of the four bytes of a word by x in GF(2^8).
    @inline(__always)
    static func xtime(_ w: UInt32) -> UInt32 {
        ((w & 0x7F7F_7F7F) << 1) ^ (((w >> 7) & 0x0101_0101) &* 0x1B)
    }

    @inline(__always)
    static func rotateLeft(_ w: UInt32, _ bits: UInt32) -> UInt32 {
        (w << bits) | (w >> (32 - bits))
    }

    /// MixColumns of one column: b_i = 2·a_i ⊕ 3·a_(i+1) ⊕ a_(i+2) ⊕ a_(i+3).
    @inline(__always)
    static func mixColumn(_ w: UInt32) -> UInt32 {
        let r8 = rotateLeft(w, 8)
        return xtime(w ^ r8) ^ r8 ^ rotateLeft(w, 16) ^ rotateLeft(w, 24)
    }

    /// InvMixColumns of one column, as MixColumns after adding 4·(a_i ⊕ a_(i+2)) to a_i.
    @inline(__always)
    static func invMixColumn(_ w: UInt32) -> UInt32 {
        let x4 = xtime(xtime(w))
        return mixColumn(w ^ x4 ^ rotateLeft(x4, 16))
    }

    /// The S-box of FIPS-197 §5.1.1.
    static let sBox: InlineArray<256, UInt8> = [
        0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
        0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
        0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
        0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
        0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
        0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
        0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
        0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
        0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
        0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
        0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
        0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
        0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
        0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
        0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
        0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
    ]

    /// The inverse S-box of FIPS-197 §5.3.2.
    static let inverseSBox: InlineArray<256, UInt8> = [
        0x52, 0x09, 0x6a, 0xd5, 0x30, 0x36, 0xa5, 0x38, 0xbf, 0x40, 0xa3, 0x9e, 0x81, 0xf3, 0xd7, 0xfb,
        0x7c, 0xe3, 0x39, 0x82, 0x9b, 0x2f, 0xff, 0x87, 0x34, 0x8e, 0x43, 0x44, 0xc4, 0xde, 0xe9, 0xcb,
        0x54, 0x7b, 0x94, 0x32, 0xa6, 0xc2, 0x23, 0x3d, 0xee, 0x4c, 0x95, 0x0b, 0x42, 0xfa, 0xc3, 0x4e,
        0x08, 0x2e, 0xa1, 0x66, 0x28, 0xd9, 0x24, 0xb2, 0x76, 0x5b, 0xa2, 0x49, 0x6d, 0x8b, 0xd1, 0x25,
        0x72, 0xf8, 0xf6, 0x64, 0x86, 0x68, 0x98, 0x16, 0xd4, 0xa4, 0x5c, 0xcc, 0x5d, 0x65, 0xb6, 0x92,
        0x6c, 0x70, 0x48, 0x50, 0xfd, 0xed, 0xb9, 0xda, 0x5e, 0x15, 0x46, 0x57, 0xa7, 0x8d, 0x9d, 0x84,
        0x90, 0xd8, 0xab, 0x00, 0x8c, 0xbc, 0xd3, 0x0a, 0xf7, 0xe4, 0x58, 0x05, 0xb8, 0xb3, 0x45, 0x06,
        0xd0, 0x2c, 0x1e, 0x8f, 0xca, 0x3f, 0x0f, 0x02, 0xc1, 0xaf, 0xbd, 0x03, 0x01, 0x13, 0x8a, 0x6b,
        0x3a, 0x91, 0x11, 0x41, 0x4f, 0x67, 0xdc, 0xea, 0x97, 0xf2, 0xcf, 0xce, 0xf0, 0xb4, 0xe6, 0x73,
        0x96, 0xac, 0x74, 0x22, 0xe7, 0xad, 0x35, 0x85, 0xe2, 0xf9, 0x37, 0xe8, 0x1c, 0x75, 0xdf, 0x6e,
        0x47, 0xf1, 0x1a, 0x71, 0x1d, 0x29, 0xc5, 0x89, 0x6f, 0xb7, 0x62, 0x0e, 0xaa, 0x18, 0xbe, 0x1b,
        0xfc, 0x56, 0x3e, 0x4b, 0xc6, 0xd2, 0x79, 0x20, 0x9a, 0xdb, 0xc0, 0xfe, 0x78, 0xcd, 0x5a, 0xf4,
        0x1f, 0xdd, 0xa8, 0x33, 0x88, 0x07, 0xc7, 0x31, 0xb1, 0x12, 0x10, 0x59, 0x27, 0x80, 0xec, 0x5f,
        0x60, 0x51, 0x7f, 0xa9, 0x19, 0xb5, 0x4a, 0x0d, 0x2d, 0xe5, 0x7a, 0x9f, 0x93, 0xc9, 0x9c, 0xef,
        0xa0, 0xe0, 0x3b, 0x4d, 0xae, 0x2a, 0xf5, 0xb0, 0xc8, 0xeb, 0xbb, 0x3c, 0x83, 0x53, 0x99, 0x61,
        0x17, 0x2b, 0x04, 0x7e, 0xba, 0x77, 0xd6, 0x26, 0xe1, 0x69, 0x14, 0x63, 0x55, 0x21, 0x0c, 0x7d,
    ]
}

/// An AES-128 key, expanded once into its 44 round-key words (FIPS-197 §5.2).
///
/// Build one per meter key when keys are loaded and keep it; encrypting and decrypting with it never
/// allocates. The raw key bytes are not kept and ``description`` never shows key material.
public struct AES128Key: Sendable, CustomStringConvertible {
    /// The key schedule w[0..<44] as big-endian words.
    let roundKeys: InlineArray<44, UInt32>

    /// Expands a key from exactly 16 bytes.
    ///
    /// - Parameter bytes: The 16 key bytes.
    /// - Returns: `nil` unless `bytes` holds exactly 16 bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard let block = AES128.Block(bytes: bytes) else { return nil }
        self.init(block)
    }

    /// Expands a key given as 32 hexadecimal digits (upper or lower case, spaces between bytes allowed).
    ///
    /// - Parameter hex: The key in hexadecimal.
    /// - Returns: `nil` unless `hex` is valid hexadecimal for exactly 16 bytes.
    public init?(hex: some StringProtocol) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// Expands a key from memory without allocating.
    ///
    /// - Parameter pointer: The first of 16 readable key bytes.
    public init(loadingFrom pointer: UnsafeRawPointer) {
        self.init(AES128.Block(loadingFrom: pointer))
    }

    /// Expands a key held as one block.
    ///
    /// - Parameter key: The 16 key bytes.
    public init(_ key: AES128.Block) {
        var w = InlineArray<44, UInt32>(repeating: 0)
        w[0] = key.word0
        w[1] = key.word1
        w[2] = key.word2
        w[3] = key.word3
        var roundConstant: UInt32 = 0x01
        var i = 4
        while i < 44 {
            var temp = w[i - 1]
            if i & 3 == 0 {
                temp = AES128.subShift(temp, temp, temp, temp)  // SubWord on all four bytes
                temp = AES128.rotateLeft(temp, 8) ^ (roundConstant << 24)  // RotWord commutes with SubWord
                roundConstant = UInt32(truncatingIfNeeded: (roundConstant << 1) ^ ((roundConstant >> 7) * 0x11B))
            }
            w[i] = w[i - 4] ^ temp
            i += 1
        }
        self.roundKeys = w
    }

    /// A fixed placeholder: key material is never printed.
    public var description: String { "AES128Key(redacted)" }
}

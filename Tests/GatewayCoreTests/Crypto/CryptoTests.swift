import GatewayCore
import Testing

/// Parses hex in tests, failing the test on bad input.
func bytes(_ hex: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
    try #require(Hex.decode(hex), "bad hex in test", sourceLocation: sourceLocation)
}

/// The key of FIPS-197 Appendix B, SP 800-38A and RFC 4493.
let sp800Key = "2b7e151628aed2a6abf7158809cf4f3c"

/// SP 800-38A F.1–F.5 plaintext (four blocks).
let sp800Plaintext =
    "6bc1bee22e409f96e93d7e117393172a" + "ae2d8a571e03ac9c9eb76fac45af8e51"
    + "30c81c46a35ce411e5fbc1191a0a52ef" + "f69f2445df4f9b17ad2b417be66c3710"

@Suite struct AES128Tests {
    struct BlockVector: Sendable, CustomTestStringConvertible {
        var name: String
        var key: String
        var plaintext: String
        var ciphertext: String
        var testDescription: String { name }
    }

    static let blockVectors: [BlockVector] = [
        BlockVector(
            name: "FIPS-197 C.1",
            key: "000102030405060708090a0b0c0d0e0f",
            plaintext: "00112233445566778899aabbccddeeff",
            ciphertext: "69c4e0d86a7b0430d8cdb78070b4c55a"
        ),
        BlockVector(
            name: "FIPS-197 B",
            key: sp800Key,
            plaintext: "3243f6a8885a308d313198a2e0370734",
            ciphertext: "3925841d02dc09fbdc118597196a0b32"
        ),
        BlockVector(
            name: "SP 800-38A F.1.1 #1",
            key: sp800Key,
            plaintext: "6bc1bee22e409f96e93d7e117393172a",
            ciphertext: "3ad77bb40d7a3660a89ecaf32466ef97"
        ),
        BlockVector(
            name: "SP 800-38A F.1.1 #2",
            key: sp800Key,
            plaintext: "ae2d8a571e03ac9c9eb76fac45af8e51",
            ciphertext: "f5d3d58503b9699de785895a96fdbaaf"
        ),
        BlockVector(
            name: "SP 800-38A F.1.1 #3",
            key: sp800Key,
            plaintext: "30c81c46a35ce411e5fbc1191a0a52ef",
            ciphertext: "43b1cd7f598ece23881b00e3ed030688"
        ),
        BlockVector(
            name: "SP 800-38A F.1.1 #4",
            key: sp800Key,
            plaintext: "f69f2445df4f9b17ad2b417be66c3710",
            ciphertext: "7b0c785e27e8ad3f8223207104725dd4"
        ),
    ]

    @Test(arguments: blockVectors)
    func encryptsAndDecryptsKnownBlocks(_ vector: BlockVector) throws {
        let key = try #require(AES128Key(hex: vector.key))
        let plain = try #require(AES128.Block(bytes: try bytes(vector.plaintext)))
        let cipher = try #require(AES128.Block(bytes: try bytes(vector.ciphertext)))
        #expect(AES128.encrypt(plain, with: key) == cipher)
        #expect(AES128.decrypt(cipher, with: key) == plain)
    }

    @Test func encryptsInPlaceThroughPointers() throws {
        let key = try #require(AES128Key(hex: sp800Key))
        var buffer = try bytes("6bc1bee22e409f96e93d7e117393172a")
        buffer.withUnsafeMutableBytes { raw in
            AES128.encryptBlock(UnsafeRawPointer(raw.baseAddress!), to: raw.baseAddress!, with: key)
        }
        #expect(buffer == (try bytes("3ad77bb40d7a3660a89ecaf32466ef97")))
        buffer.withUnsafeMutableBytes { raw in
            AES128.decryptBlock(UnsafeRawPointer(raw.baseAddress!), to: raw.baseAddress!, with: key)
        }
        #expect(buffer == (try bytes("6bc1bee22e409f96e93d7e117393172a")))
    }

    @Test func decryptInvertsEncryptForManyBlocks() throws {
        let key = try #require(AES128Key(bytes: (0..<16).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }))
        var block = AES128.Block(word0: 0x0123_4567, word1: 0x89AB_CDEF, word2: 0xFEDC_BA98, word3: 0x7654_3210)
        for _ in 0..<1000 {
            let cipher = AES128.encrypt(block, with: key)
            #expect(AES128.decrypt(cipher, with: key) == block)
            block = cipher
        }
    }

    @Test func cbcMatchesSP800_38A() throws {
        let key = try #require(AES128Key(hex: sp800Key))
        let iv = try #require(AES128.Block(bytes: try bytes("000102030405060708090a0b0c0d0e0f")))
        let expected = try bytes(
            "7649abac8119b246cee98e9b12e9197d" + "5086cb9b507219ee95db113a917678b2"
                + "73bed6b8e3c1743b7116e69e22229516" + "3ff1caa1681fac09120eca307586e1a7"
        )
        var buffer = try bytes(sp800Plaintext)
        buffer.withUnsafeMutableBytes { _ = AES128.encryptCBC($0, iv: iv, with: key) }
        #expect(buffer == expected)
        buffer.withUnsafeMutableBytes { _ = AES128.decryptCBC($0, iv: iv, with: key) }
        #expect(buffer == (try bytes(sp800Plaintext)))
    }

    @Test func ctrMatchesSP800_38A() throws {
        let key = try #require(AES128Key(hex: sp800Key))
        let start = try #require(AES128.Block(bytes: try bytes("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")))
        let expected = try bytes(
            "874d6191b620e3261bef6864990db6ce" + "9806f66b7970fdff8617187bb9fffdff"
                + "5ae4df3edbd5d35e5b4f09020db03eab" + "1e031dda2fbe03d1792170a0f3009cee"
        )
        var buffer = try bytes(sp800Plaintext)
        var counter = start
        buffer.withUnsafeMutableBytes { AES128.applyCTR($0, counter: &counter, with: key) }
        #expect(buffer == expected)
        // A partial last block uses a prefix of the keystream.
        var partial = Array(try bytes(sp800Plaintext).prefix(21))
        counter = start
        partial.withUnsafeMutableBytes { AES128.applyCTR($0, counter: &counter, with: key) }
        #expect(partial == Array(expected.prefix(21)))
    }

    @Test func counterIncrementCarriesAcrossWords() {
        var block = AES128.Block(word0: 0, word1: 0, word2: 0xFFFF_FFFF, word3: 0xFFFF_FFFF)
        block.increment()
        #expect(block == AES128.Block(word0: 0, word1: 1, word2: 0, word3: 0))
        var top = AES128.Block(word0: 0xFFFF_FFFF, word1: 0xFFFF_FFFF, word2: 0xFFFF_FFFF, word3: 0xFFFF_FFFF)
        top.increment()
        #expect(top == .zero)
    }

    @Test func keyRejectsWrongLengthsAndNeverPrintsMaterial() throws {
        #expect(AES128Key(bytes: [UInt8](repeating: 1, count: 15)) == nil)
        #expect(AES128Key(bytes: [UInt8](repeating: 1, count: 17)) == nil)
        #expect(AES128Key(hex: "00") == nil)
        let key = try #require(AES128Key(hex: sp800Key))
        #expect(!String(describing: key).lowercased().contains("2b7e"))
    }
}

@Suite struct AESCMACTests {
    struct Example: Sendable, CustomTestStringConvertible {
        var length: Int
        var tag: String
        var testDescription: String { "RFC 4493 example, \(length) bytes" }
    }

    static let examples: [Example] = [
        Example(length: 0, tag: "bb1d6929e95937287fa37d129b756746"),
        Example(length: 16, tag: "070a16b46b4d4144f79bdd9dd04a287c"),
        Example(length: 40, tag: "dfa66747de9ae63030ca32611497c827"),
        Example(length: 64, tag: "51f0bebf7e3b9d92fc49741779363cfe"),
    ]

    @Test func derivesRFC4493Subkeys() throws {
        let mac = AESCMAC(key: try #require(AES128Key(hex: sp800Key)))
        #expect(mac.subkeys.k1.bytes == (try bytes("fbeed618357133667c85e08f7236a8de")))
        #expect(mac.subkeys.k2.bytes == (try bytes("f7ddac306ae266ccf90bc11ee46d513b")))
    }

    @Test(arguments: examples)
    func matchesRFC4493(_ example: Example) throws {
        let key = try #require(AES128Key(hex: sp800Key))
        let message = Array(try bytes(sp800Plaintext).prefix(example.length))
        let tag = message.withUnsafeBytes { AESCMAC.authenticate($0, with: key) }
        #expect(tag.bytes == (try bytes(example.tag)))
    }

    @Test(arguments: examples)
    func streamingInAnySplitGivesTheSameTag(_ example: Example) throws {
        let key = try #require(AES128Key(hex: sp800Key))
        let message = Array(try bytes(sp800Plaintext).prefix(example.length))
        let expected = try bytes(example.tag)
        for split1 in 0...message.count {
            for split2 in split1...message.count {
                var mac = AESCMAC(key: key)
                message.withUnsafeBytes { raw in
                    mac.update(UnsafeRawBufferPointer(rebasing: raw[0..<split1]))
                    mac.update(UnsafeRawBufferPointer(rebasing: raw[split1..<split2]))
                    mac.update(UnsafeRawBufferPointer(rebasing: raw[split2...]))
                }
                #expect(mac.finalize().bytes == expected)
            }
        }
    }

    @Test func truncatesOutput() throws {
        let key = try #require(AES128Key(hex: sp800Key))
        var mac = AESCMAC(key: key)
        let message = try bytes(sp800Plaintext)
        message.withUnsafeBytes { mac.update($0) }
        var eight = [UInt8](repeating: 0, count: 8)
        eight.withUnsafeMutableBytes { mac.finalize(into: $0) }
        #expect(eight == (try bytes("51f0bebf7e3b9d92")))
        #expect(mac.finalizeTruncatedTo64() == 0x51f0_bebf_7e3b_9d92)
    }
}

@Suite struct CRC16Tests {
    @Test func ccittFalseCheckValue() {
        let check = Array("123456789".utf8)
        #expect(check.withUnsafeBytes { CRC16CCITT.checksum($0) } == 0x29B1)
        #expect([UInt8]().withUnsafeBytes { CRC16CCITT.checksum($0) } == 0xFFFF)
    }

    @Test func en13757CheckValue() {
        let check = Array("123456789".utf8)
        #expect(check.withUnsafeBytes { CRC16.en13757.checksum($0) } == 0xC2B7)
    }

    @Test func piecewiseUpdateMatchesOneShot() {
        let data = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let crc = CRC16.ccittFalse
        let whole = data.withUnsafeBytes { crc.checksum($0) }
        let pieces = data.withUnsafeBytes { raw in
            let first = crc.update(crc.initialValue, with: UnsafeRawBufferPointer(rebasing: raw[0..<123]))
            return crc.update(first, with: UnsafeRawBufferPointer(rebasing: raw[123...])) ^ crc.xorOut
        }
        #expect(whole == pieces)
    }
}

@Suite struct HexTests {
    @Test func parsesUpperLowerAndSpaces() {
        #expect(Hex.decode("474d01") == [0x47, 0x4D, 0x01])
        #expect(Hex.decode("47 4D 01") == [0x47, 0x4D, 0x01])
        #expect(Hex.decode("  47\t4d\n01 ") == [0x47, 0x4D, 0x01])
        #expect(Hex.decode("") == [])
    }

    @Test(arguments: ["474", "4 74D", "zz", "47-4D", "0x47", "é1"])
    func rejectsMalformedText(_ text: String) {
        #expect(Hex.decode(text) == nil)
    }

    @Test func encodesUpperCase() {
        #expect(Hex.encode([0x00, 0xAB, 0x4d]) == "00AB4D")
    }
}

extension AES128 {
    /// Encrypts whole blocks in place in CBC mode (SP 800-38A §6.2).
    ///
    /// - Parameters:
    ///   - buffer: The plaintext, replaced by the ciphertext. Its length must be a multiple of 16.
    ///   - iv: The initialisation vector.
    ///   - key: The expanded key.
    /// - Returns: The last ciphertext block (the IV to continue the chain with), or `iv` for an empty buffer.
    @discardableResult
    public static func encryptCBC(
        _ buffer: UnsafeMutableRawBufferPointer,
        iv: Block,
        with key: AES128Key
    ) -> Block {
        precondition(buffer.count % blockSize == 0, "CBC needs whole blocks")
        guard let base = buffer.baseAddress else { return iv }
        var chain = iv
        var offset = 0
        while offset < buffer.count {
            chain = encrypt(Block(loadingFrom: base + offset) ^ chain, with: key)
            chain.store(to: base + offset)
            offset += blockSize
        }
        return chain
    }

    /// Decrypts whole blocks in place in CBC mode (SP 800-38A §6.2).
    ///
    /// - Parameters:
    ///   - buffer: The ciphertext, replaced by the plaintext. Its length must be a multiple of 16.
    ///   - iv: The initialisation vector.
    ///   - key: The expanded key.
    /// - Returns: The last ciphertext block (the IV to continue the chain with), or `iv` for an empty buffer.
    @discardableResult
    public static func decryptCBC(
        _ buffer: UnsafeMutableRawBufferPointer,
        iv: Block,
        with key: AES128Key
    ) -> Block {
        precondition(buffer.count % blockSize == 0, "CBC needs whole blocks")
        guard let base = buffer.baseAddress else { return iv }
        var chain = iv
        var offset = 0
        while offset < buffer.count {
            let cipher = Block(loadingFrom: base + offset)
            (decrypt(cipher, with: key) ^ chain).store(to: base + offset)
            chain = cipher
            offset += blockSize
        }
        return chain
    }

    /// Encrypts or decrypts in place in CTR mode (SP 800-38A §6.5); a final partial block is allowed.
    ///
    /// The counter block is incremented as one 128-bit big-endian integer after each block, and left at the
    /// value for the next call.
    ///
    /// - Parameters:
    ///   - buffer: The input, replaced by the output.
    ///   - counter: The first counter block; on return, the next unused counter block.
    ///   - key: The expanded key.
    public static func applyCTR(
        _ buffer: UnsafeMutableRawBufferPointer,
        counter: inout Block,
        with key: AES128Key
    ) {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let keystream = encrypt(counter, with: key)
            counter.increment()
            let count = min(blockSize, buffer.count - offset)
            if count == blockSize {
                (Block(loadingFrom: base + offset) ^ keystream).store(to: base + offset)
            } else {
                for index in 0..<count {
                    let byte = base.load(fromByteOffset: offset + index, as: UInt8.self)
                    base.storeBytes(of: byte ^ keystream[byte: index], toByteOffset: offset + index, as: UInt8.self)
                }
            }
            offset += count
        }
    }
}

extension AES128.Block {
    /// Adds one to the block read as a 128-bit big-endian integer, wrapping at 2^128.
    public mutating func increment() {
        var carry: Bool
        (word3, carry) = word3.addingReportingOverflow(1)
        guard carry else { return }
        (word2, carry) = word2.addingReportingOverflow(1)
        guard carry else { return }
        (word1, carry) = word1.addingReportingOverflow(1)
        guard carry else { return }
        word0 &+= 1
    }

    /// The block shifted left by one bit as a 128-bit big-endian integer (the top bit is dropped).
    var shiftedLeftByOne: AES128.Block {
        AES128.Block(
            word0: word0 << 1 | word1 >> 31,
            word1: word1 << 1 | word2 >> 31,
            word2: word2 << 1 | word3 >> 31,
            word3: word3 << 1
        )
    }
}

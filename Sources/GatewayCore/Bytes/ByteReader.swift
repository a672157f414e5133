// Fixed-width integer reads from frame bytes: the one place the decoders get a big- or little-endian integer from a
// byte offset. Every read assumes the caller has checked the bounds (the decoders check a field's length once, before
// reading it), never allocates and inlines into the decode loop.
//
// Native frames are big-endian (`firmware-protocols/native.md`); M-Bus is little-endian except the wireless block
// CRCs and the AFL MAC (`firmware-protocols/wmbus-oms.md`); CJ/T 188 sends its data identifier big-endian.

extension UnsafeRawBufferPointer {
    /// The big-endian UInt16 at `offset`; the caller has checked the bounds.
    @inline(__always)
    func u16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// The big-endian UInt32 at `offset`; the caller has checked the bounds.
    @inline(__always)
    func u32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// The big-endian UInt64 at `offset`; the caller has checked the bounds.
    @inline(__always)
    func u64(_ offset: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// The Int8 at `offset`; the caller has checked the bounds.
    @inline(__always)
    func i8(_ offset: Int) -> Int8 {
        Int8(bitPattern: self[offset])
    }

    /// The big-endian Int16 at `offset`; the caller has checked the bounds.
    @inline(__always)
    func i16(_ offset: Int) -> Int16 {
        Int16(bitPattern: u16(offset))
    }

    /// The little-endian UInt16 at `offset`; the caller has checked the bounds.
    @inline(__always)
    func u16le(_ offset: Int) -> UInt16 {
        UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// The little-endian UInt32 at `offset`; the caller has checked the bounds.
    @inline(__always)
    func u32le(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}

extension InlineArray where Element == UInt8 {
    /// The little-endian UInt16 at `offset`; the caller has checked the bounds.
    @inline(__always)
    func u16le(_ offset: Int) -> UInt16 {
        UInt16(self[offset]) | UInt16(self[offset + 1]) << 8
    }

    /// The little-endian UInt32 at `offset`; the caller has checked the bounds.
    @inline(__always)
    func u32le(_ offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16
            | UInt32(self[offset + 3]) << 24
    }

    /// The big-endian UInt64 at `offset`; the caller has checked the bounds.
    @inline(__always)
    func u64(_ offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in offset..<(offset + 8) {
            value = value << 8 | UInt64(self[index])
        }
        return value
    }
}

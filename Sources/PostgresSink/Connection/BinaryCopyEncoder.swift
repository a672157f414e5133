import GatewayCore

/// Builds a PostgreSQL binary `COPY … FROM STDIN (FORMAT binary)` stream in one reused byte buffer.
///
/// Layout: the 11-byte signature `PGCOPY\n\377\r\n\0`, an int32 flags word and an int32 header-extension
/// length, then per tuple an int16 field count followed by each field as an int32 byte length (−1 for NULL)
/// and its bytes, and finally the int16 trailer −1. All integers are big-endian.
///
/// Wire types must match the column types exactly (int4 bytes into an int8 column is an error), so each
/// writer names its PostgreSQL type. The buffer's capacity is reserved once and kept by ``reset()``; writing
/// a row allocates nothing once the buffer has grown to the batch size.
///
/// A value type with no shared state: each owner (the telemetry store, or one store transaction) keeps its own. The
/// rows it encodes are written through ``RowFieldWriter``, so the same functions fill ``ColumnArrays`` for a
/// pipelined write.
struct BinaryCopyEncoder: RowFieldWriter, Sendable {
    /// The stream so far. Pass it to ``PostgresConnection/copyIn(sql:data:)`` after ``finish()``.
    private(set) var bytes: [UInt8]
    /// Tuples begun since the last ``reset()``.
    private(set) var rowCount: Int = 0
    /// Fields still expected in the current tuple (checked in debug builds).
    private var pendingFields: Int = 0

    /// The 11-byte signature, flags (0: no OIDs) and header-extension length (0).
    static let header: [UInt8] = [
        0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00,  // "PGCOPY\n\377\r\n\0"
        0x00, 0x00, 0x00, 0x00,  // flags
        0x00, 0x00, 0x00, 0x00,  // header extension length
    ]

    /// Creates an encoder whose buffer already holds the stream header.
    /// - Parameters:
    ///   - capacity: Bytes to reserve up front; size it for the largest batch to avoid any regrowth.
    init(reservingCapacity capacity: Int = 1 << 20) {
        bytes = []
        bytes.reserveCapacity(max(capacity, Self.header.count + 2))
        bytes.append(contentsOf: Self.header)
    }

    /// Empties the buffer (keeping its capacity) and writes a fresh header.
    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: Self.header)
        rowCount = 0
        pendingFields = 0
    }

    /// Starts a tuple of `fieldCount` fields.
    /// - Parameters:
    ///   - fieldCount: The number of fields that follow; must equal the COPY column list's length.
    mutating func beginTuple(fieldCount: Int16) {
        assert(pendingFields == 0, "previous tuple is missing \(pendingFields) field(s)")
        pendingFields = Int(fieldCount)
        rowCount += 1
        appendBigEndian(fieldCount)
    }

    /// Appends the trailer (int16 −1). The stream is complete afterwards.
    mutating func finish() {
        assert(pendingFields == 0, "last tuple is missing \(pendingFields) field(s)")
        appendBigEndian(Int16(-1))
    }

    // MARK: Field writers

    /// Writes SQL NULL (length −1, no bytes).
    mutating func writeNull() {
        fieldWritten()
        appendBigEndian(Int32(-1))
    }

    /// Writes an `int2` (smallint).
    /// - Parameters:
    ///   - value: The value.
    mutating func writeInt16(_ value: Int16) {
        fieldWritten()
        appendBigEndian(Int32(2))
        appendBigEndian(value)
    }


    /// Writes an `int4` (integer).
    /// - Parameters:
    ///   - value: The value.
    mutating func writeInt32(_ value: Int32) {
        fieldWritten()
        appendBigEndian(Int32(4))
        appendBigEndian(value)
    }


    /// Writes an `int8` (bigint).
    /// - Parameters:
    ///   - value: The value.
    mutating func writeInt64(_ value: Int64) {
        fieldWritten()
        appendBigEndian(Int32(8))
        appendBigEndian(value)
    }


    /// Writes a `bool` (one byte, 1 or 0).
    /// - Parameters:
    ///   - value: The value.
    mutating func writeBool(_ value: Bool) {
        fieldWritten()
        appendBigEndian(Int32(1))
        bytes.append(value ? 1 : 0)
    }

    /// Writes a `float8` (the IEEE 754 bits, big-endian).
    /// - Parameters:
    ///   - value: The value.
    mutating func writeFloat64(_ value: Double) {
        fieldWritten()
        appendBigEndian(Int32(8))
        appendBigEndian(value.bitPattern)
    }

    /// Writes a `timestamptz`: an int8 of microseconds since 2000-01-01T00:00:00Z.
    /// - Parameters:
    ///   - value: The time.
    mutating func writeTimestamp(_ value: Timestamp) {
        writeInt64(value.postgresMicroseconds)
    }

    /// Writes `text` (or `varchar`) as raw UTF-8; the connection's client encoding is UTF-8.
    ///
    /// PostgreSQL text cannot hold U+0000; the server rejects such a value and with it the whole COPY.
    /// - Parameters:
    ///   - value: The string.
    mutating func writeText(_ value: String) {
        fieldWritten()
        var value = value
        value.withUTF8 { utf8 in
            appendBigEndian(Int32(truncatingIfNeeded: utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }


    /// Writes `bytea`: the raw bytes.
    /// - Parameters:
    ///   - value: The bytes.
    mutating func writeBytea(_ value: [UInt8]) {
        fieldWritten()
        appendBigEndian(Int32(truncatingIfNeeded: value.count))
        bytes.append(contentsOf: value)
    }


    // MARK: Internals

    @inline(__always)
    private mutating func fieldWritten() {
        assert(pendingFields > 0, "more fields written than the tuple declared")
        pendingFields -= 1
    }

    @inline(__always)
    private mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

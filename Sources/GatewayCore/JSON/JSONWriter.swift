/// Writes compact JSON as UTF-8 bytes into one reusable buffer: the decode tool's fast path (`meter-gateway decode`
/// prints thousands of frames a second through it).
///
/// The text is the same, byte for byte, as GatewayHTTP's `GatewayJSONEncoder` (Foundation's `JSONEncoder` with
/// sorted keys and `/` unescaped) writes for the same document:
/// - members are written in the order the caller gives, so callers give them in byte order of their UTF-8 keys
///   (`"A" < "_" < "a"`, no numeric or case-folded ordering), as Foundation's `.sortedKeys` does;
/// - strings escape `"` and `\`, write U+0008, U+0009, U+000A, U+000C and U+000D as `\b`, `\t`, `\n`, `\f`, `\r`,
///   the other control characters below U+0020 as `\u00xx` (lower-case hex), and everything else as its UTF-8;
/// - an ``ExactDecimal`` is written as Foundation's `Decimal` prints it: every significant digit, no trailing
///   fractional zeros (`1234.500` as `1234.5`), `0` for zero, never an exponent;
/// - integers in decimal, `true`, `false`, `null`.
///
/// Allocation: none once ``bytes`` has grown to the largest document; ``removeAll()`` keeps the capacity.
public struct JSONWriter: Sendable {
    /// The JSON text written so far.
    public private(set) var bytes: [UInt8]
    /// Whether a value was written that `GatewayJSONEncoder` refuses (an ``ExactDecimal`` whose power of ten lies
    /// outside Foundation `Decimal`'s −128…127). The text is then not to be used.
    public private(set) var hasUnencodableValue = false
    /// Whether the next value or key needs a `,` before it.
    private var needsSeparator = false
    /// How many objects and arrays are open.
    private var depth = 0
    /// The objects opened with ``beginObject(sortingMembers:)`` that are still open, innermost last.
    private var sortedObjects: [SortedObject] = []
    /// The members written directly into those objects, in writing order.
    private var sortedMembers: [Member] = []
    /// Scratch space for reordering a sorted object's members.
    private var scratch: [UInt8] = []
    /// Scratch space for the order of a sorted object's members.
    private var order: [Int] = []

    /// An object whose members are put in key order when it closes.
    private struct SortedObject: Sendable {
        var depth: Int
        var firstMember: Int
    }

    /// One member of a sorted object: its key and where its text (key and value, no separator) starts.
    private struct Member: @unchecked Sendable {
        // The key is a `StaticString`'s UTF-8, which is immortal: the pointer stays valid.
        var key: UnsafeBufferPointer<UInt8>
        var start: Int
    }

    /// Creates an empty writer.
    /// - Parameter capacity: The bytes to reserve up front.
    public init(capacity: Int = 8192) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Forgets the text written so far and keeps the buffer's capacity.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        hasUnencodableValue = false
        needsSeparator = false
        depth = 0
        sortedObjects.removeAll(keepingCapacity: true)
        sortedMembers.removeAll(keepingCapacity: true)
    }

    /// Appends raw bytes that are not JSON values (a newline between JSON Lines records).
    /// - Parameter byte: The byte.
    public mutating func appendRaw(_ byte: UInt8) {
        bytes.append(byte)
        needsSeparator = false
    }

    // MARK: Structure

    /// Opens an object (`{`).
    ///
    /// - Parameter sortingMembers: Whether to put the members written into it in byte order of their keys when it
    ///   closes (for an object that two writers fill, as two `Encodable`s sharing one keyed container). Otherwise
    ///   the caller writes them in that order.
    public mutating func beginObject(sortingMembers: Bool = false) {
        separate()
        depth += 1
        if sortingMembers { sortedObjects.append(SortedObject(depth: depth, firstMember: sortedMembers.count)) }
        bytes.append(UInt8(ascii: "{"))
        needsSeparator = false
    }

    /// Closes the innermost object (`}`).
    public mutating func endObject() {
        if let object = sortedObjects.last, object.depth == depth {
            sortMembers(from: object.firstMember)
            sortedMembers.removeSubrange(object.firstMember...)
            sortedObjects.removeLast()
        }
        depth -= 1
        bytes.append(UInt8(ascii: "}"))
        needsSeparator = true
    }

    /// Opens an array (`[`).
    public mutating func beginArray() {
        separate()
        depth += 1
        bytes.append(UInt8(ascii: "["))
        needsSeparator = false
    }

    /// Closes the innermost array (`]`).
    public mutating func endArray() {
        depth -= 1
        bytes.append(UInt8(ascii: "]"))
        needsSeparator = true
    }

    /// Writes a member's key; its value comes next.
    /// - Parameter name: The key, plain ASCII that needs no escaping (the documents' own member names).
    public mutating func key(_ name: StaticString) {
        separate()
        if let object = sortedObjects.last, object.depth == depth {
            sortedMembers.append(
                Member(
                    key: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount),
                    start: bytes.count
                )
            )
        }
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsSeparator = false
    }

    // MARK: Values

    /// Writes `null`.
    public mutating func null() {
        separate()
        bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
        needsSeparator = true
    }

    /// Writes `true` or `false`.
    /// - Parameter value: The value.
    public mutating func bool(_ value: Bool) {
        separate()
        if value {
            bytes.append(contentsOf: [UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "u"), UInt8(ascii: "e")])
        } else {
            bytes.append(contentsOf: [
                UInt8(ascii: "f"), UInt8(ascii: "a"), UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "e"),
            ])
        }
        needsSeparator = true
    }

    /// Writes an integer in decimal.
    /// - Parameter value: The value.
    public mutating func integer(_ value: some FixedWidthInteger) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(UInt64(value.magnitude))
        needsSeparator = true
    }

    /// Writes a string, escaped.
    /// - Parameter value: The string.
    public mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        var text = value
        text.withUTF8 { appendEscaped($0) }
        bytes.append(UInt8(ascii: "\""))
        needsSeparator = true
    }

    /// Writes a string known at compile time, escaped.
    /// - Parameter value: The string.
    public mutating func string(_ value: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        value.withUTF8Buffer { appendEscaped($0) }
        bytes.append(UInt8(ascii: "\""))
        needsSeparator = true
    }

    /// Writes bytes as a string of upper-case hex digits, two per byte (``Hex/encode(_:)`` as a JSON string).
    /// - Parameter value: The bytes.
    public mutating func hexString(_ value: some Sequence<UInt8>) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        for byte in value {
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 0x0F)])
        }
        bytes.append(UInt8(ascii: "\""))
        needsSeparator = true
    }

    /// Writes an exact decimal as a JSON number, as Foundation's `Decimal` prints it (`1234.500` as `1234.5`).
    ///
    /// A power of ten outside −128…127 (where `Decimal` cannot hold the value) is written as `0` and sets
    /// ``hasUnencodableValue``.
    /// - Parameter value: The number.
    public mutating func decimal(_ value: ExactDecimal) {
        separate()
        needsSeparator = true
        guard (-128...127).contains(value.exponent) else {
            hasUnencodableValue = true
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var significand = value.significand
        var exponent = value.exponent
        guard significand != 0 else {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        while exponent < 0 && significand % 10 == 0 {
            significand /= 10
            exponent += 1
        }
        if value.isNegative { bytes.append(UInt8(ascii: "-")) }
        if exponent >= 0 {
            appendDigits(significand)
            for _ in 0..<exponent { bytes.append(UInt8(ascii: "0")) }
            return
        }
        // The digits placed around the point: `0.00ddd` when the significand is shorter than the scale.
        let scale = -exponent
        var count = 0
        var rest = significand
        while rest > 0 {
            rest /= 10
            count += 1
        }
        if count <= scale {
            bytes.append(UInt8(ascii: "0"))
            bytes.append(UInt8(ascii: "."))
            for _ in 0..<(scale - count) { bytes.append(UInt8(ascii: "0")) }
            appendDigits(significand)
        } else {
            var divisor: UInt64 = 1
            for _ in 0..<scale { divisor &*= 10 }
            appendDigits(significand / divisor)
            bytes.append(UInt8(ascii: "."))
            appendDigits(significand % divisor, width: scale)
        }
    }

    // MARK: Members

    /// Writes a member whose value is a string.
    public mutating func member(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    /// Writes a member whose value is a string or `null`.
    public mutating func member(_ name: StaticString, _ value: String?) {
        key(name)
        if let value { string(value) } else { null() }
    }

    /// Writes a member whose value is an integer.
    public mutating func member(_ name: StaticString, _ value: some FixedWidthInteger) {
        key(name)
        integer(value)
    }

    /// Writes a member whose value is an integer or `null`.
    public mutating func member<Value: FixedWidthInteger>(_ name: StaticString, _ value: Value?) {
        key(name)
        if let value { integer(value) } else { null() }
    }

    /// Writes a member whose value is a boolean.
    public mutating func member(_ name: StaticString, _ value: Bool) {
        key(name)
        bool(value)
    }

    /// Writes a member whose value is an exact decimal.
    public mutating func member(_ name: StaticString, _ value: ExactDecimal) {
        key(name)
        decimal(value)
    }

    /// Writes a member whose value is an exact decimal or `null`.
    public mutating func member(_ name: StaticString, _ value: ExactDecimal?) {
        key(name)
        if let value { decimal(value) } else { null() }
    }

    /// Writes a member only when it has a value (a synthesized `Encodable` leaves a `nil` optional out).
    public mutating func memberIfPresent(_ name: StaticString, _ value: String?) {
        if let value { member(name, value) }
    }

    /// Writes a member only when it has a value (a synthesized `Encodable` leaves a `nil` optional out).
    public mutating func memberIfPresent<Value: FixedWidthInteger>(_ name: StaticString, _ value: Value?) {
        if let value { member(name, value) }
    }

    // MARK: Bytes

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
    private static let lowerHexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Rewrites the members `sortedMembers[first...]` (the innermost sorted object's, all written) in key order.
    private mutating func sortMembers(from first: Int) {
        let members = sortedMembers[first...]
        guard members.count > 1, let contentStart = members.first?.start else { return }
        // Each member's text runs to the separator before the next member's key, the last one to the end.
        let all = sortedMembers
        var order = self.order
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: members.indices)
        order.sort { lhs, rhs in all[lhs].key.lexicographicallyPrecedes(all[rhs].key) }
        defer { self.order = order }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: bytes[contentStart...])
        bytes.removeSubrange(contentStart...)
        for (position, index) in order.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            let start = sortedMembers[index].start - contentStart
            let end = index + 1 < sortedMembers.count ? sortedMembers[index + 1].start - contentStart - 1 : scratch.count
            bytes.append(contentsOf: scratch[start..<end])
        }
    }

    private mutating func separate() {
        if needsSeparator { bytes.append(UInt8(ascii: ",")) }
    }

    /// Appends the decimal digits of `value`, left-padded with zeros to `width`.
    private mutating func appendDigits(_ value: UInt64, width: Int = 1) {
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &scratch) { buffer in
            repeat {
                count += 1
                buffer[24 - count] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            while count < min(width, 24) {
                count += 1
                buffer[24 - count] = UInt8(ascii: "0")
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(24 - count)...]))
        }
    }

    private mutating func appendEscaped(_ text: UnsafeBufferPointer<UInt8>) {
        var start = 0
        for index in 0..<text.count {
            let byte = text[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[start..<index]))
            start = index + 1
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            default:
                bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(Self.lowerHexDigits[Int(byte >> 4)])
                bytes.append(Self.lowerHexDigits[Int(byte & 0x0F)])
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[start..<text.count]))
    }
}

/// A document that writes itself through a ``JSONWriter`` as the same text `GatewayJSONEncoder` makes of its
/// `Encodable` form.
public protocol JSONWritable {
    /// Writes the document as one JSON value.
    /// - Parameter writer: The writer.
    func write(to writer: inout JSONWriter)
}

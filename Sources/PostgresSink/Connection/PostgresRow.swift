internal import CLibPQ
public import GatewayCore

/// One row of a text-format query result, decoded column by column into Swift types.
///
/// Stores read rows through this type instead of indexing `[String?]` and converting by hand: a column that is
/// NULL where a value is required, or text that does not parse as the asked type, is a
/// ``PostgresError/Code-swift.struct/unexpectedResult`` naming the column, never a silently skipped row.
///
/// A row that ``PostgresConnection/rows(_:_:)`` returns reads its columns straight from the libpq result (which
/// lives until the last of its rows is gone): numbers, booleans and arrays of them are parsed from the result's
/// bytes without building a `String` per column (``PostgresDecodable/init(postgresBytes:)``).
public struct PostgresRow: Sendable {
    private enum Storage: Sendable {
        case texts([String?])
        case result(PostgresResult, row: Int32)
    }

    private let storage: Storage

    public init(columns: [String?]) {
        storage = .texts(columns)
    }

    /// A row of a result that ``PostgresConnection/rows(_:_:)`` received.
    init(result: PostgresResult, row: Int32) {
        storage = .result(result, row: row)
    }

    /// Each column's text value, or nil for SQL NULL.
    public var columns: [String?] {
        switch storage {
        case .texts(let columns):
            return columns
        case .result(let result, let row):
            return (0..<PQnfields(result.handle)).map { column in
                guard PQgetisnull(result.handle, row, column) == 0, let value = PQgetvalue(result.handle, row, column)
                else { return nil }
                return String(cString: value)
            }
        }
    }

    /// The number of columns.
    public var count: Int {
        switch storage {
        case .texts(let columns): return columns.count
        case .result(let result, _): return Int(PQnfields(result.handle))
        }
    }

    /// Calls `body` with the UTF-8 bytes of a column, or nil for SQL NULL; the bytes are valid only inside `body`.
    private func withBytes<R>(of column: Int, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        switch storage {
        case .texts(let columns):
            guard var text = columns[column] else { return body(nil) }
            return text.withUTF8 { body($0) }
        case .result(let result, let row):
            let handle = result.handle
            guard PQgetisnull(handle, row, Int32(column)) == 0, let value = PQgetvalue(handle, row, Int32(column))
            else {
                return body(nil)
            }
            let length = Int(PQgetlength(handle, row, Int32(column)))
            return value.withMemoryRebound(to: UInt8.self, capacity: length) {
                body(UnsafeBufferPointer(start: $0, count: length))
            }
        }
    }

    /// Decodes a column that must not be NULL.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when the column is missing, NULL or not a `T`.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
        guard (0..<count).contains(column) else {
            throw PostgresError(code: .unexpectedResult, message: "row has \(count) columns, column \(column) asked")
        }
        // nil: NULL; .some(nil): not a T.
        let value: T?? = withBytes(of: column) { bytes in bytes.map { T(postgresBytes: $0) } }
        guard let value else {
            throw PostgresError(
                code: .unexpectedResult,
                message: "column \(column) is NULL where \(T.self) is required"
            )
        }
        guard let value else {
            throw PostgresError(code: .unexpectedResult, message: "column \(column) is not a \(T.self)")
        }
        return value
    }

    /// Decodes a column that may be NULL.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when the column is missing or its text is not a `T`.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T?.Type) throws -> T? {
        guard (0..<count).contains(column) else {
            throw PostgresError(code: .unexpectedResult, message: "row has \(count) columns, column \(column) asked")
        }
        let value: T?? = withBytes(of: column) { bytes in bytes.map { T(postgresBytes: $0) } }
        guard let value else { return nil }
        guard let value else {
            throw PostgresError(code: .unexpectedResult, message: "column \(column) is not a \(T.self)")
        }
        return value
    }
}

/// Owns one libpq result for the rows read from it, and clears it when the last of them is gone.
///
/// `@unchecked Sendable`: the one field is a result that nothing changes after `PQexecParams` returned it; libpq's
/// accessors (`PQgetvalue`, `PQgetlength`, `PQgetisnull`, `PQnfields`) only read it, so rows on any thread may read
/// it at once, and `deinit` clears it exactly once.
final class PostgresResult: @unchecked Sendable {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) {
        self.handle = handle
    }

    deinit { PQclear(handle) }
}

/// A type whose rows a store reads: built from one ``PostgresRow`` in the column order of the store's query.
public protocol PostgresRowDecodable {
    init(row: PostgresRow) throws
}

/// A value that can be read from PostgreSQL's text output format.
public protocol PostgresDecodable {
    /// Parses the server's text form; nil when the text is not a valid value.
    init?(postgresText: String)

    /// Parses the server's text form from its UTF-8 bytes; nil when they are not a valid value. The default builds
    /// a `String` for ``init(postgresText:)``; numbers, booleans and arrays parse the bytes in place.
    init?(postgresBytes: UnsafeBufferPointer<UInt8>)
}

extension PostgresDecodable {
    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) {
        self.init(postgresText: String(decoding: postgresBytes, as: UTF8.self))
    }
}

/// Parses a decimal integer as `T(_:radix: 10)` does (an optional sign, then at least one digit; nil on overflow)
/// without building a `String`.
@inline(__always)
private func parseDecimal<T: FixedWidthInteger>(_ bytes: UnsafeBufferPointer<UInt8>, as: T.Type = T.self) -> T? {
    var index = 0
    var isNegative = false
    if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
        isNegative = sign == UInt8(ascii: "-")
        index = 1
    }
    guard index < bytes.count else { return nil }
    var value: T = 0
    while index < bytes.count {
        let digit = bytes[index] &- UInt8(ascii: "0")
        guard digit < 10 else { return nil }
        let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
        let (next, overflowB) =
            isNegative ? shifted.subtractingReportingOverflow(T(digit)) : shifted.addingReportingOverflow(T(digit))
        guard !overflowA, !overflowB else { return nil }
        value = next
        index += 1
    }
    return value
}

/// A value sent as a text parameter (`$1`, `$2`, …).
public protocol PostgresEncodable {
    /// The text the server parses for this value.
    var postgresText: String { get }
}

extension String: PostgresDecodable, PostgresEncodable {
    public init?(postgresText: String) { self = postgresText }
    public var postgresText: String { self }
}

extension Int64: PostgresDecodable, PostgresEncodable {
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) {
        guard let value = parseDecimal(postgresBytes, as: Self.self) else { return nil }
        self = value
    }
    public var postgresText: String { String(self) }
}

extension Int: PostgresDecodable, PostgresEncodable {
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) {
        guard let value = parseDecimal(postgresBytes, as: Self.self) else { return nil }
        self = value
    }
    public var postgresText: String { String(self) }
}

extension Int32: PostgresDecodable, PostgresEncodable {
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) {
        guard let value = parseDecimal(postgresBytes, as: Self.self) else { return nil }
        self = value
    }
    public var postgresText: String { String(self) }
}

extension Int16: PostgresDecodable, PostgresEncodable {
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) {
        guard let value = parseDecimal(postgresBytes, as: Self.self) else { return nil }
        self = value
    }
    public var postgresText: String { String(self) }
}

extension Double: PostgresDecodable, PostgresEncodable {
    public init?(postgresText: String) { self.init(postgresText) }
    public var postgresText: String { "\(self)" }
}

extension Bool: PostgresDecodable, PostgresEncodable {
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) {
        switch postgresBytes.count {
        case 1 where postgresBytes[0] == UInt8(ascii: "t"): self = true
        case 1 where postgresBytes[0] == UInt8(ascii: "f"): self = false
        default: self.init(postgresText: String(decoding: postgresBytes, as: UTF8.self))
        }
    }
    public var postgresText: String { self ? "true" : "false" }
}

/// Times cross the boundary as microseconds since 1970 (`WriterSQL.epochMicros` on the way out, `$n::bigint`
/// turned into `timestamptz` by the statement on the way in), so no time zone or text format is ever parsed.
extension Timestamp: PostgresDecodable, PostgresEncodable {
    public init?(postgresText: String) {
        guard let micros = Int64(postgresText, radix: 10) else { return nil }
        self.init(microsecondsSinceEpoch: micros)
    }
    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) {
        guard let micros = parseDecimal(postgresBytes, as: Int64.self) else { return nil }
        self.init(microsecondsSinceEpoch: micros)
    }
    public var postgresText: String { String(microsecondsSinceEpoch) }
}

/// A one-dimensional array of numbers, booleans or simple words as PostgreSQL prints it (`{a,b,c}`); elements
/// that need quoting (commas, braces, spaces, NULL) are not produced by the gateway's schema and fail to decode.
extension Array: PostgresDecodable where Element: PostgresDecodable {
    public init?(postgresText: String) {
        guard postgresText.first == "{", postgresText.last == "}" else { return nil }
        let body = postgresText.dropFirst().dropLast()
        if body.isEmpty {
            self = []
            return
        }
        var elements: [Element] = []
        for part in body.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.contains("\""), part != "NULL", let element = Element(postgresText: String(part)) else {
                return nil
            }
            elements.append(element)
        }
        self = elements
    }

    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) {
        guard postgresBytes.count >= 2, postgresBytes.first == UInt8(ascii: "{"),
            postgresBytes.last == UInt8(ascii: "}")
        else { return nil }
        let body = UnsafeBufferPointer(rebasing: postgresBytes[1..<(postgresBytes.count - 1)])
        guard !body.isEmpty else {
            self = []
            return
        }
        var elements: [Element] = []
        var start = 0
        while start <= body.count {
            var end = start
            while end < body.count, body[end] != UInt8(ascii: ",") { end += 1 }
            let part = UnsafeBufferPointer(rebasing: body[start..<end])
            guard !part.contains(UInt8(ascii: "\"")), !part.elementsEqual("NULL".utf8),
                let element = Element(postgresBytes: part)
            else { return nil }
            elements.append(element)
            start = end + 1
        }
        self = elements
    }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// An array literal (`{1,2,3}`); meant for numbers and simple words, which need no quoting.
    public var postgresText: String { "{" + map(\.postgresText).joined(separator: ",") + "}" }
}

extension RawRepresentable where RawValue == String {
    /// Parses a closed vocabulary stored as text (a status, a priority, a protocol).
    public init?(postgresText: String) { self.init(rawValue: postgresText) }
    public var postgresText: String { rawValue }
}

extension FrameProtocol: PostgresDecodable, PostgresEncodable {}
extension TicketPriority: PostgresDecodable, PostgresEncodable {}

extension PostgresConnection {
    /// Runs one statement with typed parameters and returns its rows for column-wise decoding.
    /// - Throws: ``PostgresError``, as for ``query(_:parameters:)``.
    public func rows(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> [PostgresRow] {
        let result = PostgresResult(
            try run(sql, parameters: parameters.map { $0?.postgresText }, accepting: PGRES_TUPLES_OK, PGRES_COMMAND_OK)
        )
        return (0..<PQntuples(result.handle)).map { PostgresRow(result: result, row: $0) }
    }

    /// Runs one statement with typed parameters and decodes every row as `T`.
    /// - Throws: ``PostgresError``, as for ``query(_:parameters:)``, or `.unexpectedResult` when a row does not decode.
    public func query<T: PostgresRowDecodable>(
        _ sql: String,
        _ parameters: [(any PostgresEncodable)?] = [],
        as type: T.Type
    ) throws -> [T] {
        try rows(sql, parameters).map(T.init(row:))
    }
}

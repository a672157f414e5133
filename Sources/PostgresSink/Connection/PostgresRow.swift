public import GatewayCore

/// One row of a text-format query result, decoded column by column into Swift types.
///
/// Stores read rows through this type instead of indexing `[String?]` and converting by hand: a column that is
/// NULL where a value is required, or text that does not parse as the asked type, is a
/// ``PostgresError/Code-swift.struct/unexpectedResult`` naming the column, never a silently skipped row.
public struct PostgresRow: Sendable {
    /// Each column's text value, or nil for SQL NULL.
    public let columns: [String?]

    public init(columns: [String?]) {
        self.columns = columns
    }

    /// The number of columns.
    public var count: Int { columns.count }

    /// Decodes a column that must not be NULL.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when the column is missing, NULL or not a `T`.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
        guard columns.indices.contains(column) else {
            throw PostgresError(code: .unexpectedResult, message: "row has \(columns.count) columns, column \(column) asked")
        }
        guard let text = columns[column] else {
            throw PostgresError(code: .unexpectedResult, message: "column \(column) is NULL where \(T.self) is required")
        }
        guard let value = T(postgresText: text) else {
            throw PostgresError(code: .unexpectedResult, message: "column \(column) is not a \(T.self)")
        }
        return value
    }

    /// Decodes a column that may be NULL.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when the column is missing or its text is not a `T`.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T?.Type) throws -> T? {
        guard columns.indices.contains(column) else {
            throw PostgresError(code: .unexpectedResult, message: "row has \(columns.count) columns, column \(column) asked")
        }
        guard let text = columns[column] else { return nil }
        guard let value = T(postgresText: text) else {
            throw PostgresError(code: .unexpectedResult, message: "column \(column) is not a \(T.self)")
        }
        return value
    }
}

/// A type whose rows a store reads: built from one ``PostgresRow`` in the column order of the store's query.
public protocol PostgresRowDecodable {
    init(row: PostgresRow) throws
}

/// A value that can be read from PostgreSQL's text output format.
public protocol PostgresDecodable {
    /// Parses the server's text form; nil when the text is not a valid value.
    init?(postgresText: String)
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
    public var postgresText: String { String(self) }
}

extension Int: PostgresDecodable, PostgresEncodable {
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
    public var postgresText: String { String(self) }
}

extension Int32: PostgresDecodable, PostgresEncodable {
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
    public var postgresText: String { String(self) }
}

extension Int16: PostgresDecodable, PostgresEncodable {
    public init?(postgresText: String) { self.init(postgresText, radix: 10) }
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
    public var postgresText: String { self ? "true" : "false" }
}

/// Times cross the boundary as microseconds since 1970 (`WriterSQL.epochMicros` on the way out, `$n::bigint`
/// turned into `timestamptz` by the statement on the way in), so no time zone or text format is ever parsed.
extension Timestamp: PostgresDecodable, PostgresEncodable {
    public init?(postgresText: String) {
        guard let micros = Int64(postgresText, radix: 10) else { return nil }
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
        try query(sql, parameters: parameters.map { $0?.postgresText }).map(PostgresRow.init(columns:))
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

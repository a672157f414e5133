import GatewayCore

/// Where the fields of a written row go: a binary COPY stream (``BinaryCopyEncoder``) or one text array parameter
/// per column (``ColumnArrays``). The functions that lay out a record's columns (`append(_:)` for readings, frames,
/// alarms, identities, counter ranges) are written once against this protocol, so the two ways of sending rows
/// cannot disagree about a column.
protocol RowFieldWriter {
    /// Starts a row of `fieldCount` fields.
    mutating func beginTuple(fieldCount: Int16)
    /// Writes SQL NULL.
    mutating func writeNull()
    /// Writes a `smallint`.
    mutating func writeInt16(_ value: Int16)
    /// Writes an `integer`.
    mutating func writeInt32(_ value: Int32)
    /// Writes a `bigint`.
    mutating func writeInt64(_ value: Int64)
    /// Writes a `boolean`.
    mutating func writeBool(_ value: Bool)
    /// Writes a `timestamptz`.
    mutating func writeTimestamp(_ value: Timestamp)
    /// Writes `text` (UTF-8; PostgreSQL text cannot hold U+0000, so the server refuses such a value).
    mutating func writeText(_ value: String)
    /// Writes `bytea`.
    mutating func writeBytea(_ value: [UInt8])
}

extension RowFieldWriter {
    /// Writes a `smallint`, or NULL when `value` is nil.
    mutating func writeInt16(_ value: Int16?) {
        if let value { writeInt16(value) } else { writeNull() }
    }

    /// Writes an `integer`, or NULL when `value` is nil.
    mutating func writeInt32(_ value: Int32?) {
        if let value { writeInt32(value) } else { writeNull() }
    }

    /// Writes a `bigint`, or NULL when `value` is nil.
    mutating func writeInt64(_ value: Int64?) {
        if let value { writeInt64(value) } else { writeNull() }
    }

    /// Writes `text`, or NULL when `value` is nil.
    mutating func writeText(_ value: String?) {
        if let value { writeText(value) } else { writeNull() }
    }

    /// Writes `bytea`, or NULL when `value` is nil.
    mutating func writeBytea(_ value: [UInt8]?) {
        if let value { writeBytea(value) } else { writeNull() }
    }
}

/// Rows as one PostgreSQL array literal per column (`{1,2,NULL}`), the parameters of
/// ``StageTables/Table/insertFromArraysSQL(into:)``: rows sent as an ordinary statement, which a pipeline
/// (``PostgresConnection/pipeline(_:)``) can carry and a COPY cannot.
///
/// Every value is written as the array's element text: numbers in decimal, booleans `t`/`f`, timestamps as
/// microseconds since 2000-01-01 UTC (the statement turns them back into `timestamptz`), text and bytea
/// double-quoted with `"` and `\` escaped (bytea in hex, `\x…`), NULL unquoted. Meant for small batches: each column
/// is a `String` that grows with its rows.
struct ColumnArrays: RowFieldWriter {
    private var elements: [String]
    private var column = 0
    /// Rows begun so far.
    private(set) var rowCount = 0

    /// Creates empty arrays for rows of `columnCount` columns.
    init(columnCount: Int) {
        elements = Array(repeating: "", count: columnCount)
    }

    /// Each column's array literal, in column order.
    var parameters: [String] { elements.map { "{" + $0 + "}" } }

    mutating func beginTuple(fieldCount: Int16) {
        precondition(Int(fieldCount) == elements.count, "a row of \(fieldCount) fields for \(elements.count) columns")
        assert(rowCount == 0 || column == elements.count, "the previous row is missing fields")
        column = 0
        rowCount += 1
    }

    mutating func writeNull() { add("NULL") }
    mutating func writeInt16(_ value: Int16) { add(String(value)) }
    mutating func writeInt32(_ value: Int32) { add(String(value)) }
    mutating func writeInt64(_ value: Int64) { add(String(value)) }
    mutating func writeBool(_ value: Bool) { add(value ? "t" : "f") }
    mutating func writeTimestamp(_ value: Timestamp) { add(String(value.postgresMicroseconds)) }

    mutating func writeText(_ value: String) {
        var quoted = "\""
        quoted.reserveCapacity(value.utf8.count + 2)
        for character in value.unicodeScalars {
            if character == "\"" || character == "\\" { quoted.unicodeScalars.append("\\") }
            quoted.unicodeScalars.append(character)
        }
        quoted += "\""
        add(quoted)
    }

    mutating func writeBytea(_ value: [UInt8]) {
        // `\x` escaped once for the array literal; the element is then bytea's hex input.
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text = [UInt8]("\"\\\\x".utf8)
        text.reserveCapacity(text.count + value.count * 2 + 1)
        for byte in value {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        text.append(UInt8(ascii: "\""))
        add(String(decoding: text, as: UTF8.self))
    }

    private mutating func add(_ element: String) {
        precondition(column < elements.count, "more fields written than the row declared")
        if rowCount > 1 { elements[column] += "," }
        elements[column] += element
        column += 1
    }
}

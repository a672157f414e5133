import Foundation

/// A statement parameter holding a JSON document (`$n::jsonb`): how a plan of many rows crosses in one parameter,
/// unpacked by `jsonb_to_recordset` with the column types the statement declares. Quoting, NULLs and text
/// escapes are JSON's, so no array literal is ever built by hand.
struct PostgresJSON: PostgresEncodable {
    let postgresText: String

    /// Encodes `value` (its `CodingKeys` name the columns).
    /// - Throws: ``PostgresError`` with code `.unexpectedResult` (a programming error, never the data's fault).
    init(_ value: some Encodable) throws {
        do {
            postgresText = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        } catch {
            throw PostgresError(code: .unexpectedResult, message: "a JSON parameter could not be encoded: \(error)")
        }
    }
}

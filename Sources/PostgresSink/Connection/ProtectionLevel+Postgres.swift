import GatewayCore

extension ProtectionLevel {
    /// The level a `protection_level` column holds (read as text).
    /// - Parameters:
    ///   - storedCode: The column's text.
    ///   - column: The column index, for the error.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when the text is not a level.
    init(storedCode: String, column: Int) throws {
        guard let level = ProtectionLevel(code: storedCode) else {
            throw PostgresError(code: .unexpectedResult, message: "column \(column) is not a protection level")
        }
        self = level
    }
}

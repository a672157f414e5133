import PostgresSink
import Testing

@testable import GatewayApp

/// What `/readyz` says while the pipeline holds its batch: the operator's first clue, named by the error's kind and
/// SQLSTATE (README "A passing fault never quarantines a good frame"), never the server's message (which can quote
/// row values).
@Suite struct HoldReasonTests {
    @Test(arguments: [
        (PostgresError.Code.serverError, "25006" as String?, "read-only (SQLSTATE 25006)"),
        (.serverError, "57014", "statement timeout (SQLSTATE 57014)"),
        (.serverError, "42501", "insufficient privilege (SQLSTATE 42501)"),
        (.serverError, "42P01", "schema differs (undefined table or column) (SQLSTATE 42P01)"),
        (.serverError, "42703", "schema differs (undefined table or column) (SQLSTATE 42703)"),
        (.serverError, "53100", "disk full (SQLSTATE 53100)"),
        (.serverError, "57P01", "unavailable (SQLSTATE 57P01)"),
        (.serverError, "08006", "unavailable (SQLSTATE 08006)"),
        (.connectionFailed, nil, "unreachable"),
        (.connectionLost, nil, "unreachable"),
    ])
    func theHoldNamesTheKindOfFault(code: PostgresError.Code, sqlState: String?, reason: String) {
        let error = PostgresError(code: code, sqlState: sqlState, message: "row (42, 'secret') refused")
        #expect(IngestPipeline.holdReason(error) == reason)
    }
}

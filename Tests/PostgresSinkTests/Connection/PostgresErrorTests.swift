import Testing

@testable import PostgresSink

@Suite struct PostgresErrorTests {
    @Test func descriptionNeverContainsConninfoOrPassword() throws {
        let conninfo = "host=127.0.0.1 port=1 user=gateway password=s3cr3t-pw connect_timeout=2"
        let error = #expect(throws: PostgresError.self) { try PostgresConnection.connect(conninfo: conninfo) }
        let text = try #require(error).description
        #expect(!text.contains("s3cr3t"))
        #expect(!text.contains(conninfo))
        #expect(error?.code == .connectionFailed)
        #expect(error?.isRetryable == true)
        #expect(!(error?.debugDescription.contains("s3cr3t") ?? true))
    }

    @Test func thePasswordIsRedactedWhereverLibpqWouldQuoteIt() throws {
        // libpq quotes the host name it cannot resolve; here the host name is the password, so the message would
        // carry it without the redaction.
        let secret = "pw-\(UInt32.random(in: 0...UInt32.max)).invalid"
        let error = #expect(throws: PostgresError.self) {
            try PostgresConnection.connect(conninfo: "host=\(secret) password=\(secret) connect_timeout=2")
        }
        let text = try #require(error).description + (error?.debugDescription ?? "")
        #expect(!text.contains(secret))
        #expect(text.contains("<redacted>"))
        #expect(PostgresConnection.redacting("pw", in: "a pw b pw") == "a <redacted> b <redacted>")
        #expect(PostgresConnection.redacting(nil, in: "a pw") == "a pw")
    }

    @Test func malformedConninfoIsNotEchoed() {
        // libpq's own message would quote the fragment after the space: part of the password.
        let error = #expect(throws: PostgresError.self) {
            try PostgresConnection.connect(conninfo: "host=x password=open sesame")
        }
        #expect(error?.code == .invalidArgument)
        #expect(error.map { !$0.description.contains("sesame") && !$0.debugDescription.contains("sesame") } == true)
    }

    @Test(arguments: [
        ("40001", true), ("40P01", true), ("57P01", true), ("08006", true), ("53300", true), ("55P03", true),
        ("23505", false), ("22P02", false), ("42P01", false),
    ])
    func retryClassificationFollowsSQLState(sqlState: String, retryable: Bool) {
        #expect(PostgresError(code: .serverError, sqlState: sqlState, message: "m").isRetryable == retryable)
    }

    /// Only an error of the batch's own rows may quarantine a frame; every other error holds the batch (README "A
    /// passing fault never quarantines a good frame"). A state put on the wrong side would quarantine good frames,
    /// alarms included, during a passing fault, or hold every batch forever behind one bad row.
    @Test(arguments: [
        // The batch's own data: isolate the frame the database refuses.
        (PostgresError.Code.serverError, "22003" as String?, true),  // numeric value out of range
        (.serverError, "22P02", true),  // invalid text representation
        (.serverError, "22021", true),  // character not in repertoire
        (.serverError, "23502", true),  // not-null violation
        (.serverError, "23503", true),  // foreign-key violation
        (.serverError, "23514", true),  // check violation
        (.copyFailed, "22P04", true),  // bad COPY file format
        (.invalidArgument, nil, true),  // a NUL byte in a parameter: cannot be sent
        // The database's state: hold and retry.
        (.serverError, "23505", false),  // unique violation: a race, which idempotent inserts absorb
        (.serverError, "25006", false),  // read-only transaction: a failover in progress
        (.serverError, "57014", false),  // statement timeout
        (.serverError, "42501", false),  // insufficient privilege
        (.serverError, "42P01", false),  // undefined table (another version migrated)
        (.serverError, "42703", false),  // undefined column
        (.serverError, "53100", false),  // disk full
        (.serverError, "57P01", false),  // admin shutdown
        (.serverError, "40001", false),  // serialization failure
        (.connectionFailed, nil, false),
        (.connectionLost, nil, false),
        (.unexpectedResult, nil, false),
    ])
    func onlyTheBatchsOwnDataIsAFrameDataError(code: PostgresError.Code, sqlState: String?, isData: Bool) {
        #expect(PostgresError(code: code, sqlState: sqlState, message: "m").isFrameDataError == isData)
    }

    @Test func lostConnectionIsRetryableWhateverTheState() {
        #expect(PostgresError(code: .connectionLost, sqlState: "23505", message: "m").isRetryable)
        #expect(!PostgresError(code: .migrationFailed, message: "m").isRetryable)
    }

    @Test func detailOnlyInDebugDescription() {
        let error = PostgresError(
            code: .serverError,
            sqlState: "23505",
            message: "duplicate key",
            detail: "Key (id)=(42) already exists."
        )
        #expect(!error.description.contains("42"))
        #expect(error.debugDescription.contains("Key (id)=(42)"))
        #expect(error.description == "PostgresError.serverError [23505]: duplicate key")
    }
}

import Hummingbird
import PostgresSink
import Testing

@testable import GatewayHTTP

/// The one place that maps errors to responses: each class of failure gets its status and code.
@Suite struct APIErrorTests {
    @Test func routeErrorsPassThroughUnchanged() {
        let error = APIError(.conflict, "step_not_allowed", message: "ticket 5 is closed")
        #expect(APIError(mapping: error) == error)
    }

    @Test func databaseFailureThatMayPassLaterIsUnavailableAndRetryable() {
        let mapped = APIError(mapping: PostgresError(code: .connectionFailed, message: "connection refused"))
        #expect(mapped.status == .serviceUnavailable)
        #expect(mapped.code == "database_unavailable")
        #expect(mapped.isRetryable)
        #expect(mapped.body.error.retryable == true)
    }

    @Test func databaseFailureThatWillNotPassIsAnInternalErrorWithoutTheDatabaseMessage() {
        let failure = PostgresError(
            code: .serverError,
            sqlState: "42501",
            message: "permission denied for table daily_reads",
            isRetryable: false
        )
        let mapped = APIError(mapping: failure)
        #expect(mapped.status == .internalServerError)
        #expect(mapped.code == "database_error")
        #expect(!mapped.isRetryable)
        #expect(mapped.body.error.retryable == nil)
        #expect(mapped.message?.contains("daily_reads") == false)
    }

    @Test func frameworkErrorsKeepTheirStatusAndAreNamedAfterIt() {
        #expect(APIError(mapping: HTTPError(.notFound)) == APIError(.notFound, "not_found"))
        #expect(APIError(mapping: HTTPError(.contentTooLarge)).code == "content_too_large")
        #expect(APIError(mapping: HTTPError(.methodNotAllowed)).code == "method_not_allowed")
    }

    @Test func anyOtherErrorIsAnInternalError() {
        struct Unexpected: Error {}
        #expect(APIError(mapping: Unexpected()) == APIError(.internalServerError, "internal_error"))
    }

    @Test func bodyLeavesOutWhatIsNotSet() throws {
        let encoder = GatewayJSONEncoder()
        #expect(try encoder.text(APIError.badRequest("bad_limit").body) == #"{"error":{"code":"bad_limit"}}"#)
        #expect(
            try encoder.text(APIError.notFound("not_held", message: "no held reading").body)
                == #"{"error":{"code":"not_held","message":"no held reading"}}"#
        )
    }
}

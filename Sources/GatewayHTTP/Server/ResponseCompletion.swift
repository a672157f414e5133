import Hummingbird
import NIOCore
import Synchronization

/// Runs the rest of a middleware chain and reports once the client has its whole answer: after the response body
/// was written (a streamed export counts whole, as Hummingbird's own MetricsMiddleware times it), or at once with
/// the error's status (500 for an error that is not an HTTP error) when the chain threw.
///
/// The access log and the request-duration histogram both observe requests this way.
/// - Parameters:
///   - request: The request.
///   - context: The request context.
///   - next: The rest of the chain.
///   - finished: Called once with the status sent and the body bytes written (0 when the chain threw).
/// - Returns: The response, its body wrapped to report its end.
/// - Throws: Whatever the rest of the chain throws.
func respondObservingCompletion<Context: RequestContext>(
    _ request: Request,
    _ context: Context,
    next: (Request, Context) async throws -> Response,
    finished: @escaping @Sendable (_ status: Int, _ bytes: Int) -> Void
) async throws -> Response {
    do {
        var response = try await next(request, context)
        let status = response.status.code
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            let counter = ByteCounter()
            defer { finished(status, counter.total) }
            try await body.write(CountingWriter(base: writer, counter: counter))
        }
        return response
    } catch {
        finished((error as? any HTTPResponseError)?.status.code ?? 500, 0)
        throw error
    }
}

/// Counts the bytes of a response body on their way to the connection.
private final class ByteCounter: Sendable {
    private let bytes = Atomic<Int>(0)
    var total: Int { bytes.load(ordering: .relaxed) }
    func add(_ count: Int) { bytes.add(count, ordering: .relaxed) }
}

private struct CountingWriter: ResponseBodyWriter {
    var base: any ResponseBodyWriter
    let counter: ByteCounter

    mutating func write(_ buffer: ByteBuffer) async throws {
        counter.add(buffer.readableBytes)
        try await base.write(buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await base.finish(trailingHeaders)
    }
}

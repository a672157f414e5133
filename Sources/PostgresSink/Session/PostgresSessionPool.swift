public import Logging

/// A small fixed set of ``PostgresSession``s: each piece of work goes to the session with the fewest pieces in
/// flight, so one slow request (a large billing page) does not queue the others behind it.
///
/// The pool never grows: with every session busy, work waits on the least busy one (its actor's queue), which
/// bounds the connections the HTTP APIs can take from the server.
public actor PostgresSessionPool: PostgresDatabase {
    private let sessions: [PostgresSession]
    private var inFlight: [Int]

    /// Creates `size` sessions (at least one) with the same settings; none connects before it is used.
    public init(size: Int, settings: PostgresSessionSettings, logger: Logger) {
        let count = max(1, size)
        self.sessions = (0..<count).map { _ in PostgresSession(settings, logger: logger) }
        self.inFlight = Array(repeating: 0, count: count)
    }

    /// The number of sessions.
    public nonisolated var size: Int { sessions.count }

    @discardableResult

    public func withConnection<R: Sendable>(_ body: @Sendable (PostgresConnection) throws -> R) async throws -> R {
        let index = lease()
        defer { inFlight[index] -= 1 }
        return try await sessions[index].withConnection(body)
    }

    @discardableResult

    public func withTransaction<R: Sendable>(_ body: @Sendable (PostgresConnection) throws -> R) async throws -> R {
        let index = lease()
        defer { inFlight[index] -= 1 }
        return try await sessions[index].withTransaction(body)
    }

    /// Closes every session's connection; later work reconnects.
    public func close() async {
        for session in sessions {
            await session.close()
        }
    }

    private func lease() -> Int {
        var best = 0
        for index in inFlight.indices where inFlight[index] < inFlight[best] {
            best = index
        }
        inFlight[best] += 1
        return best
    }
}

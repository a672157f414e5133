internal import CLibPQ
package import Logging
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One `NOTIFY` received by a ``PostgresListener``.
package struct PostgresNotification: Sendable, Equatable {
    /// The channel it was sent on.
    package var channel: String
    /// The payload (empty when the sender gave none).
    package var payload: String
    /// The server process id of the sending session (0 for a resync marker).
    package var backendPID: Int32
    /// True for the synthetic marker the listener yields after it reconnected: notifications sent while it
    /// was disconnected are lost, so re-read the state they would have announced.
    package var isResync: Bool

    /// Creates a notification value.
    /// - Parameters:
    ///   - channel: The channel.
    ///   - payload: The payload.
    ///   - backendPID: The sender's backend pid.
    ///   - isResync: Whether this is a reconnect marker.
    package init(channel: String, payload: String, backendPID: Int32, isResync: Bool = false) {
        self.channel = channel
        self.payload = payload
        self.backendPID = backendPID
        self.isResync = isResync
    }
}

/// Receives PostgreSQL notifications (`LISTEN channel`) on a dedicated connection and thread and exposes them
/// as an `AsyncStream`.
///
/// Notifications are **hints**, not a durable queue: PostgreSQL delivers them only to sessions listening at
/// commit time, so anything sent while this listener is disconnected is lost. After a reconnect the stream
/// yields a marker with `isResync == true`; the consumer should then re-read state (for dispatch: the ticket
/// events after the last id it saw).
///
/// Thread rules: the libpq connection lives on one thread of a private `NIOThreadPool`, which blocks in
/// `poll()` on the connection's socket and a wake-up pipe; nothing runs on the cooperative pool. The class is
/// `Sendable`; ``start()`` and ``stop()`` may be called from any task.
///
/// The stream buffers up to 100,000 notifications for a slow consumer and then drops the oldest.
///
/// Package-internal: the tests of this package use it to watch `ticket_events`; the gateway itself reads events
/// from the table (the dispatch outbox), so it is not public API.
package final class PostgresListener: Sendable {
    /// The received notifications. It finishes after ``stop()``, when the consumer stops iterating, or
    /// when the first connection attempt in ``start()`` fails.
    package let notifications: AsyncStream<PostgresNotification>
    private let state: ListenerState
    private let pool: NIOThreadPool
    /// Whether the pool was started or shut down: ``start()`` and ``stop()`` change the pool under this lock, so a
    /// stop during a start (a SIGTERM while the gateway starts) never meets a pool half started, which
    /// `NIOThreadPool` does not allow (it traps), and a stopped listener's pool is never started.
    private let poolPhase = Mutex<PoolPhase>(.idle)

    private enum PoolPhase {
        case idle, running, stopped
    }

    /// Creates a listener; nothing connects before ``start()``.
    /// - Parameters:
    ///   - conninfo: A libpq connection string or URI. It is never logged.
    ///   - channel: The channel to `LISTEN` on (quoted as an identifier; case-sensitive).
    ///   - logger: Receives connection-loss and reconnect events.
    package init(conninfo: String, channel: String, logger: Logger) {
        let (stream, continuation) = AsyncStream.makeStream(
            of: PostgresNotification.self,
            bufferingPolicy: .bufferingNewest(100_000)
        )
        self.notifications = stream
        self.state = ListenerState(conninfo: conninfo, channel: channel, logger: logger, continuation: continuation)
        self.pool = NIOThreadPool(numberOfThreads: 1)
        continuation.onTermination = { [weak state] _ in state?.requestStop() }
    }

    deinit {
        state.requestStop()
        pool.shutdownGracefully { _ in }
    }

    /// Connects, runs `LISTEN`, and starts delivering notifications; returns once the listener is registered,
    /// so every transaction that commits afterwards reaches the stream.
    ///
    /// After a connection loss the listener reconnects by itself (backing off from 0.1 s to 10 s) and yields a
    /// resync marker.
    /// - Throws: ``PostgresError`` when the first connection or the `LISTEN` fails (the stream then finishes),
    ///   or when called a second time.
    package func start() async throws {
        guard state.markStarted() else {
            throw PostgresError(code: .invalidArgument, message: "listener already started")
        }
        let state = self.state
        let started = poolPhase.withLock { phase -> Bool in
            guard phase == .idle, !state.isStopRequested.load(ordering: .acquiring) else { return false }
            pool.start()
            phase = .running
            return true
        }
        guard started else {
            state.continuation.finish()
            throw PostgresError(code: .connectionLost, message: "listener stopped")
        }
        try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, any Error>) in
            pool.submit { workState in
                guard case .active = workState else {
                    // The pool was shut down (stop() raced start()) before the thread picked this up.
                    state.continuation.finish()
                    ready.resume(throwing: PostgresError(code: .connectionLost, message: "listener stopped"))
                    return
                }
                state.run(ready: ready)
            }
        }
    }

    /// Stops listening: wakes the thread, closes the connection and finishes the stream. Idempotent.
    package func stop() {
        state.requestStop()
        poolPhase.withLock { phase in
            guard phase != .stopped else { return }
            pool.shutdownGracefully { _ in }
            phase = .stopped
        }
    }
}

/// State shared by the listener object and its thread: only `let`s of Sendable types.
final class ListenerState: Sendable {
    let conninfo: String
    let channel: String
    let logger: Logger
    let continuation: AsyncStream<PostgresNotification>.Continuation
    let isStopRequested = Atomic<Bool>(false)
    let isStarted = Atomic<Bool>(false)
    /// A pipe whose write end ``requestStop()`` writes one byte to, waking the thread's `poll()`.
    let wakeReadFD: Int32
    let wakeWriteFD: Int32

    static let idleProbeMilliseconds: Int32 = 30_000
    static let initialBackoffMilliseconds: Int32 = 100
    static let maximumBackoffMilliseconds: Int32 = 10_000

    init(
        conninfo: String,
        channel: String,
        logger: Logger,
        continuation: AsyncStream<PostgresNotification>.Continuation
    ) {
        self.conninfo = conninfo
        self.channel = channel
        self.logger = logger
        self.continuation = continuation
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 { fds = [-1, -1] }
        self.wakeReadFD = fds[0]
        self.wakeWriteFD = fds[1]
    }

    deinit {
        if wakeReadFD >= 0 { close(wakeReadFD) }
        if wakeWriteFD >= 0 { close(wakeWriteFD) }
    }

    func markStarted() -> Bool {
        isStarted.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    func requestStop() {
        guard
            isStopRequested.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        if wakeWriteFD >= 0 {
            var byte: UInt8 = 1
            _ = write(wakeWriteFD, &byte, 1)
        }
        // Never started: nothing else will finish the stream.
        if !isStarted.load(ordering: .acquiring) { continuation.finish() }
    }

    private var shouldStop: Bool { isStopRequested.load(ordering: .acquiring) }

    /// The thread's body: connect and LISTEN, then poll, consume, and yield until stopped.
    func run(ready: CheckedContinuation<Void, any Error>) {
        var pendingReady: CheckedContinuation<Void, any Error>? = ready
        var connection: PostgresConnection?
        var backoff = Self.initialBackoffMilliseconds
        defer {
            connection?.close()
            continuation.finish()
            pendingReady?.resume(throwing: PostgresError(code: .connectionLost, message: "listener stopped"))
        }
        while !shouldStop {
            guard let current = connection, let handle = current.rawHandle else {
                do {
                    let fresh = try PostgresConnection.connect(conninfo: conninfo)
                    try fresh.execute("LISTEN \(try fresh.escapeIdentifier(channel))")
                    connection = fresh
                    backoff = Self.initialBackoffMilliseconds
                    if let ready = pendingReady {
                        pendingReady = nil
                        ready.resume()
                    } else {
                        logger.info("postgres listener reconnected", metadata: ["pg.channel": "\(channel)"])
                        continuation.yield(
                            PostgresNotification(channel: channel, payload: "", backendPID: 0, isResync: true)
                        )
                    }
                    if let handle = fresh.rawHandle { drainNotifications(handle) }
                } catch {
                    if let ready = pendingReady {
                        pendingReady = nil
                        ready.resume(throwing: error)
                        return
                    }
                    logger.warning("postgres listener cannot reconnect", metadata: ["pg.error": "\(error)"])
                    if waitForWake(milliseconds: backoff) { return }
                    backoff = min(backoff * 2, Self.maximumBackoffMilliseconds)
                }
                continue
            }
            var fds = [
                pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeReadFD, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, nfds_t(fds.count), Self.idleProbeMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                logger.warning("postgres listener poll failed", metadata: ["pg.errno": "\(errno)"])
                current.close()
                connection = nil
                continue
            }
            if fds[1].revents != 0 { return }
            if ready == 0 {
                // Idle: a round trip proves the connection still works (half-open TCP) and collects anything
                // pending.
                if (try? current.execute("SELECT 1")) == nil || !current.isConnected {
                    logger.warning("postgres listener connection lost", metadata: ["pg.channel": "\(channel)"])
                    current.close()
                    connection = nil
                } else {
                    drainNotifications(handle)
                }
                continue
            }
            if PQconsumeInput(handle) == 0 || PQstatus(handle) != CONNECTION_OK {
                logger.warning("postgres listener connection lost", metadata: ["pg.channel": "\(channel)"])
                drainNotifications(handle)
                current.close()
                connection = nil
                continue
            }
            drainNotifications(handle)
        }
    }

    private func drainNotifications(_ handle: OpaquePointer) {
        while let notify = PQnotifies(handle) {
            let note = notify.pointee
            continuation.yield(
                PostgresNotification(
                    channel: note.relname.map { String(cString: $0) } ?? "",
                    payload: note.extra.map { String(cString: $0) } ?? "",
                    backendPID: note.be_pid
                )
            )
            PQfreemem(notify)
        }
    }

    /// Sleeps up to `milliseconds`, returning true early when a stop was requested.
    private func waitForWake(milliseconds: Int32) -> Bool {
        var fds = [pollfd(fd: wakeReadFD, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 1, milliseconds)
        return shouldStop
    }
}

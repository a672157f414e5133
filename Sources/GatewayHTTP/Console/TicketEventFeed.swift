import Foundation
public import Logging
import PostgresSink
import ServiceLifecycle
import Synchronization

/// The ticket events the dispatch console's pages hear live: one `LISTEN ticket_events` session per gateway, fanned
/// out to every open console (server-sent events, `GET /console/events`).
///
/// PostgreSQL sends `NOTIFY ticket_events` with the ``TicketEventMessage`` JSON in the transaction that commits a
/// ticket event (opened, step, note, escalation…), so a console hears of it as soon as it is committed, not at the
/// next poll. Notifications are hints: after the listener reconnected (events may have been missed) subscribers get
/// ``Item/resync`` and re-read the list, as they do when they connect.
///
/// Each subscriber's stream buffers up to 1,000 items and then drops the oldest (a stalled browser cannot grow the
/// gateway's memory; the page re-reads the whole list on any event anyway). Thread rules: `Sendable`; subscribers are
/// kept under a `Mutex`.
public final class TicketEventFeed: Sendable {
    /// What a subscriber receives.
    public enum Item: Sendable, Equatable {
        /// One committed ticket event: the NOTIFY payload (the event's JSON).
        case event(String)
        /// Events may have been missed: re-read the list.
        case resync
        /// Nothing happened; sent every 15 s so a closed connection is noticed.
        case heartbeat
    }

    private let conninfo: String
    private let logger: Logger
    private let subscribers = Mutex<[Int: AsyncStream<Item>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)
    private let isStopped = Atomic<Bool>(false)
    private let delivered = Atomic<Int>(0)
    /// The listening session, so ``stop()`` can end it.
    private let listening = Mutex<PostgresListener?>(nil)

    /// Creates the feed; it listens once ``run()`` is called.
    /// - Parameters:
    ///   - conninfo: Where the `LISTEN` session connects (the HTTP APIs' database); never logged.
    ///   - logger: Receives connection problems.
    public init(conninfo: String, logger: Logger) {
        self.conninfo = conninfo
        self.logger = logger
    }

    /// How many consoles are subscribed now.
    public var subscriberCount: Int { subscribers.withLock { $0.count } }

    /// How many notifications the feed has passed on since it started (for tests and diagnostics).
    public var deliveredCount: Int { delivered.load(ordering: .relaxed) }

    /// A new subscription; the stream ends when the feed stops or the consumer stops iterating.
    /// - Returns: The stream of items.
    public func subscribe() -> AsyncStream<Item> {
        let (stream, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingNewest(1000))
        let id = nextID.add(1, ordering: .relaxed).newValue
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        if isStopped.load(ordering: .acquiring) {
            continuation.finish()
        } else {
            subscribers.withLock { $0[id] = continuation }
        }
        return stream
    }

    /// Passes an item to every subscriber.
    func publish(_ item: Item) {
        let continuations = subscribers.withLock { Array($0.values) }
        for continuation in continuations { continuation.yield(item) }
        if item != .heartbeat { delivered.add(1, ordering: .relaxed) }
    }

    /// Ends every subscription and refuses new ones (the server is shutting down). Idempotent.
    public func stop() {
        isStopped.store(true, ordering: .releasing)
        listening.withLock { $0 }?.stop()
        let continuations = subscribers.withLock { current in
            defer { current.removeAll() }
            return Array(current.values)
        }
        for continuation in continuations { continuation.finish() }
    }

    /// Listens until graceful shutdown or cancellation, then ends every subscription. A failed first connection is
    /// retried every 5 s (the console then works, but without live updates, which its status line shows).
    public func run() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled && !self.isStopped.load(ordering: .acquiring) {
                        try? await Task.sleep(for: .seconds(15))
                        self.publish(.heartbeat)
                    }
                }
                await self.listen()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.stop()
        }
        stop()
    }

    /// Keeps a `LISTEN` session and passes its notifications on, until stopped or cancelled.
    private func listen() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully && !isStopped.load(ordering: .acquiring) {
            let listener = PostgresListener(conninfo: conninfo, channel: "ticket_events", logger: logger)
            listening.withLock { $0 = listener }
            // stop() may have run before the listener was stored.
            if isStopped.load(ordering: .acquiring) { listener.stop() }
            do {
                try await listener.start()
            } catch {
                logger.warning(
                    "console cannot LISTEN ticket_events; retrying in 5 s",
                    metadata: ["error": "\(error)"]
                )
                try? await Task.sleep(for: .seconds(5))
                continue
            }
            // Anything committed before LISTEN took effect is re-read by the pages.
            publish(.resync)
            await withTaskCancellationHandler {
                for await notification in listener.notifications {
                    if isStopped.load(ordering: .acquiring) { break }
                    publish(notification.isResync ? .resync : .event(notification.payload))
                }
            } onCancel: {
                listener.stop()
            }
            listener.stop()
        }
    }
}

import GatewayCore
import Logging
import MQTTIngest
import PostgresSink
import ServiceLifecycle
import Synchronization

/// Counters of the dispatch side. Read by `/metrics`.
final class DispatchStatistics: Sendable {
    let eventsPublished = Atomic<Int64>(0)
    let escalations = Atomic<Int64>(0)
    let failures = Atomic<Int64>(0)

    func snapshot() -> [(String, Int64)] {
        [
            ("dispatch_events_published", eventsPublished.load(ordering: .relaxed)),
            ("dispatch_escalations", escalations.load(ordering: .relaxed)),
            ("dispatch_failures", failures.load(ordering: .relaxed)),
        ]
    }
}

/// Publishes every ticket event on the MQTT dispatch topic and escalates tickets whose deadline passed.
///
/// Delivery: events are read from `ticket_events` in id order where `dispatched_at` is NULL, published at QoS 1 to
/// `<prefix>/dispatch/tickets/<priority>` and marked only after the broker acknowledged them, so each reaches the
/// topic at least once, in order (a crash between the PUBACK and the mark republishes; consumers dedupe on
/// `event_id`). `pg_notify` remains the immediate in-database signal.
final class DispatchService: Service {
    private let writer: PostgresWriter
    private let client: MosquittoClient
    private let topicPrefix: String
    private let escalationIntervalSeconds: Int
    private let incidentWindowSeconds: Int64
    private let incidentMinimumMeters: Int64
    private let databaseReady: @Sendable () -> Bool
    private let logger: Logger
    let statistics: DispatchStatistics

    init(
        writer: PostgresWriter,
        client: MosquittoClient,
        topicPrefix: String,
        escalationIntervalSeconds: Int,
        incidentWindowSeconds: Int64,
        incidentMinimumMeters: Int64,
        statistics: DispatchStatistics,
        databaseReady: @escaping @Sendable () -> Bool,
        logger: Logger
    ) {
        self.writer = writer
        self.client = client
        self.topicPrefix = topicPrefix
        self.escalationIntervalSeconds = escalationIntervalSeconds
        self.incidentWindowSeconds = incidentWindowSeconds
        self.incidentMinimumMeters = incidentMinimumMeters
        self.statistics = statistics
        self.databaseReady = databaseReady
        self.logger = logger
    }

    /// The topic of a ticket event of this priority.
    static func topic(prefix: String, priority: String) -> String { "\(prefix)/dispatch/tickets/\(priority)" }

    func run() async throws {
        while !databaseReady() {
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
        var settingsSynced = false
        var lastEscalation = ContinuousClock.now - .seconds(3600)
        while !(Task.isShuttingDownGracefully || Task.isCancelled) {
            do {
                if !settingsSynced {
                    try await writer.syncDispatchSettings(
                        incidentWindowSeconds: incidentWindowSeconds,
                        incidentMinimumMeters: incidentMinimumMeters
                    )
                    settingsSynced = true
                }
                if ContinuousClock.now - lastEscalation >= .seconds(escalationIntervalSeconds) {
                    let escalated = try await writer.escalateOverdue()
                    lastEscalation = .now
                    statistics.escalations.add(Int64(escalated.count), ordering: .relaxed)
                    for event in escalated {
                        logger.warning(
                            "ticket escalated",
                            metadata: ["ticket.id": "\(event.ticketID)", "ticket.deadline": "\(event.detail ?? "")"]
                        )
                    }
                }
                let published = try await publishPending()
                if published == 0 { try? await Task.sleep(for: .milliseconds(250)) }
            } catch {
                statistics.failures.add(1, ordering: .relaxed)
                logger.error("dispatch step failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        await writer.close()
    }

    /// Publishes one page of pending events; returns how many were published.
    private func publishPending() async throws -> Int {
        guard client.isConnected else { return 0 }
        let pending = try await writer.undispatchedEvents(limit: 200)
        var done: [Int64] = []
        defer {
            if !done.isEmpty {
                statistics.eventsPublished.add(Int64(done.count), ordering: .relaxed)
            }
        }
        for event in pending {
            do {
                try await client.publishAndWait(
                    topic: Self.topic(prefix: topicPrefix, priority: event.priority),
                    payload: Array(event.json.utf8),
                    qos: .atLeastOnce,
                    timeout: .seconds(10)
                )
            } catch {
                try await writer.markDispatched(done)
                throw error
            }
            done.append(event.id)
        }
        try await writer.markDispatched(done)
        return done.count
    }
}

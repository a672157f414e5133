import GatewayCore
import GatewayDomain
import Logging
import MQTTIngest
import PostgresSink
import ServiceLifecycle
import Synchronization

/// Counters of the dispatch side, and the active tickets per priority it last counted. Read by `/metrics`.
final class DispatchStatistics: Sendable {
    let eventsPublished = Atomic<Int64>(0)
    let complaintEventsPublished = Atomic<Int64>(0)
    let escalations = Atomic<Int64>(0)
    let valveCommands = Atomic<Int64>(0)
    let failures = Atomic<Int64>(0)
    /// Active and overdue tickets per priority, counted every ``DispatchService/ticketCountInterval``; nil before the
    /// first count (and always when the dispatch service is off).
    let activeTickets = Mutex<[ActiveTicketCount]?>(nil)
}

/// Publishes every ticket event on the MQTT dispatch topic and escalates tickets whose deadline passed, and
/// complaints whose answer deadline passed unanswered (``ComplaintStore/escalateOverdue(now:)``).
///
/// Delivery: events are read from `ticket_events` in id order where `dispatched_at` is NULL, published at QoS 1 to
/// `<prefix>/dispatch/tickets/<priority>` and marked only after the broker acknowledged them, so each reaches the
/// topic at least once, in order (a crash between the PUBACK and the mark republishes; consumers dedupe on
/// `event_id`). The payload is the ``TicketEventMessage`` NOTIFY `ticket_events` also carries (the immediate
/// in-database signal).
///
/// Connection: the service owns `client`, a publish-only MQTT connection of its own (started with the service and
/// stopped when it ends), so ticket events never wait behind the ingest connection's durable bursts.
///
/// Latency: with `listenConninfo` the service keeps its own `LISTEN ticket_events` session and looks at the outbox
/// as soon as an event is committed (``DispatchWakeUp``); the 250 ms poll stays as the fallback for notifications
/// lost while that session reconnects. `meter-gateway bench-alarms` measures publish → dispatch topic.
final class DispatchService: Service {
    private let session: PostgresSession
    private let store: DispatchStore
    private let complaints: ComplaintStore
    private let outbox: DispatchOutbox
    private let client: MosquittoClient
    private let topicPrefix: String
    private let escalationIntervalSeconds: Int
    private let valveCloseOnP0: Bool
    private let databaseReady: @Sendable () -> Bool
    private let logger: Logger
    /// The clock deadlines are judged by (ARCHITECTURE decision 7).
    private let now: @Sendable () -> Timestamp
    /// Where the `LISTEN ticket_events` session connects; nil polls only.
    private let listenConninfo: String?
    private let wakeUp = DispatchWakeUp()
    let statistics: DispatchStatistics

    init(
        session: PostgresSession,
        client: MosquittoClient,
        topicPrefix: String,
        escalationIntervalSeconds: Int,
        valveCloseOnP0: Bool,
        keySealer: MeterKeySealer? = nil,
        keyTable: MeterKeyTable? = nil,
        statistics: DispatchStatistics,
        databaseReady: @escaping @Sendable () -> Bool,
        logger: Logger,
        listenConninfo: String? = nil,
        now: @escaping @Sendable () -> Timestamp = { .now }
    ) {
        self.session = session
        self.store = DispatchStore(session, clock: now)
        // Escalation reads only the stored answer deadlines: no calendar needed here.
        self.complaints = ComplaintStore(session, calendar: WorkingCalendar.weekendsOnly, zone: .utc, clock: now)
        self.outbox = DispatchOutbox(session, sealer: keySealer, keyTable: keyTable)
        self.client = client
        self.topicPrefix = topicPrefix
        self.escalationIntervalSeconds = escalationIntervalSeconds
        self.valveCloseOnP0 = valveCloseOnP0
        self.statistics = statistics
        self.databaseReady = databaseReady
        self.logger = logger
        self.listenConninfo = listenConninfo
        self.now = now
    }

    /// How often the active and overdue tickets per priority are counted for `/metrics` (one grouped statement), so
    /// a scrape never queries the database however often it comes.
    static let ticketCountInterval: Duration = .seconds(5)

    /// The topic of a ticket event of this priority.
    static func topic(prefix: String, priority: String) -> String { "\(prefix)/dispatch/tickets/\(priority)" }

    /// The topic of a complaint event of this category.
    static func complaintTopic(prefix: String, category: String) -> String {
        "\(prefix)/dispatch/complaints/\(category)"
    }

    func run() async throws {
        client.start()
        do {
            try await serve()
        } catch {
            await client.stop()
            throw error
        }
        await client.stop()
    }

    private func serve() async throws {
        guard await waitUntilMigrated(databaseReady) else { return }
        guard let listenConninfo else { return try await dispatchLoop() }
        let listener = PostgresListener(conninfo: listenConninfo, channel: "ticket_events", logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [wakeUp, logger] in
                do {
                    try await listener.start()
                } catch {
                    // Polling alone still delivers every event, only later.
                    logger.warning(
                        "dispatch cannot LISTEN ticket_events; polling every 250 ms",
                        metadata: ["error": "\(error)"]
                    )
                    return
                }
                for await _ in listener.notifications { wakeUp.signal() }
            }
            defer { listener.stop() }
            try await dispatchLoop()
            group.cancelAll()
        }
    }

    private func dispatchLoop() async throws {
        var lastEscalation = ContinuousClock.now - .seconds(3600)
        var lastTicketCount = ContinuousClock.now - .seconds(3600)
        while !(Task.isShuttingDownGracefully || Task.isCancelled) {
            do {
                if ContinuousClock.now - lastEscalation >= .seconds(escalationIntervalSeconds) {
                    let escalated = try await store.escalateOverdue(now: now())
                    await escalateLateComplaints()
                    lastEscalation = .now
                    statistics.escalations.add(Int64(escalated.count), ordering: .relaxed)
                    for event in escalated {
                        logger.warning(
                            "ticket escalated",
                            metadata: ["ticket.id": "\(event.ticketID)", "ticket.deadline": "\(event.detail ?? "")"]
                        )
                    }
                }
                if ContinuousClock.now - lastTicketCount >= Self.ticketCountInterval {
                    let counts = try await store.activeTicketCounts(now: now())
                    lastTicketCount = .now
                    statistics.activeTickets.withLock { $0 = counts }
                }
                if valveCloseOnP0 { try await sendValveCloses() }
                let published = try await publishPending()
                let complaintsPublished = await publishPendingComplaintEvents()
                if published == 0, complaintsPublished == 0 { await wakeUp.wait(atMost: .milliseconds(250)) }
            } catch {
                statistics.failures.add(1, ordering: .relaxed)
                logger.error("dispatch step failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        await session.close()
    }

    /// Escalates the complaints whose answer deadline passed unanswered (once each), with a warning per complaint.
    /// A failure here is logged and counted but never holds up the ticket events: it is tried again next round.
    private func escalateLateComplaints() async {
        do {
            for event in try await complaints.escalateOverdue(now: now()) {
                statistics.escalations.add(1, ordering: .relaxed)
                logger.warning(
                    "complaint answer overdue; escalated",
                    metadata: ["complaint.id": "\(event.complaintID)"]
                )
            }
        } catch {
            statistics.failures.add(1, ordering: .relaxed)
            logger.error("complaint escalation failed; retrying next round", metadata: ["error": "\(error)"])
        }
    }

    /// Publishes one page of pending events, all in flight together and in event order, and marks the
    /// acknowledged ones; returns how many were published.
    private func publishPending() async throws -> Int {
        guard client.isConnected else { return 0 }
        let pending = try await outbox.undispatchedEvents(limit: 200)
        var messages: [(topic: String, payload: [UInt8])] = []
        var encodingError: (any Error)?
        for event in pending {
            do {
                let topic = Self.topic(prefix: topicPrefix, priority: event.ticket.priority.rawValue)
                messages.append((topic, Array(try event.jsonText().utf8)))
            } catch {
                // The events before it still go out (in order); this one is tried again at the next step.
                encodingError = error
                break
            }
        }
        let outcome = await client.publishAllAndWait(messages, qos: .atLeastOnce, timeout: .seconds(10))
        // Only the acknowledged prefix is marked: a later event the broker took anyway is published again (at least
        // once, in order).
        let done = pending.prefix(outcome.acknowledged).map(\.eventID)
        try await outbox.markDispatched(done)
        statistics.eventsPublished.add(Int64(done.count), ordering: .relaxed)
        if let error = outcome.error ?? encodingError { throw error }
        return done.count
    }

    /// Publishes one page of pending complaint events (`<prefix>/dispatch/complaints/<category>`, QoS 1, in event
    /// order) and marks the acknowledged ones, as ``publishPending()`` does for ticket events. They wait for the
    /// 250 ms poll or a ticket's wake-up (complaints are answered in working days, not seconds). A failure is
    /// logged and counted and never holds up the ticket events: the page is tried again next round.
    /// - Returns: How many were published.
    private func publishPendingComplaintEvents() async -> Int {
        guard client.isConnected else { return 0 }
        do {
            let pending = try await outbox.undispatchedComplaintEvents(limit: 200)
            guard !pending.isEmpty else { return 0 }
            let messages = pending.map {
                (topic: Self.complaintTopic(prefix: topicPrefix, category: $0.category), payload: Array($0.json.utf8))
            }
            let outcome = await client.publishAllAndWait(messages, qos: .atLeastOnce, timeout: .seconds(10))
            let done = pending.prefix(outcome.acknowledged).map(\.eventID)
            try await outbox.markComplaintEventsDispatched(done)
            statistics.complaintEventsPublished.add(Int64(done.count), ordering: .relaxed)
            if let error = outcome.error { throw error }
            return done.count
        } catch {
            statistics.failures.add(1, ordering: .relaxed)
            logger.error("publishing complaint events failed; retrying next round", metadata: ["error": "\(error)"])
            return 0
        }
    }

    /// The optional P0 policy: a valve-close downlink to each native meter with an active P0 ticket, once per ticket,
    /// recorded as a `valve_command` event after the broker acknowledged it; the meter's command result becomes a
    /// `valve_answer` event when it arrives.
    private func sendValveCloses() async throws {
        guard client.isConnected else { return }
        let topics = TopicScheme(prefix: topicPrefix)
        for pending in try await outbox.pendingValveCloses(limit: 50) {
            guard let key = AES128Key(bytes: pending.key), let meterID = UInt64(pending.address),
                let counter = try await outbox.reserveValveCommand(
                    ticketID: pending.ticketID,
                    meterID: pending.meterID,
                    detail: { "close (frame counter \($0), reason \(pending.condition))" }
                )
            else { continue }
            let reason = AlarmCondition(rawValue: pending.condition)?.nativeCode ?? 0
            let frame = NativeFrame(
                meterID: meterID,
                frameCounter: counter,
                meterTime: UInt32(truncatingIfNeeded: Timestamp.now.secondsSinceEpoch),
                body: .valveCommand(NativeFrame.ValveCommand(action: .close, reason: reason))
            )
            let bytes = try NativeEncoder.encode(frame, key: key)
            try await client.publishAndWait(
                topic: topics.downlinkTopic(.native, address: pending.address),
                payload: bytes,
                qos: .atLeastOnce,
                timeout: .seconds(10)
            )
            try await outbox.markValveCommandSent(ticketID: pending.ticketID)
            statistics.valveCommands.add(1, ordering: .relaxed)
            logger.notice(
                "valve close sent",
                metadata: ["ticket.id": "\(pending.ticketID)", "meter.address": "\(pending.address)"]
            )
        }
    }
}

import Foundation
import GatewayCore
import GatewayDomain
import GatewayTestSupport
import Logging
import MQTTIngest
import PostgresSink
import ServiceLifecycle
import Synchronization
import Testing

@testable import GatewayApp

/// The running gateway's dispatch service escalates a complaint whose answer deadline passed unanswered, once,
/// and leaves an answered one alone; every complaint event reaches the MQTT dispatch topic of its category, without
/// the complainant's name or words.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(2))
)
struct ComplaintEscalationEndToEndTests {
    @Test func theDispatchServiceEscalatesALateComplaintOnceAndPublishesEveryEvent() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "complaint_e2e")
        defer { environment.dropDatabase(database) }
        var configuration = try environment.configuration(
            database: database,
            clientID: "gw-complaints",
            environment: [:]
        )
        configuration.dispatch.escalationIntervalSeconds = 1
        let logger = Logger(label: "complaint-e2e")
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        await writer.close()
        // Two complaints received ten days ago (weekends only: due long since); the second was answered in time.
        let session = PostgresSession(conninfo: configuration.postgres.conninfo, logger: logger)
        let received = WallClock.now().adding(seconds: -10 * 86_400)
        let store = ComplaintStore(session, calendar: .weekendsOnly, zone: .utc, clock: { received })
        func receive() async throws -> Int64 {
            try await store.receive(
                ComplaintIntake(
                    channel: .counter,
                    category: .other,
                    meter: nil,
                    district: "harbour",
                    complainant: "Erika Stone",
                    contact: "erika@example.org",
                    summary: "smell near the meter box"
                ),
                actor: "desk"
            ).id
        }
        let late = try await receive()
        let answered = try await receive()
        _ = try await store.advance(answered, to: .notAccepted, text: "not ours", outcome: nil, actor: "desk")

        let published = Mutex<[(topic: String, text: String)]>([])
        let subscriber = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "complaint-topic-\(environment.runID)"),
            subscriptions: [
                MQTTSubscription(filter: "\(configuration.mqtt.topicPrefix)/dispatch/complaints/#", qos: .atLeastOnce)
            ],
            logger: logger,
            onMessage: { message in
                let topic = message.topicUTF8.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
                published.withLock { $0.append((topic, String(decoding: message.payload, as: UTF8.self))) }
            }
        )
        subscriber.start()
        #expect(await subscriber.waitUntilConnected(timeout: .seconds(20)))

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            let deadline = ContinuousClock.now + .seconds(30)
            var escalated: [ComplaintEvent] = []
            while ContinuousClock.now < deadline {
                let events = try #require(try await store.complaint(late)).events
                escalated = events.filter { $0.kind == "escalated" }
                if !escalated.isEmpty { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(escalated.count == 1 && escalated.first?.actor == "gateway")
            // More rounds of the service (1 s apart) add nothing.
            try await Task.sleep(for: .seconds(3))
            let (complaint, events, _) = try #require(try await store.complaint(late))
            #expect(events.filter { $0.kind == "escalated" }.count == 1 && complaint.escalationLevel == 1)
            #expect(try await store.complaint(answered)?.events.contains { $0.kind == "escalated" } == false)

            // On the topic: both receipts and the refusal (written before the gateway started, from the outbox),
            // then the escalation, each once, in event order, on the topic of the complaint's category.
            let expected = [
                (late, "received"), (answered, "received"), (answered, "not_accepted"), (late, "escalated"),
            ]
            let topicDeadline = ContinuousClock.now + .seconds(10)
            while published.withLock({ $0.count }) < expected.count, ContinuousClock.now < topicDeadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            let messages = published.withLock { $0 }
            #expect(messages.allSatisfy { $0.topic == "\(configuration.mqtt.topicPrefix)/dispatch/complaints/other" })
            let parsed = messages.compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.text.utf8))) as? [String: Any]
            }
            let seen = parsed.map { message -> (Int64, String) in
                let complaint = message["complaint"] as? [String: Any]
                return ((complaint?["id"] as? NSNumber)?.int64Value ?? 0, message["event"] as? String ?? "")
            }
            #expect(seen.map(\.0) == expected.map(\.0) && seen.map(\.1) == expected.map(\.1), "\(seen)")
            #expect(messages.allSatisfy { !$0.text.contains("Erika") && !$0.text.contains("smell") })
            // The counter follows the outbox mark, which commits after the broker's acknowledgement (so after the
            // subscriber may already have the messages).
            let counted = ContinuousClock.now + .seconds(10)
            while runtime.dispatchStatistics.complaintEventsPublished.load(ordering: .relaxed) < 4,
                ContinuousClock.now < counted
            {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(runtime.dispatchStatistics.complaintEventsPublished.load(ordering: .relaxed) == 4)
            await group.triggerGracefulShutdown()
        }
        await subscriber.stop()
        await session.close()
    }
}

import Foundation
import GatewayCore
import GatewayDomain
import GatewayTestSupport
import Logging
import PostgresSink
import ServiceLifecycle
import Testing

@testable import GatewayApp

/// The running gateway's dispatch service escalates a complaint whose answer deadline passed unanswered, once,
/// and leaves an answered one alone.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(2))
)
struct ComplaintEscalationEndToEndTests {
    @Test func theDispatchServiceEscalatesALateComplaintOnce() async throws {
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
                    complainant: "c",
                    summary: "s"
                ),
                actor: "desk"
            ).id
        }
        let late = try await receive()
        let answered = try await receive()
        _ = try await store.advance(answered, to: .notAccepted, text: "not ours", outcome: nil, actor: "desk")

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
            await group.triggerGracefulShutdown()
        }
        await session.close()
    }
}

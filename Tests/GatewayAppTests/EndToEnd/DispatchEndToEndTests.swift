import Foundation
import GatewayCore
import GatewayHTTP
import GatewayTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import MQTTIngest
import PostgresSink
import ServiceLifecycle
import Synchronization
import Testing

@testable import GatewayApp

/// From a methane alarm frame on MQTT to dispatch: the NOTIFY after commit, the event on the MQTT dispatch topic
/// (QoS 1), the ticket in the API with its household file, and lifecycle steps through the API, each of which is
/// published on the topic too.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(2))
)
struct DispatchEndToEndTests {
    private let meter: UInt64 = 720_000_001
    private let keyBytes: [UInt8] = Array(0x30...0x3F)
    /// The dispatcher's token (40 characters); its credential, `desk-9`, has the `dispatch` role.
    private static let token = "dispatch-token-" + String(repeating: "0123456789", count: 3)

    @Test func anAlarmFrameReachesNotifyTheDispatchTopicAndTheAPI() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "dispatch_e2e")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(
            database: database,
            clientID: "gw-dispatch",
            environment: [:]
        )
        let logger = Logger(label: "dispatch-e2e")
        let key = try #require(AES128Key(bytes: keyBytes))
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        var profile = MeterProfile(protocol: .native, address: String(meter))
        profile.aesKey = keyBytes
        profile.district = "harbour"
        profile.isMethaneDetectorLinked = true
        _ = try await MeterStore(writer.database).importMeters(
            [profile],
            columns: [.aesKey, .district, .methaneDetectorLinked]
        )
        await writer.close()

        let listener = PostgresListener(
            conninfo: configuration.postgres.conninfo,
            channel: "ticket_events",
            logger: logger
        )
        try await listener.start()
        defer { listener.stop() }

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let received = Mutex<[(topic: String, text: String)]>([])
        let dispatchFilter = "\(configuration.mqtt.topicPrefix)/dispatch/tickets/#"
        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-dispatch-\(environment.runID)"),
            subscriptions: [MQTTSubscription(filter: dispatchFilter, qos: .atLeastOnce)],
            logger: logger,
            onMessage: { message in
                let topic = message.topicUTF8.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
                let text = String(decoding: message.payload, as: UTF8.self)
                received.withLock { $0.append((topic, text)) }
            }
        )
        fleet.start()

        let router = GatewayHTTPServer.makeRouter(readiness: { [] })
        let apiDatabase = PostgresSession(conninfo: configuration.postgres.conninfo, logger: logger)
        DispatchAPI(
            store: DispatchStore(apiDatabase),
            inspections: InspectionStore(apiDatabase),
            credentials: try CredentialStore([
                try Credential(
                    name: "desk-9",
                    roles: [.dispatch],
                    tokenSHA256: Credential.hexDigest(ofToken: Self.token)
                )
            ]),
            residentialMonths: 12,
            nonResidentialMonths: 6
        ).register(on: router)
        let application = Application(router: router)
        let auth: HTTPFields = [.authorization: "Bearer \(Self.token)"]

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(50))
            }
            let now = UInt32(Date().timeIntervalSince1970)
            let alarm = NativeFrame(
                meterID: meter,
                frameCounter: 7,
                meterTime: now - 2,
                body: .alarm(
                    NativeFrame.Alarm(
                        code: 0x0001,
                        isRaised: true,
                        valve: .closed,
                        register: NativeFrame.Register(raw: 5_000, exponent: -3, digits: 5),
                        flowMillilitresPerHour: 0,
                        detail: 1500
                    )
                )
            )
            try await fleet.publishAndWait(
                topic: topics.uplinkTopic(.native, address: String(meter)),
                payload: try NativeEncoder.encode(alarm, key: key)
            )

            // NOTIFY after commit.
            var notifications = listener.notifications.makeAsyncIterator()
            let notified = try #require(await notifications.next()?.payload)
            #expect(notified.contains("\"event\":\"opened\""), "\(notified)")

            // The dispatch topic, P0 sub-topic.
            @Sendable func dispatched() -> [(topic: String, json: [String: Any])] {
                received.withLock { $0 }.map { message in
                    (
                        message.topic,
                        (try? JSONSerialization.jsonObject(with: Data(message.text.utf8)) as? [String: Any]) ?? [:]
                    )
                }
            }
            @Sendable func waitForDispatched(_ count: Int) async throws {
                let deadline = ContinuousClock.now + .seconds(20)
                while received.withLock({ $0.count }) < count {
                    try #require(ContinuousClock.now < deadline, "no dispatch message in time")
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            try await waitForDispatched(1)
            let first = try #require(dispatched().first)
            #expect(first.topic == "\(configuration.mqtt.topicPrefix)/dispatch/tickets/P0")
            #expect(first.json["event"] as? String == "opened")
            #expect(first.json["version"] as? Int == 1)
            // A native alarm frame carries a CMAC made with the meter's key.
            #expect(first.json["alarm_protection"] as? String == "authenticated")
            let ticket = try #require(first.json["ticket"] as? [String: Any])
            #expect(ticket["condition"] as? String == "methane_detector")
            #expect((ticket["meter"] as? [String: Any])?["district"] as? String == "harbour")
            let ticketID = try #require(ticket["id"] as? Int)

            let stepAnswers = try await application.test(.router) { client -> [String] in
                var stepAnswers: [String] = []
                try await client.execute(uri: "/dispatch/v1/tickets", method: .get) { response in
                    #expect(response.status == .unauthorized)
                }
                try await client.execute(
                    uri: "/dispatch/v1/tickets?priority=P0&district=harbour",
                    method: .get,
                    headers: auth
                ) {
                    response in
                    let object = try #require(
                        try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8))
                            as? [String: Any]
                    )
                    let tickets = try #require(object["tickets"] as? [[String: Any]])
                    #expect(tickets.map { $0["id"] as? Int } == [ticketID])
                    #expect((tickets.first?["deadlines"] as? [String: Any])?["arrive_by"] != nil)
                }
                try await client.execute(
                    uri: "/dispatch/v1/tickets/\(ticketID)/steps",
                    method: .post,
                    headers: auth,
                    body: ByteBuffer(string: #"{"step":"on_site"}"#)
                ) { response in
                    #expect(response.status == .conflict)  // not dispatched yet
                }
                for step in ["acknowledged", "dispatched"] {
                    let answer = try await client.execute(
                        uri: "/dispatch/v1/tickets/\(ticketID)/steps",
                        method: .post,
                        headers: auth,
                        body: ByteBuffer(string: #"{"step":"\#(step)","note":"crew 3 sent"}"#)
                    ) { response in
                        #expect(response.status == .created)
                        return String(buffer: response.body)
                    }
                    stepAnswers.append(answer)
                }
                try await client.execute(uri: "/dispatch/v1/tickets/\(ticketID)", method: .get, headers: auth) {
                    response in
                    let object = try #require(
                        try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8))
                            as? [String: Any]
                    )
                    let events = try #require(object["events"] as? [[String: Any]])
                    #expect(events.map { $0["event"] as? String } == ["opened", "acknowledged", "dispatched"])
                    #expect(events.allSatisfy { ($0["ticket"] as? [String: Any])?["id"] as? Int == ticketID })
                    #expect(events.map { $0["actor"] as? String } == ["gateway", "desk-9", "desk-9"])
                    let household = try #require(object["household"] as? [String: Any])
                    #expect(household["methane_detector_linked"] as? Bool == true)
                    #expect((household["alarms"] as? [[String: Any]])?.count == 1)
                }
                return stepAnswers
            }
            // Each step was published on the topic, in order.
            try await waitForDispatched(3)
            #expect(dispatched().map { $0.json["event"] as? String } == ["opened", "acknowledged", "dispatched"])
            // HTTP answered each step with the message the topic carried for it (whose ticket part is the ticket as
            // it stood when each was sent).
            let answers = try stepAnswers.map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            let published = dispatched().dropFirst().map(\.json)
            #expect(answers.count == 2 && published.count == 2)
            for (answer, message) in zip(answers, published) {
                for key in ["version", "event_id", "event", "at", "actor", "detail", "alarm_id", "alarm_protection"] {
                    #expect("\(answer[key] ?? "absent")" == "\(message[key] ?? "absent")", "\(key)")
                }
            }
            await group.triggerGracefulShutdown()
        }
        await fleet.stop()
    }

    /// With `dispatch.valve_close_on_p0`, a P0 ticket sends the meter a valve-close downlink; the command and the
    /// meter's answer are recorded on the ticket.
    @Test func theOptionalP0PolicyClosesTheValveAndRecordsTheAnswer() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "valve_e2e")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(
            database: database,
            clientID: "gw-valve",
            environment: ["METER_GATEWAY_DISPATCH_VALVE_CLOSE_ON_P0": "true"]
        )
        #expect(configuration.dispatch.valveCloseOnP0)
        let logger = Logger(label: "valve-e2e")
        let key = try #require(AES128Key(bytes: keyBytes))
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        _ = try await MeterStore(writer.database).registerMeters([
            MeterRegistration(protocol: .native, address: String(meter), district: "harbour", aesKey: keyBytes)
        ])
        await writer.close()

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        // The meter: answers a valve-close command with "executed, valve closed".
        let commands = Mutex<[UInt32]>([])
        let meterID = meter
        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-valve-\(environment.runID)"),
            subscriptions: [MQTTSubscription(filter: topics.downlinkFilter(.native), qos: .atLeastOnce)],
            logger: logger,
            onMessage: { message in
                guard let frame = try? NativeDecoder.decode(message.payload, key: { $0 == meterID ? key : nil }),
                    case .valveCommand(let command) = frame.body, command.action == .close
                else { return }
                commands.withLock { $0.append(frame.header.frameCounter) }
            }
        )
        fleet.start()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(50))
            }
            let now = UInt32(Date().timeIntervalSince1970)
            let uplink = topics.uplinkTopic(.native, address: String(meter))
            let alarm = NativeFrame(
                meterID: meter,
                frameCounter: 20,
                meterTime: now - 2,
                body: .alarm(
                    NativeFrame.Alarm(
                        code: 0x0001,
                        isRaised: true,
                        valve: .open,
                        register: NativeFrame.Register(raw: 5_000, exponent: -3, digits: 5),
                        flowMillilitresPerHour: 0,
                        detail: 2500
                    )
                )
            )
            try await fleet.publishAndWait(topic: uplink, payload: try NativeEncoder.encode(alarm, key: key))
            let deadline = ContinuousClock.now + .seconds(20)
            while commands.withLock({ $0.isEmpty }) {
                try #require(ContinuousClock.now < deadline, "no valve command in time")
                try await Task.sleep(for: .milliseconds(50))
            }
            let counter = try #require(commands.withLock { $0.first })
            let answer = NativeFrame(
                meterID: meter,
                frameCounter: 21,
                meterTime: now,
                body: .commandResult(
                    NativeFrame.CommandResult(
                        commandFrameCounter: counter,
                        commandType: .valveCommand,
                        outcome: .executed,
                        valve: .closed
                    )
                )
            )
            try await fleet.publishAndWait(topic: uplink, payload: try NativeEncoder.encode(answer, key: key))
            let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { db.close() }
            var events: [[String]] = []
            while events.count < 3 {
                try #require(ContinuousClock.now < deadline + .seconds(10), "events so far: \(events)")
                try await Task.sleep(for: .milliseconds(100))
                events = try db.query("SELECT kind, actor, coalesce(detail, '') FROM ticket_events ORDER BY id").map {
                    $0.map { $0 ?? "" }
                }
            }
            #expect(events.map { $0[0] } == ["opened", "valve_command", "valve_answer"])
            #expect(events[1][1] == "gateway" && events[1][2].hasPrefix("close (frame counter \(counter)"))
            #expect(events[2] == ["valve_answer", "meter", "executed, valve closed"])
            #expect(commands.withLock { $0.count } == 1)  // once per ticket
            await group.triggerGracefulShutdown()
        }
        await fleet.stop()
    }
}

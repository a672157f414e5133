import ArgumentParser
import Foundation
import GatewayCore
import GatewayFleet
import Logging
import MQTTIngest
import PostgresSink
import ServiceLifecycle
import UnixSignals

/// `bench-alarms`: publishes a fleet with alarms against a running gateway and measures, per alarm, the time from
/// its frame's publish to its ticket event on `NOTIFY ticket_events` and on the MQTT dispatch topic.
struct BenchAlarmsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-alarms",
        abstract: "Measure alarm latency: frame publish → ticket NOTIFY and → dispatch topic (p50, p99, max).",
        discussion: """
            Needs a running gateway (with its dispatch service) on the configuration's broker and database, and the \
            fleet registered (simulate --provision-only with the same --meters). Prints one JSON object: the \
            fleet's report and, per channel, the latency summary in milliseconds and the alarms whose event never \
            arrived. Exit 1 when an alarm's event is missing on either channel. Keep each meter below one frame per \
            second (--rate below --meters): two alarm frames of one meter with the same code in the same second are \
            one stored alarm, so the second has no event of its own; it is counted as `merged`, not as missing.
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var fleet: FleetArguments

    @Option(name: .long, help: "MQTT client id of the fleet.")
    var clientID = "meter-fleet-bench-alarms"

    @Option(name: .long, help: "Seconds to wait after publishing for the last ticket events.")
    var settle = 10

    func validate() throws {
        guard settle >= 0 else { throw ValidationError("--settle must not be negative") }
    }

    func run() async throws {
        let configuration = try options.load()
        let logger = GatewayLogging.bootstrap(configuration.log)
        let report = try await Self.measure(
            configuration: configuration,
            fleet: fleet.simulatorOptions,
            fleetClientID: clientID,
            settle: .seconds(settle),
            logger: logger
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
        if report.alarms.notify.missing > 0 || report.alarms.dispatch.missing > 0 {
            throw ExitCode(1)
        }
    }

    /// The command's output.
    struct Output: Codable, Sendable {
        var fleet: SimulatorReport
        var alarms: AlarmLatencyReport
    }

    /// Runs the fleet with the recorder attached, waits for the events, resolves the alarm ids and summarises.
    static func measure(
        configuration: GatewayConfiguration,
        fleet: SimulatorOptions,
        fleetClientID: String,
        settle: Duration,
        logger: Logger
    ) async throws -> Output {
        let recorder = AlarmLatencyRecorder()
        let conninfo = configuration.postgres.conninfo
        let listener = PostgresListener(conninfo: conninfo, channel: "ticket_events", logger: logger)
        try await listener.start()
        defer { listener.stop() }
        var dispatchOptions = configuration.fleetMQTTOptions(clientID: fleetClientID + "-dispatch")
        dispatchOptions.receiveMaximum = 1000
        let dispatch = try MosquittoClient(
            options: dispatchOptions,
            subscriptions: [
                MQTTSubscription(filter: "\(configuration.mqtt.topicPrefix)/dispatch/tickets/+", qos: .atLeastOnce)
            ],
            logger: logger,
            onMessage: { message in
                let now = ContinuousClock.now
                if let id = Self.alarmID(inEvent: Data(message.payload)) {
                    recorder.recordArrival(on: .dispatch, alarmID: id, at: now)
                }
            }
        )
        dispatch.start()
        guard await dispatch.waitUntilConnected(timeout: .seconds(15)) else {
            await dispatch.stop()
            throw SimulatorError("could not connect to the broker for the dispatch topic")
        }
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await notification in listener.notifications where !notification.isResync {
                    let now = ContinuousClock.now
                    if let id = Self.alarmID(inEvent: Data(notification.payload.utf8)) {
                        recorder.recordArrival(on: .notify, alarmID: id, at: now)
                    }
                }
            }
            var options = fleet
            options.onAlarmPublished = { recorder.recordPublication($0) }
            let simulator = FleetSimulator(
                options: options,
                mqtt: configuration.fleetMQTTOptions(clientID: fleetClientID),
                topics: TopicScheme(prefix: configuration.mqtt.topicPrefix),
                logger: logger
            )
            let fleetReport = try await simulator.run()
            let store = PostgresSession(.gateway(conninfo: conninfo), logger: logger)
            try await store.connect()
            var frames: [Int64: AlarmLatencyRecorder.AlarmFrameKey] = [:]
            var stored: [Int64: AlarmStoredTimes] = [:]
            let deadline = ContinuousClock.now + settle
            repeat {
                for frame in try await FleetReportStore(store).alarmFrames(ids: recorder.arrivedAlarmIDs)
                where frame.meterProtocol == "native" {
                    guard let meter = UInt64(frame.address), let counter = frame.frameCounter,
                        let counter32 = UInt32(exactly: counter)
                    else { continue }
                    frames[frame.alarmID] = AlarmLatencyRecorder.AlarmFrameKey(meterID: meter, frameCounter: counter32)
                    stored[frame.alarmID] = AlarmStoredTimes(receivedMicros: frame.receivedMicros)
                }
                if recorder.completeCount(frames: frames) >= recorder.publishedCount { break }
                try await Task.sleep(for: .milliseconds(250))
            } while ContinuousClock.now < deadline
            await store.close()
            await dispatch.stop()
            listener.stop()
            tasks.cancelAll()
            return Output(fleet: fleetReport, alarms: recorder.report(frames: frames, stored: stored))
        }
    }

    private struct EventAlarm: Decodable {
        var alarmID: Int64?
        enum CodingKeys: String, CodingKey { case alarmID = "alarm_id" }
    }

    /// The `alarm_id` of a ticket event message, or nil (an event of no alarm, or not a ticket event).
    static func alarmID(inEvent json: Data) -> Int64? {
        (try? JSONDecoder().decode(EventAlarm.self, from: json))?.alarmID
    }
}

/// `reference-consumer`: the benchmark's ceiling (see ``ReferenceConsumer``), run until SIGTERM or SIGINT.
struct ReferenceConsumerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference-consumer",
        abstract: "Acknowledge every simulated meter's frame and do nothing else (the benchmark's ceiling).",
        discussion: """
            Subscribes like the gateway (the configuration's broker, receive maximum, topic filter and shared \
            group; its own client id and a clean session that ends with it) and answers each native frame of the simulated fleet (--meters, --first-meter-id) that \
            asks for an ack with the ack `stored`: no decode beyond the header, no spool, no database. Runs until \
            SIGTERM or SIGINT, then prints the acks sent.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Number of simulated meters (the fleet's id range).")
    var meters = 50

    @Option(name: .long, help: "Id of the first meter of the fleet.")
    var firstMeterID: UInt64 = 100_000_001

    @Option(name: .long, help: "MQTT client id (default: the configuration's, with -reference appended).")
    var clientID: String?

    func validate() throws {
        guard (1...1_000_000).contains(meters) else { throw ValidationError("--meters must be 1…1000000") }
    }

    func run() async throws {
        let configuration = try options.load()
        let logger = GatewayLogging.bootstrap(configuration.log)
        var fleet = SimulatorOptions()
        fleet.meters = meters
        fleet.firstMeterID = firstMeterID
        var mqtt = configuration.mqtt.connectionOptions
        mqtt.clientID = clientID ?? configuration.mqtt.clientID + "-reference"
        // No session outlives the consumer: a persistent one would have the broker queue the fleet's frames for it
        // after it stopped (and charge that to whatever runs next, the gateway in scripts/bench.sh).
        mqtt.cleanStart = true
        mqtt.sessionExpirySeconds = 0
        let consumer = ReferenceConsumer(
            fleet: fleet,
            mqtt: mqtt,
            subscription: TopicScheme(prefix: configuration.mqtt.topicPrefix)
                .uplinkFilter(sharedGroup: configuration.mqtt.sharedGroup),
            topics: TopicScheme(prefix: configuration.mqtt.topicPrefix),
            logger: logger
        )
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: ReferenceConsumerService(consumer: consumer))],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        print(
            "acked \(consumer.acked), ignored \(consumer.ignored)"
        )
    }
}

/// Runs a ``ReferenceConsumer`` until graceful shutdown.
private struct ReferenceConsumerService: Service {
    let consumer: ReferenceConsumer

    func run() async throws {
        try consumer.start()
        try? await gracefulShutdown()
        await consumer.stop()
    }
}

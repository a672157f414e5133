import ArgumentParser
import Foundation
import GatewayCore
import GatewayDomain
import GatewayFleet
import Logging
import MQTTIngest
import PostgresSink
import ServiceLifecycle
import Synchronization

/// Fleet options shared by `simulate` and `demo`.
struct FleetArguments: ParsableArguments {
    @Option(name: .long, help: "Number of simulated meters.")
    var meters = 50

    @Option(name: .long, help: "Frames per second over the whole fleet (0 = as fast as acks allow).")
    var rate = 40.0

    @Option(name: .long, help: "Seconds of publishing.")
    var duration = 30

    @Option(name: .long, help: "Id of the first meter; the fleet uses consecutive ids.")
    var firstMeterID: UInt64 = 100_000_001

    @Option(name: .long, help: "Random seed of the fleet's households.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Resend a frame after this many seconds without an ack (0 = never).")
    var retransmitAfter = 5

    @Option(name: .long, help: "Seconds to wait for outstanding acks after publishing.")
    var drain = 15

    @Flag(name: .long, help: "Publish one malformed frame of each kind midway (they must land in quarantine).")
    var injectFaults = false

    @Flag(
        name: .long,
        inversion: .prefixedNo,
        help: "Send the scripted alarms (methane, over-flow, continuous flow, tilt, battery)."
    )
    var scriptedAlarms = true

    @Option(name: .long, help: "Chance per frame of a random device alarm (battery low, magnetic attack).")
    var alarmProbability = 0.002

    @Flag(
        name: .long,
        inversion: .prefixedNo,
        help: "Start each meter with a daily report (48 half-hour points of yesterday)."
    )
    var dailyReports = true

    func validate() throws {
        guard (1...1_000_000).contains(meters) else { throw ValidationError("--meters must be 1…1000000") }
        guard rate >= 0 else { throw ValidationError("--rate must not be negative") }
        guard duration >= 1 else { throw ValidationError("--duration must be at least 1 second") }
        guard (0...1).contains(alarmProbability) else { throw ValidationError("--alarm-probability must be 0…1") }
        guard retransmitAfter >= 0, drain >= 0 else {
            throw ValidationError("--retransmit-after and --drain must not be negative")
        }
    }

    var simulatorOptions: SimulatorOptions {
        var options = SimulatorOptions()
        options.meters = meters
        options.ratePerSecond = rate
        options.duration = .seconds(duration)
        options.firstMeterID = firstMeterID
        options.seed = seed
        options.retransmitAfter = retransmitAfter > 0 ? .seconds(retransmitAfter) : nil
        options.drain = .seconds(drain)
        options.injectFaults = injectFaults
        options.scriptedAlarms = scriptedAlarms
        options.randomAlarmProbability = alarmProbability
        options.dailyReports = dailyReports
        return options
    }
}

extension GatewayConfiguration {
    /// MQTT options for a simulated fleet: the gateway's broker settings under another client id.
    func fleetMQTTOptions(clientID: String) -> MQTTConnectionOptions {
        var options = mqtt.connectionOptions
        options.clientID = clientID
        options.cleanStart = true
        options.sessionExpirySeconds = 0
        return options
    }
}

/// Registers a simulated fleet in the meter registry (idempotent). The simulated meters publish on their own meter
/// topics, so their collector assignments are left as they are.
func provision(
    _ simulator: FleetSimulator,
    conninfo: String,
    sealer: MeterKeySealer? = nil,
    logger: Logger
) async throws -> Int {
    let session = PostgresSession(.gateway(conninfo: conninfo), logger: logger)
    try await session.connect()
    _ = try await session.migrate()
    let count = try await MeterStore(session, sealer: sealer).importMeters(
        simulator.profiles(),
        columns: Set(MeterCSV.Column.allCases).subtracting([.collectors])
    )
    await session.close()
    return count
}

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Publish a simulated fleet's frames to the broker and print a JSON report.",
        discussion: "Meters answer to acks on their downlink topics and resend frames that stay unacknowledged."
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var fleet: FleetArguments

    @Flag(name: .long, help: "Register the fleet's meters and keys in the database first.")
    var provision = false

    @Flag(name: .long, help: "Only register the fleet's meters and keys, then exit.")
    var provisionOnly = false

    @Option(name: .long, help: "MQTT client id of the fleet.")
    var clientID = "meter-fleet-simulator"

    func run() async throws {
        let configuration = try options.load()
        let logger = GatewayLogging.bootstrap(configuration.log)
        let simulator = FleetSimulator(
            options: fleet.simulatorOptions,
            mqtt: configuration.fleetMQTTOptions(clientID: clientID),
            topics: TopicScheme(prefix: configuration.mqtt.topicPrefix),
            logger: logger
        )
        if provision || provisionOnly {
            let count = try await GatewayApp.provision(
                simulator,
                conninfo: configuration.postgres.conninfo,
                sealer: configuration.meters.keySealer,
                logger: logger
            )
            logger.info("fleet registered", metadata: ["meters.registered": "\(count)"])
            if provisionOnly {
                print("registered \(count) meters")
                return
            }
        }
        let report = try await simulator.run()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Register a simulated fleet, run the gateway and the fleet for a bounded time, print what happened."
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Number of simulated meters.")
    var meters = 60

    @Option(name: .long, help: "Frames per second over the whole fleet.")
    var rate = 50.0

    @Option(name: .long, help: "Seconds of publishing.")
    var duration = 40

    func run() async throws {
        var configuration = try options.load()
        if configuration.log.level == "info" { configuration.log.level = "notice" }
        let logger = GatewayLogging.bootstrap(configuration.log)
        var fleetOptions = SimulatorOptions()
        fleetOptions.meters = max(meters, 10)
        fleetOptions.ratePerSecond = rate
        fleetOptions.duration = .seconds(duration)
        fleetOptions.injectFaults = true
        let simulator = FleetSimulator(
            options: fleetOptions,
            mqtt: configuration.fleetMQTTOptions(clientID: "meter-fleet-demo"),
            topics: TopicScheme(prefix: configuration.mqtt.topicPrefix),
            logger: logger
        )
        let registered = try await provision(
            simulator,
            conninfo: configuration.postgres.conninfo,
            sealer: configuration.meters.keySealer,
            logger: logger
        )
        print("registered \(registered) simulated meters; gateway and fleet run for \(duration) s …")

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: runtime.services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                logger: logger
            )
        )
        let validates = configuration.validation.isEnabled
        let conninfo = configuration.postgres.conninfo
        let billingZone = configuration.validation.billingZone
        let report = try await withThrowingTaskGroup(of: SimulatorReport?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            tasks.addTask {
                guard await runtime.mqtt.waitUntilConnected(timeout: .seconds(30)) else {
                    throw SimulatorError("the gateway did not connect to the broker")
                }
                let report = try await simulator.run()
                // Let the last commit and its acks settle and the validator catch up (at most 60 s), then shut the
                // gateway down in order.
                try await Task.sleep(for: .seconds(1))
                if validates {
                    try await Self.waitForValidation(conninfo: conninfo, logger: logger, timeout: .seconds(60))
                    // The district balance needs every customer's day: check it once all are validated.
                    let balance = PostgresSession(.gateway(conninfo: conninfo), logger: logger)
                    _ = try await ValidationStore(balance).checkDistrictBalance(
                        since: Timestamp.now.adding(seconds: -7 * 86_400),
                        zone: billingZone,
                        now: .now
                    )
                    await balance.close()
                }
                await group.triggerGracefulShutdown()
                return report
            }
            var result: SimulatorReport?
            for try await value in tasks {
                if let value { result = value }
            }
            return result
        }
        guard let report else { throw SimulatorError("the fleet did not report") }
        let session = PostgresSession(.gateway(conninfo: configuration.postgres.conninfo), logger: logger)
        try await session.connect()
        let stored = try await FleetReportStore(session).report()
        await session.close()
        printSummary(report: report, statistics: runtime.statistics, stored: stored)
        printValidation(runtime.validationStatistics, stored: stored)
    }

    /// Waits until the validation queue is empty (polled every 250 ms).
    private static func waitForValidation(conninfo: String, logger: Logger, timeout: Duration) async throws {
        let session = PostgresSession(.gateway(conninfo: conninfo), logger: logger)
        try await session.connect()
        let store = FleetReportStore(session)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await store.validationBacklog() == 0 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        await session.close()
    }

    private func printValidation(_ statistics: ValidationStatistics, stored: FleetReport) {
        func counts(_ counts: [FleetReport.Count]) -> String {
            counts.map { "\($0.name) \($0.count)" }.joined(separator: ", ")
        }
        print("== validation and billing")
        print("  reads by quality     " + counts(stored.readingsByQuality))
        print("  held or rejected     " + counts(stored.heldReadingsByReasons))
        print("  days by quality      " + counts(stored.daysByQuality))
        print("  day flags            " + counts(stored.dayFlags))
        print(
            "  billing feed         \(statistics.daysPublished.load(ordering: .relaxed)) days published, "
                + "\(statistics.corrections.load(ordering: .relaxed)) corrections"
        )
        print(
            "  verification expired \(stored.metersPastVerification) meters (reads billable, flagged verification_expired)"
        )
        print("== leak signatures (derived from consumption)")
        for signature in stored.leakSignatures {
            print(
                "  \(pad(signature.condition, 26)) \(pad(String(signature.count), 4)) meters "
                    + signature.meterAddresses.joined(separator: " ")
            )
        }
        print("  (each opens or joins a ticket in the list above, except the 24 h and 7-day continuous-flow warnings)")
    }

    private func printSummary(report: SimulatorReport, statistics: PipelineStatistics, stored: FleetReport) {
        print("")
        print("== fleet")
        print(
            "  frames sent          \(report.framesGenerated) (\(report.readings) readings, \(report.dailyReports) daily reports, \(report.alarms) alarms) + \(report.faultsInjected) malformed + \(report.implausibleReadings) implausible"
        )
        print("  rate                 \(String(format: "%.1f", report.framesPerSecond)) frames/s")
        print(
            "  acked after commit   \(report.acked) of \(report.framesGenerated); resent \(report.retransmissions); unacked \(report.unacked)"
        )
        print("== gateway")
        print("  frames received      \(statistics.framesProcessed.load(ordering: .relaxed))")
        print("  frames stored        \(stored.framesStored)")
        print("  readings             \(stored.readings)")
        print("  interval points      \(stored.intervalPoints)")
        print("  alarms               \(stored.alarms)")
        print("  quarantined          \(stored.quarantined)")
        for reason in stored.quarantineByReason {
            print("    \(reason.name)\(String(repeating: " ", count: max(1, 20 - reason.name.count)))\(reason.count)")
        }
        print("  tickets raised       \(stored.tickets.count)")
        if !stored.tickets.isEmpty {
            print(
                "    id  meter      condition                        pri  status  alarms  opened    arrive by    repair by (UTC)"
            )
            for ticket in stored.tickets {
                let arriveBy = ticket.arriveBy.map { Self.monthDayMinute($0) } ?? ""
                let repairBy = ticket.repairBy.map { Self.monthDayMinute($0) } ?? ""
                print(
                    "    \(pad(String(ticket.id), 3)) \(pad(ticket.meterAddress, 10)) \(pad(ticket.condition, 32)) \(pad(ticket.priority, 4)) \(pad(ticket.status, 7)) \(pad(String(ticket.alarmCount), 7)) \(pad(Self.timeOfDay(ticket.openedAt), 9)) \(pad(arriveBy, 12)) \(repairBy)"
                )
            }
        }
        print("  ticket events        \(stored.ticketEvents)")
        print(
            "  database commits     \(statistics.commits.load(ordering: .relaxed)) (failed attempts \(statistics.commitFailures.load(ordering: .relaxed)))"
        )
    }

    /// `HH:MM:SS` in UTC.
    private static func timeOfDay(_ time: Timestamp) -> String {
        let civil = CivilTime(utcSeconds: floorSeconds(time))
        return "\(twoDigits(civil.hour)):\(twoDigits(civil.minute)):\(twoDigits(civil.second))"
    }

    /// `MM-DD HH:MM` in UTC.
    private static func monthDayMinute(_ time: Timestamp) -> String {
        let civil = CivilTime(utcSeconds: floorSeconds(time))
        return "\(twoDigits(civil.month))-\(twoDigits(civil.day)) \(twoDigits(civil.hour)):\(twoDigits(civil.minute))"
    }

    private static func floorSeconds(_ time: Timestamp) -> Int64 {
        let micros = time.microsecondsSinceEpoch
        return micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

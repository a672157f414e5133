import ArgumentParser
import Foundation
import GatewayCore
import GatewayFleet
import Logging
import PostgresSink

/// `meter-gateway faults …`: the fleet side and the checker of the fault campaign (`scripts/faults.sh`).
///
/// The script starts the servers and the gateways and pulls the fault levers; these commands register the
/// campaign's meters, publish each phase's CJ/T 188 and wireless M-Bus frames (native frames come from
/// `meter-gateway simulate`) with a JSON record of what was sent and acknowledged, and finally compare every record
/// with the database and print one table.
struct FaultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faults",
        abstract: "Fault campaign: register its meters, publish a phase's frames with a record, check the records.",
        subcommands: [FaultsProvisionCommand.self, FaultsPublishCommand.self, FaultsCheckCommand.self]
    )
}

/// Options naming a phase's fleet.
struct FaultFleetOptions: ParsableArguments {
    @Option(name: .long, help: "Phase number (1…99); each phase has meters of its own.")
    var phase: Int

    @Option(name: .long, help: "CJ/T 188 meters in the phase.")
    var cjtMeters = 6

    @Option(name: .long, help: "Wireless M-Bus meters in the phase.")
    var wmbusMeters = 6

    func validate() throws {
        guard (1...99).contains(phase) else { throw ValidationError("--phase must be 1…99") }
        guard (2...9999).contains(cjtMeters), (3...9999).contains(wmbusMeters) else {
            throw ValidationError(
                "--cjt-meters must be 2…9999 and --wmbus-meters 3…9999 (the alarm meters are 1 and 2)"
            )
        }
    }

    var fleet: FaultFleet { FaultFleet(phase: phase, cjtCount: cjtMeters, wmbusCount: wmbusMeters) }
}

struct FaultsProvisionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Migrate the database and register every phase's native, CJ/T 188 and wireless M-Bus meters."
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Number of phases (phases 1…N are registered).")
    var phases = 9

    @Option(name: .long, help: "Native meters per phase (the simulator's scripted alarms need at least 10).")
    var nativeMeters = 12

    @Option(name: .long, help: "CJ/T 188 meters per phase.")
    var cjtMeters = 6

    @Option(name: .long, help: "Wireless M-Bus meters per phase.")
    var wmbusMeters = 6

    func run() async throws {
        let configuration = try options.load()
        let registered = try await withDatabase(options) { writer in
            try await register(on: writer, configuration: configuration)
        }
        print("registered \(registered) meters for \(phases) phases")
    }

    private func register(on writer: TelemetryStore, configuration: GatewayConfiguration) async throws -> Int {
        let logger = Logger(label: "meter-gateway")
        let meters = MeterStore(writer.database, sealer: configuration.meters.keySealer)
        var registered = 0
        for phase in 1...max(1, phases) {
            var simulatorOptions = SimulatorOptions()
            simulatorOptions.meters = nativeMeters
            simulatorOptions.firstMeterID = FaultFleet.firstNativeMeterID(phase: phase)
            let simulator = FleetSimulator(
                options: simulatorOptions,
                mqtt: configuration.fleetMQTTOptions(clientID: "faults-provision"),
                topics: TopicScheme(prefix: configuration.mqtt.topicPrefix),
                logger: logger
            )
            registered += try await meters.importMeters(
                simulator.profiles(),
                columns: Set(MeterCSV.Column.allCases).subtracting([.collectors])
            )
            let fleet = FaultFleet(phase: phase, cjtCount: cjtMeters, wmbusCount: wmbusMeters)
            registered += try await meters.importMeters(
                fleet.profiles(),
                columns: [.protocol, .address, .district, .aesKey, .minProtection, .collectors]
            )
        }
        return registered
    }
}

struct FaultsPublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish one phase's CJ/T 188 and wireless M-Bus frames and write the record of what was sent.",
        discussion: """
            Modes: ordinary readings and alarms (default); --redeliver N sends every clock-less frame N times and \
            each clock-less meter's last frame once more with the retain flag; --hostile N sends about N hostile \
            deliveries (random bytes, truncated, bit-flipped, oversized, topic-mismatched, replayed frames, and \
            native frames that reuse counters earlier phases stored, with other content: `replayed`).
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var fleetOptions: FaultFleetOptions

    @Option(name: .long, help: "Frames per second over the phase's meters (0 = as fast as the broker acknowledges).")
    var rate = 20.0

    @Option(name: .long, help: "Seconds of ordinary publishing.")
    var duration = 10

    @Option(name: .long, help: "Send each clock-less frame this many times (0 = off); with --random-repeats, 1…N.")
    var redeliver = 0

    @Option(name: .long, help: "Publish about this many hostile deliveries instead of ordinary frames (0 = off).")
    var hostile = 0

    @Flag(name: .long, help: "Random repeat counts (1…N) for --redeliver and for hostile payloads.")
    var randomRepeats = false

    @Option(name: .long, help: "Random seed (0 = from the clock).")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Where to write the JSON record.")
    var record: String

    @Option(name: .long, help: "MQTT client id of the publisher.")
    var clientID = "faults-fleet"

    func run() async throws {
        let configuration = try options.load()
        let logger = GatewayLogging.bootstrap(configuration.log)
        let now = Int64(Date().timeIntervalSince1970)
        var random = SplitMix64(seed: seed != 0 ? seed : UInt64(now) &* 31 &+ UInt64(fleetOptions.phase))
        let traffic = FaultTraffic(
            fleet: fleetOptions.fleet,
            topics: TopicScheme(prefix: configuration.mqtt.topicPrefix),
            now: now
        )
        let ordinaryCount = max(1, Int(rate * Double(duration)))
        let items: [OutgoingFrame]
        var sendRate = rate
        if hostile > 0 {
            let captured = try Self.storedNativeCounters(conninfo: configuration.postgres.conninfo, limit: 40)
            var burst = traffic.hostile(
                count: hostile,
                maxPayloadBytes: configuration.mqtt.maxPayloadBytes,
                maxRepeats: randomRepeats ? 5 : 3,
                random: &random
            )
            burst += traffic.counterReplays(of: captured, maxRepeats: randomRepeats ? 5 : 3, random: &random)
            burst.shuffle(using: &random)
            items = burst
            sendRate = 0
        } else if redeliver > 0 {
            let most = redeliver
            let isRandom = randomRepeats
            var repeatRandom = SplitMix64(seed: random.next())
            items = traffic.redeliveries(count: ordinaryCount) { _ in
                isRandom ? Int.random(in: 1...most, using: &repeatRandom) : most
            }
            sendRate = Double(items.count) / Double(max(1, duration))
        } else {
            items = traffic.ordinary(count: ordinaryCount)
        }
        let publisher = try await FaultPublisher(
            options: configuration.fleetMQTTOptions(clientID: clientID),
            logger: logger
        )
        await publisher.send(items, ratePerSecond: sendRate)
        await publisher.stop()
        let result = publisher.record(phase: fleetOptions.phase)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try encoder.encode(result).write(to: URL(fileURLWithPath: record))
        } catch {
            throw FaultCampaignError("cannot write the record \(record): \(error.localizedDescription)")
        }
        let deliveries = result.frames.reduce(0) { $0 + $1.deliveries }
        let confirmed = result.frames.reduce(0) { $0 + $1.confirmed }
        print(
            "phase \(fleetOptions.phase): \(result.frames.count) frames, \(deliveries) deliveries, \(confirmed) acknowledged by the broker"
        )
    }
}

extension FaultsPublishCommand {
    /// Native (meter id, frame counter) pairs that earlier phases stored, for the counter-replay attack: the first
    /// `limit` by meter and counter.
    static func storedNativeCounters(conninfo: String, limit: Int) throws -> [(meter: UInt64, counter: UInt32)] {
        let connection = try PostgresConnection.connect(conninfo: conninfo)
        defer { connection.close() }
        let rows = try connection.query(
            """
            SELECT m.address, u.frame_counter FROM uplink_frames u JOIN meters m ON m.id = u.meter_id
            WHERE m.protocol = 'native' AND m.address ~ '^[0-9]+$' ORDER BY u.meter_id, u.frame_counter LIMIT $1::integer
            """,
            parameters: [String(limit)]
        )
        return rows.compactMap { row in
            guard let meter = row[0].flatMap({ UInt64($0) }), let counter = row[1].flatMap({ UInt32($0) }) else {
                return nil
            }
            return (meter, counter)
        }
    }
}

struct FaultsCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compare the campaign's records with the database, print the table, fail on any violation."
    )

    @OptionGroup var options: ConfigOptions

    @Option(
        name: .long,
        help: "The folder of the records (<phase>-*.frames.json, <phase>.native.json, <phase>.events)."
    )
    var records: String

    @Option(name: .long, help: "Seconds to wait for the gateway to finish storing before checking.")
    var settle = 60

    func run() async throws {
        let configuration = try options.load()
        let checker = try FaultChecker(
            folder: records,
            conninfo: configuration.postgres.conninfo,
            policy: configuration.tickets.policy
        )
        try await checker.waitUntilSettled(timeout: .seconds(settle))
        let result = try checker.check()
        print(result.render())
        if !result.violations.isEmpty {
            throw ExitCode(1)
        }
    }
}

import Foundation
import GatewayCore
import GatewayTestSupport
import Logging
import MQTTIngest
import PostgresSink
import Testing

@testable import GatewayApp

#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Three real gateways on one MQTT 5 shared subscription; one is killed with SIGKILL mid-stream and restarted a few
/// seconds later, as a supervisor would. Each member's share of the frames and its CPU time per frame are printed
/// (the per-instance figures the README's "Scaling" section starts from).
///
/// What must hold: every native frame (application acks; the fleet resends what was not acked) is stored exactly
/// once; every wireless M-Bus frame (no acks) is stored once, or lost only inside the broker's window — the
/// frames in flight to the killed member when it died, at most `mqtt.receive_maximum` (a clean-start member's
/// session ends with its connection, and mosquitto drops what it had sent it unacknowledged). Frames the killed
/// member had already acknowledged are in its spool and are stored when it restarts.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .serialized,
    .timeLimit(.minutes(3))
)
struct SharedSubscriptionKillTests {
    static let receiveMaximum = 20
    static let memberCount = 3

    /// A plain wireless M-Bus frame of meter ELS-<id>-51-03 (version 0x33) without a meter clock; `sequence` goes into the access
    /// number and the BCD volume, so every frame has its own bytes.
    static func wmbusFrame(meter: UInt32, sequence: Int) -> [UInt8] {
        func bcd(_ value: Int) -> UInt8 { UInt8((value / 10 % 10) << 4 | value % 10) }
        let id = [meter & 0xFF, meter >> 8 & 0xFF, meter >> 16 & 0xFF, meter >> 24 & 0xFF].map { UInt8($0) }
        let volume = [bcd(sequence), bcd(sequence / 100), bcd(sequence / 10_000), 0x00]
        // L C M(ELS) A(id, version 0x33, gas) CI ACC STS CFG | 0C 14 volume (0.01 m³, 8 BCD digits)
        let body: [UInt8] =
            [0x44, 0x93, 0x15] + id + [0x33, 0x03, 0x7A, UInt8(truncatingIfNeeded: sequence), 0x00, 0x00, 0x00]
            + [0x0C, 0x14] + volume
        return [UInt8(body.count)] + body
    }

    static func bcdID(_ value: Int) -> UInt32 {
        var result: UInt32 = 0
        var rest = value
        for shift in stride(from: 0, to: 32, by: 4) {
            result |= UInt32(rest % 10) << UInt32(shift)
            rest /= 10
        }
        return result
    }

    /// The frames a member's pipeline processed (`/metrics`), or nil when it does not answer.
    static func framesProcessed(httpPort: Int) async -> Int? {
        guard let url = URL(string: "http://127.0.0.1:\(httpPort)/metrics"),
            let (data, _) = try? await URLSession.shared.data(from: url)
        else { return nil }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix("meter_gateway_frames_processed_total ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") }
    }

    /// CPU time (user + system) of a process so far, in seconds, from `/proc`.
    static func cpuSeconds(of pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command name: state is field 3, utime 14 and stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test func killingOneOfThreeSharedGatewaysStrandsNothingAndDuplicatesNothing() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "shared")
        defer { environment.dropDatabase(database) }
        var configs: [String] = []
        var httpPorts: [Int] = []
        for member in 0..<Self.memberCount {
            let folder = try environment.makeFolder() + "/member-\(member)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let path = try environment.writeConfiguration(
                in: folder,
                database: database,
                clientID: "gw-shared-\(member)"
            )
            let port = try LoopbackPort.free()
            let text = try String(contentsOfFile: path, encoding: .utf8)
                .replacingOccurrences(
                    of: "[mqtt]\n",
                    with: "[mqtt]\nshared_group = \"fleet\"\nreceive_maximum = \(Self.receiveMaximum)\n"
                )
                .replacingOccurrences(of: "[http]\nenabled = false\n", with: "[http]\nenabled = true\nport = \(port)\n")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            configs.append(path)
            httpPorts.append(port)
        }
        let folder = try environment.makeFolder()
        let fleetArguments = ["--meters", "300", "--first-meter-id", "600000001", "--config", configs[0]]
        try await environment.runToCompletion(
            ["simulate", "--provision-only"] + fleetArguments,
            log: folder + "/provision.log"
        )
        let wmbusMeters = (0..<20).map { 30_000_000 + $0 }
        let configuration = try GatewayConfiguration.load(
            tomlText: try String(contentsOfFile: configs[0], encoding: .utf8),
            environment: [:]
        )
        let logger = Logger(label: "shared-kill-test")
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        _ = try await MeterStore(writer.database).registerMeters(
            wmbusMeters.map {
                MeterRegistration(protocol: .wmbus, address: "ELS-\(String(format: "%08d", $0))-51-03")
            }
        )
        await writer.close()

        var members = try (0..<Self.memberCount).map {
            try environment.start(["run", "--config", configs[$0]], log: folder + "/member-\($0).log")
        }
        defer { for member in members where member.process.isRunning { kill(member.processIdentifier, SIGKILL) } }
        try await Task.sleep(for: .seconds(2))
        let simulator = try environment.start(
            [
                "simulate", "--rate", "200", "--duration", "8", "--retransmit-after", "2", "--drain", "12",
                "--alarm-probability", "0", "--client-id", "fleet-shared-\(environment.runID)",
            ] + fleetArguments,
            log: folder + "/simulator.log",
            captureOutput: true
        )
        let publisher = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "wmbus-shared-\(environment.runID)"),
            subscriptions: [],
            logger: logger,
            onMessage: { _ in }
        )
        publisher.start()
        defer { Task { await publisher.stop() } }
        #expect(await publisher.waitUntilConnected(timeout: .seconds(20)))
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)
        var published = 0
        let started = ContinuousClock.now
        var killedAfter: Int?
        for sequence in 1...40 {
            for meter in wmbusMeters {
                let topic = topics.uplinkTopic(.wmbus, address: String(format: "%08d", meter))
                try publisher.publish(
                    topic: topic,
                    payload: Self.wmbusFrame(meter: Self.bcdID(meter), sequence: sequence),
                    qos: .atLeastOnce,
                    retain: false
                )
                published += 1
            }
            try await Task.sleep(for: .milliseconds(150))
            if killedAfter == nil, ContinuousClock.now - started > .seconds(3) {
                kill(members[1].processIdentifier, SIGKILL)
                await members[1].exited()
                killedAfter = sequence
            }
        }
        let killSequence = try #require(killedAfter)
        let db = try PostgresConnection.connect(conninfo: environment.conninfo(database))
        defer { db.close() }
        func count(_ sql: String) throws -> Int { Int(try db.query(sql).first?.first.flatMap { $0 } ?? "-1") ?? -1 }
        // Not stranded: while the killed member is still down, the living one stores every frame published after
        // the kill (a persistent member would have half of them queued at the broker until it came back). The
        // volume encodes the sequence: sequence × 10,000 ml.
        let afterKill = (40 - killSequence) * wmbusMeters.count
        let sharedDeadline = ContinuousClock.now + .seconds(15)
        while try count(
            "SELECT count(*) FROM readings_validated WHERE source = 'wmbus' AND volume_ml > \(killSequence * 10_000)"
        )
            < afterKill, ContinuousClock.now < sharedDeadline
        {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(
            try count(
                "SELECT count(*) FROM readings_validated WHERE source = 'wmbus' AND volume_ml > \(killSequence * 10_000)"
            )
                == afterKill,
            "frames published after the kill reach the living member"
        )
        // A supervisor restarts the killed member: it replays what its spool holds.
        members[1] = try environment.start(["run", "--config", configs[1]], log: folder + "/member-1b.log")
        let report = try await environment.waitForReport(simulator)
        let deadline = ContinuousClock.now + .seconds(30)
        while try count("SELECT count(*) FROM uplink_frames") < report.framesGenerated,
            ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(250))
        }
        try await Task.sleep(for: .seconds(2))
        let runSeconds = Double((ContinuousClock.now - started).components.seconds)
        var shares: [(frames: Int, cpu: Double)] = []
        for member in 0..<Self.memberCount {
            shares.append(
                (
                    await Self.framesProcessed(httpPort: httpPorts[member]) ?? -1,
                    Self.cpuSeconds(of: members[member].processIdentifier)
                )
            )
        }
        for member in members { kill(member.processIdentifier, SIGTERM) }
        for member in members { await member.exited() }
        for (member, share) in shares.enumerated() {
            print(
                "shared-subscription member \(member)\(member == 1 ? " (restarted after the kill)" : ""): "
                    + "\(share.frames) frames, \(String(format: "%.1f", Double(share.frames) / runSeconds)) frames/s "
                    + "over \(Int(runSeconds)) s, CPU \(String(format: "%.0f", share.cpu * 1e6 / Double(max(share.frames, 1)))) "
                    + "us per frame (debug build; includes start-up and idle polling)"
            )
        }

        let nativeStored = try count("SELECT count(*) FROM uplink_frames")
        let wmbusStored = try count("SELECT count(*) FROM readings_validated WHERE source = 'wmbus'")
        let lost = published - wmbusStored
        print(
            "shared-subscription kill: native generated \(report.framesGenerated), acked \(report.acked), stored "
                + "\(nativeStored), retransmissions \(report.retransmissions); wM-Bus published \(published), stored "
                + "\(wmbusStored), lost in the broker's window \(lost) (at most mqtt.receive_maximum = "
                + "\(Self.receiveMaximum))"
        )
        #expect(nativeStored == report.framesGenerated, "every native frame stored exactly once")
        #expect(report.unacked == 0, "every native frame acknowledged in the end")
        #expect(
            try count("SELECT count(*) FROM readings_validated WHERE kind = 0 AND source = 'native'") == report.readings
        )
        #expect(lost >= 0 && lost <= Self.receiveMaximum, "wM-Bus frames lost outside the broker's window")
        #expect(
            try count("SELECT count(*) FROM frame_identities WHERE frame_source_name(source) = 'wmbus'") == wmbusStored
        )
        #expect(try count("SELECT count(*) FROM quarantine") == 0)
        #expect(try count("SELECT count(*) FROM value_conflicts") == 0)
        // The members that lived through the run each took a share of the fleet (mosquitto hands a shared
        // subscription's messages round-robin): none sat idle behind the others.
        let total = published + report.framesGenerated
        for member in [0, 2] {
            #expect(
                shares[member].frames >= total / 10,
                "member \(member) processed \(shares[member].frames) of \(total)"
            )
        }
    }
}

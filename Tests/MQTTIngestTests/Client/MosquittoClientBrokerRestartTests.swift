import Dispatch
import Foundation
import Logging
import MQTTIngest
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tests that need to kill and restart a broker: each starts its own private `mosquitto` on a free
/// loopback port. Enabled together with the other integration tests when `mosquitto` can be found.
@Suite(
    .enabled(
        if: ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] != nil && MQTTPrivateBroker.executable != nil
    ),
    .serialized,
    .timeLimit(.minutes(1))
)
struct MosquittoClientBrokerRestartTests {
    @Test func reconnectsAndResubscribesAfterBrokerRestart() async throws {
        let broker = try MQTTPrivateBroker(persistence: false)
        try broker.start()
        defer { broker.terminate() }
        let prefix = MQTTTestSupport.uniqueName("restart")
        let recorder = MQTTMessageRecorder()
        let subscriber = try MosquittoClient(
            options: MQTTTestSupport.options(port: broker.port, clientID: "\(prefix)-gw"),
            subscriptions: [MQTTSubscription(filter: "\(prefix)/#", qos: .atLeastOnce)],
            logger: MQTTTestSupport.logger,
            onMessage: recorder.record
        )
        let publisher = try MQTTTestSupport.publisher(port: broker.port, clientID: "\(prefix)-pub")
        subscriber.start()
        publisher.start()
        defer {
            subscriber.stop()
            publisher.stop()
        }
        #expect(await subscriber.waitUntilConnected(timeout: .seconds(10)))
        #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
        try await publisher.publishAndWait(topic: "\(prefix)/before", payload: Array("before".utf8))
        #expect(await recorder.waitForCount(1, timeout: .seconds(10)))

        // The broker dies and forgets every session (persistence off).
        broker.kill(signal: SIGKILL)
        #expect(await MQTTTestSupport.eventually(timeout: .seconds(10)) { !subscriber.isConnected })

        // Same port again: the client reconnects on its own and subscribes afresh.
        try broker.start()
        #expect(await subscriber.waitUntilConnected(timeout: .seconds(15)))
        #expect(await publisher.waitUntilConnected(timeout: .seconds(15)))
        try await publisher.publishAndWait(topic: "\(prefix)/after", payload: Array("after".utf8))
        #expect(await recorder.waitForCount(2, timeout: .seconds(10)))
        #expect(recorder.messages.map(\.topic) == ["\(prefix)/before", "\(prefix)/after"])
        #expect(subscriber.statistics.connects >= 2)
        #expect(subscriber.statistics.disconnects >= 1)
    }

    /// `mosquitto_reconnect` must send the CONNECT properties again (session expiry; libmosquitto ≥ 2.0.10),
    /// otherwise a session re-established by an automatic reconnect would end at the next disconnect.
    @Test func sessionExpirySurvivesAutomaticReconnect() async throws {
        let broker = try MQTTPrivateBroker(persistence: true)
        try broker.start()
        defer { broker.terminate() }
        let prefix = MQTTTestSupport.uniqueName("expiry")
        var options = MQTTTestSupport.options(port: broker.port, clientID: "\(prefix)-gw")
        options.sessionExpirySeconds = 300
        let subscriptions = [MQTTSubscription(filter: "\(prefix)/#", qos: .atLeastOnce)]
        let clientA = try MosquittoClient(
            options: options,
            subscriptions: subscriptions,
            logger: MQTTTestSupport.logger
        ) { _ in }
        clientA.start()
        #expect(await clientA.waitUntilConnected(timeout: .seconds(10)))

        broker.kill(signal: SIGTERM)
        try broker.start()
        #expect(
            await MQTTTestSupport.eventually(timeout: .seconds(15)) {
                clientA.isReady && clientA.statistics.connects == 2
            }
        )
        await clientA.stop()

        let publisher = try MQTTTestSupport.publisher(port: broker.port, clientID: "\(prefix)-pub")
        publisher.start()
        defer { publisher.stop() }
        #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
        for index in 0..<3 {
            try await publisher.publishAndWait(topic: "\(prefix)/m", payload: Array("queued-\(index)".utf8))
        }

        let recorder = MQTTMessageRecorder()
        let clientB = try MosquittoClient(
            options: options,
            subscriptions: subscriptions,
            logger: MQTTTestSupport.logger,
            onMessage: recorder.record
        )
        clientB.start()
        defer { clientB.stop() }
        #expect(await recorder.waitForCount(3, timeout: .seconds(10)))
        #expect(
            recorder.messages.map { String(decoding: $0.payload, as: UTF8.self) } == [
                "queued-0", "queued-1", "queued-2",
            ]
        )
    }

    /// The property the durable spool relies on: the broker receives the QoS 1 PUBACK only after
    /// `onMessage` has returned. Evidence comes from the broker's own log (`log_type all`).
    @Test func pubackReachesBrokerOnlyAfterOnMessageReturns() async throws {
        let broker = try MQTTPrivateBroker(persistence: false)
        try broker.start()
        defer { broker.terminate() }
        let prefix = MQTTTestSupport.uniqueName("ackorder")
        let subscriberID = "\(prefix)-gw"
        let handlerReturnedAt = Mutex<Double?>(nil)
        let subscriber = try MosquittoClient(
            options: MQTTTestSupport.options(port: broker.port, clientID: subscriberID),
            subscriptions: [MQTTSubscription(filter: "\(prefix)/#", qos: .atLeastOnce)],
            logger: MQTTTestSupport.logger,
            onMessage: { _ in
                Thread.sleep(forTimeInterval: 2.0)  // e.g. a slow fsync of the spool
                handlerReturnedAt.withLock { $0 = Date().timeIntervalSince1970 }
            }
        )
        let publisher = try MQTTTestSupport.publisher(port: broker.port, clientID: "\(prefix)-pub")
        subscriber.start()
        publisher.start()
        defer {
            subscriber.stop()
            publisher.stop()
        }
        #expect(await subscriber.waitUntilConnected(timeout: .seconds(10)))
        #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
        try await publisher.publishAndWait(topic: "\(prefix)/m", payload: Array("frame".utf8))

        let pubackPattern = "Received PUBACK from \(subscriberID) "
        #expect(
            await MQTTTestSupport.eventually(timeout: .seconds(10)) {
                handlerReturnedAt.withLock { $0 } != nil && broker.log.contains(pubackPattern)
            }
        )
        let log = broker.log
        let sent = try #require(MQTTPrivateBroker.timestamp(in: log, of: "Sending PUBLISH to \(subscriberID) "))
        let acked = try #require(MQTTPrivateBroker.timestamp(in: log, of: pubackPattern))
        let returned = try #require(handlerReturnedAt.withLock { $0 })
        // Broker timestamps have one-second resolution; the handler slept 2 s.
        #expect(acked - sent >= 2, "PUBLISH sent at \(sent), PUBACK received at \(acked)")
        #expect(Double(acked) >= returned.rounded(.down), "PUBACK at \(acked), handler returned at \(returned)")
        let evidence = log.split(separator: "\n").filter { $0.contains(subscriberID) && $0.contains("PUB") }
        print("PUBACK order evidence (handler returned at \(returned)):\n" + evidence.joined(separator: "\n"))
    }

    /// "Crash inside onMessage": the connection dies while the handler runs, so the broker never gets the
    /// PUBACK and redelivers the message to the persistent session after the restart.
    @Test func messageInFlightDuringOnMessageIsRedeliveredAfterBrokerRestart() async throws {
        let broker = try MQTTPrivateBroker(persistence: true)
        try broker.start()
        defer { broker.terminate() }
        let prefix = MQTTTestSupport.uniqueName("redeliver")
        var options = MQTTTestSupport.options(port: broker.port, clientID: "\(prefix)-gw")
        options.sessionExpirySeconds = 300
        let recorder = MQTTMessageRecorder()
        let entered = Atomic<Int>(0)
        let release = DispatchSemaphore(value: 0)
        let subscriber = try MosquittoClient(
            options: options,
            subscriptions: [MQTTSubscription(filter: "\(prefix)/#", qos: .atLeastOnce)],
            logger: MQTTTestSupport.logger,
            onMessage: { message in
                recorder.record(message)
                if entered.add(1, ordering: .relaxed).newValue == 1 {
                    _ = release.wait(timeout: .now() + .seconds(20))
                }
            }
        )
        let publisher = try MQTTTestSupport.publisher(port: broker.port, clientID: "\(prefix)-pub")
        subscriber.start()
        publisher.start()
        defer {
            release.signal()
            subscriber.stop()
            publisher.stop()
        }
        #expect(await subscriber.waitUntilConnected(timeout: .seconds(10)))
        #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
        try await publisher.publishAndWait(topic: "\(prefix)/m", payload: Array("m1".utf8))
        #expect(await MQTTTestSupport.eventually(timeout: .seconds(10)) { entered.load(ordering: .relaxed) == 1 })

        // While the handler is still running: the broker saves its state and exits.
        broker.kill(signal: SIGTERM)
        release.signal()
        try broker.start()

        #expect(await recorder.waitForCount(2, timeout: .seconds(20)))
        let payloads = recorder.messages.map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(payloads == ["m1", "m1"], "the unacknowledged message must be redelivered")
    }
}

/// A `mosquitto` process owned by one test, on a free loopback port, logging everything to a file.
///
/// Spawned with `posix_spawn` rather than Foundation's `Process`: the child must start with an empty signal
/// mask (the test runner's threads block SIGTERM, and a spawned broker would inherit that and ignore
/// `kill -TERM`), and `waitpid` avoids `Process.waitUntilExit`'s run-loop spinning.
final class MQTTPrivateBroker: Sendable {
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/mosquitto" } + ["/usr/sbin/mosquitto"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    let port: Int
    let directory: String
    private let pid = Mutex<pid_t?>(nil)

    /// The TLS listener of a broker: which certificate of the scripts' test CA it presents, and whether it requires
    /// a client certificate of that CA.
    struct TLS {
        /// `server` (DNS:localhost, IP:127.0.0.1) or `other-host` (DNS:other-host.invalid only).
        var serverCertificate = "server"
        /// mosquitto's `require_certificate`.
        var requiresClientCertificate = false
    }

    /// The test CA of `scripts/services.sh` (`GATEWAY_TEST_TLS_DIR`), or `nil` when the services were not started.
    static let certificateFolder: String? = ProcessInfo.processInfo.environment["GATEWAY_TEST_TLS_DIR"]

    /// A file of the scripts' test CA (`ca.pem`, `wrong-ca.pem`, `client.pem`, …).
    static func certificate(_ name: String) throws -> String {
        try #require(Self.certificateFolder, "GATEWAY_TEST_TLS_DIR is not set (scripts/services.sh up)") + "/" + name
    }

    init(persistence: Bool, tls: TLS? = nil) throws {
        self.port = try Self.freePort()
        self.directory = NSTemporaryDirectory() + "mqtt-broker-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        // Started as root, mosquitto drops to the `mosquitto` user, which must be able to write here.
        chmod(self.directory, 0o777)
        var listener = "listener \(self.port) 127.0.0.1\n"
        if let tls {
            // Copies, so that the `mosquitto` user can read them whatever the permissions of the services folder.
            for (source, target) in [
                ("ca.pem", "ca.pem"), ("\(tls.serverCertificate).pem", "server.pem"),
                ("\(tls.serverCertificate).key", "server.key"),
            ] {
                try FileManager.default.copyItem(
                    atPath: try Self.certificate(source),
                    toPath: self.directory + "/" + target
                )
                chmod(self.directory + "/" + target, 0o644)
            }
            listener += """
                cafile \(self.directory)/ca.pem
                certfile \(self.directory)/server.pem
                keyfile \(self.directory)/server.key
                require_certificate \(tls.requiresClientCertificate)

                """
        }
        let config =
            listener + """
                allow_anonymous true
                persistence \(persistence)
                persistence_location \(self.directory)/
                log_dest file \(self.logPath)
                log_type all
                log_timestamp true

                """
        try config.write(toFile: self.configPath, atomically: true, encoding: .utf8)
    }

    deinit {
        self.terminate()
    }

    var configPath: String { self.directory + "/mosquitto.conf" }
    var logPath: String { self.directory + "/broker.log" }
    var log: String { (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? "" }

    func start() throws {
        let executable = try #require(Self.executable)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let console = self.directory + "/console.log"
        posix_spawn_file_actions_addopen(&actions, 1, console, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let arguments = [executable, "-c", self.configPath]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer {
            for argument in argv {
                free(argument)
            }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, &argv, environ)
        guard rc == 0 else {
            throw MQTTError(.systemError, "posix_spawn(mosquitto) failed: \(rc)")
        }
        self.pid.withLock { $0 = pid }
        // Fail loudly if the port never opens (e.g. taken by someone else).
        let deadline = Date().addingTimeInterval(10)
        while !Self.canConnect(port: self.port) {
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == 0, Date() < deadline else {
                self.kill(signal: SIGKILL)
                let output = (try? String(contentsOfFile: console, encoding: .utf8)) ?? ""
                throw MQTTError(.connectionRefused, "private mosquitto did not listen on \(self.port): \(output)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Sends `signal` and waits for the broker to exit.
    func kill(signal: Int32) {
        let running = self.pid.withLock { pid in
            defer { pid = nil }
            return pid
        }
        guard let pid = running else { return }
        #if canImport(Glibc)
        _ = Glibc.kill(pid, signal)
        #else
        _ = Darwin.kill(pid, signal)
        #endif
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }

    func terminate() {
        self.kill(signal: SIGTERM)
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    /// The epoch-seconds timestamp of the first log line containing `pattern`.
    static func timestamp(in log: String, of pattern: String) -> Int? {
        for line in log.split(separator: "\n") where line.contains(pattern) {
            if let colon = line.firstIndex(of: ":"), let seconds = Int(line[..<colon]) {
                return seconds
            }
        }
        return nil
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MQTTError(.systemError, "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw MQTTError(.systemError, "bind() to a free port failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

extension MQTTTestSupport {
    /// Polls `condition` every 20 ms until it holds or `timeout` passes.
    static func eventually(timeout: Duration, _ condition: @Sendable () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if condition() {
                return true
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}

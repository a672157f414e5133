import Foundation
import GatewayTestSupport
import Logging
import MQTTIngest
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `mosquitto_passwd`, which writes the test broker's password file.
let mosquittoPasswordTool: String? = ["/usr/bin/mosquitto_passwd", "/usr/local/bin/mosquitto_passwd"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// The broker half of "collectors speak only for their meters": a private `mosquitto` runs with
/// `config/mosquitto-acl.example` as its `acl_file` (the file is read, not copied, so the two cannot drift), password
/// authentication and no anonymous clients. A collector may write only its own collector topic, whatever client id it
/// claims; the gateway's user reads every uplink, also through a shared subscription.
@Suite(
    .enabled(
        if: ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] != nil && MQTTPrivateBroker.executable != nil
            && mosquittoPasswordTool != nil
    ),
    .serialized,
    .timeLimit(.minutes(1))
)
struct BrokerACLTests {
    /// The example file's topic prefix.
    static let prefix = "gm/v1"

    /// Users of the password file: the gateway, two collectors and a meter that publishes itself.
    static let users = [
        "meter-gateway": "gw-secret-1", "c1": "c1-secret-1", "c2": "c2-secret-1", "100000001": "meter-secret-1",
    ]

    /// Starts a broker on a free loopback port with the example ACL and a fresh password file.
    private func makeBroker() throws -> MQTTPrivateBroker {
        let broker = try MQTTPrivateBroker(persistence: false)
        let aclFile = Repository.url("config/mosquitto-acl.example").path
        let acl = try String(contentsOfFile: aclFile, encoding: .utf8)
        #expect(acl.contains("pattern write \(Self.prefix)/up/collector/%u"), "the example ACL changed its pattern")
        // The broker drops to the `mosquitto` user when started as root: it must read both files.
        try acl.write(toFile: broker.directory + "/acl", atomically: true, encoding: .utf8)
        let passwords = broker.directory + "/passwd"
        for (index, (user, password)) in Self.users.sorted(by: { $0.key < $1.key }).enumerated() {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try #require(mosquittoPasswordTool))
            process.arguments = (index == 0 ? ["-c"] : []) + ["-b", passwords, user, password]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "mosquitto_passwd failed for \(user)")
        }
        for file in [passwords, broker.directory + "/acl"] { chmod(file, 0o644) }
        try """
        listener \(broker.port) 127.0.0.1
        allow_anonymous false
        password_file \(passwords)
        acl_file \(broker.directory)/acl
        persistence false
        log_dest file \(broker.logPath)
        log_type all
        log_timestamp true

        """.write(toFile: broker.configPath, atomically: true, encoding: .utf8)
        try broker.start()
        return broker
    }

    private func client(
        _ broker: MQTTPrivateBroker,
        user: String,
        clientID: String,
        subscriptions: [MQTTSubscription] = [],
        recorder: MQTTMessageRecorder? = nil
    ) throws -> MosquittoClient {
        var options = MQTTTestSupport.options(port: broker.port, clientID: clientID)
        options.username = user
        options.password = Self.users[user]
        options.cleanStart = true
        options.sessionExpirySeconds = 0
        return try MosquittoClient(
            options: options,
            subscriptions: subscriptions,
            logger: MQTTTestSupport.logger,
            onMessage: (recorder ?? MQTTMessageRecorder()).record
        )
    }

    /// Publishes at QoS 1 and says whether the broker accepted it (MQTT v5 PUBACK reason below 0x80).
    private func publish(_ client: MosquittoClient, _ topic: String, _ text: String) async throws -> Bool {
        do {
            try await client.publishAndWait(topic: topic, payload: Array(text.utf8), qos: .atLeastOnce)
            return true
        } catch let error as MQTTError where error.code == .publishRejected {
            return false
        }
    }

    @Test func aCollectorWritesOnlyItsOwnTopicAndTheGatewayReadsIt() async throws {
        let broker = try makeBroker()
        defer { broker.terminate() }
        let uplinks = "\(Self.prefix)/up/#"
        let gateway = MQTTMessageRecorder()
        let shared = MQTTMessageRecorder()
        let subscriber = try client(
            broker,
            user: "meter-gateway",
            clientID: "meter-gateway-1",
            subscriptions: [MQTTSubscription(filter: uplinks, qos: .atLeastOnce)],
            recorder: gateway
        )
        let sharedSubscriber = try client(
            broker,
            user: "meter-gateway",
            clientID: "meter-gateway-2",
            subscriptions: [MQTTSubscription(filter: "$share/gw/\(uplinks)", qos: .atLeastOnce)],
            recorder: shared
        )
        let c1 = try client(broker, user: "c1", clientID: "c1")
        // c1's credentials with c2's client id: the ACL goes by the authenticated user name, not the claimed id.
        let impostor = try client(broker, user: "c1", clientID: "c2")
        let clients = [subscriber, sharedSubscriber, c1, impostor]
        for client in clients { client.start() }
        defer { for client in clients { client.stop() } }
        for client in clients { #expect(await client.waitUntilConnected(timeout: .seconds(10))) }
        // Subscriptions are made on connect; give the SUBACKs a moment before publishing.
        try await Task.sleep(for: .milliseconds(300))

        let own = "\(Self.prefix)/up/collector/c1"
        let other = "\(Self.prefix)/up/collector/c2"
        // Refused first: one publisher's messages arrive in order, so the accepted one proves the refused did not.
        #expect(try await publish(c1, other, "c1 speaking for c2") == false)
        #expect(try await publish(impostor, other, "c1 claiming to be c2") == false)
        #expect(try await publish(c1, "\(Self.prefix)/up/native/100000001", "c1 as a meter") == false)
        #expect(try await publish(c1, "\(Self.prefix)/down/native/100000001", "c1 as the gateway") == false)
        #expect(try await publish(c1, own, "c1 speaking for itself") == true)
        #expect(try await publish(impostor, own, "c1 under another id") == true)

        #expect(await gateway.waitForCount(2, timeout: .seconds(10)))
        #expect(await shared.waitForCount(2, timeout: .seconds(10)))
        try await Task.sleep(for: .milliseconds(500))
        for recorder in [gateway, shared] {
            #expect(recorder.messages.map(\.topic) == [own, own])
            #expect(
                recorder.messages.map { String(decoding: $0.payload, as: UTF8.self) }.sorted() == [
                    "c1 speaking for itself", "c1 under another id",
                ]
            )
        }
        #expect(broker.log.contains("Denied PUBLISH from c1"), "the broker log names the refusal")
    }

    /// A native meter that publishes itself (user name = its address) writes only its own uplink topic and reads
    /// only its own downlinks: it can neither speak for another meter or a collector nor read another meter's acks.
    @Test func aMeterWritesOnlyItsOwnTopicAndReadsOnlyItsOwnDownlinks() async throws {
        let broker = try makeBroker()
        defer { broker.terminate() }
        let gatewayRecorder = MQTTMessageRecorder()
        let meterRecorder = MQTTMessageRecorder()
        let gateway = try client(
            broker,
            user: "meter-gateway",
            clientID: "meter-gateway-1",
            subscriptions: [MQTTSubscription(filter: "\(Self.prefix)/up/#", qos: .atLeastOnce)],
            recorder: gatewayRecorder
        )
        // Subscribed to every meter's downlinks: the broker delivers only what the ACL lets this user read.
        let meter = try client(
            broker,
            user: "100000001",
            clientID: "100000001",
            subscriptions: [MQTTSubscription(filter: "\(Self.prefix)/down/native/#", qos: .atLeastOnce)],
            recorder: meterRecorder
        )
        let clients = [gateway, meter]
        for client in clients { client.start() }
        defer { for client in clients { client.stop() } }
        for client in clients { #expect(await client.waitUntilConnected(timeout: .seconds(10))) }
        try await Task.sleep(for: .milliseconds(300))

        let own = "\(Self.prefix)/up/native/100000001"
        #expect(try await publish(meter, "\(Self.prefix)/up/native/100000002", "as another meter") == false)
        #expect(try await publish(meter, "\(Self.prefix)/up/cjt188/100000002", "as another protocol's meter") == false)
        #expect(try await publish(meter, "\(Self.prefix)/up/collector/c1", "as a collector") == false)
        #expect(try await publish(meter, "\(Self.prefix)/down/native/100000002", "as the gateway") == false)
        #expect(try await publish(meter, "\(Self.prefix)/dispatch/tickets/P0", "as dispatch") == false)
        #expect(try await publish(meter, own, "itself") == true)
        #expect(await gatewayRecorder.waitForCount(1, timeout: .seconds(10)))

        // The gateway acks two meters; the meter hears only its own ack.
        #expect(try await publish(gateway, "\(Self.prefix)/down/native/100000002", "ack for another meter") == true)
        #expect(try await publish(gateway, "\(Self.prefix)/down/native/100000001", "ack for this meter") == true)
        #expect(await meterRecorder.waitForCount(1, timeout: .seconds(10)))
        try await Task.sleep(for: .milliseconds(500))
        #expect(gatewayRecorder.messages.map(\.topic) == [own])
        #expect(meterRecorder.messages.map(\.topic) == ["\(Self.prefix)/down/native/100000001"])
        #expect(meterRecorder.messages.map { String(decoding: $0.payload, as: UTF8.self) } == ["ack for this meter"])
    }

    @Test func anonymousClientsAndWrongPasswordsAreRefused() async throws {
        let broker = try makeBroker()
        defer { broker.terminate() }
        let anonymous = try MosquittoClient(
            options: MQTTTestSupport.options(port: broker.port, clientID: "anon"),
            subscriptions: [],
            logger: MQTTTestSupport.logger
        ) { _ in }
        var options = MQTTTestSupport.options(port: broker.port, clientID: "c2")
        options.username = "c2"
        options.password = "not-the-password"
        let wrong = try MosquittoClient(options: options, subscriptions: [], logger: MQTTTestSupport.logger) { _ in }
        for client in [anonymous, wrong] { client.start() }
        defer { for client in [anonymous, wrong] { client.stop() } }
        #expect(await anonymous.waitUntilConnected(timeout: .seconds(2)) == false)
        #expect(await wrong.waitUntilConnected(timeout: .seconds(2)) == false)
    }
}

import Foundation
public import GatewayCore
public import Logging
public import MQTTIngest
import Synchronization

/// The benchmark's ceiling: a consumer that subscribes like the gateway and answers every native frame that asks
/// for an ack with the ack `stored`, and does nothing else — no decode beyond the header, no MAC check, no spool,
/// no database.
///
/// Run against the same fleet and broker as the gateway, the rate the fleet sustains with it is what broker and
/// fleet allow on the machine; the gateway's rate is reported as a fraction of it (`scripts/bench.sh`).
///
/// The ack carries a MAC, so the consumer needs each meter's key: it derives the simulated fleet's keys
/// (``SimulatorOptions/fleetSecret``) for the fleet's id range once, before it connects, and ignores frames of
/// other meters (counted in ``ignored``).
///
/// Thread rules: the acks are encoded into a stack buffer and published on the MQTT network thread, inside the
/// message callback (libmosquitto copies the payload before `publish` returns); nothing is allocated per frame
/// beyond what libmosquitto allocates itself. The counters are atomics, readable from any thread.
public final class ReferenceConsumer: Sendable {
    private struct Meter: Sendable {
        var key: AES128Key
        var downlinkTopic: String
    }

    private let meters: [UInt64: Meter]
    private let mqtt: MQTTConnectionOptions
    private let subscription: String
    private let logger: Logger
    private let client = Mutex<MosquittoClient?>(nil)
    private let ackCount = Atomic<Int>(0)
    private let ignoredCount = Atomic<Int>(0)

    /// Acks published so far.
    public var acked: Int { ackCount.load(ordering: .relaxed) }
    /// Frames not acknowledged so far: not a native frame, a meter outside the fleet, no ack asked for, or a publish
    /// the client refused (the fleet resends those).
    public var ignored: Int { ignoredCount.load(ordering: .relaxed) }

    /// A consumer; nothing connects until ``start()``.
    /// - Parameters:
    ///   - fleet: The fleet's id range and secret (``SimulatorOptions/meters``, ``SimulatorOptions/firstMeterID``,
    ///     ``SimulatorOptions/fleetSecret``).
    ///   - mqtt: The connection, as the gateway's (client id, session, receive maximum).
    ///   - subscription: The topic filter, as the gateway's (``TopicScheme/uplinkFilter(sharedGroup:)``).
    ///   - topics: The topic scheme the acks are published on.
    ///   - logger: Connection events.
    public init(
        fleet: SimulatorOptions,
        mqtt: MQTTConnectionOptions,
        subscription: String,
        topics: TopicScheme,
        logger: Logger
    ) {
        var meters: [UInt64: Meter] = [:]
        meters.reserveCapacity(fleet.meters)
        for index in 0..<fleet.meters {
            let id = fleet.firstMeterID + UInt64(index)
            meters[id] = Meter(
                key: FleetKeys.key(for: id, fleetSecret: fleet.fleetSecret),
                downlinkTopic: topics.downlinkTopic(.native, address: String(id))
            )
        }
        self.meters = meters
        self.mqtt = mqtt
        self.subscription = subscription
        self.logger = logger
    }

    /// Connects and starts acknowledging (returns at once; the client reconnects by itself).
    /// - Throws: ``MQTTError`` for invalid options; `SimulatorError` when called twice.
    public func start() throws {
        let client = try MosquittoClient(
            options: mqtt,
            subscriptions: [MQTTSubscription(filter: subscription, qos: .atLeastOnce)],
            logger: logger,
            onMessage: { [weak self] message in self?.acknowledge(message.payload) }
        )
        try self.client.withLock { slot in
            guard slot == nil else { throw SimulatorError("the reference consumer is already started") }
            slot = client
        }
        client.start()
    }

    /// Waits until the client is connected.
    /// - Parameter timeout: The longest wait.
    /// - Returns: Whether it connected in time (false before ``start()``).
    public func waitUntilConnected(timeout: Duration) async -> Bool {
        guard let client = client.withLock({ $0 }) else { return false }
        return await client.waitUntilConnected(timeout: timeout)
    }

    /// Disconnects and waits for the network thread.
    public func stop() async {
        if let client = client.withLock({ $0 }) { await client.stop() }
    }

    /// Handles one frame on the network thread: the ack `stored` for a fleet meter's frame that asks for one.
    private func acknowledge(_ payload: UnsafeRawBufferPointer) {
        guard let header = NativeDecoder.peekHeader(payload), header.flags.contains(.ackRequested),
            let meter = meters[header.meterID], let client = client.withLock({ $0 })
        else {
            ignoredCount.add(1, ordering: .relaxed)
            return
        }
        let now = UInt32(truncatingIfNeeded: Int64(Date().timeIntervalSince1970))
        let frame = NativeFrame(
            meterID: header.meterID,
            frameCounter: header.frameCounter,
            meterTime: now,
            body: .ack(
                NativeFrame.Ack(
                    ackedFrameCounter: header.frameCounter,
                    ackedFrameType: header.frameType,
                    result: .stored,
                    serverTime: now
                )
            )
        )
        // Acks are 43 bytes: one stack buffer, as the gateway's pipeline does.
        let sent = withUnsafeTemporaryAllocation(byteCount: NativeDecoder.minimumFrameSize + 16, alignment: 8) {
            buffer -> Bool in
            guard let size = try? NativeEncoder.encode(frame, key: meter.key, into: buffer) else { return false }
            do {
                try client.publish(
                    topic: meter.downlinkTopic,
                    payload: UnsafeRawBufferPointer(rebasing: buffer[0..<size])
                )
                return true
            } catch {
                return false
            }
        }
        if sent { ackCount.add(1, ordering: .relaxed) } else { ignoredCount.add(1, ordering: .relaxed) }
    }
}

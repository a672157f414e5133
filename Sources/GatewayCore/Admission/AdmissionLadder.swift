/// The one path every received frame climbs, whatever its protocol, from topic and bytes to "store these rows"
/// or "quarantine with this reason". Pure: no I/O, no clock (the receive time comes in), no database; the
/// registry is a value. The pipeline feeds it spooled frames and writes what it decides; `quarantine replay`
/// feeds it quarantined frames.
///
/// The steps, in order (the first that fails names the reason):
///
/// | step | fails with |
/// |---|---|
/// | 1. size | `frame_too_large` (over `mqtt.max_payload_bytes`; only the first bytes were kept) |
/// | 2. route the topic | `unroutable_topic` |
/// | 3. choose the decoder: the topic's protocol, or sniff the bytes on a collector topic | — |
/// | 4. decode: framing, length, CRC or checksum | the decoder's code (`truncated`, `bad_crc`, …) |
/// | 5. direction | `wrong_direction` |
/// | 6. identity: look the meter up in the registry | `unknown_meter` |
/// | 7. topic: the frame's meter is the topic's (meter topic) or assigned to its collector (collector topic) | `topic_mismatch`, `collector_not_assigned` |
/// | 8. authenticity: MAC or decryption with the meter's key, then the frame's ``ProtectionLevel`` against the meter's minimum (`meters.min_protection`) | `bad_mac`, `wrong_key`, `unencrypted_frame`, `insufficient_security` |
/// | 9. content: something to store | the decoder's content codes, `no_reading` |
/// | 10. frame identity for exactly-once storage (``FrameIdentity``) and the authenticated counter | — (duplicates are decided by the writer) |
/// | 11. replay: the counter against the meter's high-water mark (``ReplayRule``, in the writer's transaction) | `replayed` |
///
/// The native decoder does steps 4, 6 and 8 in one call (its key lookup is by the frame's meter id, and the MAC
/// covers the header), so a native frame's reason comes from the first of those checks that failed; the reason
/// codes are the same.
///
/// Step 7 on a collector topic (`<prefix>/up/collector/<collector id>`): the registry's ``CollectorAssignments``
/// must assign the frame's meter to that collector. It applies to every protocol, native frames included: their MAC
/// proves the meter made the frame, not that this collector may forward it, and the rule is one rule whatever the
/// bytes. A meter topic's address is checked against the frame instead (`topic_mismatch`), so meter topics need no
/// assignment.
///
/// Step 8's level is that of the frame's protected content (``MBusSecurity/contentProtection``; native frames are
/// always `authenticated`, CJ/T 188 frames always `plain`). Only the frame's meter's own keys count: an M-Bus ELL
/// opened with the key of its DLL or ELL address, when that is not the meter the long header names (a radio
/// adapter's, or another meter's under a forged long header), adds nothing (``MBusSecurity/isELLKeyForeign``).
/// Below the meter's minimum the frame is quarantined
/// `insufficient_security` (`unencrypted_frame` for a plain frame whose meter requires `encrypted`), so a downgrade
/// (mode 5 or mode 0 from a meter that sends mode 7) is never stored. An admitted frame's rows carry their own
/// level: the alarms of a mode-5 status byte, outside the encryption, are stored `plain` and still open their ticket,
/// marked unauthenticated (a real leak must never be suppressed).
public struct AdmissionLadder: Sendable {
    /// The topic scheme frames arrive on.
    public var topics: TopicScheme
    /// Decides alarm priorities and which alarms open tickets.
    public var policy: TicketPolicy
    /// The zones meter clocks run in.
    public var clocks: MeterClocks
    /// Payloads larger than this are quarantined as `frame_too_large`.
    public var maxPayloadBytes: Int
    /// Manufacturer default keys (`[meters.default_keys]`), tried only for a registered M-Bus meter without a key
    /// of its own; what they open is stored `plain` with key source `default` (``MBusDefaultKeys``).
    public var defaultKeys: MBusDefaultKeys
    /// The drivers that may read manufacturer-specific M-Bus content (`meters.mbus_drivers`); by default only
    /// those of documented layout and scale.
    public var mbusDrivers: MBusDriverSet

    /// The largest payload any supported protocol allows: a native frame of 1,024 bytes (the decoder's limit) is
    /// the largest; wired M-Bus long frames stop at 261 bytes, wireless ones at 256 + CRCs, CJ/T 188 well below.
    public static let defaultMaxPayloadBytes = 1_100

    /// Creates a ladder.
    /// - Parameters:
    ///   - topics: The topic scheme.
    ///   - policy: The ticket policy.
    ///   - clocks: The meter clock zones.
    ///   - maxPayloadBytes: The payload size limit.
    ///   - defaultKeys: Manufacturer default keys (none unless configured).
    ///   - mbusDrivers: The M-Bus drivers that may run.
    public init(
        topics: TopicScheme,
        policy: TicketPolicy,
        clocks: MeterClocks,
        maxPayloadBytes: Int = AdmissionLadder.defaultMaxPayloadBytes,
        defaultKeys: MBusDefaultKeys = MBusDefaultKeys(),
        mbusDrivers: MBusDriverSet = .documented
    ) {
        self.topics = topics
        self.policy = policy
        self.clocks = clocks
        self.maxPayloadBytes = maxPayloadBytes
        self.defaultKeys = defaultKeys
        self.mbusDrivers = mbusDrivers
    }

    /// What the ladder decided for one frame.
    public enum Verdict: Sendable, Equatable {
        /// Rows and a ``FrameGate`` were appended to the batch.
        case admitted(FrameIdentity)
        /// One quarantine row was appended to the batch.
        case quarantined(QuarantineReason)
    }

    /// An application-level acknowledgement to send a native meter after the commit that covers its frame.
    public struct AckRequest: Sendable {
        /// The meter id as the frame carries it.
        public var meter: UInt64
        /// The meter's downlink topic.
        public var topic: String
        /// The meter's key (acks carry a MAC).
        public var key: AES128Key
        /// The acknowledged frame's counter.
        public var frameCounter: UInt32
        /// The acknowledged frame's type.
        public var frameType: UInt8
        /// `stored` (or `duplicate`, once the writer found the frame already stored) or `rejected`.
        public var result: NativeAckResult
    }

    /// The decision for one frame.
    public struct Admission: Sendable {
        /// Admitted or quarantined, and why.
        public var verdict: Verdict
        /// The ack the meter asked for, if any.
        public var ack: AckRequest?
        /// The index of the frame's gate in ``SinkBatch/gates`` when admitted.
        public var gateIndex: Int?

        /// Creates a decision.
        /// - Parameters:
        ///   - verdict: Admitted or quarantined.
        ///   - ack: The ack to send after the commit, if any.
        ///   - gateIndex: The frame's gate index when admitted.
        public init(verdict: Verdict, ack: AckRequest?, gateIndex: Int?) {
            self.verdict = verdict
            self.ack = ack
            self.gateIndex = gateIndex
        }
    }

    // MARK: Admission

    /// Runs one frame up the ladder and appends its rows (with a gate) or its quarantine row to `batch`.
    ///
    /// Allocation-free for an admitted frame of a registered meter; quarantine (the cold path) copies the bytes.
    /// - Parameters:
    ///   - topic: The MQTT topic as UTF-8 bytes.
    ///   - payload: The frame exactly as received.
    ///   - receivedAt: When the gateway received it (from the spool).
    ///   - registry: The registered meters.
    ///   - batch: Receives the rows.
    /// - Returns: The decision.
    public func admit(
        topic: UnsafeRawBufferPointer,
        payload: UnsafeRawBufferPointer,
        receivedAt: Timestamp,
        registry: MeterRegistry,
        into batch: inout SinkBatch
    ) -> Admission {
        var context = Context(topic: topic, payload: payload, receivedAt: receivedAt)
        if let oversized = OversizedFrame.parse(topic: topic) {
            context.topic = oversized.originalTopic
            return quarantine(
                .frameTooLarge,
                "payload of \(oversized.size) bytes is over mqtt.max_payload_bytes; its first \(payload.count) "
                    + "bytes are kept",
                context,
                into: &batch
            )
        }
        guard payload.count <= maxPayloadBytes else {
            return quarantine(
                .frameTooLarge,
                "payload of \(payload.count) bytes is over the limit of \(maxPayloadBytes)",
                context,
                into: &batch
            )
        }
        guard let route = topics.route(topic) else {
            return quarantine(
                .unroutableTopic,
                "topic is not <prefix>/up/<protocol>/<address>",
                context,
                into: &batch
            )
        }
        let frameProtocol: FrameProtocol
        switch route.family {
        case .meter(let topicProtocol):
            frameProtocol = topicProtocol
            context.topicAddress = UnsafeRawBufferPointer(rebasing: topic[route.addressRange])
        case .collector:
            // A collector forwards frames of any protocol; the frame names its meter, the topic the collector.
            frameProtocol = FrameSniffer.guess(payload)
            context.collector = UnsafeRawBufferPointer(rebasing: topic[route.addressRange])
        }
        context.source = frameProtocol
        switch frameProtocol {
        case .native:
            return admitNative(context, registry: registry, into: &batch)
        case .cjt188:
            return admitCJT188(context, registry: registry, into: &batch)
        case .wmbus, .mbus:
            return admitMBus(context, as: frameProtocol, registry: registry, into: &batch)
        }
    }

    /// Quarantines the bytes of a damaged spool record as `spool_corrupt`.
    /// - Parameters:
    ///   - bytes: The damaged bytes as found.
    ///   - foundAt: When the reader found them (their own receive time is not trustworthy).
    ///   - batch: Receives the quarantine row.
    /// - Returns: The decision.
    public func quarantineCorruptSpoolRecord(
        _ bytes: UnsafeRawBufferPointer,
        foundAt: Timestamp,
        into batch: inout SinkBatch
    ) -> Admission {
        quarantine(
            .spoolCorrupt,
            detail: "spool record failed its checksum (\(bytes.count) damaged bytes kept)",
            topic: UnsafeRawBufferPointer(start: nil, count: 0),
            payload: bytes,
            receivedAt: foundAt,
            into: &batch
        )
    }

    /// Quarantines a frame for a reason decided outside the ladder (`database_rejected`), in the same row shape.
    /// - Parameters:
    ///   - reason: The reason.
    ///   - detail: Why, in words.
    ///   - topic: The topic bytes.
    ///   - payload: The frame's bytes.
    ///   - receivedAt: When it was received.
    ///   - batch: Receives the quarantine row.
    /// - Returns: The decision.
    public func quarantine(
        _ reason: QuarantineReason,
        detail: String,
        topic: UnsafeRawBufferPointer,
        payload: UnsafeRawBufferPointer,
        receivedAt: Timestamp,
        into batch: inout SinkBatch
    ) -> Admission {
        quarantine(reason, detail, Context(topic: topic, payload: payload, receivedAt: receivedAt), into: &batch)
    }

    // MARK: Protocols

    private func admitNative(_ context: Context, registry: MeterRegistry, into batch: inout SinkBatch) -> Admission {
        var entry: MeterRegistry.NativeEntry?
        // Expanded once per frame: the decoder's MAC check and the ack's MAC use the same schedule.
        var key: AES128Key?
        let frame: NativeFrame
        do {
            frame = try NativeDecoder.decode(context.payload) { id in
                entry = registry.native[id]
                key = entry?.key
                return key
            }
        } catch {
            let header = NativeDecoder.peekHeader(context.payload)
            var context = context
            context.address = header.map { String($0.meterID) }
            var ack: AckRequest?
            // A frame whose MAC verified but whose body is bad is answered "rejected": the meter stops resending.
            if error.code == .unknownType || error.code == .badLength || error.code == .fieldOutOfRange, let entry,
                let key, let header, header.flags.contains(.ackRequested),
                context.topicNames(nativeMeter: header.meterID)
            {
                ack = AckRequest(
                    meter: header.meterID,
                    topic: entry.downlinkTopic,
                    key: key,
                    frameCounter: header.frameCounter,
                    frameType: header.frameType,
                    result: .rejected
                )
            }
            var admission = quarantine(QuarantineReason(error.code), error.message, context, into: &batch)
            admission.ack = ack
            return admission
        }
        var context = context
        guard frame.isUplink else {
            context.address = String(frame.header.meterID)
            return quarantine(.wrongDirection, "downlink frame type on an uplink topic", context, into: &batch)
        }
        guard let entry, let key else {
            // The decoder only returns after the key lookup succeeded; kept as a ladder step for clarity.
            context.address = String(frame.header.meterID)
            return quarantine(.unknownMeter, "no native meter with this id is registered", context, into: &batch)
        }
        guard context.topicNames(nativeMeter: frame.header.meterID) else {
            context.address = String(frame.header.meterID)
            return quarantine(.topicMismatch, "frame meter id differs from the topic's", context, into: &batch)
        }
        guard context.collectorSpeaks(for: entry.meterID, in: registry) else {
            context.address = String(frame.header.meterID)
            return quarantineUnassigned(context, into: &batch)
        }
        // The decoder returned, so the MAC verified with the meter's key: the counter is authenticated.
        let gate = makeGate(
            entry.meterID,
            counter: ReplayCounter(authenticated: .nativeFrame, value: frame.header.frameCounter),
            fingerprint: FrameFingerprint.ofNativeContent(context.payload),
            context,
            before: batch
        )
        frame.appendRecords(to: &batch, meterID: entry.meterID, receivedAt: context.receivedAt, policy: policy)
        var ack: AckRequest?
        if frame.header.flags.contains(.ackRequested) {
            ack = AckRequest(
                meter: frame.header.meterID,
                topic: entry.downlinkTopic,
                key: key,
                frameCounter: frame.header.frameCounter,
                frameType: frame.header.frameType,
                result: .stored
            )
        }
        return admitted(gate, ack: ack, into: &batch)
    }

    private func admitCJT188(_ context: Context, registry: MeterRegistry, into batch: inout SinkBatch) -> Admission {
        var context = context
        let frame: CJT188Frame
        do {
            frame = try CJT188Decoder.decode(context.payload)
        } catch {
            context.address = context.topicAddress.map { String(decoding: $0, as: UTF8.self) }
            return quarantine(QuarantineReason(error.code), error.message, context, into: &batch)
        }
        // The address text is built only for a quarantine row, never for an admitted frame.
        context.label = .cjt188(frame.address)
        guard frame.isFromMeter else {
            return quarantine(
                .wrongDirection,
                "CJ/T 188 frame to the meter (C bit D7 clear) on an uplink topic",
                context,
                into: &batch
            )
        }
        guard let entry = registry.cjt188[frame.address.rawValue] else {
            return quarantine(
                .unknownMeter,
                "no CJ/T 188 meter \(frame.address.label) is registered",
                context,
                into: &batch
            )
        }
        if let topicAddress = context.topicAddress, CJT188Address(labelBytes: topicAddress) != frame.address {
            return quarantine(
                .topicMismatch,
                "frame address differs from the topic's (the topic names the 14 address digits)",
                context,
                into: &batch
            )
        }
        guard context.collectorSpeaks(for: entry.meterID, in: registry) else {
            return quarantineUnassigned(context, into: &batch)
        }
        // CJ/T 188 has no security of its own: its frames are plain, and a registered key is not applicable to it.
        // The registry refuses a higher minimum; a meter given one anyway gets nothing stored.
        guard entry.minimum == .plain else {
            return quarantine(
                .insufficientSecurity,
                "CJ/T 188 frames are plain; the meter requires at least \(entry.minimum.code)",
                context,
                into: &batch
            )
        }
        let gate = makeGate(
            entry.meterID,
            meterTime: frame.meterTime.flatMap { clocks.cjt188.instant(of: $0) },
            channel: frame.dataIdentifier?.rawValue ?? 0,
            context,
            before: batch
        )
        let appended = frame.appendRecords(
            to: &batch,
            meterID: entry.meterID,
            receivedAt: context.receivedAt,
            clock: clocks.cjt188,
            policy: policy
        )
        guard appended > 0 else {
            return quarantine(
                .noReading,
                "CJ/T 188 \(frame.body.name) frame"
                    + (frame.control.isAbnormal ? " (abnormal reply)" : "") + " carries no reading to store",
                context,
                into: &batch
            )
        }
        return admitted(gate, ack: nil, into: &batch)
    }

    private func admitMBus(
        _ context: Context,
        as frameProtocol: FrameProtocol,
        registry: MeterRegistry,
        into batch: inout SinkBatch
    ) -> Admission {
        var context = context
        let isWired = frameProtocol == .mbus
        let table = registry.mbusTable(frameProtocol)
        let formats = registry.formats
        // A compact frame's (meter, signature), for an `unknown_format` detail; closures stay inline (non-escaping).
        var asked: (meter: MBusAddress, signature: UInt16)?
        let frame: MBusFrame
        do {
            // Already-decrypted test data is never accepted here: a live frame is decrypted with a key.
            if isWired {
                frame = try MBusDecoder.decodeWired(
                    context.payload,
                    keyring: { defaultKeys.keyring(for: $0, in: table) },
                    allowAlreadyDecrypted: false,
                    layout: { meter, signature in
                        asked = (meter, signature)
                        return Self.layout(of: meter, signature, in: table, formats)
                    },
                    drivers: mbusDrivers
                )
            } else {
                frame = try MBusDecoder.decodeWireless(
                    context.payload,
                    keyring: { defaultKeys.keyring(for: $0, in: table) },
                    allowAlreadyDecrypted: false,
                    layout: { meter, signature in
                        asked = (meter, signature)
                        return Self.layout(of: meter, signature, in: table, formats)
                    },
                    drivers: mbusDrivers
                )
            }
        } catch {
            let header = MBusDecoder.peekHeader(context.payload, isWired: isWired)
            var detail = error.message
            if error.code == .unsupportedSecurityMode, let header {
                detail += "; header: " + header.summary
            }
            context.address = header?.meter?.registryAddress
            var reason = QuarantineReason(error.code)
            if error.code == .unknownFormat, let asked {
                context.address = asked.meter.registryAddress
                let isRegistered = table[asked.meter.registryKey] != nil
                (reason, detail) = Self.unknownFormat(asked, frameProtocol, isRegistered: isRegistered)
            }
            return quarantine(reason, detail, context, into: &batch)
        }
        context.label = .mbus(frame.meter)
        guard frame.direction == .fromMeter else {
            return quarantine(
                .wrongDirection,
                "M-Bus frame with C field \(Hex.encode([frame.link.control])) is not from a meter",
                context,
                into: &batch
            )
        }
        guard let entry = table[frame.meter.registryKey] else {
            return quarantine(
                .unknownMeter,
                "no \(frameProtocol.rawValue) meter \(frame.meter.registryAddress) is registered",
                context,
                into: &batch
            )
        }
        if let topicAddress = context.topicAddress, !frame.meter.isNamed(byTopicAddress: topicAddress) {
            return quarantine(
                .topicMismatch,
                "frame meter differs from the topic's (the topic names the 8-digit id or the registry address)",
                context,
                into: &batch
            )
        }
        guard context.collectorSpeaks(for: entry.meterID, in: registry) else {
            return quarantineUnassigned(context, into: &batch)
        }
        let reached = frame.security.contentProtection
        if reached < entry.minimum {
            if reached == .plain && entry.minimum == .encrypted {
                return quarantine(
                    .unencryptedFrame,
                    "the meter requires encryption but the frame was not encrypted or authenticated with its key"
                        + Self.foreignELLNote(frame),
                    context,
                    into: &batch
                )
            }
            return quarantine(
                .insufficientSecurity,
                "the frame is \(reached.code) (security mode \(frame.security.mode)); the meter requires at least "
                    + entry.minimum.code + Self.foreignELLNote(frame),
                context,
                into: &batch
            )
        }
        // OMS mode 7: the AFL message counter is authenticated once the AFL MAC verified with the meter's key (not
        // with a published default key: anyone could forge a high counter and lock the meter's real frames out).
        var counter: ReplayCounter?
        if frame.security.isMACVerified, frame.security.keySource == .meter,
            let messageCounter = frame.authentication?.messageCounter
        {
            counter = ReplayCounter(authenticated: .omsMessage, value: messageCounter)
        }
        let gate = makeGate(
            entry.meterID,
            counter: counter,
            meterTime: frame.meterTime.flatMap { clocks.mbus.instant(of: $0) },
            channel: UInt16(frame.transport.ci),
            context,
            before: batch
        )
        let appended = frame.appendRecords(
            to: &batch,
            meterID: entry.meterID,
            receivedAt: context.receivedAt,
            clock: clocks.mbus,
            policy: policy,
            source: frameProtocol,
            minimum: entry.minimum
        )
        guard appended > 0 else {
            return quarantine(
                .noReading,
                "M-Bus frame (CI \(Hex.encode([frame.transport.ci]))) has no volume record or alarm to store",
                context,
                into: &batch
            )
        }
        Self.recordFormatLayout(of: frame, meterID: entry.meterID, formats, at: context.receivedAt, into: &batch)
        return admitted(gate, ack: nil, into: &batch)
    }

    // MARK: Helpers

    /// For a quarantine detail: whose key opened an ELL that does not count for the frame's meter, else nothing.
    private static func foreignELLNote(_ frame: MBusFrame) -> String {
        guard frame.security.isELLKeyForeign else { return "" }
        let identity = frame.extendedLink?.address ?? frame.link.address
        return "; its ELL was decrypted with the key of \(identity?.registryAddress ?? "another address"), "
            + "which protects nothing of this meter's"
    }

    /// What the ladder knows about the frame so far.
    private struct Context {
        var topic: UnsafeRawBufferPointer
        var payload: UnsafeRawBufferPointer
        var receivedAt: Timestamp
        /// The topic's address segment on a meter topic; nil on a collector topic.
        var topicAddress: UnsafeRawBufferPointer?
        /// The topic's collector id segment on a collector topic; nil on a meter topic.
        var collector: UnsafeRawBufferPointer?
        var source: FrameProtocol?
        /// The meter address as the frame (or topic) named it, for the quarantine row.
        var address: String?
        /// The frame's meter once decoded; its text is made only when the frame is quarantined.
        var label: MeterLabel?

        enum MeterLabel {
            case cjt188(CJT188Address)
            case mbus(MBusAddress)

            var text: String {
                switch self {
                case .cjt188(let address): address.label
                case .mbus(let address): address.registryAddress
                }
            }
        }

        init(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, receivedAt: Timestamp) {
            self.topic = topic
            self.payload = payload
            self.receivedAt = receivedAt
        }

        /// Whether a native frame's meter id is the one the topic names (always true on a collector topic).
        func topicNames(nativeMeter id: UInt64) -> Bool {
            guard let topicAddress else { return true }
            return TopicScheme.decimalID(topicAddress) == id
        }

        /// Whether the topic may speak for the meter: always on a meter topic (its address is checked against the
        /// frame), on a collector topic only when the registry assigns the meter to that collector.
        func collectorSpeaks(for meterID: Int64, in registry: MeterRegistry) -> Bool {
            guard let collector else { return true }
            return registry.collectors.isAssigned(meterID: meterID, toCollector: collector)
        }
    }

    /// The gate of a frame whose rows are about to be appended to `batch`. Its identity is the authenticated
    /// counter when the protocol has one, else the meter's clock and the frame's channel, else the fingerprint of
    /// its bytes (or the given content fingerprint).
    private func makeGate(
        _ meterID: Int64,
        counter: ReplayCounter? = nil,
        fingerprint: Int64? = nil,
        meterTime: Timestamp? = nil,
        channel: UInt16 = 0,
        _ context: Context,
        before batch: SinkBatch
    ) -> FrameGate {
        let fingerprint = fingerprint ?? FrameFingerprint.of(context.payload)
        let identity: FrameIdentity =
            if let counter {
                .counter(counter.value)
            } else if let meterTime {
                .meterTime(meterTime, channel: channel)
            } else {
                .fingerprint(fingerprint)
            }
        return FrameGate(
            meterID: meterID,
            identity: identity,
            counter: counter,
            fingerprint: fingerprint,
            source: context.source ?? .native,
            receivedAt: context.receivedAt,
            rowsStartingAt: batch
        )
    }

    /// Records an admitted frame's gate once its rows are in the batch.
    private func admitted(_ gate: FrameGate, ack: AckRequest?, into batch: inout SinkBatch) -> Admission {
        batch.gates.append(gate)
        return Admission(verdict: .admitted(gate.identity), ack: ack, gateIndex: batch.gates.count - 1)
    }

    /// Quarantines a frame whose meter is not assigned to the collector whose topic carried it.
    private func quarantineUnassigned(_ context: Context, into batch: inout SinkBatch) -> Admission {
        let collector = context.collector.map { String(decoding: $0, as: UTF8.self) } ?? "?"
        let meter = context.label?.text ?? context.address ?? "?"
        return quarantine(
            .collectorNotAssigned,
            "collector \(collector) is not assigned \(context.source?.rawValue ?? "?") meter \(meter) "
                + "(meters collectors assign)",
            context,
            into: &batch
        )
    }

    private func quarantine(
        _ reason: QuarantineReason,
        _ detail: String,
        _ context: Context,
        into batch: inout SinkBatch
    ) -> Admission {
        batch.quarantine.append(
            QuarantineRecord(
                receivedAt: context.receivedAt,
                topic: String(decoding: context.topic, as: UTF8.self),
                payload: Array(context.payload),
                reason: reason.rawValue,
                detail: detail,
                source: context.source,
                meterAddress: context.label?.text ?? context.address
            )
        )
        return Admission(verdict: .quarantined(reason), ack: nil, gateIndex: nil)
    }
}

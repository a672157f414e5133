import Foundation
import GatewayCore
import GatewayTestSupport
import Testing

/// The admission ladder frame by frame, without a broker or a database: the registry is a value and the receive
/// time is passed in.
@Suite struct AdmissionLadderTests {
    static let topics = TopicScheme(prefix: "gm/v1")
    static let ladder = AdmissionLadder(
        topics: topics,
        policy: .serviceCommitments,
        clocks: MeterClocks(cjt188: MeterClock(utcOffsetMinutes: 480), mbus: MeterClock(utcOffsetMinutes: 60)),
        maxPayloadBytes: 1_100
    )
    static let nativeKey = "2B7E151628AED2A6ABF7158809CF4F3C"
    static let nativeAESKey = AES128Key(bytes: Hex.decode(nativeKey) ?? [])
    static let omsKey = "000102030405060708090A0B0C0D0E0F"

    /// cjt188-vectors.json `gas-901f-status-alarms`: meter 78330011223344, clock 2015-05-11 22:01:31.
    static let cjtReading = "FEFEFE68304433221100337881161F9000007766552C452301002C3101221105152007814D16"
    /// `gas-valve-close-request`: a frame to the meter.
    static let cjtValveRequest = "FEFEFE6830443322110033780404A01702994716"
    /// `gas-valve-reply-closed-one-byte`: a valve reply, no reading.
    static let cjtValveReply = "FEFEFE6830443322110033788404A01702012F16"
    /// wmbus-vectors.json `oms-gas-mode7`: ELS-12345678-51-03, mode 7, 28504.27 m³ at 2008-05-31 23:50.
    static let omsMode7 =
        "434493157856341233038C2075900F002C25B30A000021924D4F2FB66E017A75002007109058475F4BC91DF878B80A1B0F98B629024AAC727942BFC549233C0140829B93"
    /// `status-alarm-bits`: a plain frame of ELS-12345678-51-03 without a date record (no meter clock).
    static let omsPlainClockless = "144493157856341233037A213300000C1427048502"
    /// `wired-vm-vb`: GWF-87654321-60-03 with a meter clock.
    static let wiredVmVb =
        "6828286808017221436587E61E3C03090000000C943A001709000C933E84278406046D0F20013302FD1700000D16"

    static func bytes(_ hex: String) -> [UInt8] { Hex.decode(hex) ?? [] }

    /// The CJ/T 188 reading with its 7 clock bytes zeroed (no valid meter clock) and the checksum fixed.
    static var cjtClockless: [UInt8] {
        var frame = bytes(cjtReading)
        let start = 3  // after FE FE FE
        // 68 T A0..A6 C L | DI(2) SER | current(5) settlement(5) | time(7) | status(2) | CS 16
        let timeStart = start + 11 + 3 + 5 + 5
        for index in timeStart..<(timeStart + 7) { frame[index] = 0 }
        let checksumIndex = frame.count - 2
        frame[checksumIndex] = frame[start..<checksumIndex].reduce(0) { $0 &+ $1 }
        return frame
    }

    static func registry(
        nativeMeters: [(Int64, String)] = [(1, "1000001")],
        cjt188: [(Int64, String)] = [(2, "78330011223344")],
        wmbus: [(Int64, String, String?)] = [(3, "ELS-12345678-51-03", nil)],
        mbus: [(Int64, String)] = [(4, "GWF-87654321-60-03")],
        collectors: [(meterID: Int64, collector: String)] = []
    ) -> MeterRegistry {
        var registry = MeterRegistry()
        _ = registry.replace(
            .native,
            with: nativeMeters.map { .init(id: $0.0, address: $0.1, aesKey: bytes(nativeKey)) },
            topics: topics
        )
        _ = registry.replace(.cjt188, with: cjt188.map { .init(id: $0.0, address: $0.1, aesKey: nil) }, topics: topics)
        _ = registry.replace(
            .wmbus,
            with: wmbus.map { .init(id: $0.0, address: $0.1, aesKey: $0.2.map(bytes)) },
            topics: topics
        )
        _ = registry.replace(.mbus, with: mbus.map { .init(id: $0.0, address: $0.1, aesKey: nil) }, topics: topics)
        registry.collectors = CollectorAssignments(collectors)
        return registry
    }

    static func nativeFrame(
        counter: UInt32 = 7,
        meterTime: UInt32 = SampleFrames.meterTime,
        meter: UInt64 = 1_000_001
    )
        -> [UInt8]
    {
        var frame = SampleFrames.all[0]
        frame = NativeFrame(
            meterID: meter,
            frameCounter: counter,
            meterTime: meterTime,
            flags: frame.header.flags,
            body: frame.body
        )
        return (nativeAESKey.flatMap { try? NativeEncoder.encode(frame, key: $0) }) ?? []
    }

    static func admit(
        _ payload: [UInt8],
        topic: String,
        at seconds: Int64 = 1_800_000_000,
        registry: MeterRegistry = registry(),
        ladder: AdmissionLadder = ladder,
        into batch: inout SinkBatch
    ) -> AdmissionLadder.Admission {
        let topicBytes = Array(topic.utf8)
        return topicBytes.withUnsafeBytes { topic in
            payload.withUnsafeBytes { payload in
                ladder.admit(
                    topic: topic,
                    payload: payload,
                    receivedAt: Timestamp(secondsSinceEpoch: seconds),
                    registry: registry,
                    into: &batch
                )
            }
        }
    }

    static func admit(
        _ payload: [UInt8],
        topic: String,
        at seconds: Int64 = 1_800_000_000,
        registry: MeterRegistry = registry()
    ) -> (AdmissionLadder.Admission, SinkBatch) {
        var batch = SinkBatch()
        let admission = admit(payload, topic: topic, at: seconds, registry: registry, into: &batch)
        return (admission, batch)
    }

    // MARK: Admitted frames and their identity

    @Test func nativeFrameIsKnownByItsCounterAndAskedForAnAck() throws {
        let (admission, batch) = Self.admit(Self.nativeFrame(), topic: "gm/v1/up/native/1000001")
        #expect(admission.verdict == .admitted(.counter(7)))
        #expect(batch.gates.count == 1)
        #expect(batch.gates.first?.meterID == 1)
        #expect(batch.gates.first?.source == .native)
        #expect(batch.readings.count == 1)
        #expect(batch.quarantine.isEmpty)
        let ack = try #require(admission.ack)
        #expect(ack.result == .stored)
        #expect(ack.frameCounter == 7)
        #expect(ack.topic == "gm/v1/down/native/1000001")
    }

    @Test func clocklessFrameIsKnownByItsBytesNotByWhenItArrived() {
        let topic = "gm/v1/up/wmbus/12345678"
        let (first, firstBatch) = Self.admit(Self.bytes(Self.omsPlainClockless), topic: topic, at: 1_800_000_000)
        let (again, againBatch) = Self.admit(Self.bytes(Self.omsPlainClockless), topic: topic, at: 1_800_086_400)
        guard case .admitted(.fingerprint(let value)) = first.verdict else {
            Issue.record("expected a fingerprint identity, got \(first.verdict)")
            return
        }
        #expect(again.verdict == first.verdict)
        #expect(firstBatch.gates.first?.identity.key == value)
        #expect(firstBatch.gates.first?.fingerprint == againBatch.gates.first?.fingerprint)
        // Another access number is another frame.
        var other = Self.bytes(Self.omsPlainClockless)
        other[11] &+= 1
        let (otherAdmission, _) = Self.admit(other, topic: topic)
        #expect(otherAdmission.verdict != first.verdict)
    }

    @Test func framesWithAMeterClockAreKnownByMeterTimeAndChannel() {
        let (cjt, _) = Self.admit(Self.bytes(Self.cjtReading), topic: "gm/v1/up/cjt188/78330011223344")
        guard case .admitted(.meterTime(let time, let channel)) = cjt.verdict else {
            Issue.record("expected a meter-time identity, got \(cjt.verdict)")
            return
        }
        // 2015-05-11 22:01:31 China Standard Time; channel: data identifier 901F.
        #expect(time == Timestamp(secondsSinceEpoch: 1_431_352_891))
        #expect(channel == 0x901F)
        let (wired, _) = Self.admit(Self.bytes(Self.wiredVmVb), topic: "gm/v1/up/mbus/87654321")
        guard case .admitted(.meterTime(_, let ci)) = wired.verdict else {
            Issue.record("expected a meter-time identity, got \(wired.verdict)")
            return
        }
        #expect(ci == 0x72)
        let registry = Self.registry(wmbus: [(3, "ELS-12345678-51-03", Self.omsKey)])
        // Mode 7: the AFL message counter (MCR 2739) is authenticated by the AFL MAC, so it is the identity and the
        // replay counter.
        let (mode7, mode7Batch) = Self.admit(
            Self.bytes(Self.omsMode7),
            topic: "gm/v1/up/wmbus/12345678",
            registry: registry
        )
        #expect(mode7.verdict == .admitted(.counter(2739)))
        #expect(mode7Batch.gates.first?.counter == ReplayCounter(authenticated: .omsMessage, value: 2739))
    }

    @Test func cjt188FrameWithoutAValidClockIsKnownByItsBytes() {
        let (admission, batch) = Self.admit(Self.cjtClockless, topic: "gm/v1/up/cjt188/78330011223344")
        guard case .admitted(.fingerprint) = admission.verdict else {
            Issue.record("expected a fingerprint identity, got \(admission.verdict)")
            return
        }
        // The reading is stored at the receive time and flagged as such.
        #expect(batch.readings.first?.readAt == Timestamp(secondsSinceEpoch: 1_800_000_000))
    }

    @Test func collectorTopicSniffsTheProtocolAndNamesNoMeter() {
        let cases: [([UInt8], FrameProtocol)] = [
            (Self.nativeFrame(), .native), (Self.bytes(Self.cjtReading), .cjt188),
            (Self.bytes(Self.omsPlainClockless), .wmbus), (Self.bytes(Self.wiredVmVb), .mbus),
        ]
        // Meters 1…4 (one per protocol) are assigned to the collector.
        let registry = Self.registry(collectors: (1...4).map { (Int64($0), "dtu-7") })
        for (payload, source) in cases {
            let (admission, batch) = Self.admit(payload, topic: "gm/v1/up/collector/dtu-7", registry: registry)
            guard case .admitted = admission.verdict else {
                Issue.record("\(source): \(admission.verdict)")
                continue
            }
            #expect(batch.gates.first?.source == source)
        }
    }

    // MARK: One reason per fault, whatever the protocol

    /// One registered meter of each protocol and a valid frame for it, with its meter topic.
    static var validFrames: [(FrameProtocol, [UInt8], String)] {
        [
            (.native, nativeFrame(), "gm/v1/up/native/1000001"),
            (.cjt188, bytes(cjtReading), "gm/v1/up/cjt188/78330011223344"),
            (.wmbus, bytes(omsPlainClockless), "gm/v1/up/wmbus/12345678"),
            (.mbus, bytes(wiredVmVb), "gm/v1/up/mbus/87654321"),
        ]
    }

    @Test func sameFaultGetsSameReasonWhicheverProtocolCarriedIt() {
        let empty = MeterRegistry()
        for (source, payload, topic) in Self.validFrames {
            func reason(
                _ payload: [UInt8],
                _ topic: String,
                _ registry: MeterRegistry = Self.registry()
            )
                -> AdmissionLadder.Verdict
            {
                Self.admit(payload, topic: topic, registry: registry).0.verdict
            }
            #expect(reason(payload, topic, empty) == .quarantined(.unknownMeter), "\(source)")
            let otherMeter = topic.replacingOccurrences(of: "/\(topic.split(separator: "/").last ?? "")", with: "/0")
            #expect(reason(payload, otherMeter) == .quarantined(.topicMismatch), "\(source)")
            #expect(reason(payload, "gm/v1/up/zigbee/1") == .quarantined(.unroutableTopic), "\(source)")
            #expect(reason(payload, "other/up/\(source.rawValue)/1") == .quarantined(.unroutableTopic), "\(source)")
            #expect(
                reason(payload + [UInt8](repeating: 0, count: 1_200), topic) == .quarantined(.frameTooLarge),
                "\(source)"
            )
            // A corrupted byte in the middle fails the frame's own integrity check (MAC, checksum). The wireless
            // M-Bus vectors are stored as receivers deliver them, without link CRCs: nothing to check there.
            guard source != .wmbus else { continue }
            var flipped = payload
            flipped[payload.count / 2] ^= 0x40
            guard case .quarantined(let flippedReason) = reason(flipped, topic) else {
                Issue.record("\(source): a bit flip was admitted")
                continue
            }
            #expect(["bad_crc", "bad_checksum", "bad_mac"].contains(flippedReason.rawValue), "\(source)")
        }
    }

    @Test func everyQuarantinedFrameKeepsItsBytesTopicAndReceiveTime() {
        let payload = Self.bytes(Self.cjtReading)
        let (admission, batch) = Self.admit(payload, topic: "gm/v1/up/cjt188/00000000000000", at: 1_700_000_123)
        #expect(admission.verdict == .quarantined(.topicMismatch))
        #expect(batch.gates.isEmpty)
        #expect(batch.readings.isEmpty)
        let row = batch.quarantine.first
        #expect(row?.payload == payload)
        #expect(row?.topic == "gm/v1/up/cjt188/00000000000000")
        #expect(row?.receivedAt == Timestamp(secondsSinceEpoch: 1_700_000_123))
        #expect(row?.source == .cjt188)
        #expect(row?.meterAddress == "78330011223344")
    }

    @Test func framesToAMeterAreWrongDirection() throws {
        let (cjt, _) = Self.admit(Self.bytes(Self.cjtValveRequest), topic: "gm/v1/up/cjt188/78330011223344")
        #expect(cjt.verdict == .quarantined(.wrongDirection))
        let ack = NativeFrame(
            meterID: 1_000_001,
            frameCounter: 9,
            meterTime: SampleFrames.meterTime,
            body: .valveCommand(NativeFrame.ValveCommand(action: .close, reason: 0x0001))
        )
        let encoded = (Self.nativeAESKey.flatMap { try? NativeEncoder.encode(ack, key: $0) }) ?? []
        let (native, _) = Self.admit(encoded, topic: "gm/v1/up/native/1000001")
        #expect(native.verdict == .quarantined(.wrongDirection))
    }

    @Test func keyedMeterRefusesAnUnprotectedFrame() {
        let registry = Self.registry(wmbus: [(3, "ELS-12345678-51-03", Self.omsKey)])
        let (admission, batch) = Self.admit(
            Self.bytes(Self.omsPlainClockless),
            topic: "gm/v1/up/wmbus/12345678",
            registry: registry
        )
        #expect(admission.verdict == .quarantined(.unencryptedFrame))
        #expect(batch.readings.isEmpty && batch.alarms.isEmpty && batch.gates.isEmpty)
    }

    @Test func decodedFrameWithNothingToStoreIsNoReadingAndOpensNoGate() {
        let (admission, batch) = Self.admit(Self.bytes(Self.cjtValveReply), topic: "gm/v1/up/cjt188/78330011223344")
        #expect(admission.verdict == .quarantined(.noReading))
        #expect(batch.gates.isEmpty)
    }

    @Test func oversizedPayloadTravelsAsItsFirstBytesUnderAMarkedTopic() {
        let topic = Array("gm/v1/up/wmbus/12345678".utf8)
        let marked = topic.withUnsafeBytes { OversizedFrame.markedTopic($0, size: 70_000) }
        let firstBytes = [UInt8](repeating: 0xAB, count: OversizedFrame.keptBytes)
        var batch = SinkBatch()
        let admission = marked.withUnsafeBytes { topic in
            firstBytes.withUnsafeBytes { payload in
                Self.ladder.admit(
                    topic: topic,
                    payload: payload,
                    receivedAt: Timestamp(secondsSinceEpoch: 1),
                    registry: Self.registry(),
                    into: &batch
                )
            }
        }
        #expect(admission.verdict == .quarantined(.frameTooLarge))
        #expect(batch.quarantine.first?.topic == "gm/v1/up/wmbus/12345678")
        #expect(batch.quarantine.first?.payload == firstBytes)
        #expect(batch.quarantine.first?.detail.contains("70000 bytes") == true)
        // An ordinary topic is not mistaken for a marked one.
        #expect(topic.withUnsafeBytes { OversizedFrame.parse(topic: $0) } == nil)
    }

    @Test func damagedSpoolRecordIsQuarantinedAsSpoolCorrupt() {
        var batch = SinkBatch()
        let damaged: [UInt8] = [1, 2, 3, 4]
        let admission = damaged.withUnsafeBytes {
            Self.ladder.quarantineCorruptSpoolRecord($0, foundAt: Timestamp(secondsSinceEpoch: 5), into: &batch)
        }
        #expect(admission.verdict == .quarantined(.spoolCorrupt))
        #expect(batch.quarantine.first?.payload == damaged)
    }

    // MARK: Duplicates and the README

    @Test func removingADuplicateGateDropsExactlyItsRows() {
        var batch = SinkBatch()
        _ = Self.admit(Self.nativeFrame(counter: 1), topic: "gm/v1/up/native/1000001", into: &batch)
        _ = Self.admit(Self.bytes(Self.cjtReading), topic: "gm/v1/up/cjt188/78330011223344", into: &batch)
        _ = Self.admit(Self.bytes(Self.cjtValveReply), topic: "gm/v1/up/cjt188/78330011223344", into: &batch)
        _ = Self.admit(Self.nativeFrame(counter: 2), topic: "gm/v1/up/native/1000001", into: &batch)
        #expect(batch.gates.count == 3)
        let nativeRows = batch.readings.filter { $0.meterID == 1 }.count
        let filtered = batch.removingRows(ofGates: [1])
        #expect(filtered.gates.map(\.identity) == [.counter(1), .counter(2)])
        #expect(filtered.readings.allSatisfy { $0.meterID == 1 })
        #expect(filtered.readings.count == nativeRows)
        #expect(filtered.alarms.allSatisfy { $0.meterID == 1 })
        #expect(filtered.quarantine.count == 1)
        // The kept gates point at their own rows in the filtered batch.
        #expect(filtered.gates[1].firstReading == filtered.readings.firstIndex { $0.frameCounter == 2 })
        #expect(filtered.frames.map(\.frameCounter) == [1, 2])
    }

    /// A native frame of `SampleFrames.all[index]`'s body (3: an alarm) with the given meter and counter.
    static func nativeFrame(_ index: Int, counter: UInt32, meter: UInt64) -> [UInt8] {
        let sample = SampleFrames.all[index]
        let frame = NativeFrame(
            meterID: meter,
            frameCounter: counter,
            meterTime: SampleFrames.meterTime + counter,
            flags: sample.header.flags,
            body: sample.body
        )
        return (nativeAESKey.flatMap { try? NativeEncoder.encode(frame, key: $0) }) ?? []
    }

    @Test func alarmFramesSplitOffAheadUnlessAFrameOfTheirMeterIsBeforeThem() throws {
        let registry = Self.registry(nativeMeters: [(1, "1000001"), (5, "1000005"), (6, "1000006")])
        var batch = SinkBatch()
        func admit(_ payload: [UInt8], _ topic: String) {
            _ = Self.admit(payload, topic: "gm/v1/up/" + topic, registry: registry, into: &batch)
        }
        admit(Self.bytes(Self.cjtReading), "cjt188/78330011223344")  // gate 0: status alarms, moves
        admit(Self.nativeFrame(3, counter: 1, meter: 1_000_005), "native/1000005")  // gate 1: alarm, moves
        admit(Self.bytes(Self.cjtValveReply), "cjt188/78330011223344")  // quarantined
        admit(Self.nativeFrame(0, counter: 2, meter: 1_000_001), "native/1000001")  // gate 2: reading
        admit(Self.nativeFrame(3, counter: 3, meter: 1_000_001), "native/1000001")  // gate 3: alarm after its reading
        admit(Self.nativeFrame(3, counter: 4, meter: 1_000_005), "native/1000005")  // gate 4: alarm, moves
        admit(Self.nativeFrame(0, counter: 5, meter: 1_000_006), "native/1000006")  // gate 5: reading
        #expect(batch.gates.count == 6)
        #expect(batch.quarantine.count == 1)
        let split = try #require(batch.splittingOffAlarms())
        #expect(split.firstGates == [0, 1, 4])
        #expect(split.restGates == [2, 3, 5])
        // Each part holds exactly its gates' rows, each gate pointing at its own rows.
        for (part, indices) in [(split.first, split.firstGates), (split.rest, split.restGates)] {
            #expect(part.gates.map(\.identity) == indices.map { batch.gates[$0].identity })
            for (position, gate) in part.gates.enumerated() where gate.source == .native {
                let next = position + 1 < part.gates.count ? part.gates[position + 1].firstFrame : part.frames.count
                #expect(part.frames[gate.firstFrame..<next].map(\.meterID) == [gate.meterID])
            }
        }
        #expect(split.first.frames.map(\.frameCounter) == [1, 4])
        #expect(split.rest.frames.map(\.frameCounter) == [2, 3, 5])
        #expect(split.first.alarms.map(\.frameCounter) == [nil, nil, 1, 4])
        #expect(split.first.alarms.prefix(2).allSatisfy { $0.meterID == 2 })
        #expect(split.rest.alarms.map(\.frameCounter) == [3])
        #expect(split.first.quarantine.isEmpty)
        #expect(split.rest.quarantine == batch.quarantine)
        #expect(split.first.readings.count + split.rest.readings.count == batch.readings.count)

        // Nothing moves when no alarm can.
        var quiet = SinkBatch()
        _ = Self.admit(
            Self.nativeFrame(0, counter: 1, meter: 1_000_001),
            topic: "gm/v1/up/native/1000001",
            into: &quiet
        )
        _ = Self.admit(
            Self.nativeFrame(3, counter: 2, meter: 1_000_001),
            topic: "gm/v1/up/native/1000001",
            into: &quiet
        )
        #expect(quiet.splittingOffAlarms() == nil)
        #expect(SinkBatch().splittingOffAlarms() == nil)
    }

    @Test func readmeListsEveryQuarantineReasonTheCodeCanStore() throws {
        let readme = Repository.url("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## Quarantine reasons").dropFirst().first)
        let listed = section.components(separatedBy: "\n## ").first ?? ""
        for reason in QuarantineReason.allReasons {
            #expect(listed.contains("`\(reason.rawValue)`"), "README does not list \(reason.rawValue)")
        }
    }
}

import GatewayCore
import Testing

/// Step 7 of the ladder on collector topics: a collector speaks only for the meters the registry assigns to it.
@Suite struct CollectorAssignmentTests {
    typealias Ladder = AdmissionLadderTests

    /// A valid frame of each protocol with the registry id of the meter it names (AdmissionLadderTests' registry).
    static var framesByMeter: [(FrameProtocol, [UInt8], Int64)] {
        [
            (.native, Ladder.nativeFrame(), 1),
            (.cjt188, Ladder.bytes(Ladder.cjtReading), 2),
            (.wmbus, Ladder.bytes(Ladder.omsPlainClockless), 3),
            (.mbus, Ladder.bytes(Ladder.wiredVmVb), 4),
        ]
    }

    @Test(arguments: [FrameProtocol.native, .cjt188, .wmbus, .mbus])
    func assignedMeterIsAdmittedOnItsCollectorTopic(_ frameProtocol: FrameProtocol) throws {
        let (_, payload, meterID) = try #require(Self.framesByMeter.first { $0.0 == frameProtocol })
        let registry = Ladder.registry(collectors: [(meterID, "dtu-1")])
        let (admission, batch) = Ladder.admit(payload, topic: "gm/v1/up/collector/dtu-1", registry: registry)
        guard case .admitted = admission.verdict else {
            Issue.record("\(frameProtocol): \(admission.verdict)")
            return
        }
        #expect(batch.gates.first?.meterID == meterID)
        #expect(batch.quarantine.isEmpty)
    }

    /// Every protocol, native included: a MAC proves who made the frame, not that this collector may forward it.
    @Test(arguments: [FrameProtocol.native, .cjt188, .wmbus, .mbus])
    func unassignedMeterIsQuarantinedWithNothingStored(_ frameProtocol: FrameProtocol) throws {
        let (_, payload, meterID) = try #require(Self.framesByMeter.first { $0.0 == frameProtocol })
        // The meter is assigned, but to another collector; and the collector speaks for another meter.
        let other = meterID == 1 ? Int64(2) : 1
        let registry = Ladder.registry(collectors: [(meterID, "dtu-1"), (other, "dtu-2")])
        let (admission, batch) = Ladder.admit(payload, topic: "gm/v1/up/collector/dtu-2", registry: registry)
        #expect(admission.verdict == .quarantined(.collectorNotAssigned))
        #expect(admission.ack == nil)
        #expect(batch.gates.isEmpty && batch.readings.isEmpty && batch.alarms.isEmpty && batch.frames.isEmpty)
        let row = try #require(batch.quarantine.first)
        #expect(row.reason == "collector_not_assigned")
        #expect(row.source == frameProtocol)
        #expect(row.detail.contains("collector dtu-2"))
        #expect(row.meterAddress.map { row.detail.contains($0) } == true)
        #expect(row.topic == "gm/v1/up/collector/dtu-2")
        #expect(row.payload == payload)
    }

    @Test func noAssignmentsRefuseEveryCollectorFrame() {
        for (frameProtocol, payload, _) in Self.framesByMeter {
            let (admission, _) = Ladder.admit(payload, topic: "gm/v1/up/collector/dtu-7")
            #expect(admission.verdict == .quarantined(.collectorNotAssigned), "\(frameProtocol)")
        }
    }

    @Test func meterTopicsNeedNoAssignment() {
        // No assignments at all: the meter topics of AdmissionLadderTests still admit every protocol.
        for (frameProtocol, payload, topic) in Ladder.validFrames {
            let (admission, _) = Ladder.admit(payload, topic: topic)
            guard case .admitted = admission.verdict else {
                Issue.record("\(frameProtocol) on \(topic): \(admission.verdict)")
                continue
            }
        }
        // And a meter topic naming another meter is still topic_mismatch, assignment or not.
        let registry = Ladder.registry(collectors: [(2, "78330011223345")])
        let (mismatch, _) = Ladder.admit(
            Ladder.bytes(Ladder.cjtReading),
            topic: "gm/v1/up/cjt188/78330011223345",
            registry: registry
        )
        #expect(mismatch.verdict == .quarantined(.topicMismatch))
    }

    @Test func aMeterHeardBySeveralCollectorsIsAdmittedFromEachOfThem() {
        let payload = Ladder.bytes(Ladder.omsPlainClockless)
        let registry = Ladder.registry(collectors: [(3, "dtu-1"), (3, "dtu-2"), (3, "gw:north.3")])
        for collector in ["dtu-1", "dtu-2", "gw:north.3"] {
            let (admission, _) = Ladder.admit(payload, topic: "gm/v1/up/collector/\(collector)", registry: registry)
            guard case .admitted = admission.verdict else {
                Issue.record("\(collector): \(admission.verdict)")
                continue
            }
        }
        for collector in ["dtu-3", "dtu-10", "dtu-", "DTU-1", "dtu-1 "] {
            let (admission, _) = Ladder.admit(payload, topic: "gm/v1/up/collector/\(collector)", registry: registry)
            #expect(admission.verdict == .quarantined(.collectorNotAssigned), "\(collector)")
        }
    }

    @Test func lookupIsExactAcrossManyCollectors() {
        var pairs: [(meterID: Int64, collector: String)] = []
        for index in 0..<2_000 { pairs.append((Int64(index % 50), "c\(index)")) }
        pairs.append((7, "c3"))  // a repeat of a collector with another meter
        pairs.append((3, "c3"))  // and an exact repeat
        let assignments = CollectorAssignments(pairs)
        #expect(assignments.collectorCount == 2_000)
        #expect(assignments.count == 2_001)
        func assigned(_ meter: Int64, _ collector: String) -> Bool {
            Array(collector.utf8).withUnsafeBytes { assignments.isAssigned(meterID: meter, toCollector: $0) }
        }
        for index in 0..<2_000 {
            #expect(assigned(Int64(index % 50), "c\(index)"))
            #expect(!assigned(Int64((index + 1) % 50), "c\(index)"))
        }
        #expect(assigned(7, "c3"))
        #expect(!assigned(3, "c2000") && !assigned(3, "c") && !assigned(3, ""))
        #expect(
            !CollectorAssignments().isAssigned(meterID: 1, toCollector: UnsafeRawBufferPointer(start: nil, count: 0))
        )
    }

    @Test func collectorIDsAreTopicLevelsAndClientIDs() {
        for valid in ["dtu-1", "c1", "gw:north.3", "A_b-9", String(repeating: "x", count: 64)] {
            #expect(CollectorID.problem(valid) == nil, "\(valid)")
        }
        for invalid in ["", "a/b", "a+b", "#", "a b", "dtu-1;dtu-2", "ü", String(repeating: "x", count: 65)] {
            #expect(CollectorID.problem(invalid) != nil, "\(invalid)")
        }
    }
}

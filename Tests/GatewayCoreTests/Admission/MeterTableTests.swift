import Testing

@testable import GatewayCore

@Suite struct MeterTableTests {
    /// A deterministic generator (SplitMix64), so a failure repeats.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func agreesWithADictionaryUnderRandomInsertsReplacementsAndRemovals() {
        var random = SplitMix(state: 7)
        var table = MeterTable<Void>()
        var model: [UInt64: (Int64, UInt32?)] = [:]
        // Few distinct identities, so replacements, removals and long probe chains all happen.
        for step in 0..<40_000 {
            let identity = random.next() % 3_000
            if random.next() % 3 == 0 {
                let removed = table.remove(identity)
                #expect(removed == (model.removeValue(forKey: identity) != nil))
            } else {
                let key: UInt32? = random.next() % 2 == 0 ? UInt32(truncatingIfNeeded: random.next()) : nil
                let block = key.map { AES128.Block(word0: $0, word1: 1, word2: 2, word3: 3) }
                table.insert(identity, .init(meterID: Int64(step), keyBlock: block, minimum: .encrypted, extra: ()))
                model[identity] = (Int64(step), key)
            }
        }
        #expect(table.count == model.count)
        for identity in UInt64(0)..<3_000 {
            let found = table[identity]
            let expected = model[identity]
            #expect(found?.meterID == expected?.0)
            #expect(found?.keyBlock?.word0 == expected?.1)
            if let found { #expect(found.minimum == .encrypted) }
        }
        var visited = 0
        table.forEach { identity, meter in
            visited += 1
            #expect(model[identity]?.0 == meter.meterID)
        }
        #expect(visited == model.count)
    }

    @Test func aRemovalNamingAnotherMeterIdKeepsTheMeter() {
        var table = MeterTable<String>()
        table.insert(42, .init(meterID: 7, keyBlock: .zero, minimum: .authenticated, extra: "gw/down/native/42"))
        let wrongID = table.remove(42, meterID: 8)
        #expect(!wrongID)
        #expect(table[42]?.extra == "gw/down/native/42")
        #expect(table[42]?.key != nil)
        let rightID = table.remove(42, meterID: 7)
        #expect(rightID)
        #expect(table[42] == nil && table.isEmpty)
    }

    @Test func holdsAMillionMetersInAboutFortyBytesEach() {
        var table = MeterTable<Void>()
        table.reserveCapacity(1_000_000)
        for identity in UInt64(1)...1_000_000 {
            table.insert(identity &* 0x9E37_79B9, .init(meterID: Int64(identity), keyBlock: .zero, minimum: .plain, extra: ()))
        }
        #expect(table.count == 1_000_000)
        #expect(table[500_000 &* 0x9E37_79B9]?.meterID == 500_000)
        #expect(table.allocatedBytes / table.count <= 42)
    }

    @Test func theRegistryReplacesRemovesAndReportsUnusableMeters() {
        var registry = MeterRegistry()
        let topics = TopicScheme(prefix: "gw")
        let key = [UInt8](repeating: 1, count: 16)
        let keyed = registry.upsert(.native, .init(id: 1, address: "42", aesKey: key), topics: topics)
        #expect(keyed)
        #expect(registry.native[42]?.downlinkTopic == "gw/down/native/42")
        // A native meter without a key is unusable, and takes its old entry with it.
        let keyless = registry.upsert(.native, .init(id: 1, address: "42", aesKey: nil), topics: topics)
        #expect(!keyless)
        #expect(registry.native[42] == nil)
        let wireless = registry.upsert(.wmbus, .init(id: 2, address: "GWF-87654321-60-03", aesKey: nil), topics: topics)
        #expect(wireless)
        #expect(registry.contains(.wmbus, address: "GWF-87654321-60-03"))
        let stale = registry.remove(.wmbus, address: "GWF-87654321-60-03", meterID: 3)
        let current = registry.remove(.wmbus, address: "GWF-87654321-60-03", meterID: 2)
        #expect(!stale && current)
        #expect(registry.count == 0)
        let unusable = registry.upsert(.cjt188, .init(id: 4, address: "not digits", aesKey: nil), topics: topics)
        #expect(!unusable)
    }

    @Test func collectorAssignmentsAreReplacedPerMeter() {
        var assignments = CollectorAssignments([(1, "dtu-1"), (1, "dtu-2"), (2, "dtu-1")])
        #expect(assignments.count == 3)
        assignments.replace(meterID: 1, with: ["dtu-3"])
        #expect(assignments.count == 2)
        func assigned(_ meter: Int64, _ collector: String) -> Bool {
            Array(collector.utf8).withUnsafeBytes { assignments.isAssigned(meterID: meter, toCollector: $0) }
        }
        #expect(assigned(1, "dtu-3") && !assigned(1, "dtu-1") && assigned(2, "dtu-1"))
        assignments.removeAll(meterID: 2)
        #expect(!assigned(2, "dtu-1") && assignments.count == 1)
    }
}

@Suite struct RegistryMissPolicyTests {
    static func at(_ seconds: Double) -> Timestamp { Timestamp(microsecondsSinceEpoch: Int64(seconds * 1_000_000)) }

    @Test func aMissIsNotAskedAgainUntilItExpires() {
        var policy = RegistryMissPolicy(negativeSeconds: 60, lookupsPerSecond: 10)
        let first = policy.mayLookUp(.native, "42", now: Self.at(100))
        #expect(first)
        policy.recordMissing(.native, "42", now: Self.at(100))
        let cached = policy.mayLookUp(.native, "42", now: Self.at(159))
        let other = policy.mayLookUp(.native, "43", now: Self.at(159))
        let expired = policy.mayLookUp(.native, "42", now: Self.at(161))
        #expect(!cached && other && expired)
        policy.recordMissing(.cjt188, "1", now: Self.at(161))
        policy.forget(.cjt188, "1")
        let forgotten = policy.mayLookUp(.cjt188, "1", now: Self.at(162))
        #expect(forgotten)
    }

    @Test func lookupsAreRateLimited() {
        var policy = RegistryMissPolicy(negativeSeconds: 60, lookupsPerSecond: 5)
        let allowed = (0..<50).count(where: { policy.mayLookUp(.native, "\($0)", now: Self.at(10)) })
        #expect(allowed == 5)
        // Half a second later, half the rate is back.
        let later = (50..<100).count(where: { policy.mayLookUp(.native, "\($0)", now: Self.at(10.5)) })
        #expect(later == 2)
    }

    @Test func theNegativeCacheStaysBounded() {
        var policy = RegistryMissPolicy(negativeSeconds: 60, lookupsPerSecond: 5, maxNegativeEntries: 100)
        for index in 0..<1_000 { policy.recordMissing(.native, "\(index)", now: Self.at(1)) }
        #expect(policy.negativeCount <= 100)
    }
}

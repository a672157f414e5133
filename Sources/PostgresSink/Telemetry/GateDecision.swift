import GatewayCore

/// The slow path's verdict on each gate of a batch: which are duplicates, which are replays, how many identities
/// are new. Pure: it takes what the transaction read (the stored fingerprints of the gates' identities and the
/// locked marks that some counter reached) and applies ``GatewayCore/ReplayRule`` in batch order.
struct GateDecision {
    /// Gates already stored with the same fingerprint.
    var duplicates = Set<Int>()
    /// Gates ``GatewayCore/ReplayRule`` judged `replayed`.
    var replayed = Set<Int>()
    /// Identities the insert must store.
    var expectedNew = 0
    /// Gates without an authenticated counter whose identity is stored with another fingerprint.
    var identityConflicts = 0

    /// Decides every gate.
    /// - Parameters:
    ///   - gates: The batch's gates, in batch order.
    ///   - stored: Gate index → the fingerprint stored for its identity before this batch.
    ///   - marks: The locked marks that some counter of the batch is at or below; a meter absent here has no
    ///     counter at or below its mark.
    /// - Returns: The decision.
    static func decide(
        _ gates: [FrameGate],
        stored: [Int: Int64],
        marks: [CounterMarkScratch.Key: CounterMark]
    ) -> GateDecision {
        struct Key: Hashable {
            var meterID: Int64
            var kind: Int16
            var identity: Int64
        }
        var decision = GateDecision()
        var firstInBatch: [Key: Int64] = [:]
        // The highest counter admitted earlier in this batch, per meter and kind: a later frame of the batch is
        // judged against it as against a stored mark.
        var batchHigh: [CounterMarkScratch.Key: Int64] = [:]
        for (index, gate) in gates.enumerated() {
            let key = Key(meterID: gate.meterID, kind: gate.identity.kind, identity: gate.identity.key)
            let storedFingerprint = stored[index] ?? firstInBatch[key]
            if let counter = gate.counter {
                let markKey = CounterMarkScratch.Key(meterID: gate.meterID, kind: counter.kind)
                var mark = marks[markKey]
                if let high = batchHigh[markKey] {
                    mark = CounterMark(
                        highWater: max(mark?.highWater ?? -1, high),
                        forgottenThrough: mark?.forgottenThrough ?? -1
                    )
                }
                switch ReplayRule.judge(
                    counter: counter.value,
                    mark: mark,
                    storedFingerprint: storedFingerprint,
                    fingerprint: gate.fingerprint
                ) {
                case .duplicate:
                    decision.duplicates.insert(index)
                    continue
                case .replayed:
                    decision.replayed.insert(index)
                    continue
                case .fresh, .lateDelivery:
                    batchHigh[markKey] = max(batchHigh[markKey] ?? -1, Int64(counter.value))
                }
            } else if let storedFingerprint, storedFingerprint == gate.fingerprint {
                decision.duplicates.insert(index)
                continue
            }
            if storedFingerprint != nil {
                decision.identityConflicts += 1
            } else {
                firstInBatch[key] = gate.fingerprint
                decision.expectedNew += 1
            }
        }
        return decision
    }
}

/// Which collectors may speak for which meters: the registry's `collector_meters`, interned so that the ladder's
/// check is one probe of the topic's collector segment and one set probe, with no `String` built per frame.
///
/// A meter may be assigned to several collectors (a wireless meter is often heard by more than one). A frame on
/// `<prefix>/up/collector/<collector id>` naming a meter that is not assigned to that collector is quarantined
/// `collector_not_assigned` (``AdmissionLadder``).
///
/// Collector ids are interned to small integers at load. The topic segment is looked up by a `Hasher` digest of
/// its bytes (seeded per process, so a sender cannot aim collisions), then compared byte for byte with the interned
/// id; distinct ids whose digests collide take the next free slot (open addressing), so a lookup is exact.
public struct CollectorAssignments: Sendable {
    /// The collectors of one meter, interned: the first inline, more (rare) in an array, so a meter with one
    /// collector costs no allocation of its own.
    private struct Collectors: Sendable {
        var first: Int32
        var rest: [Int32] = []

        /// An index loop rather than `Array.contains`: the generic `contains` allocated once per call in debug
        /// builds (the HotPathProbe gate runs one), and this is on every collector-topic frame.
        func contains(_ index: Int32) -> Bool {
            if first == index { return true }
            var position = 0
            while position < rest.count {
                if rest[position] == index { return true }
                position += 1
            }
            return false
        }
        var count: Int { 1 + rest.count }

        mutating func insert(_ index: Int32) -> Bool {
            guard !contains(index) else { return false }
            rest.append(index)
            return true
        }
    }

    /// Digest slot → interned collector index.
    private var slots: [Int: Int32] = [:]
    /// The interned collector ids' bytes, by index.
    private var names: [[UInt8]] = []
    /// By meter registry id; a meter assigned to no collector has no entry.
    private var byMeter: [Int64: Collectors] = [:]
    private var pairCount = 0

    /// No assignments: every collector topic frame is refused.
    public init() {}

    /// Builds the assignments.
    /// - Parameter assignments: (meter registry id, collector id) pairs; repeats are harmless.
    public init(_ assignments: [(meterID: Int64, collector: String)]) {
        for assignment in assignments { insert(meterID: assignment.meterID, collector: assignment.collector) }
    }

    /// The number of (meter, collector) pairs.
    public var count: Int { pairCount }

    /// The number of distinct collectors.
    public var collectorCount: Int { names.count }

    /// Assigns a meter to a collector (nothing changes when it is already).
    /// - Parameters:
    ///   - meterID: The meter's registry id.
    ///   - collector: The collector id.
    public mutating func insert(meterID: Int64, collector: String) {
        let index = intern(Array(collector.utf8))
        if var collectors = byMeter[meterID] {
            guard collectors.insert(index) else { return }
            byMeter[meterID] = collectors
        } else {
            byMeter[meterID] = Collectors(first: index)
        }
        pairCount += 1
    }

    /// Replaces every assignment of one meter (for a meter the registry re-read).
    /// - Parameters:
    ///   - meterID: The meter's registry id.
    ///   - collectors: Its collectors now; empty for none.
    public mutating func replace(meterID: Int64, with collectors: [String]) {
        removeAll(meterID: meterID)
        for collector in collectors { insert(meterID: meterID, collector: collector) }
    }

    /// Removes every assignment of one meter (a deleted meter). Interned collector ids stay: they are few.
    /// - Parameter meterID: The meter's registry id.
    public mutating func removeAll(meterID: Int64) {
        if let removed = byMeter.removeValue(forKey: meterID) { pairCount -= removed.count }
    }

    /// Whether meter `meterID` is assigned to the collector whose id is `collector` (a topic segment's bytes).
    /// Allocation-free.
    /// - Parameters:
    ///   - meterID: The meter's registry id.
    ///   - collector: The collector id as UTF-8 bytes.
    public func isAssigned(meterID: Int64, toCollector collector: UnsafeRawBufferPointer) -> Bool {
        guard let index = lookup(collector) else { return false }
        return byMeter[meterID]?.contains(index) ?? false
    }

    private func lookup(_ bytes: UnsafeRawBufferPointer) -> Int32? {
        var slot = Self.digest(bytes)
        while let index = slots[slot] {
            let matches = names[Int(index)].withUnsafeBytes { $0.elementsEqual(bytes) }
            if matches { return index }
            slot &+= 1
        }
        return nil
    }

    private mutating func intern(_ name: [UInt8]) -> Int32 {
        var slot = name.withUnsafeBytes { Self.digest($0) }
        while let index = slots[slot] {
            if names[Int(index)] == name { return index }
            slot &+= 1
        }
        let index = Int32(names.count)
        names.append(name)
        slots[slot] = index
        return index
    }

    private static func digest(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }
}

/// The rules for a collector id: the last level of its uplink topic and, with the broker ACL, its MQTT client id.
public enum CollectorID {
    /// The longest collector id accepted.
    public static let maxLength = 64

    /// Why `id` cannot be a collector id, or `nil` when it can: 1…64 characters of ASCII letters, digits, `.`, `_`,
    /// `-` and `:` (never an MQTT wildcard, a topic separator, a space or a character the broker's `%c` ACL
    /// substitution refuses). The schema's CHECK on `collector_meters.collector` says the same.
    public static func problem(_ id: String) -> String? {
        guard !id.isEmpty, id.utf8.count <= maxLength else {
            return "a collector id must be 1 to \(maxLength) characters long"
        }
        let allowed = id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"),
                UInt8(ascii: ":"):
                true
            default:
                false
            }
        }
        return allowed ? nil : "\"\(id)\" is not a collector id (letters, digits, '.', '_', '-' and ':' only)"
    }
}

/// One protocol's registered meters, keyed by the 64-bit identity its frames carry, in a compact layout meant for
/// millions of meters: about 40 bytes per meter (plus `Extra`) instead of a dictionary of expanded keys.
///
/// Layout: the meters sit in dense arrays (32-byte rows: identity, registry id and the raw 16-byte key; one flag
/// byte; one `Extra`), and an open-addressing index (linear probing, `Int32` row numbers, load ≤ 2/3) maps an
/// identity to its row. The index hashes identities with a per-process seeded `Hasher`, so a sender cannot aim
/// collisions at it. A removal moves the last row into the hole and closes the probe chain by backward shifting,
/// so no tombstones build up under churn.
///
/// Keys are kept as their 16 raw bytes; the AES key schedule (176 bytes) is expanded on lookup, which costs a few
/// hundred nanoseconds and allocates nothing. Lookups never allocate; inserts and removals are the cold path.
public struct MeterTable<Extra: Sendable>: Sendable {
    /// The fixed-size part of a meter.
    @usableFromInline
    struct Row: Sendable {
        @usableFromInline var identity: UInt64
        @usableFromInline var meterID: Int64
        @usableFromInline var key: AES128.Block
    }

    /// A meter as the table holds it.
    public struct Meter: Sendable {
        /// The meter's registry id (`meters.id`).
        public var meterID: Int64
        /// The raw key bytes, if the meter has a key.
        public var keyBlock: AES128.Block?
        /// The least protection the meter's frames must carry.
        public var minimum: ProtectionLevel
        /// Protocol-specific data (the downlink topic of a native meter).
        public var extra: Extra

        /// The expanded key, if any (computed: the schedule is never stored).
        public var key: AES128Key? { keyBlock.map { AES128Key($0) } }

        /// Creates a meter.
        /// - Parameters:
        ///   - meterID: The registry id.
        ///   - keyBlock: The raw key, if any.
        ///   - minimum: The minimum protection.
        ///   - extra: The protocol-specific data.
        public init(meterID: Int64, keyBlock: AES128.Block?, minimum: ProtectionLevel, extra: Extra) {
            self.meterID = meterID
            self.keyBlock = keyBlock
            self.minimum = minimum
            self.extra = extra
        }
    }

    private static var hasKeyFlag: UInt8 { 0x80 }

    private var rows: [Row] = []
    /// Bit 7: has a key; bits 0–6: the minimum protection's raw value.
    private var flags: [UInt8] = []
    private var extras: [Extra] = []
    /// Row number + 1 per slot; 0 is an empty slot.
    private var slots: [Int32] = []

    /// An empty table.
    public init() {}

    /// The number of meters.
    public var count: Int { rows.count }

    /// Whether the table holds no meter.
    public var isEmpty: Bool { rows.isEmpty }

    /// Reserves room for `capacity` meters, so that loading that many rehashes at most once.
    /// - Parameter capacity: The number of meters expected.
    public mutating func reserveCapacity(_ capacity: Int) {
        rows.reserveCapacity(capacity)
        flags.reserveCapacity(capacity)
        extras.reserveCapacity(capacity)
        if Self.slotCount(for: capacity) > slots.count { rehash(slotCount: Self.slotCount(for: capacity)) }
    }

    /// The meter with this identity, or `nil`. Never allocates.
    /// - Parameter identity: The identity as its protocol packs it.
    public subscript(identity: UInt64) -> Meter? {
        guard let row = rowNumber(of: identity) else { return nil }
        return meter(at: row)
    }

    /// Whether a meter with this identity is in the table. Never allocates.
    /// - Parameter identity: The identity.
    public func contains(_ identity: UInt64) -> Bool { rowNumber(of: identity) != nil }

    /// Inserts a meter or replaces the one with the same identity.
    /// - Parameters:
    ///   - identity: The identity.
    ///   - meter: The meter.
    public mutating func insert(_ identity: UInt64, _ meter: Meter) {
        let row = Row(identity: identity, meterID: meter.meterID, key: meter.keyBlock ?? .zero)
        let flag = (meter.keyBlock == nil ? 0 : Self.hasKeyFlag) | meter.minimum.rawValue
        if let existing = rowNumber(of: identity) {
            rows[existing] = row
            flags[existing] = flag
            extras[existing] = meter.extra
            return
        }
        if Self.slotCount(for: rows.count + 1) > slots.count {
            rehash(slotCount: Self.slotCount(for: max(rows.count * 2, 8)))
        }
        rows.append(row)
        flags.append(flag)
        extras.append(meter.extra)
        var slot = home(identity)
        while slots[slot] != 0 { slot = next(slot) }
        slots[slot] = Int32(rows.count)
    }

    /// Removes the meter with this identity when its registry id is `meterID` (a removal names both, so that a
    /// stale removal never takes out a meter registered again under the same identity).
    /// - Parameters:
    ///   - identity: The identity.
    ///   - meterID: The registry id the removed meter must have; `nil` removes whichever meter has the identity.
    /// - Returns: Whether a meter was removed.
    @discardableResult
    public mutating func remove(_ identity: UInt64, meterID: Int64? = nil) -> Bool {
        guard let slot = slotNumber(of: identity) else { return false }
        let row = Int(slots[slot]) - 1
        if let meterID, rows[row].meterID != meterID { return false }
        deleteSlot(slot)
        let last = rows.count - 1
        if row != last {
            // Move the last row into the hole and repoint its slot.
            let moved = rows[last]
            var probe = home(moved.identity)
            while slots[probe] != Int32(last + 1) { probe = next(probe) }
            slots[probe] = Int32(row + 1)
            rows[row] = moved
            flags[row] = flags[last]
            extras[row] = extras[last]
        }
        rows.removeLast()
        flags.removeLast()
        extras.removeLast()
        return true
    }

    /// Calls `body` with every meter's identity and value (in no particular order).
    /// - Parameter body: The visitor.
    public func forEach(_ body: (UInt64, Meter) throws -> Void) rethrows {
        for index in rows.indices { try body(rows[index].identity, meter(at: index)) }
    }

    /// The bytes the table's arrays hold (their capacity, not only their count): rows, flags, extras and index.
    public var allocatedBytes: Int {
        rows.capacity * MemoryLayout<Row>.stride + flags.capacity + extras.capacity * MemoryLayout<Extra>.stride
            + slots.capacity * MemoryLayout<Int32>.stride
    }

    // MARK: Index

    private func meter(at row: Int) -> Meter {
        let flag = flags[row]
        return Meter(
            meterID: rows[row].meterID,
            keyBlock: flag & Self.hasKeyFlag != 0 ? rows[row].key : nil,
            minimum: ProtectionLevel(rawValue: flag & ~Self.hasKeyFlag) ?? .plain,
            extra: extras[row]
        )
    }

    private func rowNumber(of identity: UInt64) -> Int? {
        slotNumber(of: identity).map { Int(slots[$0]) - 1 }
    }

    private func slotNumber(of identity: UInt64) -> Int? {
        guard !slots.isEmpty else { return nil }
        var slot = home(identity)
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            if rows[Int(entry) - 1].identity == identity { return slot }
            slot = next(slot)
        }
    }

    /// Empties `slot` and shifts the rest of its probe chain back, so every chain stays unbroken.
    private mutating func deleteSlot(_ slot: Int) {
        var hole = slot
        var probe = next(slot)
        while slots[probe] != 0 {
            let wanted = home(rows[Int(slots[probe]) - 1].identity)
            // The entry may move to the hole unless its home lies cyclically in (hole, probe].
            let distanceToHole = (hole - wanted + slots.count) % slots.count
            let distanceToProbe = (probe - wanted + slots.count) % slots.count
            if distanceToHole < distanceToProbe {
                slots[hole] = slots[probe]
                hole = probe
            }
            probe = next(probe)
        }
        slots[hole] = 0
    }

    private mutating func rehash(slotCount: Int) {
        slots = [Int32](repeating: 0, count: slotCount)
        for (index, row) in rows.enumerated() {
            var slot = home(row.identity)
            while slots[slot] != 0 { slot = next(slot) }
            slots[slot] = Int32(index + 1)
        }
    }

    /// Slots for `count` meters at a load of at most 2/3.
    private static func slotCount(for count: Int) -> Int { count == 0 ? 0 : count + count / 2 + 1 }

    private func home(_ identity: UInt64) -> Int {
        var hasher = Hasher()
        hasher.combine(identity)
        let hash = UInt64(UInt(bitPattern: hasher.finalize()))
        // Maps the hash onto 0..<slots.count without a division (the high half of a 64×64-bit product).
        return Int(hash.multipliedFullWidth(by: UInt64(slots.count)).high)
    }

    private func next(_ slot: Int) -> Int { slot + 1 == slots.count ? 0 : slot + 1 }
}

/// The record layouts (DIF/VIF chains) the gateway knows per meter, by format signature, so that compact M-Bus
/// frames (CI `79`, `7B`, `73`) can be decoded (``MBusDecoder/LayoutLookup``).
///
/// A plain value inside ``MeterRegistry``: the app loads it from the `mbus_format_layouts` table with the registry
/// (so layouts another gateway learned arrive with the next reload), and adds the layouts its own admitted frames
/// carried once their batch is committed. Bounded: at most ``layoutsPerMeter`` layouts per registered meter, the
/// least recently seen dropped first; each layout is stored as its exact chain bytes.
public struct FormatLayoutBook: Sendable {
    /// The most layouts kept per meter (a meter changes its layout rarely: after a firmware or configuration change).
    public static let layoutsPerMeter = 4
    /// A known layout is written again (to move its `last_seen`) when it was last recorded longer ago than this.
    public static let refreshSeconds: Int64 = 86_400

    /// One known layout of a meter.
    public struct Entry: Sendable, Equatable {
        /// The DIF/VIF chain and its signature.
        public var layout: MBusRecordLayout
        /// When a full frame with this layout was last recorded.
        public var lastSeen: Timestamp
    }

    private var byMeter: [Int64: [Entry]] = [:]

    /// An empty book.
    public init() {}

    /// The number of layouts held.
    public var count: Int { byMeter.values.reduce(0) { $0 + $1.count } }

    /// The layout of a meter with a signature, if known (never allocates).
    /// - Parameters:
    ///   - meterID: The registry id (`meters.id`).
    ///   - signature: The format signature a compact frame carries.
    /// - Returns: The layout, or `nil`.
    public func layout(meterID: Int64, signature: UInt16) -> MBusRecordLayout? {
        entry(meterID: meterID, signature: signature)?.layout
    }

    /// The entry of a meter with a signature, if known (never allocates).
    public func entry(meterID: Int64, signature: UInt16) -> Entry? {
        guard let entries = byMeter[meterID] else { return nil }
        for entry in entries where entry.layout.signature == signature {
            return entry
        }
        return nil
    }

    /// Whether an admitted full frame's layout must be recorded: it is new for its meter, differs from the known
    /// layout with its signature, or was last recorded more than ``refreshSeconds`` before `receivedAt`. Never
    /// allocates.
    /// - Parameters:
    ///   - frame: The decoded full frame.
    ///   - meterID: Its meter's registry id.
    ///   - signature: The frame's ``MBusFrame/formatSignature`` (computed once by the caller).
    ///   - receivedAt: When it was received.
    /// - Returns: `true` when the frame's layout should be written.
    public func needsRecording(
        _ frame: MBusFrame,
        meterID: Int64,
        signature: UInt16,
        receivedAt: Timestamp
    ) -> Bool {
        guard let known = entry(meterID: meterID, signature: signature), frame.hasRecordLayout(known.layout) else {
            return true
        }
        return known.lastSeen.adding(seconds: Self.refreshSeconds) < receivedAt
    }

    /// Adds or refreshes a layout, keeping at most ``layoutsPerMeter`` per meter (the least recently seen goes).
    /// - Parameters:
    ///   - layout: The layout.
    ///   - meterID: The meter's registry id.
    ///   - lastSeen: When a full frame with it was recorded.
    public mutating func remember(_ layout: MBusRecordLayout, meterID: Int64, lastSeen: Timestamp) {
        var entries = byMeter[meterID] ?? []
        if let index = entries.firstIndex(where: { $0.layout.signature == layout.signature }) {
            let previous = entries[index].lastSeen
            entries[index] = Entry(layout: layout, lastSeen: max(previous, lastSeen))
        } else {
            entries.append(Entry(layout: layout, lastSeen: lastSeen))
        }
        entries.sort { $0.lastSeen > $1.lastSeen }
        if entries.count > Self.layoutsPerMeter {
            entries.removeLast(entries.count - Self.layoutsPerMeter)
        }
        byMeter[meterID] = entries
    }

    /// Adds the layouts a committed batch recorded.
    /// - Parameter records: ``SinkBatch/formatLayouts`` of a committed batch.
    public mutating func remember(_ records: [FormatLayoutRecord]) {
        for record in records {
            guard let layout = MBusRecordLayout(bytes: record.chain) else { continue }
            remember(layout, meterID: record.meterID, lastSeen: record.seenAt)
        }
    }
}

/// A full frame's record layout to store in `mbus_format_layouts` (idempotent: the writer upserts by meter and
/// signature, keeping the first `first_seen` and the latest `last_seen`).
public struct FormatLayoutRecord: Sendable, Equatable {
    /// The meter's registry id.
    public var meterID: Int64
    /// The format signature of ``chain``.
    public var signature: UInt16
    /// The DIF/VIF chain.
    public var chain: [UInt8]
    /// When the full frame was received.
    public var seenAt: Timestamp

    /// Creates a layout row.
    /// - Parameters:
    ///   - meterID: The meter's registry id.
    ///   - layout: The layout.
    ///   - seenAt: The frame's receive time.
    public init(meterID: Int64, layout: MBusRecordLayout, seenAt: Timestamp) {
        self.meterID = meterID
        self.signature = layout.signature
        self.chain = layout.bytes
        self.seenAt = seenAt
    }
}

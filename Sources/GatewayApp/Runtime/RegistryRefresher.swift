import GatewayCore
import Logging
import PostgresSink

/// Keeps the pipeline's in-memory ``GatewayCore/MeterRegistry`` current for registries of millions of meters
/// (migration v18):
///
/// * A full load at start (and every ``fullReloadInterval`` as a safety net), read in pages of ``pageSize`` meters
///   so that the whole registry is never held twice, after taking the change cursor.
/// * Every period after that, only the changes since the cursor: changed meters with their collectors, tombstones
///   of deleted or re-addressed meters, new M-Bus layouts. More than ``incrementalLimit`` changes load in full.
/// * A lookup on a miss: the frames of a batch quarantined `unknown_meter` are looked up in the database (bounded
///   by ``GatewayCore/RegistryMissPolicy``) before the quarantine is committed; found meters join the registry and
///   the batch is admitted again.
///
/// Owned by the pipeline's task; not shared.
struct RegistryRefresher {
    /// A full reload however few changes were read: the safety net for anything the cursor could not say.
    static let fullReloadInterval: Duration = .seconds(3600)
    /// Tombstones older than this are pruned; longer than ``fullReloadInterval``, so every gateway that reads at
    /// all has read them (a gateway whose last read is older reloads in full).
    static let tombstoneRetentionSeconds: Int64 = 86_400
    /// Meters per page of a full load.
    static let pageSize = 50_000
    /// The most changed meters applied one by one; more reload in full.
    static let incrementalLimit = 100_000

    let meters: MeterStore
    let layouts: FormatLayoutStore
    let topics: TopicScheme
    let logger: Logger
    private(set) var cursor: RegistryCursor?
    private var lastFull = ContinuousClock.now
    private var misses = RegistryMissPolicy()

    init(meters: MeterStore, layouts: FormatLayoutStore, topics: TopicScheme, logger: Logger) {
        self.meters = meters
        self.layouts = layouts
        self.topics = topics
        self.logger = logger
    }

    /// Brings `registry` up to date: in full at the first call, when the last full load is older than
    /// ``fullReloadInterval`` or when too many meters changed; otherwise by the changes since the cursor.
    /// - Throws: ``PostgresSink/PostgresError``, ``PostgresSink/MeterKeyError``; `registry` is then unchanged.
    mutating func refresh(_ registry: inout MeterRegistry) async throws {
        if let cursor, ContinuousClock.now - lastFull < Self.fullReloadInterval,
            let changes = try await meters.changes(since: cursor, limit: Self.incrementalLimit)
        {
            apply(changes, to: &registry)
            return
        }
        try await reloadFully(&registry)
    }

    /// Loads the whole registry, page by page, into a fresh value.
    mutating func reloadFully(_ registry: inout MeterRegistry) async throws {
        let start = ContinuousClock.now
        let cursor = try await meters.currentCursor()
        var fresh = MeterRegistry()
        var skippedCount = 0
        for frameProtocol in FrameProtocol.allCases {
            var skipped = 0
            try await meters.forEachMeterPage(protocol: frameProtocol, pageSize: Self.pageSize) { page in
                for meter in page where !fresh.upsert(frameProtocol, Self.entry(meter), topics: topics) {
                    skipped += 1
                }
            }
            if skipped > 0 {
                logger.warning(
                    "meters whose address or key does not fit their protocol are ignored",
                    metadata: ["meters.protocol": "\(frameProtocol.rawValue)", "meters.skipped": "\(skipped)"]
                )
            }
            skippedCount += skipped
        }
        fresh.collectors = CollectorAssignments(try await meters.loadCollectorAssignments())
        fresh.formats = try await layouts.loadBook()
        registry = fresh
        self.cursor = cursor
        lastFull = .now
        logger.info(
            "meter registry loaded",
            metadata: [
                "meters.count": "\(registry.count)", "meters.skipped": "\(skippedCount)",
                "registry.table.bytes": "\(registry.tableBytes)", "registry.cursor": "\(cursor)",
                "registry.load.duration": "\(ContinuousClock.now - start)",
            ]
        )
    }

    /// Applies a change set: tombstones first (they name the meter id they removed, so a meter registered again
    /// under the same address is kept), then the changed meters and their collectors, then the layouts.
    mutating func apply(_ changes: RegistryChanges, to registry: inout MeterRegistry) {
        for tombstone in changes.tombstones {
            registry.remove(tombstone.protocol, address: tombstone.address, meterID: tombstone.meterID)
            registry.collectors.removeAll(meterID: tombstone.meterID)
        }
        var collectorsByMeter: [Int64: [String]] = [:]
        for pair in changes.collectors { collectorsByMeter[pair.meterID, default: []].append(pair.collector) }
        for meter in changes.meters {
            if !registry.upsert(meter.protocol, Self.entry(meter), topics: topics) {
                logger.warning(
                    "a changed meter's address or key does not fit its protocol; it is ignored",
                    metadata: ["meter.id": "\(meter.id)", "meters.protocol": "\(meter.protocol.rawValue)"]
                )
            }
            registry.collectors.replace(meterID: meter.id, with: collectorsByMeter[meter.id] ?? [])
            misses.forget(meter.protocol, meter.address)
        }
        if !changes.layouts.isEmpty { registry.formats.remember(changes.layouts) }
        if !changes.meters.isEmpty || !changes.tombstones.isEmpty {
            logger.info(
                "meter registry changes applied",
                metadata: [
                    "meters.changed": "\(changes.meters.count)", "meters.removed": "\(changes.tombstones.count)",
                    "meters.count": "\(registry.count)",
                ]
            )
        }
        cursor = changes.cursor
    }

    /// Looks up, in the database, the meters of a batch's `unknown_meter` quarantines that the miss policy allows,
    /// and adds those found to `registry`.
    /// - Returns: Whether any meter was found (the caller admits the batch again).
    /// - Throws: The database's error when the lookup fails: the caller holds the batch and asks again, because
    ///   quarantining those frames would turn a passing fault into `unknown_meter` for meters that exist.
    mutating func lookUpMisses(in batch: SinkBatch, registry: inout MeterRegistry) async throws -> Bool {
        let now = Timestamp.now
        var wanted: [(protocol: FrameProtocol, address: String)] = []
        for record in batch.quarantine where record.reason == QuarantineReason.unknownMeter.rawValue {
            guard let source = record.source, let address = record.meterAddress,
                !wanted.contains(where: { $0.protocol == source && $0.address == address }),
                misses.mayLookUp(source, address, now: now)
            else { continue }
            wanted.append((source, address))
        }
        guard !wanted.isEmpty else { return false }
        let found = try await meters.lookupMeters(wanted)
        var added = 0
        for meter in found.meters where registry.upsert(meter.protocol, Self.entry(meter), topics: topics) {
            registry.collectors.replace(
                meterID: meter.id,
                with: found.collectors.filter { $0.meterID == meter.id }.map(\.collector)
            )
            added += 1
        }
        for identity in wanted where !registry.contains(identity.protocol, address: identity.address) {
            misses.recordMissing(identity.protocol, identity.address, now: now)
        }
        if added > 0 {
            logger.info(
                "meters found on a registry miss",
                metadata: ["meters.looked_up": "\(wanted.count)", "meters.found": "\(added)"]
            )
        }
        return added > 0
    }

    /// Prunes old tombstones (any gateway may; the statement is idempotent).
    func pruneTombstones() async throws -> Int {
        try await meters.pruneTombstones(olderThanSeconds: Self.tombstoneRetentionSeconds)
    }

    private static func entry(_ meter: RegisteredMeter) -> MeterRegistry.Meter {
        MeterRegistry.Meter(
            id: meter.id,
            address: meter.address,
            aesKey: meter.aesKey,
            minProtection: meter.minProtection
        )
    }
}

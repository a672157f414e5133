import GatewayCore
import Logging
import MQTTIngest
import PostgresSink
import Prometheus
import ServiceLifecycle
import Synchronization

/// Counters of what the pipeline did since start. Read by `/metrics`, the demo summary and tests.
final class PipelineStatistics: Sendable {
    let framesProcessed = Atomic<Int64>(0)
    let framesStored = Atomic<Int64>(0)
    let framesQuarantined = Atomic<Int64>(0)
    let readingsInserted = Atomic<Int64>(0)
    let intervalsInserted = Atomic<Int64>(0)
    let alarmsInserted = Atomic<Int64>(0)
    let duplicates = Atomic<Int64>(0)
    let conflicts = Atomic<Int64>(0)
    let ticketsOpened = Atomic<Int64>(0)
    let commits = Atomic<Int64>(0)
    let commitFailures = Atomic<Int64>(0)
    let acksSent = Atomic<Int64>(0)
    let acksFailed = Atomic<Int64>(0)
    let decodedPublished = Atomic<Int64>(0)
    let decodedFailed = Atomic<Int64>(0)
    /// Frames already stored (same identity and bytes), by protocol.
    let nativeDuplicates = Atomic<Int64>(0)
    let cjt188Duplicates = Atomic<Int64>(0)
    let wmbusDuplicates = Atomic<Int64>(0)
    let mbusDuplicates = Atomic<Int64>(0)
    /// Frames whose identity was stored with other bytes.
    let identityConflicts = Atomic<Int64>(0)
    /// Retained messages received on uplink topics (admitted like any delivery).
    let retainedFrames = Atomic<Int64>(0)
    /// Payloads over `mqtt.max_payload_bytes` (spooled as their first bytes only).
    let oversizedFrames = Atomic<Int64>(0)
    /// Batches cut at an alarm whose alarm frame was committed ahead of the frames read before it.
    let alarmFirstCommits = Atomic<Int64>(0)
    /// Alarm frames' commits on the alarm connection while the batch before theirs was committing.
    let alarmAheadCommits = Atomic<Int64>(0)
    /// Spool checkpoints that could not be written after a commit (the frames are replayed, as duplicates, after a
    /// restart).
    let checkpointFailures = Atomic<Int64>(0)
    /// Wall-clock microseconds of the last commit (0 before the first).
    let lastCommitMicros = Atomic<Int64>(0)
    /// Wall-clock microseconds when the pipeline was created.
    let startedMicros = Atomic<Int64>(Timestamp.now.microsecondsSinceEpoch)
    /// Whether the database is connected and migrated. Drives `/readyz`.
    let databaseReady = Atomic<Bool>(false)
    /// Why the pipeline is holding frames (a database fault), or nil. Drives `/readyz`.
    let hold = Mutex<String?>(nil)
    /// Database errors by SQLSTATE (`none` for errors without one, e.g. a refused connection).
    let databaseErrors = Mutex<[String: Int64]>([:])
    /// Quarantined frames by reason.
    let quarantinedByReason = Mutex<[String: Int64]>([:])

    func countDuplicate(_ source: FrameProtocol) {
        switch source {
        case .native: nativeDuplicates.add(1, ordering: .relaxed)
        case .cjt188: cjt188Duplicates.add(1, ordering: .relaxed)
        case .wmbus: wmbusDuplicates.add(1, ordering: .relaxed)
        case .mbus: mbusDuplicates.add(1, ordering: .relaxed)
        }
    }

    func duplicates(of source: FrameProtocol) -> Int64 {
        switch source {
        case .native: nativeDuplicates.load(ordering: .relaxed)
        case .cjt188: cjt188Duplicates.load(ordering: .relaxed)
        case .wmbus: wmbusDuplicates.load(ordering: .relaxed)
        case .mbus: mbusDuplicates.load(ordering: .relaxed)
        }
    }

    func recordDatabaseError(_ error: any Error) {
        let state = (error as? PostgresError)?.sqlState ?? "none"
        databaseErrors.withLock { $0[state, default: 0] += 1 }
    }

    /// Tickets the ingest opened, by priority.
    let ticketsOpenedByPriority = Mutex<[TicketPriority: Int64]>([:])
    /// Wall-clock time of each successful commit's write (`meter_gateway_commit_duration_seconds`).
    let commitDuration: DurationHistogram
    /// Frames per committed batch (`meter_gateway_commit_batch_frames`).
    let batchFrames: ValueHistogram
    /// From an alarm's receipt to the commit of the ticket it opened, by priority
    /// (`meter_gateway_alarm_to_ticket_seconds`).
    private let alarmToTicket: [TicketPriority: DurationHistogram]

    /// Creates the statistics; the histograms are registered in `registry` (``GatewayMetrics`` exports it).
    /// - Parameter registry: The gateway's registry; a private one by default (tests that read the atomics only).
    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        commitDuration = registry.makeDurationHistogram(
            descriptor: GatewayMetrics.family(
                "commit_duration",
                unit: "seconds",
                help: "Time of each successful database commit of a batch (COPY, ticket steps and the commit itself)."
            ),
            buckets: GatewayMetrics.latencyBuckets
        )
        batchFrames = registry.makeValueHistogram(
            descriptor: GatewayMetrics.family(
                "commit_batch_frames",
                unit: "",
                help: "Frames per committed batch (processed, stored or quarantined)."
            ),
            buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
        )
        let alarmToTicket = GatewayMetrics.family(
            "alarm_to_ticket",
            unit: "seconds",
            help:
                "Time from receiving the alarm that opened a repair ticket until the ticket was committed, by priority."
        )
        var histograms: [TicketPriority: DurationHistogram] = [:]
        for priority in TicketPriority.allCases {
            histograms[priority] = registry.makeDurationHistogram(
                descriptor: alarmToTicket,
                labels: [("priority", priority.rawValue)],
                buckets: GatewayMetrics.latencyBuckets
            )
        }
        self.alarmToTicket = histograms
    }

    /// Counts a ticket the ingest opened and records its alarm-to-ticket latency (per ticket; tickets are rare).
    /// - Parameters:
    ///   - ticket: The ticket, as the commit returned it.
    ///   - committedAt: When its commit returned.
    func recordTicketOpened(_ ticket: TicketSummary, committedAt: Timestamp) {
        ticketsOpenedByPriority.withLock { $0[ticket.priority, default: 0] += 1 }
        let micros = max(0, committedAt.microsecondsSinceEpoch - ticket.openedAt.microsecondsSinceEpoch)
        alarmToTicket[ticket.priority]?.record(.microseconds(micros))
    }
}

/// Why the database refused the frame being re-processed alone.
struct DatabaseRejection {
    var detail: String
}

/// Reads the spool in order, runs each frame up the ``AdmissionLadder``, writes batches to PostgreSQL, then
/// advances the checkpoint and acknowledges native meters. It is the only consumer of the spool.
///
/// Ordering guarantees: frames are processed and committed in receive order — each meter's always; across meters
/// an alarm frame may commit ahead of other meters' frames read before it, in its own batch
/// (``commitAlarmFirst(_:holdsAlarm:admissions:committedAhead:)``) or, read while the batch before it commits, on
/// the alarm connection (``commitReadingAhead(_:inFlight:reader:registry:into:)``); the checkpoint moves only
/// through batches whose transactions all committed; acks go out only after that. A crash anywhere replays from
/// the checkpoint, and the writer's frame identities make the replay a set of counted duplicates.
///
/// Faults hold, they do not quarantine: any database error that is not a data error of the batch's own rows
/// (``PostgresSink/PostgresError/isFrameDataError``) holds the batch — no checkpoint move, no acks, `/readyz` not
/// ready with the reason — and is retried with capped backoff until it commits. Only a data error isolates: the
/// batch is re-processed one frame per transaction and the frame the database refuses is quarantined as
/// `database_rejected`.
final class IngestPipeline: Service {
    let spool: FrameSpool
    private let writer: TelemetryStore
    /// A second connection on which a read-ahead batch's alarm frames commit while the batch before them commits on
    /// ``writer`` (``commitReadingAhead(_:inFlight:reader:registry:into:)``); nil: no reading ahead.
    let alarmWriter: TelemetryStore?
    private let downlink: (any DownlinkPublisher)?
    /// Where stored frames are republished as JSON (`mqtt.publish_decoded`), with the topic prefix; nil when off.
    private let decodedRepublish: (publisher: any DownlinkPublisher, topicPrefix: String)?
    let ladder: AdmissionLadder
    let maxBatchFrames: Int
    /// How long a batch that is not full waits for more frames before it is committed (0: never waits).
    let gatherMilliseconds: Int
    private let retryMinMilliseconds: Int
    private let retryMaxMilliseconds: Int
    private let dedupeHorizonSeconds: Int64
    /// The least time between two spool checkpoint writes (see ``SpoolReader/commit(checkpointAtMostEvery:)``).
    private let checkpointIntervalMilliseconds: Int64
    private let keySealer: MeterKeySealer?
    private let keyTable: MeterKeyTable?
    let logger: Logger
    let statistics: PipelineStatistics

    init(
        spool: FrameSpool,
        writer: TelemetryStore,
        alarmWriter: TelemetryStore? = nil,
        downlink: (any DownlinkPublisher)?,
        decodedRepublish: (publisher: any DownlinkPublisher, topicPrefix: String)? = nil,
        ladder: AdmissionLadder,
        maxBatchFrames: Int,
        gatherMilliseconds: Int = 0,
        retryMinMilliseconds: Int,
        retryMaxMilliseconds: Int,
        dedupeHorizonSeconds: Int64,
        checkpointIntervalMilliseconds: Int64 = IngestPipeline.defaultCheckpointIntervalMilliseconds,
        keySealer: MeterKeySealer? = nil,
        keyTable: MeterKeyTable? = nil,
        statistics: PipelineStatistics,
        logger: Logger
    ) {
        self.spool = spool
        self.writer = writer
        self.alarmWriter = alarmWriter
        self.downlink = downlink
        self.decodedRepublish = decodedRepublish
        self.ladder = ladder
        self.maxBatchFrames = maxBatchFrames
        self.gatherMilliseconds = gatherMilliseconds
        self.retryMinMilliseconds = retryMinMilliseconds
        self.retryMaxMilliseconds = retryMaxMilliseconds
        self.dedupeHorizonSeconds = dedupeHorizonSeconds
        self.checkpointIntervalMilliseconds = checkpointIntervalMilliseconds
        self.keySealer = keySealer
        self.keyTable = keyTable
        self.statistics = statistics
        self.logger = logger
    }

    func run() async throws {
        let reader = spool.makeReader()
        var registry = MeterRegistry()
        var refresher = RegistryRefresher(
            meters: MeterStore(writer.database, sealer: keySealer, keyTable: keyTable),
            layouts: FormatLayoutStore(writer.database),
            topics: ladder.topics,
            logger: logger
        )
        var delay = retryMinMilliseconds
        while true {
            do {
                try await refresher.refresh(&registry)
                break
            } catch {
                // No frame is admitted against an empty registry (it would quarantine them all as unknown_meter).
                statistics.recordDatabaseError(error)
                statistics.hold.withLock { $0 = "database: cannot load the meter registry (\(Self.holdReason(error)))" }
                logger.error("cannot load the meter registry; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .milliseconds(delay))
                delay = min(delay * 2, retryMaxMilliseconds)
            }
        }
        statistics.hold.withLock { $0 = nil }
        var lastRefresh = ContinuousClock.now
        var lastPrune = ContinuousClock.now - .seconds(3600)
        var batch = SinkBatch()
        batch.reserveCapacity(frames: maxBatchFrames)
        var admissions: [AdmissionLadder.Admission] = []
        admissions.reserveCapacity(maxBatchFrames)
        // After the database refused a batch's own data, this many frames are re-processed one per transaction,
        // so only the frame it refuses is quarantined and the rest are stored.
        var isolating = 0
        var rejected: DatabaseRejection?
        // A batch re-admitted after a registry miss lookup is not looked up again.
        var lookedUp = false
        // The next batch, read while this one commits (only with an alarm writer).
        var ahead = ReadAhead()
        ahead.batch.reserveCapacity(frames: maxBatchFrames)
        ahead.admissions.reserveCapacity(maxBatchFrames)

        while true {
            if ContinuousClock.now - lastRefresh > .seconds(5) {
                do {
                    try await refresher.refresh(&registry)
                } catch {
                    logger.warning(
                        "cannot reload the meter registry; keeping the last one",
                        metadata: ["error": "\(error)"]
                    )
                }
                lastRefresh = .now
            }
            if ContinuousClock.now - lastPrune > .seconds(600) {
                lastPrune = .now
                await pruneIdentities()
                await pruneTombstones(refresher)
            }
            let limit = isolating > 0 ? 1 : maxBatchFrames
            // A batch that holds an alarm gathers no more (its alarm frames are committed first, see
            // `commitAlarmFirst`), so an alarm's ticket waits neither for the gather window nor for the batch.
            var holdsAlarm = false
            var count = 0
            // Alarm frames of this batch that committed while the batch before it did.
            var alarmsAhead: AheadAlarmCommit?
            if ahead.count > 0 {
                swap(&batch, &ahead.batch)
                swap(&admissions, &ahead.admissions)
                count = ahead.count
                holdsAlarm = ahead.holdsAlarm
                alarmsAhead = await ahead.alarms?.task.value.committed
                ahead.reset()
            } else {
                batch.removeAll()
                admissions.removeAll(keepingCapacity: true)
            }
            func take(_ record: SpoolRecord) {
                if admit(record, registry: registry, rejection: rejected, into: &batch, &admissions) {
                    holdsAlarm = true
                }
            }
            if !holdsAlarm, count < limit { count += try reader.read(maxRecords: limit - count, take) }
            if count > 0, count < limit, !holdsAlarm, gatherMilliseconds > 0 {
                count += try await gatherMore(from: reader, have: count, limit: limit) { record in
                    take(record)
                    return holdsAlarm
                }
            }
            if count == 0 {
                spool.writer.syncIfDue()
                // The MQTT service stops before this one, so once shutdown begins the drained spool stays drained.
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                // A quiet spool: the checkpoint catches up with the last commits once it is due.
                writeCheckpoint(reader, atMostEvery: checkpointIntervalMilliseconds)
                // Wait for the writer's doorbell, waking at least every 200 ms to sync and notice shutdown.
                await spool.waitForAppend(timeout: .milliseconds(200))
                continue
            }
            // Frames of meters the registry does not hold: ask the database (bounded) before quarantining them.
            if !lookedUp, rejected == nil, !batch.quarantine.isEmpty,
                try await lookUpMissesHolding(batch, refresher: &refresher, registry: &registry)
            {
                reader.rewind()
                lookedUp = true
                continue
            }
            lookedUp = false
            var summary: CommitSummary
            // Where this batch ends in the spool: the checkpoint moves there, not past records read ahead.
            let end = reader.mark
            do {
                let (committing, answering, alarmFirst, early) = (
                    batch, admissions, holdsAlarm && count > 1, alarmsAhead
                )
                let commit: @Sendable () async throws -> CommitSummary = {
                    try await self.commitAlarmFirst(
                        committing,
                        holdsAlarm: alarmFirst,
                        admissions: answering,
                        committedAhead: early
                    )
                }
                // Reading ahead admits the next frames against the registry as it is now: not when this batch
                // carries format layouts that the next compact frames may need, nor while isolating a refused batch.
                if alarmWriter != nil, isolating == 0, rejected == nil, batch.formatLayouts.isEmpty {
                    summary = try await commitReadingAhead(
                        commit,
                        inFlight: Set(batch.gates.lazy.map(\.meterID)),
                        reader: reader,
                        registry: registry,
                        into: &ahead
                    )
                } else {
                    summary = try await commit()
                }
                if !summary.replayedGates.isEmpty {
                    // Re-reading this batch's records from the spool ends what was read after them.
                    await dropReadAhead(&ahead)
                    summary.quarantined += try await quarantineReplayed(
                        summary.replayedGates,
                        of: batch,
                        count: count,
                        reader: reader,
                        admissions: &admissions
                    )
                }
            } catch let error as PostgresError where error.isFrameDataError && rejected == nil {
                await dropReadAhead(&ahead)
                reader.rewind()
                if count > 1 {
                    logger.error(
                        "database refused a batch's data; re-processing it frame by frame",
                        metadata: ["error": "\(error)", "batch.frames": "\(count)"]
                    )
                    isolating = count
                } else {
                    logger.error("database refused a frame's data; quarantining it", metadata: ["error": "\(error)"])
                    rejected = DatabaseRejection(detail: "database refused the frame's rows: \(error)")
                    isolating = max(isolating, 1)
                }
                continue
            } catch let error as PostgresError where error.isFrameDataError {
                await dropReadAhead(&ahead)
                // Even the quarantine row was refused: hold everything rather than lose the frame.
                logger.critical("database refuses a quarantine row; holding frames", metadata: ["error": "\(error)"])
                statistics.hold.withLock {
                    $0 = "database: refuses a quarantine row (\(error.sqlState ?? "no SQLSTATE"))"
                }
                reader.rewind()
                try await Task.sleep(for: .milliseconds(retryMaxMilliseconds))
                continue
            }
            // The checkpoint file follows at most every `checkpointIntervalMilliseconds`: its two disk syncs are not
            // paid between every two batches, i.e. not on every frame's (and alarm's) way to the database.
            writeCheckpoint(reader, through: end, atMostEvery: checkpointIntervalMilliseconds)
            if ahead.isBroken {
                // A spool read failed while reading ahead: read those records again, from here.
                await dropReadAhead(&ahead)
                reader.rewind()
            }
            rejected = nil
            isolating = max(0, isolating - count)
            // The layouts the committed full frames carried serve this gateway's next compact frames at once.
            if !batch.formatLayouts.isEmpty { registry.formats.remember(batch.formatLayouts) }
            record(summary, batch: batch, admissions: admissions)
            let duplicates = Set(summary.duplicateGates)
            sendAcks(admissions, duplicates: duplicates)
            publishDecoded(batch, duplicates: duplicates)
        }
        writeCheckpoint(reader, atMostEvery: 0)
        logger.info("pipeline drained and stopped", metadata: ["spool.backlog.bytes": "\(spool.backlogBytes)"])
    }

    /// Commits a batch; one that holds alarms commits their frames first, in a transaction of their own, so an
    /// alarm's ticket (and its `NOTIFY`) does not wait for the other frames of its batch. An alarm frame stays in
    /// the batch's place when a frame of its meter is before it there (a meter's frames are stored in order; see
    /// ``GatewayCore/SinkBatch/splittingOffAlarms()``). The rest follows in a second transaction; the checkpoint
    /// moves only after both, so a crash between them replays the batch, where the alarm frames are duplicates: the
    /// same outcome. The returned summary describes the whole batch as one commit would.
    /// - Parameters:
    ///   - batch: The batch, in spool order.
    ///   - holdsAlarm: Whether the batch holds an alarm and more than one frame.
    ///   - admissions: The batch's admissions, in spool order.
    ///   - committedAhead: Alarm frames of the batch that committed while the batch before it did
    ///     (``commitReadingAhead(_:inFlight:reader:registry:into:)``); its other alarm frames still go first.
    /// - Returns: What the commits changed, with gate indices into `batch`.
    private func commitAlarmFirst(
        _ batch: SinkBatch,
        holdsAlarm: Bool,
        admissions: [AdmissionLadder.Admission],
        committedAhead: AheadAlarmCommit? = nil
    ) async throws -> CommitSummary {
        // The gates stored so far (ascending) and what storing them changed.
        var stored = committedAhead?.gates ?? []
        var alarms = committedAhead?.summary
        guard holdsAlarm || alarms != nil else { return try await commitHolding(batch) }
        do {
            if holdsAlarm, let first = batch.splittingOffAlarms(stored: stored), !first.rest.isEmpty {
                var committed = try await commitHolding(first.first).mappingGates(first.firstGates)
                statistics.alarmFirstCommits.add(1, ordering: .relaxed)
                // The alarm-to-ticket latency ends at this commit, not the next.
                recordOpened(committed.openedTickets, committedAt: .now)
                committed.openedTickets = []
                alarms = alarms.map { $0.merging(committed) } ?? committed
                stored = (stored + first.firstGates).sorted()
            }
            guard let alarms else { return try await commitHolding(batch) }
            let remaining = batch.splitting(gates: stored)
            guard !remaining.rest.isEmpty else { return alarms }
            return try await commitHolding(remaining.rest).mappingGates(remaining.restGates).merging(alarms)
        } catch {
            // What is stored stays stored, with its tickets open; the rest is re-processed (or held) like any batch,
            // where the stored frames are duplicates. What their commits stored is counted and answered now.
            if let alarms {
                let moved = Set(stored)
                let answered = admissions.filter { $0.gateIndex.map(moved.contains) ?? false }
                record(alarms, batch: batch, admissions: answered)
                let duplicates = Set(alarms.duplicateGates)
                sendAcks(answered, duplicates: duplicates)
                publishDecoded(batch, only: moved, duplicates: duplicates)
            }
            throw error
        }
    }

    /// How long a committed batch may wait for the spool checkpoint by default: a restart replays at most about this
    /// much (as counted duplicates), and a busy pipeline writes the checkpoint about once per interval instead of
    /// after every batch.
    static let defaultCheckpointIntervalMilliseconds: Int64 = 1000

    /// Tells the spool that everything read so far (or up to `end`, when records after it were read ahead) is
    /// committed and writes the checkpoint if `interval` passed since the last one (`0`: now, if it lags).
    private func writeCheckpoint(_ reader: SpoolReader, through end: ReadMark? = nil, atMostEvery interval: Int64) {
        do {
            if let end {
                try reader.commit(through: end, checkpointAtMostEvery: interval)
            } else {
                try reader.commit(checkpointAtMostEvery: interval)
            }
        } catch {
            // The batch is committed; a checkpoint that did not move only means it is replayed (and counted as
            // duplicates) after a restart. The next commit writes a later checkpoint.
            statistics.checkpointFailures.add(1, ordering: .relaxed)
            logger.error("cannot write the spool checkpoint", metadata: ["error": "\(error)"])
        }
    }

    /// Quarantines the frames the writer judged `replayed` (``GatewayCore/ReplayRule``): it re-reads the batch's
    /// records from the spool (the checkpoint has not moved), writes their quarantine rows in a transaction of
    /// their own and turns their admissions into quarantines, so an authenticated meter that asked for an ack is
    /// answered `rejected`. A crash between the two commits replays the batch from the spool: the stored frames are
    /// duplicates then and the replayed ones are judged `replayed` again, so the outcome is the same.
    /// - Returns: The quarantine rows written.
    private func quarantineReplayed(
        _ gates: [Int],
        of batch: SinkBatch,
        count: Int,
        reader: SpoolReader,
        admissions: inout [AdmissionLadder.Admission]
    ) async throws -> Int {
        let replayed = Set(gates)
        var quarantine = SinkBatch()
        var position = 0
        reader.rewind()
        var replacements = admissions
        _ = try reader.read(maxRecords: count) { record in
            defer { position += 1 }
            guard position < replacements.count, let gate = replacements[position].gateIndex, replayed.contains(gate)
            else { return }
            let counter = batch.gates[gate].counter.map { "\($0.value)" } ?? "?"
            var admission = ladder.quarantine(
                .replayed,
                detail: "authenticated counter \(counter) is at or below the meter's high-water mark and the frame is "
                    + "not a stored duplicate",
                topic: record.topic,
                payload: record.payload,
                receivedAt: record.receivedAt,
                into: &quarantine
            )
            admission.ack = replacements[position].ack.map { ack in
                var rejected = ack
                rejected.result = .rejected
                return rejected
            }
            replacements[position] = admission
        }
        admissions = replacements
        logger.warning(
            "replayed frames quarantined",
            metadata: ["batch.frames": "\(count)", "frames.replayed": "\(gates.count)"]
        )
        return try await commitHolding(quarantine).quarantined
    }

    private func pruneTombstones(_ refresher: RegistryRefresher) async {
        do {
            let pruned = try await refresher.pruneTombstones()
            if pruned > 0 { logger.info("old meter tombstones pruned", metadata: ["count": "\(pruned)"]) }
        } catch {
            logger.warning("cannot prune meter tombstones; will try again", metadata: ["error": "\(error)"])
        }
    }

    private func pruneIdentities() async {
        do {
            let pruned = try await writer.pruneFrameIdentities(olderThanSeconds: dedupeHorizonSeconds)
            if pruned > 0 {
                logger.info("frame identities past the horizon forgotten", metadata: ["count": "\(pruned)"])
            }
        } catch {
            statistics.recordDatabaseError(error)
            logger.warning("cannot prune frame identities; will try again", metadata: ["error": "\(error)"])
        }
    }

    /// Looks up the meters of the batch's `unknown_meter` frames (``RegistryRefresher/lookUpMisses(in:registry:)``).
    /// A failed lookup holds the batch as a failed commit does (`/readyz` says why; retried with backoff, capped at
    /// `pipeline.retry_max_ms`): quarantining the frames instead would make a passing fault, such as the first
    /// statement after a database restart, turn a meter registered a moment ago into `unknown_meter`.
    /// - Returns: Whether any meter was found (the batch is admitted again).
    /// - Throws: Cancellation.
    private func lookUpMissesHolding(
        _ batch: SinkBatch,
        refresher: inout RegistryRefresher,
        registry: inout MeterRegistry
    ) async throws -> Bool {
        try await retryingWhileHolding(
            failing: "cannot look up unknown meters; holding frames and retrying",
            recovered: "unknown meters looked up again; frames flow",
            hold: { "database: cannot look up unknown meters (\(Self.holdReason($0)))" }
        ) {
            try await refresher.lookUpMisses(in: batch, registry: &registry)
        }
    }

    /// Commits the batch. Every failure except a data error of the batch's own rows holds it: the pipeline stops
    /// (no checkpoint move, no acks), `/readyz` says why, and the same batch is retried with exponential backoff
    /// and jitter, capped at `pipeline.retry_max_ms`, until it commits.
    /// - Throws: A ``PostgresError`` whose ``PostgresSink/PostgresError/isFrameDataError`` is true, or
    ///   cancellation.
    private func commitHolding(_ batch: SinkBatch) async throws -> CommitSummary {
        let summary = try await retryingWhileHolding(
            failing: "database commit failed; holding frames and retrying",
            recovered: "database commits again; frames flow",
            hold: { "database: \(Self.holdReason($0))" },
            passesThrough: { ($0 as? PostgresError)?.isFrameDataError == true },
            onFailure: { statistics.commitFailures.add(1, ordering: .relaxed) }
        ) {
            let start = ContinuousClock.now
            let summary = try await writer.write(batch)
            statistics.commitDuration.record(ContinuousClock.now - start)
            return summary
        }
        statistics.hold.withLock { $0 = nil }
        return summary
    }

    /// Runs `attempt` until it succeeds, holding the pipeline meanwhile: each failure is counted by SQLSTATE, `hold`
    /// says why on `/readyz`, every tenth is logged, and the next attempt follows after exponential backoff with
    /// jitter, capped at `pipeline.retry_max_ms`. The hold ends with the first success after a failure.
    /// - Parameters:
    ///   - failing: The error logged while it fails.
    ///   - recovered: The notice logged when it succeeds after failing.
    ///   - hold: The hold reason for an error.
    ///   - passesThrough: Errors thrown at once instead of retried (counted, not held).
    ///   - onFailure: Called for every failure but a cancellation.
    ///   - attempt: The work.
    /// - Throws: An error `passesThrough` accepts, or cancellation.
    private func retryingWhileHolding<Result>(
        failing: Logger.Message,
        recovered: Logger.Message,
        hold: (any Error) -> String,
        passesThrough: (any Error) -> Bool = { _ in false },
        onFailure: () -> Void = {},
        _ attempt: () async throws -> Result
    ) async throws -> Result {
        var delay = retryMinMilliseconds
        var attempts = 0
        while true {
            do {
                let result = try await attempt()
                if attempts > 0 {
                    logger.notice(recovered, metadata: ["retry.attempts": "\(attempts)"])
                    statistics.hold.withLock { $0 = nil }
                }
                return result
            } catch {
                if passesThrough(error) {
                    onFailure()
                    statistics.recordDatabaseError(error)
                    throw error
                }
                if Task.isCancelled { throw CancellationError() }
                onFailure()
                statistics.recordDatabaseError(error)
                statistics.hold.withLock { $0 = hold(error) }
                if attempts % 10 == 0 {
                    logger.error(
                        failing,
                        metadata: ["error": "\(error)", "retry.ms": "\(delay)", "retry.attempts": "\(attempts)"]
                    )
                }
                attempts += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: delay / 2...delay)))
                delay = min(delay * 2, retryMaxMilliseconds)
            }
        }
    }

    /// Runs one spool record up the ladder into `batch`: a damaged range is quarantined as such, and while the database
    /// refuses a frame being re-processed alone (`rejection`) that frame is quarantined with its refusal.
    /// - Returns: Whether the record added an alarm to the batch.
    func admit(
        _ record: SpoolRecord,
        registry: MeterRegistry,
        rejection: DatabaseRejection?,
        into batch: inout SinkBatch,
        _ admissions: inout [AdmissionLadder.Admission]
    ) -> Bool {
        let alarmsBefore = batch.alarms.count
        if record.isCorrupt {
            admissions.append(
                ladder.quarantineCorruptSpoolRecord(record.payload, foundAt: record.receivedAt, into: &batch)
            )
        } else if let rejection {
            admissions.append(
                ladder.quarantine(
                    .databaseRejected,
                    detail: rejection.detail,
                    topic: record.topic,
                    payload: record.payload,
                    receivedAt: record.receivedAt,
                    into: &batch
                )
            )
        } else {
            admissions.append(
                ladder.admit(
                    topic: record.topic,
                    payload: record.payload,
                    receivedAt: record.receivedAt,
                    registry: registry,
                    into: &batch
                )
            )
        }
        return batch.alarms.count > alarmsBefore
    }

    /// A short, safe description of why commits fail (never the conninfo or row values).
    static func holdReason(_ error: any Error) -> String {
        guard let error = error as? PostgresError else { return "\(type(of: error))" }
        let kind: String =
            switch error.sqlState {
            case "25006": "read-only"
            case "57014": "statement timeout"
            case "42501": "insufficient privilege"
            case "42P01", "42703": "schema differs (undefined table or column)"
            case "53100": "disk full"
            case .some(let state) where state.hasPrefix("08") || state.hasPrefix("57P"): "unavailable"
            case .some: "error"
            case .none: error.code == .connectionFailed || error.code == .connectionLost ? "unreachable" : "error"
            }
        return error.sqlState.map { "\(kind) (SQLSTATE \($0))" } ?? kind
    }

    private func record(_ summary: CommitSummary, batch: SinkBatch, admissions: [AdmissionLadder.Admission]) {
        var stored = 0
        var quarantinedReasons: [String: Int64] = [:]
        for admission in admissions {
            switch admission.verdict {
            case .admitted: stored += 1
            case .quarantined(let reason): quarantinedReasons[reason.rawValue, default: 0] += 1
            }
        }
        for index in summary.duplicateGates where index < batch.gates.count {
            statistics.countDuplicate(batch.gates[index].source)
        }
        if !quarantinedReasons.isEmpty {
            statistics.quarantinedByReason.withLock { counts in
                for (reason, count) in quarantinedReasons { counts[reason, default: 0] += count }
            }
        }
        statistics.framesProcessed.add(Int64(admissions.count), ordering: .relaxed)
        statistics.framesStored.add(Int64(stored - summary.duplicateGates.count), ordering: .relaxed)
        statistics.framesQuarantined.add(Int64(admissions.count - stored), ordering: .relaxed)
        statistics.identityConflicts.add(Int64(summary.identityConflicts), ordering: .relaxed)
        statistics.readingsInserted.add(Int64(summary.readingsInserted), ordering: .relaxed)
        statistics.intervalsInserted.add(Int64(summary.intervalsInserted), ordering: .relaxed)
        statistics.alarmsInserted.add(Int64(summary.alarmsInserted), ordering: .relaxed)
        statistics.duplicates.add(
            Int64(summary.readingsDuplicate + summary.intervalsDuplicate),
            ordering: .relaxed
        )
        statistics.conflicts.add(Int64(summary.conflicts), ordering: .relaxed)
        statistics.ticketsOpened.add(Int64(summary.ticketsOpened), ordering: .relaxed)
        statistics.commits.add(1, ordering: .relaxed)
        statistics.batchFrames.record(Double(admissions.count))
        let committedAt = Timestamp.now
        statistics.lastCommitMicros.store(committedAt.microsecondsSinceEpoch, ordering: .relaxed)
        recordOpened(summary.openedTickets, committedAt: committedAt)
    }

    /// Records the latency of tickets a commit opened and logs each.
    func recordOpened(_ tickets: [TicketSummary], committedAt: Timestamp) {
        for ticket in tickets {
            statistics.recordTicketOpened(ticket, committedAt: committedAt)
            logger.notice(
                "repair ticket opened",
                metadata: [
                    "ticket.id": "\(ticket.id)", "meter.id": "\(ticket.meterID)",
                    "ticket.condition": "\(ticket.condition.rawValue)",
                    "ticket.priority": "\(ticket.priority.rawValue)",
                ]
            )
        }
    }

    /// Republishes each stored frame of a committed batch as JSON (``DecodedFrameMessage``) when
    /// `mqtt.publish_decoded` is on; duplicates were stored before and are not republished. A failed publish is
    /// counted and not retried: the database holds the frame, the topic is a convenience copy.
    /// - Parameters:
    ///   - batch: The committed batch.
    ///   - only: The gates to republish; nil: all.
    ///   - duplicates: Gates that were stored before.
    private func publishDecoded(_ batch: SinkBatch, only: Set<Int>? = nil, duplicates: Set<Int>) {
        guard let (publisher, prefix) = decodedRepublish else { return }
        // One buffer for the batch, reused from frame to frame.
        var decodedText = JSONWriter(capacity: 4096)
        for (index, gate) in batch.gates.enumerated()
        where !duplicates.contains(index) && only.map({ $0.contains(index) }) ?? true {
            let next = index + 1 < batch.gates.count ? batch.gates[index + 1] : nil
            DecodedFrameMessage.write(gate: gate, next: next, in: batch, to: &decodedText)
            let topic = DecodedFrameMessage.topic(prefix: prefix, protocol: gate.source, meterID: gate.meterID)
            let published = decodedText.bytes.withUnsafeBytes { publisher.publishDownlink(topic: topic, payload: $0) }
            if published {
                statistics.decodedPublished.add(1, ordering: .relaxed)
            } else {
                statistics.decodedFailed.add(1, ordering: .relaxed)
            }
        }
    }

    /// Publishes the application acks of a committed batch: `stored`, `duplicate` for a frame that was already
    /// stored, `rejected` for an authenticated frame with a bad body. A failed publish is counted; the meter
    /// retransmits and gets its ack then (the retransmission is a duplicate and changes nothing).
    private func sendAcks(_ admissions: [AdmissionLadder.Admission], duplicates: Set<Int>) {
        guard let downlink else { return }
        let serverTime = UInt32(truncatingIfNeeded: Timestamp.now.secondsSinceEpoch)
        // One stack buffer for every ack of the batch: acks are 43 bytes, and nothing is allocated per ack here.
        withUnsafeTemporaryAllocation(byteCount: NativeDecoder.minimumFrameSize + 16, alignment: 8) { buffer in
            for admission in admissions {
                guard var ack = admission.ack else { continue }
                if let gate = admission.gateIndex, duplicates.contains(gate) { ack.result = .duplicate }
                let frame = NativeFrame(
                    meterID: ack.meter,
                    frameCounter: ack.frameCounter,
                    meterTime: serverTime,
                    body: .ack(
                        NativeFrame.Ack(
                            ackedFrameCounter: ack.frameCounter,
                            ackedFrameType: ack.frameType,
                            result: ack.result,
                            serverTime: serverTime
                        )
                    )
                )
                guard let size = try? NativeEncoder.encode(frame, key: ack.key, into: buffer),
                    downlink.publishDownlink(
                        topic: ack.topic,
                        payload: UnsafeRawBufferPointer(rebasing: buffer[0..<size])
                    )
                else {
                    statistics.acksFailed.add(1, ordering: .relaxed)
                    continue
                }
                statistics.acksSent.add(1, ordering: .relaxed)
            }
        }
    }
}

/// Sends downlink frames to meters. Implemented by the MQTT client; a protocol so tests can observe downlinks.
protocol DownlinkPublisher: Sendable {
    /// Publishes one downlink at QoS 1; the payload is copied before return. Returns false if it could not be
    /// queued (e.g. disconnected).
    func publishDownlink(topic: String, payload: UnsafeRawBufferPointer) -> Bool
}

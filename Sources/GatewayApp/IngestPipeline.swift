import GatewayCore
import Logging
import MQTTIngest
import PostgresSink
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
    /// Wall-clock microseconds of the last commit (0 before the first).
    let lastCommitMicros = Atomic<Int64>(0)
    /// Whether the database is connected and migrated. Drives `/readyz`.
    let databaseReady = Atomic<Bool>(false)

    func snapshot() -> [(String, Int64)] {
        [
            ("frames_processed", framesProcessed.load(ordering: .relaxed)),
            ("frames_stored", framesStored.load(ordering: .relaxed)),
            ("frames_quarantined", framesQuarantined.load(ordering: .relaxed)),
            ("readings_inserted", readingsInserted.load(ordering: .relaxed)),
            ("intervals_inserted", intervalsInserted.load(ordering: .relaxed)),
            ("alarms_inserted", alarmsInserted.load(ordering: .relaxed)),
            ("duplicate_rows", duplicates.load(ordering: .relaxed)),
            ("value_conflicts", conflicts.load(ordering: .relaxed)),
            ("tickets_opened", ticketsOpened.load(ordering: .relaxed)),
            ("commits", commits.load(ordering: .relaxed)),
            ("commit_failures", commitFailures.load(ordering: .relaxed)),
            ("acks_sent", acksSent.load(ordering: .relaxed)),
            ("acks_failed", acksFailed.load(ordering: .relaxed)),
        ]
    }
}

/// Why the database refused the frame being re-processed alone.
struct DatabaseRejection {
    var detail: String
}

/// What to send a native meter after the commit that covered its frame.
struct PendingAck {
    var meter: UInt64
    var topic: String
    var key: AES128Key
    var frameCounter: UInt32
    var frameType: UInt8
    var result: NativeAckResult
}

/// Reads the spool in order, decodes each frame, writes batches to PostgreSQL, then advances the checkpoint and
/// acknowledges native meters. It is the only consumer of the spool.
///
/// Ordering guarantees: frames are processed and committed in receive order; the checkpoint moves only after the
/// transaction holding those frames committed; acks go out only after that commit. A crash anywhere replays from
/// the checkpoint, and idempotent writes make the replay harmless.
final class IngestPipeline: Service {
    private let spool: FrameSpool
    private let writer: PostgresWriter
    private let downlink: (any DownlinkPublisher)?
    let topics: TopicScheme
    let policy: TicketPolicy
    let clocks: MeterClocks
    private let maxBatchFrames: Int
    private let retryMinMilliseconds: Int
    private let retryMaxMilliseconds: Int
    private let logger: Logger
    let statistics: PipelineStatistics

    init(
        spool: FrameSpool,
        writer: PostgresWriter,
        downlink: (any DownlinkPublisher)?,
        topics: TopicScheme,
        policy: TicketPolicy,
        clocks: MeterClocks,
        maxBatchFrames: Int,
        retryMinMilliseconds: Int,
        retryMaxMilliseconds: Int,
        statistics: PipelineStatistics,
        logger: Logger
    ) {
        self.spool = spool
        self.writer = writer
        self.downlink = downlink
        self.topics = topics
        self.policy = policy
        self.clocks = clocks
        self.maxBatchFrames = maxBatchFrames
        self.retryMinMilliseconds = retryMinMilliseconds
        self.retryMaxMilliseconds = retryMaxMilliseconds
        self.statistics = statistics
        self.logger = logger
    }

    func run() async throws {
        let reader = spool.makeReader()
        var registry = MeterRegistry()
        try await refreshRegistry(&registry)
        var lastRefresh = ContinuousClock.now
        var batch = SinkBatch()
        batch.reserveCapacity(frames: maxBatchFrames)
        var acks: [PendingAck] = []
        acks.reserveCapacity(maxBatchFrames)
        // After the database refused a batch outright, this many frames are re-processed one per transaction, so
        // only the frame it refuses is quarantined and the rest are stored.
        var isolating = 0
        var rejected: DatabaseRejection?

        while true {
            if ContinuousClock.now - lastRefresh > .seconds(5) {
                try? await refreshRegistry(&registry)
                lastRefresh = .now
            }
            batch.removeAll()
            acks.removeAll(keepingCapacity: true)
            var stored = 0
            var quarantined = 0
            let count = try reader.read(maxRecords: isolating > 0 ? 1 : maxBatchFrames) { record in
                if let rejection = rejected {
                    quarantine(record, reason: "database_rejected", detail: rejection.detail, into: &batch)
                    quarantined += 1
                } else if process(record, registry: registry, into: &batch, acks: &acks) {
                    stored += 1
                } else {
                    quarantined += 1
                }
            }
            if count == 0 {
                spool.writer.syncIfDue()
                // The MQTT service stops before this one, so once shutdown begins the drained spool stays drained.
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                // Wait for the writer's doorbell, waking at least every 200 ms to sync and notice shutdown.
                await spool.waitForAppend(timeout: .milliseconds(200))
                continue
            }
            let summary: CommitSummary
            do {
                summary = try await commitWithRetry(batch)
            } catch let error as PostgresError where !error.isRetryable && rejected == nil {
                reader.rewind()
                if count > 1 {
                    logger.error(
                        "database refused a batch; re-processing it frame by frame",
                        metadata: ["error": "\(error)", "batch.frames": "\(count)"]
                    )
                    isolating = count
                } else {
                    logger.error("database refused a frame; quarantining it", metadata: ["error": "\(error)"])
                    rejected = DatabaseRejection(detail: "database refused the frame's rows: \(error)")
                    isolating = max(isolating, 1)
                }
                continue
            } catch let error as PostgresError where !error.isRetryable {
                // Even the quarantine row was refused: the schema or permissions are broken. Hold everything.
                logger.critical("database refuses quarantine rows; holding frames", metadata: ["error": "\(error)"])
                reader.rewind()
                try await Task.sleep(for: .milliseconds(retryMaxMilliseconds))
                continue
            }
            try reader.commit()
            rejected = nil
            isolating = max(0, isolating - count)
            record(summary, frames: count, stored: stored, quarantined: quarantined)
            sendAcks(acks)
        }
        logger.info("pipeline drained and stopped", metadata: ["spool.backlog.bytes": "\(spool.backlogBytes)"])
    }

    private func refreshRegistry(_ registry: inout MeterRegistry) async throws {
        for frameProtocol in FrameProtocol.allCases {
            let meters = try await writer.loadMeters(protocol: frameProtocol)
            let skipped = registry.replace(frameProtocol, with: meters, topics: topics)
            if skipped > 0 {
                logger.warning(
                    "meters whose address or key does not fit their protocol are ignored",
                    metadata: ["meters.protocol": "\(frameProtocol.rawValue)", "meters.skipped": "\(skipped)"]
                )
            }
        }
    }

    /// Decodes one spooled frame into the batch, or into quarantine. Returns whether it produced rows.
    private func process(
        _ record: SpoolRecord,
        registry: MeterRegistry,
        into batch: inout SinkBatch,
        acks: inout [PendingAck]
    ) -> Bool {
        guard let route = topics.route(record.topic) else {
            quarantine(
                record,
                reason: "unroutable_topic",
                detail: "topic is not <prefix>/up/<protocol>/<address>",
                into: &batch
            )
            return false
        }
        let address = UnsafeRawBufferPointer(rebasing: record.topic[route.addressRange])
        switch route.family {
        case .meter(let frameProtocol):
            return process(
                record,
                as: frameProtocol,
                topicAddress: address,
                registry: registry,
                into: &batch,
                acks: &acks
            )
        case .collector:
            // A collector forwards frames of any protocol; the frame names its meter, the topic names the collector.
            let frameProtocol = FrameSniffer.guess(record.payload)
            return process(record, as: frameProtocol, topicAddress: nil, registry: registry, into: &batch, acks: &acks)
        }
    }

    private func process(
        _ record: SpoolRecord,
        as frameProtocol: FrameProtocol,
        topicAddress: UnsafeRawBufferPointer?,
        registry: MeterRegistry,
        into batch: inout SinkBatch,
        acks: inout [PendingAck]
    ) -> Bool {
        switch frameProtocol {
        case .native:
            processNative(record, topicAddress: topicAddress, registry: registry, into: &batch, acks: &acks)
        case .cjt188:
            processCJT188(record, topicAddress: topicAddress, registry: registry, into: &batch)
        case .wmbus, .mbus:
            processMBus(record, as: frameProtocol, topicAddress: topicAddress, registry: registry, into: &batch)
        }
    }

    /// A native frame. `topicAddress` is nil for a collector topic (the frame's meter id is then not compared).
    private func processNative(
        _ record: SpoolRecord,
        topicAddress: UnsafeRawBufferPointer?,
        registry: MeterRegistry,
        into batch: inout SinkBatch,
        acks: inout [PendingAck]
    ) -> Bool {
        var topicMeter: UInt64?
        if let topicAddress {
            guard let id = TopicScheme.decimalID(topicAddress) else {
                quarantine(
                    record,
                    reason: "topic_mismatch",
                    detail: "native topic address is not a decimal meter id",
                    source: .native,
                    into: &batch
                )
                return false
            }
            topicMeter = id
        }
        var entry: MeterRegistry.NativeEntry?
        let frame: NativeFrame
        do {
            frame = try NativeDecoder.decode(record.payload) { id in
                entry = registry.native[id]
                return entry?.key
            }
        } catch {
            // A frame whose MAC verified but whose body is bad is answered "rejected", so the meter stops resending.
            if error.code == .unknownType || error.code == .badLength || error.code == .fieldOutOfRange, let entry,
                let header = NativeDecoder.peekHeader(record.payload), header.flags.contains(.ackRequested),
                topicMeter == nil || header.meterID == topicMeter
            {
                acks.append(
                    PendingAck(
                        meter: header.meterID,
                        topic: entry.downlinkTopic,
                        key: entry.key,
                        frameCounter: header.frameCounter,
                        frameType: header.frameType,
                        result: .rejected
                    )
                )
            }
            quarantine(
                record,
                reason: error.code.description,
                detail: error.message,
                source: .native,
                address: NativeDecoder.peekHeader(record.payload).map { String($0.meterID) },
                into: &batch
            )
            return false
        }
        guard let entry, topicMeter == nil || frame.header.meterID == topicMeter else {
            quarantine(
                record,
                reason: "topic_mismatch",
                detail: "frame meter id differs from the topic's",
                source: .native,
                address: String(frame.header.meterID),
                into: &batch
            )
            return false
        }
        guard frame.isUplink else {
            quarantine(
                record,
                reason: "wrong_direction",
                detail: "downlink frame type on an uplink topic",
                source: .native,
                address: String(frame.header.meterID),
                into: &batch
            )
            return false
        }
        frame.appendRecords(to: &batch, meterID: entry.meterID, receivedAt: record.receivedAt, policy: policy)
        if frame.header.flags.contains(.ackRequested) {
            acks.append(
                PendingAck(
                    meter: frame.header.meterID,
                    topic: entry.downlinkTopic,
                    key: entry.key,
                    frameCounter: frame.header.frameCounter,
                    frameType: frame.header.frameType,
                    result: .stored
                )
            )
        }
        return true
    }

    func quarantine(
        _ record: SpoolRecord,
        reason: String,
        detail: String,
        source: FrameProtocol? = nil,
        address: String? = nil,
        into batch: inout SinkBatch
    ) {
        batch.quarantine.append(
            QuarantineRecord(
                receivedAt: record.receivedAt,
                topic: record.topicString,
                payload: Array(record.payload),
                reason: reason,
                detail: detail,
                source: source,
                meterAddress: address
            )
        )
    }

    /// Commits the batch, retrying retryable failures (connection lost, serialisation, server shutting down) with
    /// exponential backoff and jitter. Nothing is skipped: the checkpoint does not move until the commit succeeds.
    /// - Throws: A non-retryable ``PostgresError`` (the database refuses these rows), or cancellation.
    private func commitWithRetry(_ batch: SinkBatch) async throws -> CommitSummary {
        var delay = retryMinMilliseconds
        while true {
            do {
                return try await writer.write(batch)
            } catch let error as PostgresError where !error.isRetryable {
                statistics.commitFailures.add(1, ordering: .relaxed)
                throw error
            } catch {
                statistics.commitFailures.add(1, ordering: .relaxed)
                logger.error(
                    "database commit failed; retrying",
                    metadata: ["error": "\(error)", "retry.ms": "\(delay)"]
                )
                try await Task.sleep(for: .milliseconds(Int.random(in: delay / 2...delay)))
                delay = min(delay * 2, retryMaxMilliseconds)
            }
        }
    }

    private func record(_ summary: CommitSummary, frames: Int, stored: Int, quarantined: Int) {
        statistics.framesProcessed.add(Int64(frames), ordering: .relaxed)
        statistics.framesStored.add(Int64(stored), ordering: .relaxed)
        statistics.framesQuarantined.add(Int64(quarantined), ordering: .relaxed)
        statistics.readingsInserted.add(Int64(summary.readingsInserted), ordering: .relaxed)
        statistics.intervalsInserted.add(Int64(summary.intervalsInserted), ordering: .relaxed)
        statistics.alarmsInserted.add(Int64(summary.alarmsInserted), ordering: .relaxed)
        statistics.duplicates.add(
            Int64(summary.readingsDuplicate + summary.intervalsDuplicate + summary.framesDuplicate),
            ordering: .relaxed
        )
        statistics.conflicts.add(Int64(summary.conflicts), ordering: .relaxed)
        statistics.ticketsOpened.add(Int64(summary.ticketsOpened), ordering: .relaxed)
        statistics.commits.add(1, ordering: .relaxed)
        statistics.lastCommitMicros.store(Timestamp.now.microsecondsSinceEpoch, ordering: .relaxed)
        for ticket in summary.openedTickets {
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

    /// Publishes the application acks of a committed batch. A failed publish is counted; the meter retransmits
    /// and gets its ack then (the retransmission is a duplicate and changes nothing).
    private func sendAcks(_ acks: [PendingAck]) {
        guard let downlink, !acks.isEmpty else { return }
        let serverTime = UInt32(truncatingIfNeeded: Timestamp.now.secondsSinceEpoch)
        // One stack buffer for every ack of the batch: acks are 43 bytes, and nothing is allocated per ack here.
        withUnsafeTemporaryAllocation(byteCount: NativeDecoder.minimumFrameSize + 16, alignment: 8) { buffer in
            for ack in acks {
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

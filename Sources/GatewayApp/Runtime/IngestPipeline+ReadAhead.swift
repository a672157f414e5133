import GatewayCore
import Logging
import MQTTIngest
import PostgresSink
import Prometheus
import Synchronization

/// The batch after the one being committed, read from the spool and admitted while that commit runs
/// (``IngestPipeline/commitReadingAhead(_:inFlight:reader:registry:into:)``).
///
/// Thread rules: owned by the pipeline's task; only ``alarms`` runs elsewhere.
struct ReadAhead {
    var batch = SinkBatch()
    var admissions: [AdmissionLadder.Admission] = []
    /// Records read into it (0: nothing was read ahead).
    var count = 0
    /// Whether it holds an alarm (it then reads no further, and its alarm frames commit ahead if they may).
    var holdsAlarm = false
    /// A spool read failed while reading ahead: what was read is dropped and read again after the commit.
    var isBroken = false
    /// The commit of its alarm frames on the alarm connection, started while the batch before it was committing;
    /// its result is nil when that commit failed (the frames then commit with their batch).
    var alarms: Task<AheadAlarmCommit?, Never>?

    mutating func reset() {
        batch.removeAll()
        admissions.removeAll(keepingCapacity: true)
        count = 0
        holdsAlarm = false
        isBroken = false
        alarms = nil
    }
}

/// Alarm frames of a read-ahead batch, committed before it: how the batch was split, and what that commit changed
/// (gate indices into the read-ahead batch).
struct AheadAlarmCommit: Sendable {
    var split: SinkBatchSplit
    var summary: CommitSummary
}

/// Set once a commit has returned (or thrown).
private final class CommitEnded: Sendable {
    let value = Atomic<Bool>(false)
}

extension IngestPipeline {
    /// Runs `commit` (the batch in hand) while reading and admitting the next batch into `ahead`, and commits that
    /// batch's alarm frames at once on the alarm connection: an alarm received while a batch commits does not wait
    /// for that commit (the largest share of an alarm's way to its ticket under load: a batch's COPY, ticket step
    /// and WAL flush).
    ///
    /// An alarm frame moves ahead only if no frame of its meter is in the batch being committed (`meters`) or before
    /// it in the read-ahead batch (``GatewayCore/SinkBatch/splittingOffAlarms(behind:)``), so every meter's frames
    /// still commit in order. The two transactions touch different meters' rows. The spool checkpoint moves only
    /// through the committed batch (``MQTTIngest/SpoolReader/commit(through:checkpointAtMostEvery:)``): a crash
    /// replays the read-ahead batch, whose alarm frames are then counted duplicates, as after any crash between
    /// two commits. If the alarm commit fails, its frames simply commit with their batch; if the batch being
    /// committed is refused or re-read, the read-ahead batch is dropped (``dropReadAhead(_:)``) and read again, its
    /// alarm frames (if they committed) then duplicates, acknowledged as such.
    /// - Parameters:
    ///   - commit: Commits the batch in hand.
    ///   - meters: The meters of the batch in hand.
    ///   - reader: The spool reader (nothing of it is committed meanwhile).
    ///   - registry: The registry to admit against.
    ///   - ahead: The next batch, empty on entry.
    /// - Returns: What `commit` returned.
    func commitReadingAhead(
        _ commit: @escaping @Sendable () async throws -> CommitSummary,
        inFlight meters: Set<Int64>,
        reader: SpoolReader,
        registry: MeterRegistry,
        into ahead: inout ReadAhead
    ) async throws -> CommitSummary {
        let ended = CommitEnded()
        let spool = self.spool
        let committing = Task {
            defer {
                ended.value.store(true, ordering: .releasing)
                spool.wakeReader()
            }
            return try await commit()
        }
        return try await withTaskCancellationHandler {
            while !ended.value.load(ordering: .acquiring) {
                if !ahead.isBroken, !ahead.holdsAlarm, ahead.count < maxBatchFrames {
                    readAhead(reader: reader, registry: registry, into: &ahead)
                    if ahead.holdsAlarm, ahead.alarms == nil, let alarmWriter,
                        let split = ahead.batch.splittingOffAlarms(behind: meters)
                    {
                        ahead.alarms = Task { await self.commitAlarmsAhead(split, on: alarmWriter) }
                    }
                }
                await spool.waitForAppend(timeout: .milliseconds(200))
            }
            return try await committing.value
        } onCancel: {
            committing.cancel()
        }
    }

    /// Reads what the spool holds now into `ahead`, up to a full batch, as the first read of any batch does; once it
    /// holds an alarm it reads no more (as a batch that holds an alarm gathers no more).
    private func readAhead(reader: SpoolReader, registry: MeterRegistry, into ahead: inout ReadAhead) {
        do {
            ahead.count += try reader.read(maxRecords: maxBatchFrames - ahead.count) { (record: SpoolRecord) -> Void in
                if admit(record, registry: registry, rejection: nil, into: &ahead.batch, &ahead.admissions) {
                    ahead.holdsAlarm = true
                }
            }
        } catch {
            // Admissions of the failed call are in the batch but not counted: the whole read-ahead is dropped.
            ahead.isBroken = true
            logger.warning(
                "cannot read the spool ahead; reading again after the commit",
                metadata: ["error": "\(error)"]
            )
        }
    }

    /// Commits a read-ahead batch's alarm frames on the alarm connection, once: a failure leaves them to their batch.
    private func commitAlarmsAhead(_ split: SinkBatchSplit, on store: TelemetryStore) async -> AheadAlarmCommit? {
        do {
            let start = ContinuousClock.now
            var summary = try await store.write(split.first)
            statistics.commitDuration.record(ContinuousClock.now - start)
            statistics.alarmAheadCommits.add(1, ordering: .relaxed)
            // The alarm-to-ticket latency ends at this commit.
            recordOpened(summary.openedTickets, committedAt: .now)
            summary.openedTickets = []
            return AheadAlarmCommit(split: split, summary: summary.mappingGates(split.firstGates))
        } catch {
            statistics.recordDatabaseError(error)
            logger.warning(
                "alarm frames could not commit ahead; they commit with their batch",
                metadata: ["error": "\(error)"]
            )
            return nil
        }
    }

    /// Forgets the read-ahead batch (the caller rewinds the reader): waits for its alarm commit first, whose frames,
    /// if stored, are duplicates when read again.
    func dropReadAhead(_ ahead: inout ReadAhead) async {
        if let alarms = ahead.alarms, await alarms.value != nil {
            logger.notice("alarm frames committed ahead are read again with their batch, as duplicates")
        }
        ahead.reset()
    }
}

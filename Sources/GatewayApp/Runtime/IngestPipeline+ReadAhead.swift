import GatewayCore
import Logging
import MQTTIngest
import PostgresSink
import Prometheus
import Synchronization

/// The batch after the one being committed, read from the spool and admitted while that commit runs
/// (``IngestPipeline/commitReadingAhead(_:inFlight:reader:registry:into:)``).
///
/// Thread rules: owned by the pipeline's task; only the commits of ``alarms`` run elsewhere.
struct ReadAhead {
    var batch = SinkBatch()
    var admissions: [AdmissionLadder.Admission] = []
    /// Records read into it (0: nothing was read ahead).
    var count = 0
    /// Whether it holds an alarm.
    var holdsAlarm = false
    /// Whether it holds an alarm frame read since its last alarm commit ahead started (one waits for the commit
    /// before it: they run one at a time, in spool order).
    var alarmWaiting = false
    /// No more alarm commits ahead of it: one failed (an alarm after it must not be stored before it). Its alarm
    /// frames not committed ahead commit first in their batch
    /// (``IngestPipeline/commitAlarmFirst(_:holdsAlarm:admissions:committedAhead:)``).
    var aheadEnded = false
    /// A spool read failed while reading ahead: what was read is dropped and read again after the commit.
    var isBroken = false
    /// The commits of its alarm frames on the alarm connection, started while the batch before it was committing,
    /// one after another; the last one's result covers all of them.
    var alarms: AheadAlarmCommits?

    mutating func reset() {
        batch.removeAll()
        admissions.removeAll(keepingCapacity: true)
        count = 0
        holdsAlarm = false
        alarmWaiting = false
        aheadEnded = false
        isBroken = false
        alarms = nil
    }
}

/// Alarm frames of a read-ahead batch committed before it: which gates (indices into the read-ahead batch,
/// ascending) and what those commits changed (in the same indices).
struct AheadAlarmCommit: Sendable {
    var gates: [Int]
    var summary: CommitSummary
}

/// The chain of alarm commits ahead of one read-ahead batch: the latest commit's task, whose result is every
/// commit of the chain so far, and whether it has ended (checked without waiting).
final class AheadAlarmCommits: Sendable {
    /// What the chain committed (nil: nothing), and whether its latest commit failed (the chain then ends: an alarm
    /// after a failed one must not be stored before it).
    struct Outcome: Sendable {
        var committed: AheadAlarmCommit?
        var lastFailed: Bool
    }

    let task: Task<Outcome, Never>
    private let ended = CommitEnded()

    /// Starts `commit` after `previous` (which must have ended) and adds what it stored to what the chain had.
    init(
        after previous: AheadAlarmCommits?,
        spool: FrameSpool,
        _ commit: @escaping @Sendable () async -> AheadAlarmCommit?
    ) {
        let ended = self.ended
        task = Task {
            defer {
                ended.value.store(true, ordering: .releasing)
                // Reading ahead waits for this commit before it starts the next.
                spool.wakeReader()
            }
            let before = await previous?.task.value.committed
            guard let new = await commit() else { return Outcome(committed: before, lastFailed: true) }
            guard let before else { return Outcome(committed: new, lastFailed: false) }
            return Outcome(
                committed: AheadAlarmCommit(
                    gates: (before.gates + new.gates).sorted(),
                    summary: before.summary.merging(new.summary)
                ),
                lastFailed: false
            )
        }
    }

    var hasEnded: Bool { ended.value.load(ordering: .acquiring) }
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
                if !ahead.isBroken, ahead.count < maxBatchFrames {
                    readAhead(reader: reader, registry: registry, into: &ahead)
                }
                if !ahead.isBroken, !ahead.aheadEnded, ahead.alarmWaiting, ahead.alarms?.hasEnded ?? true {
                    await startAlarmCommitAhead(behind: meters, in: &ahead)
                }
                await spool.waitForAppend(timeout: .milliseconds(200))
            }
            let summary = try await committing.value
            // Alarm frames read while the last commit ahead ran go ahead now, before their batch commits (as a
            // batch's alarm frames commit before the rest of it).
            if !ahead.isBroken, !ahead.aheadEnded, ahead.alarmWaiting {
                await startAlarmCommitAhead(behind: meters, in: &ahead)
            }
            return summary
        } onCancel: {
            committing.cancel()
        }
    }

    /// Starts committing the alarm frames of `ahead` that no commit ahead took yet, after the commits before them
    /// (which have ended): only those that may go ahead (no frame of their meter in the batch being committed,
    /// `meters`, or before them among the frames not committed yet). The others commit first in their batch
    /// (``commitAlarmFirst(_:holdsAlarm:admissions:committedAhead:)``), as do all after a failed commit ahead.
    private func startAlarmCommitAhead(behind meters: Set<Int64>, in ahead: inout ReadAhead) async {
        ahead.alarmWaiting = false
        let previous = ahead.alarms
        let before = await previous?.task.value
        guard let alarmWriter, before?.lastFailed != true else {
            ahead.aheadEnded = true
            return
        }
        let stored = before?.committed?.gates ?? []
        guard let split = ahead.batch.splittingOffAlarms(behind: meters, stored: stored) else { return }
        ahead.alarms = AheadAlarmCommits(after: previous, spool: spool) {
            await self.commitAlarmsAhead(split.first, gates: split.firstGates, on: alarmWriter)
        }
    }

    /// Reads what the spool holds now into `ahead`, up to a full batch, as the first read of any batch does.
    private func readAhead(reader: SpoolReader, registry: MeterRegistry, into ahead: inout ReadAhead) {
        do {
            ahead.count += try reader.read(maxRecords: maxBatchFrames - ahead.count) { (record: SpoolRecord) -> Void in
                if admit(record, registry: registry, rejection: nil, into: &ahead.batch, &ahead.admissions) {
                    ahead.holdsAlarm = true
                    ahead.alarmWaiting = true
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

    /// Commits alarm frames of a read-ahead batch on the alarm connection, once: a failure leaves them to their
    /// batch.
    /// - Parameters:
    ///   - alarms: The alarm frames.
    ///   - gates: For each gate of `alarms`, its index in the read-ahead batch.
    private func commitAlarmsAhead(
        _ alarms: SinkBatch,
        gates: [Int],
        on store: TelemetryStore
    ) async
        -> AheadAlarmCommit?
    {
        do {
            let start = ContinuousClock.now
            var summary = try await store.write(alarms)
            statistics.commitDuration.record(ContinuousClock.now - start)
            statistics.alarmAheadCommits.add(1, ordering: .relaxed)
            // The alarm-to-ticket latency ends at this commit.
            recordOpened(summary.openedTickets, committedAt: .now)
            summary.openedTickets = []
            return AheadAlarmCommit(gates: gates, summary: summary.mappingGates(gates))
        } catch {
            statistics.recordDatabaseError(error)
            logger.warning(
                "alarm frames could not commit ahead; they commit with their batch",
                metadata: ["error": "\(error)"]
            )
            return nil
        }
    }

    /// Forgets the read-ahead batch (the caller rewinds the reader): waits for its alarm commits first, whose
    /// frames, if stored, are duplicates when read again.
    func dropReadAhead(_ ahead: inout ReadAhead) async {
        if let alarms = ahead.alarms, await alarms.task.value.committed != nil {
            logger.notice("alarm frames committed ahead are read again with their batch, as duplicates")
        }
        ahead.reset()
    }
}

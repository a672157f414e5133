import GatewayCore
import GatewayDomain
import Logging
import PostgresSink
import ServiceLifecycle
import Synchronization

/// Waits until the ingest side has connected and migrated the database (services that need the schema start after
/// it). Returns false when the gateway shuts down first.
func waitUntilMigrated(_ databaseReady: @Sendable () -> Bool) async -> Bool {
    while !databaseReady() {
        if Task.isShuttingDownGracefully || Task.isCancelled { return false }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return true
}

/// Counters of the validator. Read by `/metrics` and the demo summary.
final class ValidationStatistics: Sendable {
    let metersValidated = Atomic<Int64>(0)
    let readsChanged = Atomic<Int64>(0)
    let daysChanged = Atomic<Int64>(0)
    let daysPublished = Atomic<Int64>(0)
    let corrections = Atomic<Int64>(0)
    let failures = Atomic<Int64>(0)
    let signatureAlarms = Atomic<Int64>(0)
    let districtAlarms = Atomic<Int64>(0)
}

/// Validates the meters the ingest queued, on its own database connection, until shutdown.
///
/// Each page of the queue (up to ``batchSize`` meters) is one transaction
/// (``ValidationStore/validate(batch:settings:signatures:now:)``). When a batch fails, nothing of it is written and its
/// meters are validated one by one, so one bad meter does not hold back the others: a meter that fails alone stays
/// queued, is counted in `meter_gateway_validation_failures_total`, logged with its id and left out of the next batches for
/// ``failedMeterPause``. A retryable error (a lost connection, a deadlock, a restarting server) stops the round
/// instead, and the loop retries the page after a pause. Several gateways may run validators against one database: a
/// meter another one is validating is skipped and stays queued.
final class ValidationService: Service {
    /// Meters validated per transaction.
    static let batchSize = 500
    /// How long a meter that failed alone is left out of batches.
    static let failedMeterPause: Duration = .seconds(60)

    private let session: PostgresSession
    private let store: ValidationStore
    private let settings: ValidationSettings
    private let signatures: SignatureSettings?
    private let delaySeconds: Int
    private let databaseReady: @Sendable () -> Bool
    private let logger: Logger
    let statistics: ValidationStatistics

    init(
        session: PostgresSession,
        settings: ValidationSettings,
        ticketRules: TicketRules,
        signatures: SignatureSettings?,
        delaySeconds: Int,
        statistics: ValidationStatistics,
        databaseReady: @escaping @Sendable () -> Bool,
        logger: Logger
    ) {
        self.session = session
        self.store = ValidationStore(session, rules: ticketRules)
        self.settings = settings
        self.signatures = signatures
        self.delaySeconds = delaySeconds
        self.statistics = statistics
        self.databaseReady = databaseReady
        self.logger = logger
    }

    func run() async throws {
        guard await waitUntilMigrated(databaseReady) else { return }
        var lastBalance = ContinuousClock.now - .seconds(3600)
        var lastStatisticsCheck = ContinuousClock.now - .seconds(3600)
        var heldBack: [Int64: ContinuousClock.Instant] = [:]
        while !(Task.isShuttingDownGracefully || Task.isCancelled) {
            do {
                if signatures != nil, ContinuousClock.now - lastBalance >= .seconds(30) {
                    // The last week's days: a late customer day completes a district's balance.
                    let found = try await store.checkDistrictBalance(
                        since: Timestamp.now.adding(seconds: -7 * 86_400),
                        zone: settings.billingZone,
                        now: .now
                    )
                    lastBalance = .now
                    statistics.districtAlarms.add(Int64(found), ordering: .relaxed)
                }
                let started = ContinuousClock.now
                heldBack = heldBack.filter { $0.value > started }
                let queue = try await store.dirtyMeters(
                    limit: Self.batchSize + heldBack.count,
                    settledSeconds: delaySeconds
                ).filter { heldBack[$0.meterID] == nil }.prefix(Self.batchSize)
                if queue.isEmpty {
                    try? await Task.sleep(for: .milliseconds(500))
                    continue
                }
                if ContinuousClock.now - lastStatisticsCheck >= .seconds(30) {
                    // A partition filled since autovacuum's last round has no statistics yet, and the batch
                    // statements then scan it whole per meter (see ValidationBatchSQL.partitionsWithoutStatistics).
                    lastStatisticsCheck = .now
                    let analysed = try await store.analyzePartitionsWithoutStatistics()
                    if !analysed.isEmpty {
                        logger.info(
                            "analysed partitions without planner statistics before validating",
                            metadata: ["pg.partitions": "\(analysed.joined(separator: ","))"]
                        )
                    }
                }
                try await validate(Array(queue), heldBack: &heldBack)
            } catch {
                statistics.failures.add(1, ordering: .relaxed)
                logger.error("validation failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        await session.close()
    }

    /// Validates one page of the queue in one transaction; when that fails, each of its meters alone.
    /// - Throws: ``PostgresError`` when it is retryable (the caller pauses and retries the page).
    private func validate(_ batch: [DirtyMeter], heldBack: inout [Int64: ContinuousClock.Instant]) async throws {
        do {
            record(try await store.validate(batch: batch, settings: settings, signatures: signatures, now: .now))
            return
        } catch let error as PostgresError where error.isRetryable {
            throw error
        } catch  where batch.count > 1 {
            logger.warning(
                "validation batch failed; validating its meters one by one",
                metadata: ["validation.batch.meters": "\(batch.count)", "error": "\(error)"]
            )
        } catch {
            // A batch of one failed: handled below like any meter that fails alone.
        }
        for meter in batch {
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            do {
                record(try await store.validate(batch: [meter], settings: settings, signatures: signatures, now: .now))
            } catch let error as PostgresError where error.isRetryable {
                throw error
            } catch {
                statistics.failures.add(1, ordering: .relaxed)
                heldBack[meter.meterID] = .now + Self.failedMeterPause
                logger.error(
                    "validation of a meter failed; it stays queued and is retried later",
                    metadata: ["meter.id": "\(meter.meterID)", "error": "\(error)"]
                )
            }
        }
    }

    private func record(_ summary: ValidationBatchSummary) {
        let totals = summary.totals
        statistics.metersValidated.add(Int64(summary.metersValidated), ordering: .relaxed)
        statistics.readsChanged.add(Int64(totals.readsChanged), ordering: .relaxed)
        statistics.daysChanged.add(Int64(totals.daysChanged), ordering: .relaxed)
        statistics.daysPublished.add(Int64(totals.published), ordering: .relaxed)
        statistics.corrections.add(Int64(totals.corrections), ordering: .relaxed)
        statistics.signatureAlarms.add(Int64(totals.signatureAlarms), ordering: .relaxed)
    }
}

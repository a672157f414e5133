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

    func snapshot() -> [(String, Int64)] {
        [
            ("signature_alarms", signatureAlarms.load(ordering: .relaxed)),
            ("district_balance_alarms", districtAlarms.load(ordering: .relaxed)),
            ("validation_meters", metersValidated.load(ordering: .relaxed)),
            ("validation_reads_changed", readsChanged.load(ordering: .relaxed)),
            ("validation_days_changed", daysChanged.load(ordering: .relaxed)),
            ("billing_days_published", daysPublished.load(ordering: .relaxed)),
            ("billing_corrections", corrections.load(ordering: .relaxed)),
            ("validation_failures", failures.load(ordering: .relaxed)),
        ]
    }
}

/// Validates the meters the ingest queued, on its own database connection, until shutdown.
///
/// Each meter is one transaction (``ValidationStore/validate(_:settings:signatures:now:)``); a failure leaves the meter queued
/// and is retried after a pause. Several gateways may run validators against one database: a meter another one is
/// validating is skipped and stays queued.
final class ValidationService: Service {
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
        while !(Task.isShuttingDownGracefully || Task.isCancelled) {
            do {
                if signatures != nil, ContinuousClock.now - lastBalance >= .seconds(30) {
                    // The last week's days: a late customer day completes a district's balance.
                    let found = try await store.checkDistrictBalance(
                        since: Timestamp.now.adding(seconds: -7 * 86_400),
                        now: .now
                    )
                    lastBalance = .now
                    statistics.districtAlarms.add(Int64(found), ordering: .relaxed)
                }
                let queue = try await store.dirtyMeters(limit: 200, settledSeconds: delaySeconds)
                if queue.isEmpty {
                    try? await Task.sleep(for: .milliseconds(500))
                    continue
                }
                for meter in queue {
                    if Task.isShuttingDownGracefully || Task.isCancelled { break }
                    let summary = try await store.validate(
                        meter,
                        settings: settings,
                        signatures: signatures,
                        now: .now
                    )
                    record(summary)
                }
            } catch {
                statistics.failures.add(1, ordering: .relaxed)
                logger.error("validation failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        await session.close()
    }

    private func record(_ summary: MeterValidationSummary) {
        guard !summary.wasBusy else { return }
        statistics.metersValidated.add(1, ordering: .relaxed)
        statistics.readsChanged.add(Int64(summary.readsChanged), ordering: .relaxed)
        statistics.daysChanged.add(Int64(summary.daysChanged), ordering: .relaxed)
        statistics.daysPublished.add(Int64(summary.published), ordering: .relaxed)
        statistics.corrections.add(Int64(summary.corrections), ordering: .relaxed)
        statistics.signatureAlarms.add(Int64(summary.signatureAlarms), ordering: .relaxed)
    }
}

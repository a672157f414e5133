import Foundation
import GatewayCore
import GatewayHTTP
import Logging
import MQTTIngest
import PostgresSink
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals

extension Timestamp {
    /// The wall-clock time now.
    static var now: Timestamp { WallClock.now() }
}

/// The running gateway: spool, MQTT ingest, pipeline and HTTP, wired from one configuration.
struct GatewayRuntime {
    let configuration: GatewayConfiguration
    let statistics: PipelineStatistics
    let validationStatistics: ValidationStatistics
    let dispatchStatistics: DispatchStatistics
    /// This gateway's `/metrics` families (one registry per instance; see ``GatewayMetrics``).
    let metrics: GatewayMetrics
    let services: [any Service]
    let mqtt: MosquittoClient
    let spool: FrameSpool

    /// Builds every part. Nothing connects until the services run.
    /// - Parameters:
    ///   - configuration: The checked configuration.
    ///   - logger: The gateway's logger.
    ///   - environment: The process environment: `NOTIFY_SOCKET` and `WATCHDOG_USEC` (set by systemd) add
    ///     ``ServiceNotifications``.
    /// - Throws: When the spool cannot be opened or the MQTT options are invalid.
    init(
        configuration: GatewayConfiguration,
        logger: Logger,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        self.configuration = configuration
        let spool = try FrameSpool(
            directory: configuration.spool.directory,
            options: SpoolOptions(
                segmentBytes: Int64(configuration.spool.segmentMegabytes) << 20,
                maxBacklogBytes: Int64(configuration.spool.maxBacklogMegabytes) << 20
            )
        )
        if let problem = spool.checkpointProblem {
            logger.warning(
                "spool checkpoint unusable; replaying from the oldest segment (duplicates are counted, not stored)",
                metadata: ["spool.checkpoint.problem": "\(problem)"]
            )
        }
        if spool.replayBytes > 0 || spool.discardedTornRecords > 0 || spool.damagedRangesAtOpen > 0 {
            logger.notice(
                "spool has uncommitted frames from the last run; replaying",
                metadata: [
                    "spool.replay.bytes": "\(spool.replayBytes)", "spool.checkpoint": "\(spool.checkpoint)",
                    "spool.torn_records": "\(spool.discardedTornRecords)",
                    "spool.damaged_ranges": "\(spool.damagedRangesAtOpen)",
                ]
            )
        }
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)
        let writer = TelemetryStore(
            conninfo: configuration.postgres.ingest,
            logger: logger,
            rules: configuration.ticketRules
        )
        let registry = PrometheusCollectorRegistry()
        let statistics = PipelineStatistics(registry: registry)
        let ladder = AdmissionLadder(
            topics: topics,
            policy: configuration.tickets.policy,
            clocks: configuration.meters.clocks,
            maxPayloadBytes: configuration.mqtt.maxPayloadBytes,
            defaultKeys: configuration.meters.defaultKeySet,
            mbusDrivers: configuration.meters.mbusDriverSet
        )
        let mqtt = try MosquittoClient(
            options: configuration.mqtt.ingestConnectionOptions,
            subscriptions: [
                MQTTSubscription(
                    filter: topics.uplinkFilter(sharedGroup: configuration.mqtt.sharedGroup),
                    qos: .atLeastOnce
                )
            ],
            logger: logger,
            onMessage: SpoolingReceiver.makeHandler(
                spool: spool,
                maxPayloadBytes: configuration.mqtt.maxPayloadBytes,
                statistics: statistics
            ),
            commitBeforeAcknowledging: SpoolingReceiver.makeCommit(spool: spool, logger: logger)
        )
        let pipeline = IngestPipeline(
            spool: spool,
            writer: writer,
            // Alarm frames read while a batch commits commit at once on a connection of their own.
            alarmWriter: TelemetryStore(
                conninfo: configuration.postgres.ingest,
                logger: logger,
                rules: configuration.ticketRules
            ),
            downlink: configuration.pipeline.ackNative ? MQTTDownlink(client: mqtt) : nil,
            decodedRepublish: configuration.mqtt.publishesDecoded
                ? (MQTTDownlink(client: mqtt), configuration.mqtt.topicPrefix) : nil,
            ladder: ladder,
            maxBatchFrames: configuration.pipeline.maxBatchFrames,
            gatherMilliseconds: configuration.pipeline.gatherMilliseconds,
            retryMinMilliseconds: configuration.pipeline.retryMinMilliseconds,
            retryMaxMilliseconds: configuration.pipeline.retryMaxMilliseconds,
            dedupeHorizonSeconds: Int64(configuration.pipeline.dedupeHorizonDays) * 86_400,
            keySealer: configuration.meters.keySealer,
            keyTable: configuration.meters.keyTable,
            statistics: statistics,
            logger: logger
        )
        var services: [any Service] = [
            DatabaseStartup(
                writer: writer,
                ownerConninfo: configuration.postgres.ingest == configuration.postgres.conninfo
                    ? nil : configuration.postgres.conninfo,
                keySealer: configuration.meters.keySealer,
                keyTable: configuration.meters.keyTable,
                logger: logger,
                then: pipeline
            ),
            MQTTIngestService(client: mqtt, logger: logger),
        ]
        let validationStatistics = ValidationStatistics()
        if configuration.validation.isEnabled {
            services.append(
                ValidationService(
                    session: PostgresSession(.gateway(conninfo: configuration.postgres.validation), logger: logger),
                    settings: configuration.validation.rules,
                    ticketRules: configuration.ticketRules,
                    signatures: configuration.signatureSettings,
                    delaySeconds: configuration.validation.delaySeconds,
                    statistics: validationStatistics,
                    databaseReady: { statistics.databaseReady.load(ordering: .relaxed) },
                    logger: logger
                )
            )
        }
        let dispatchStatistics = DispatchStatistics()
        let metrics = GatewayMetrics(
            registry: registry,
            statistics: statistics,
            validation: validationStatistics,
            dispatch: dispatchStatistics,
            spool: spool,
            mqtt: mqtt
        )
        if configuration.dispatch.isEnabled {
            let dispatchMQTT = try MosquittoClient(
                options: configuration.mqtt.dispatchConnectionOptions,
                subscriptions: [],
                logger: logger,
                warnsAboutOptions: false,
                onMessage: { _ in }
            )
            services.append(
                DispatchService(
                    session: PostgresSession(.gateway(conninfo: configuration.postgres.http), logger: logger),
                    client: dispatchMQTT,
                    topicPrefix: configuration.mqtt.topicPrefix,
                    escalationIntervalSeconds: configuration.dispatch.escalationIntervalSeconds,
                    valveCloseOnP0: configuration.dispatch.valveCloseOnP0,
                    keySealer: configuration.meters.keySealer,
                    keyTable: configuration.meters.keyTable,
                    statistics: dispatchStatistics,
                    databaseReady: { statistics.databaseReady.load(ordering: .relaxed) },
                    logger: logger,
                    listenConninfo: configuration.postgres.http
                )
            )
        }
        let httpListening = ListeningFlag()
        if configuration.http.isEnabled {
            // The billing routes and the dispatch routes each read through a small pool of their own, separate
            // from ingest, validation and the dispatch service, so a slow billing page cannot stall a dispatcher's
            // step; a statement timeout bounds how long any request can hold a connection.
            let apiSettings = PostgresSessionSettings.gateway(
                conninfo: configuration.postgres.http,
                statementTimeoutMilliseconds: configuration.http.statementTimeoutMilliseconds
            )
            let connections = configuration.http.databaseConnections
            // Checked when the configuration was loaded: unique names and tokens.
            let credentials = try CredentialStore(configuration.http.credentials)
            for (name, roles) in credentials.summary {
                let roleList = roles.map(\.rawValue).joined(separator: ",")
                logger.info("http credential", metadata: ["http.credential": "\(name)", "http.roles": "\(roleList)"])
            }
            if credentials.summary.isEmpty {
                logger.warning("no [[http.credentials]]: every billing, review and dispatch request will be refused")
            }
            let billingDatabase = PostgresSessionPool(size: connections, settings: apiSettings, logger: logger)
            let dispatchDatabase = PostgresSessionPool(size: connections, settings: apiSettings, logger: logger)
            // The dispatch console signs its session cookies with this key; its pages read the dispatch API with them.
            let consoleSessions = ConsoleSessions(
                key: try configuration.http.consoleSessionKey(),
                credentials: credentials,
                lifetimeSeconds: configuration.http.consoleSessionMinutes * 60,
                isSecure: configuration.http.tls.isEnabled
            )
            var dispatchAPI = DispatchAPI(
                store: DispatchStore(
                    dispatchDatabase,
                    policy: configuration.tickets.policy,
                    outages: configuration.dispatch.outagePolicy
                ),
                inspections: InspectionStore(dispatchDatabase),
                credentials: credentials,
                residentialMonths: configuration.dispatch.inspectionResidentialMonths,
                nonResidentialMonths: configuration.dispatch.inspectionNonResidentialMonths,
                zone: configuration.validation.billingZone,
                consoleSessions: consoleSessions
            )
            dispatchAPI.signatureSettings = configuration.chartSignatureSettings
            let complaintsAPI = ComplaintsAPI(
                store: ComplaintStore(
                    dispatchDatabase,
                    calendar: try configuration.complaints.calendar(),
                    zone: configuration.validation.billingZone,
                    answerWorkingDays: configuration.complaints.answerWorkingDays
                ),
                tickets: DispatchStore(dispatchDatabase, policy: configuration.tickets.policy),
                report: ServiceQualityStore(dispatchDatabase),
                settings: ComplaintsAPI.ReportSettings(
                    zone: configuration.validation.billingZone,
                    residentialMonths: configuration.dispatch.inspectionResidentialMonths,
                    nonResidentialMonths: configuration.dispatch.inspectionNonResidentialMonths
                ),
                credentials: credentials
            )
            services.append(
                try GatewayHTTPServer(
                    host: configuration.http.host,
                    port: configuration.http.port,
                    tls: configuration.http.serverTLS,
                    logger: logger,
                    readiness: { Self.notReadyReasons(mqtt: mqtt, statistics: statistics, spool: spool) },
                    metrics: metrics.export,
                    billing: BillingAPI(
                        store: BillingStore(billingDatabase),
                        credentials: credentials,
                        zone: configuration.validation.billingZone
                    ),
                    dispatch: dispatchAPI,
                    complaints: complaintsAPI,
                    console: DispatchConsole(
                        api: dispatchAPI,
                        sessions: consoleSessions,
                        feed: TicketEventFeed(conninfo: configuration.postgres.http, logger: logger),
                        complaints: complaintsAPI
                    ),
                    accessLog: configuration.log.httpAccess,
                    onServerRunning: { httpListening.set() }
                )
            )
        }
        if let notifier = SystemdNotifier(environment: environment) {
            // Last, so the group shuts it down first: STOPPING=1 goes out as soon as SIGTERM arrives.
            let httpEnabled = configuration.http.isEnabled
            services.append(
                ServiceNotifications(
                    notifier: notifier,
                    watchdogInterval: SystemdNotifier.watchdogInterval(environment: environment),
                    isReady: {
                        mqtt.isReady && Self.notReadyReasons(mqtt: mqtt, statistics: statistics, spool: spool).isEmpty
                            && (!httpEnabled || httpListening.isListening)
                    },
                    logger: logger
                )
            )
        }
        self.statistics = statistics
        self.validationStatistics = validationStatistics
        self.dispatchStatistics = dispatchStatistics
        self.metrics = metrics
        self.services = services
        self.mqtt = mqtt
        self.spool = spool
    }

    /// Why the gateway cannot accept and store frames now (empty when it can): `/readyz`.
    static func notReadyReasons(mqtt: MosquittoClient, statistics: PipelineStatistics, spool: FrameSpool) -> [String] {
        var reasons: [String] = []
        if !mqtt.isConnected { reasons.append("mqtt: not connected") }
        if !statistics.databaseReady.load(ordering: .relaxed) {
            reasons.append("database: not connected or not migrated")
        }
        if let hold = statistics.hold.withLock({ $0 }) { reasons.append(hold) }
        if let failure = spool.writer.failure { reasons.append("spool: \(failure)") }
        return reasons
    }

    /// Runs every service until SIGTERM/SIGINT, then shuts down in order: HTTP, MQTT (no more frames), then the
    /// pipeline drains the spool and commits the last batch.
    func run(logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

/// Publishes downlinks through the gateway's MQTT client at QoS 1.
struct MQTTDownlink: DownlinkPublisher {
    let client: MosquittoClient

    func publishDownlink(topic: String, payload: UnsafeRawBufferPointer) -> Bool {
        do {
            try client.publish(topic: topic, payload: payload, qos: .atLeastOnce, retain: false)
            return true
        } catch {
            return false
        }
    }
}

/// Runs the MQTT client for the life of the gateway; on shutdown it disconnects so no frame arrives after it.
struct MQTTIngestService: Service {
    let client: MosquittoClient
    let logger: Logger

    func run() async throws {
        client.start()
        logger.info("MQTT ingest started")
        try? await gracefulShutdown()
        await client.stop()
        logger.info("MQTT ingest stopped")
    }
}

/// Connects to PostgreSQL (retrying while it is unavailable), applies migrations, then runs the pipeline.
/// Frames keep arriving into the spool while the database is down; nothing waits on it but the pipeline.
///
/// With a separate ingest role (`postgres.ingest_conninfo`), the migrations run over the owner's connection
/// (`ownerConninfo`), which is closed again; the pipeline writes over its own. Meter keys that cannot be used
/// (sealed without a master key, or a master key that does not open them) stop the gateway with a message naming
/// how many meters: retrying would not help, and running would quarantine their frames as not authentic.
struct DatabaseStartup: Service, CustomStringConvertible {
    let writer: TelemetryStore
    var ownerConninfo: String?
    var keySealer: MeterKeySealer?
    var keyTable: MeterKeyTable?
    let logger: Logger
    let then: IngestPipeline

    func run() async throws {
        var delay = 250
        while true {
            do {
                let applied: [Int]
                if let ownerConninfo {
                    let owner = TelemetryStore(conninfo: ownerConninfo, logger: logger)
                    try await owner.connect()
                    do {
                        applied = try await owner.migrate()
                    } catch {
                        await owner.close()
                        throw error
                    }
                    await owner.close()
                    try await writer.connect()
                } else {
                    try await writer.connect()
                    applied = try await writer.migrate()
                }
                if !applied.isEmpty {
                    logger.notice("database migrated", metadata: ["migrations.applied": "\(applied)"])
                }
                try await checkMeterKeys()
                break
            } catch let error as MeterKeyError {
                logger.critical("cannot use the meter keys; stopping", metadata: ["error": "\(error)"])
                throw error
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                logger.error("database not ready; retrying", metadata: ["error": "\(error)", "retry.ms": "\(delay)"])
                try await Task.sleep(for: .milliseconds(delay))
                delay = min(delay * 2, 10_000)
            }
        }
        then.statistics.databaseReady.store(true, ordering: .relaxed)
        try await then.run()
    }

    /// Only the name: ServiceLifecycle logs each service as it starts and stops, and the default description would
    /// print the owner's conninfo (and a password in it).
    var description: String { "DatabaseStartup" }

    /// Opens every sealed key once, page by page (a registry of millions of meters is never held whole here: the
    /// registry refresher builds the pipeline's compact tables from its own pages); warns about plaintext keys left
    /// when a master key is configured.
    /// - Throws: ``MeterKeyError`` when keys cannot be opened; ``PostgresError``.
    private func checkMeterKeys() async throws {
        if let keyTable {
            logger.info("meter keys from meters.key_file", metadata: ["meters.keys": "\(keyTable.count)"])
            return
        }
        let meters = MeterStore(writer.database, sealer: keySealer)
        for frameProtocol in FrameProtocol.allCases {
            try await meters.forEachMeterPage(protocol: frameProtocol, pageSize: RegistryRefresher.pageSize) { _ in }
        }
        let counts = try await meters.keyCounts()
        if keySealer != nil && counts.plaintext > 0 {
            logger.warning(
                "meter keys are stored in plaintext although a master key is configured; run meter-gateway meters seal-keys",
                metadata: ["meters.plaintext_keys": "\(counts.plaintext)", "meters.sealed_keys": "\(counts.sealed)"]
            )
        }
    }
}

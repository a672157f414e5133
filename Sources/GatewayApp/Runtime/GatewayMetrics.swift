import GatewayCore
import GatewayHTTP
import MQTTIngest
import PostgresSink
import Prometheus
import Synchronization

/// Every family of one gateway's `GET /metrics`, in its own ``Prometheus/PrometheusCollectorRegistry``.
///
/// The hot path does not know about Prometheus: its counters stay the relaxed atomics of ``PipelineStatistics``,
/// ``ValidationStatistics``, ``DispatchStatistics``, the spool and the MQTT client, so no frame pays for a lock, a
/// dictionary lookup or an allocation. ``update()`` runs once per scrape and mirrors them: each Prometheus counter is
/// advanced by how much its atomic moved since the last scrape (counters only grow, so the two stay equal), and each
/// gauge is set from its source. The histograms are recorded where they happen, once per commit, per opened ticket
/// or per HTTP request, never per frame.
///
/// One registry per gateway instance rather than swift-metrics' global `MetricsSystem.bootstrap`: that can happen
/// once per process, and the tests run many gateways in one process, each of which must export its own numbers.
///
/// The families, all prefixed `meter_gateway_`, are listed in the GatewayHTTP documentation (`Metrics.md`).
final class GatewayMetrics: Sendable {
    /// The registry `/metrics` emits.
    let registry: PrometheusCollectorRegistry
    private let counters: [MirroredCounter]
    private let gauges: [(gauge: Gauge, value: @Sendable () -> Double)]
    private let statistics: PipelineStatistics
    private let dispatchStatistics: DispatchStatistics
    /// The value each counter series had at the last scrape, by series key; also serialises scrapes.
    private let exported = Mutex<[String: Int64]>([:])

    /// Buckets of the latency histograms: 1 ms to 60 s.
    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    /// The name of a family: `meter_gateway_<name>_<unit>` (no unit suffix when `unit` is empty), with its help text.
    /// - Parameters:
    ///   - name: The name without prefix or unit.
    ///   - unit: `total` for counters, a base unit (`seconds`, `bytes`), or empty.
    ///   - help: The `# HELP` text.
    /// - Returns: The descriptor.
    static func family(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "meter_gateway", metricName: name, unitName: unit, helpText: help)
    }

    /// Registers every family in `registry`.
    /// - Parameters:
    ///   - registry: The registry the pipeline's histograms are already in.
    ///   - statistics: The pipeline's counters.
    ///   - validation: The validator's counters.
    ///   - dispatch: The dispatch service's counters and ticket counts.
    ///   - spool: The frame spool.
    ///   - mqtt: The MQTT client.
    init(
        registry: PrometheusCollectorRegistry,
        statistics: PipelineStatistics,
        validation: ValidationStatistics,
        dispatch: DispatchStatistics,
        spool: FrameSpool,
        mqtt: MosquittoClient
    ) {
        self.registry = registry
        self.statistics = statistics
        self.dispatchStatistics = dispatch
        var counters: [MirroredCounter] = []
        func counter(_ name: String, _ help: String, _ value: @escaping @Sendable () -> Int64) {
            let descriptor = Self.family(name, unit: "total", help: help)
            counters.append(
                MirroredCounter(counter: registry.makeCounter(descriptor: descriptor), key: name, value: value)
            )
        }
        let s = statistics
        counter("frames_processed", "Frames taken from the spool and run through admission.") {
            s.framesProcessed.load(ordering: .relaxed)
        }
        counter("frames_stored", "Frames committed to the database (not counting duplicates).") {
            s.framesStored.load(ordering: .relaxed)
        }
        counter("readings_inserted", "Readings stored.") { s.readingsInserted.load(ordering: .relaxed) }
        counter("intervals_inserted", "Interval rows stored.") { s.intervalsInserted.load(ordering: .relaxed) }
        counter("alarms_inserted", "Alarms stored.") { s.alarmsInserted.load(ordering: .relaxed) }
        counter("duplicate_rows", "Readings, interval rows and frames that were already stored (counted, not stored).")
        {
            s.duplicates.load(ordering: .relaxed)
        }
        counter("value_conflicts", "Stored keys that arrived again with a different value (recorded conflicts).") {
            s.conflicts.load(ordering: .relaxed)
        }
        counter("commits", "Batches committed.") { s.commits.load(ordering: .relaxed) }
        counter(
            "alarm_first_commits",
            "Batches cut at an alarm whose alarm frame was committed in a transaction of its own before the rest."
        ) { s.alarmFirstCommits.load(ordering: .relaxed) }
        counter(
            "alarm_ahead_commits",
            "Commits of alarm frames on the alarm connection while the batch before them was committing."
        ) { s.alarmAheadCommits.load(ordering: .relaxed) }
        counter("commit_failures", "Batch commits that failed (held and retried, or isolated).") {
            s.commitFailures.load(ordering: .relaxed)
        }
        counter("acks_sent", "Application acks published to native meters after their frames committed.") {
            s.acksSent.load(ordering: .relaxed)
        }
        counter("acks_failed", "Application acks that could not be published (the meter retransmits).") {
            s.acksFailed.load(ordering: .relaxed)
        }
        counter("decoded_published", "Stored frames republished as JSON on the decoded topics (mqtt.publish_decoded).")
        {
            s.decodedPublished.load(ordering: .relaxed)
        }
        counter("decoded_failed", "Stored frames whose decoded JSON could not be published (not retried).") {
            s.decodedFailed.load(ordering: .relaxed)
        }
        counter("frame_identity_conflicts", "Frames whose identity was already stored with other bytes.") {
            s.identityConflicts.load(ordering: .relaxed)
        }
        counter("retained_frames", "Retained MQTT messages received on uplink topics.") {
            s.retainedFrames.load(ordering: .relaxed)
        }
        counter("oversized_frames", "Payloads over mqtt.max_payload_bytes (spooled as their first bytes only).") {
            s.oversizedFrames.load(ordering: .relaxed)
        }
        counter("spool_checkpoint_failures", "Spool checkpoints that could not be written after a commit.") {
            s.checkpointFailures.load(ordering: .relaxed)
        }
        let duplicates = Self.family(
            "frames_duplicate",
            unit: "total",
            help: "Frames already stored (same identity and bytes), by protocol."
        )
        for source in FrameProtocol.allCases {
            counters.append(
                MirroredCounter(
                    counter: registry.makeCounter(descriptor: duplicates, labels: [("protocol", source.rawValue)]),
                    key: "frames_duplicate/\(source.rawValue)",
                    value: { s.duplicates(of: source) }
                )
            )
        }
        let v = validation
        counter("validation_meters", "Meters validated.") { v.metersValidated.load(ordering: .relaxed) }
        counter("validation_reads_changed", "Readings whose validation result changed.") {
            v.readsChanged.load(ordering: .relaxed)
        }
        counter("validation_daily_reads_changed", "Daily reads whose validation result changed.") {
            v.daysChanged.load(ordering: .relaxed)
        }
        counter("validation_failures", "Meters whose validation failed alone (left queued).") {
            v.failures.load(ordering: .relaxed)
        }
        counter(
            "billing_feed_rows_published",
            "Billing days (one row per meter and day) published to the billing feed."
        ) {
            v.daysPublished.load(ordering: .relaxed)
        }
        counter("billing_corrections", "Corrections of published billing days.") {
            v.corrections.load(ordering: .relaxed)
        }
        counter("signature_alarms", "Leak-signature alarms raised by validation.") {
            v.signatureAlarms.load(ordering: .relaxed)
        }
        counter("district_balance_alarms", "District balance (network leak) alarms raised by validation.") {
            v.districtAlarms.load(ordering: .relaxed)
        }
        let d = dispatch
        counter("dispatch_events_published", "Ticket events published on the MQTT dispatch topics.") {
            d.eventsPublished.load(ordering: .relaxed)
        }
        counter("dispatch_complaint_events_published", "Complaint events published on the MQTT dispatch topics.") {
            d.complaintEventsPublished.load(ordering: .relaxed)
        }
        counter("dispatch_escalations", "Escalations written for missed ticket deadlines.") {
            d.escalations.load(ordering: .relaxed)
        }
        counter("dispatch_valve_commands", "Valve-close downlinks sent for P0 tickets.") {
            d.valveCommands.load(ordering: .relaxed)
        }
        counter("dispatch_failures", "Dispatch steps that failed (retried).") { d.failures.load(ordering: .relaxed) }
        counter("spool_write_failures", "Spool appends that failed.") { spool.writer.failedWrites }
        counter("spool_sync_failures", "Spool fsyncs that failed.") { spool.writer.failedSyncs }
        counter("spool_corrupt_records", "Corrupt spool records found while reading (quarantined).") {
            spool.corruptRecords
        }
        counter("mqtt_messages_received", "MQTT messages handed to the message handler.") {
            Int64(mqtt.statistics.messagesReceived)
        }
        counter("mqtt_messages_published", "MQTT messages accepted by libmosquitto for sending.") {
            Int64(mqtt.statistics.messagesPublished)
        }
        counter("mqtt_publish_acks", "MQTT publish completions (PUBACK, PUBCOMP, or written at QoS 0).") {
            Int64(mqtt.statistics.publishAcks)
        }
        counter("mqtt_connects", "MQTT connections accepted by the broker, reconnections included.") {
            Int64(mqtt.statistics.connects)
        }
        counter("mqtt_disconnects", "Losses of an established MQTT connection.") {
            Int64(mqtt.statistics.disconnects)
        }
        self.counters = counters

        func gauge(
            _ name: String,
            unit: String,
            _ help: String,
            _ value: @escaping @Sendable () -> Double
        ) -> (
            gauge: Gauge, value: @Sendable () -> Double
        ) {
            (registry.makeGauge(descriptor: Self.family(name, unit: unit, help: help)), value)
        }
        gauges = [
            gauge("spool_backlog", unit: "bytes", "Bytes in the spool not yet committed to the database.") {
                Double(spool.backlogBytes)
            },
            gauge("mqtt_connected", unit: "", "1 while the MQTT client is connected to the broker, else 0.") {
                mqtt.isConnected ? 1 : 0
            },
            gauge(
                "last_commit_age",
                unit: "seconds",
                "Seconds since the last commit (since start before the first)."
            ) {
                let now = Timestamp.now.microsecondsSinceEpoch
                let last = s.lastCommitMicros.load(ordering: .relaxed)
                let since = last == 0 ? s.startedMicros.load(ordering: .relaxed) : last
                return Double(max(0, now - since)) / 1_000_000
            },
            gauge("holding_frames", unit: "", "1 while a database fault holds the pipeline's frames, else 0.") {
                s.hold.withLock { $0 == nil ? 0 : 1 }
            },
            gauge("database_ready", unit: "", "1 once the database is connected and migrated, else 0.") {
                s.databaseReady.load(ordering: .relaxed) ? 1 : 0
            },
        ]
        // Families whose series are only known at run time: touched once here so HELP and TYPE are fixed now.
        for priority in TicketPriority.allCases {
            _ = registry.makeCounter(descriptor: Self.ticketsOpened, labels: [("priority", priority.rawValue)])
        }
    }

    private static var ticketsOpened: MetricNameDescriptor {
        family("tickets_opened", unit: "total", help: "Repair tickets the ingest opened, by priority.")
    }
    private static var quarantined: MetricNameDescriptor {
        family("frames_quarantined", unit: "total", help: "Frames quarantined, by reason.")
    }
    private static var databaseErrors: MetricNameDescriptor {
        family(
            "db_errors",
            unit: "total",
            help: "Database errors of the ingest pipeline, by SQLSTATE (none for errors without one)."
        )
    }
    private static var ticketsActive: MetricNameDescriptor {
        family(
            "tickets_active",
            unit: "",
            help:
                "Active repair tickets (not resolved or closed), by priority; counted every 5 s by the dispatch service."
        )
    }
    private static var ticketsOverdue: MetricNameDescriptor {
        family(
            "tickets_overdue",
            unit: "",
            help: "Active repair tickets whose next pending deadline has passed, by priority; counted every 5 s."
        )
    }

    /// Brings every mirrored value up to date. Called by `/metrics` before it emits; cheap (atomics, three small
    /// locks, no database).
    func update() {
        exported.withLock { exported in
            for mirrored in counters {
                Self.advance(mirrored.counter, key: mirrored.key, to: mirrored.value(), exported: &exported)
            }
            for (priority, count) in statistics.ticketsOpenedByPriority.withLock({ $0 }) {
                let counter = registry.makeCounter(
                    descriptor: Self.ticketsOpened,
                    labels: [("priority", priority.rawValue)]
                )
                Self.advance(counter, key: "tickets_opened/\(priority.rawValue)", to: count, exported: &exported)
            }
            for (reason, count) in statistics.quarantinedByReason.withLock({ $0 }) {
                let counter = registry.makeCounter(descriptor: Self.quarantined, labels: [("reason", reason)])
                Self.advance(counter, key: "frames_quarantined/\(reason)", to: count, exported: &exported)
            }
            for (state, count) in statistics.databaseErrors.withLock({ $0 }) {
                let counter = registry.makeCounter(descriptor: Self.databaseErrors, labels: [("sqlstate", state)])
                Self.advance(counter, key: "db_errors/\(state)", to: count, exported: &exported)
            }
        }
        for (gauge, value) in gauges { gauge.set(value()) }
        if let counts = dispatchStatistics.activeTickets.withLock({ $0 }) {
            for priority in TicketPriority.allCases {
                let count = counts.first { $0.priority == priority }
                let labels = [("priority", priority.rawValue)]
                registry.makeGauge(descriptor: Self.ticketsActive, labels: labels).set(Double(count?.active ?? 0))
                registry.makeGauge(descriptor: Self.ticketsOverdue, labels: labels).set(Double(count?.overdue ?? 0))
            }
        }
    }

    /// What `/metrics` serves.
    var export: MetricsExport {
        MetricsExport(registry: registry, update: { [self] in update() })
    }

    /// The Prometheus text, as `/metrics` serves it.
    /// - Returns: The text.
    func exposition() -> String {
        String(decoding: export.exposition(), as: UTF8.self)
    }

    private static func advance(_ counter: Counter, key: String, to value: Int64, exported: inout [String: Int64]) {
        let delta = value - exported[key, default: 0]
        guard delta > 0 else { return }
        counter.increment(by: delta)
        exported[key] = value
    }
}

/// A Prometheus counter and the atomic it mirrors.
private struct MirroredCounter: Sendable {
    let counter: Counter
    /// The series' key in ``GatewayMetrics``'s record of exported values.
    let key: String
    let value: @Sendable () -> Int64
}

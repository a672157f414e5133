import ArgumentParser
import Foundation
import GatewayCore
import Logging
import PostgresSink

struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List quarantined frames, or re-admit them through the admission ladder after a fix.",
        subcommands: [QuarantineListCommand.self, QuarantineReplayCommand.self]
    )
}

/// The filters both quarantine commands take.
struct QuarantineFilter: ParsableArguments {
    @Option(help: "Only this reason code (e.g. unknown_meter, bad_mac, database_rejected).")
    var reason: QuarantineReason?

    @Option(help: "Only frames first received at or after this time (2026-12-01 or 2026-12-01T08:00:00Z).")
    var since: String?
}

struct QuarantineListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Print quarantined frames: id, first and last receive time, repeats, reason, topic, replay outcome."
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var filter: QuarantineFilter

    @Option(help: "At most this many rows.")
    var limit = 100

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let rows = try await withDatabase(options) {
            try await QuarantineStore($0.database).quarantinedFrames(
                reason: filter.reason?.rawValue,
                since: filter.since,
                pendingOnly: false,
                limit: limit
            )
        }
        var table = CommandTable(columns: [
            "id", "first_received", "last_received", "repeats", "reason", "topic", "replay", "replayed_at",
        ])
        for row in rows {
            table.append([
                TableCell(row.id), .text("\(row.receivedAt)"), .text("\(row.lastReceivedAt)"),
                TableCell(row.repeatCount),
                .text(row.reason), .text(row.topic), TableCell(row.replayOutcome),
                TableCell(row.replayedAt.map { "\($0)" }),
            ])
        }
        print(table.render(output.format), terminator: "")
    }
}

struct QuarantineReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run quarantined frames up the admission ladder again (after a key, registry or decoder fix).",
        discussion: """
            Each frame keeps its original receive time. A frame the ladder now admits is stored (or found already \
            stored: duplicate) and its row is marked with the outcome; a frame it refuses again stays quarantined \
            with the new reason recorded. Running it again replays only frames not yet stored, so it is idempotent. \
            frame_too_large and spool_corrupt rows hold only part of a frame and are marked not_replayable.
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var filter: QuarantineFilter

    func run() async throws {
        let configuration = try options.load()
        let report = try await withDatabase(configuration: configuration) { writer in
            try await QuarantineReplay(
                writer: writer,
                ladder: AdmissionLadder(
                    topics: TopicScheme(prefix: configuration.mqtt.topicPrefix),
                    policy: configuration.tickets.policy,
                    clocks: configuration.meters.clocks,
                    maxPayloadBytes: configuration.mqtt.maxPayloadBytes,
                    defaultKeys: configuration.meters.defaultKeySet,
                    mbusDrivers: configuration.meters.mbusDriverSet
                ),
                keySealer: configuration.meters.keySealer,
                keyTable: configuration.meters.keyTable
            ).run(reason: filter.reason?.rawValue, since: filter.since)
        }
        print(report.summary)
    }
}

/// Re-admits quarantined frames through the same ladder as live frames.
struct QuarantineReplay {
    let writer: TelemetryStore
    let ladder: AdmissionLadder
    var keySealer: MeterKeySealer?
    var keyTable: MeterKeyTable?

    /// What a replay did, by outcome.
    struct Report: Equatable {
        var outcomes: [String: Int] = [:]
        var replayed: Int { outcomes.values.reduce(0, +) }

        var summary: String {
            "replayed \(replayed) quarantined frames"
                + (outcomes.isEmpty
                    ? ""
                    : ": " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
    }

    /// Reasons whose rows hold only part of a frame.
    static let notReplayable: Set<QuarantineReason> = [.frameTooLarge, .spoolCorrupt]

    func run(reason: String?, since: String?, now: Timestamp = .now) async throws -> Report {
        var registry = try await MeterRegistry.load(
            from: MeterStore(writer.database, sealer: keySealer, keyTable: keyTable),
            layouts: FormatLayoutStore(writer.database),
            topics: ladder.topics
        )
        let quarantine = QuarantineStore(writer.database)
        var report = Report()
        var after: Int64 = 0
        while true {
            let page = try await quarantine.quarantinedFrames(
                reason: reason,
                since: since,
                pendingOnly: true,
                afterID: after,
                limit: 500
            )
            guard let last = page.last else { break }
            after = last.id
            for frame in page {
                let (outcome, detail) = try await replay(frame, registry: &registry)
                try await quarantine.recordReplay(id: frame.id, outcome: outcome, detail: detail, at: now)
                report.outcomes[outcome, default: 0] += 1
            }
        }
        return report
    }

    /// Replays one frame; the layouts a stored full frame carried are remembered, so a compact frame later in the
    /// same run decodes with them.
    private func replay(_ frame: QuarantinedFrame, registry: inout MeterRegistry) async throws -> (String, String?) {
        if Self.notReplayable.contains(QuarantineReason(rawValue: frame.reason)) {
            return ("not_replayable", "the row holds only part of the frame")
        }
        var batch = SinkBatch()
        let topic = Array(frame.topic.utf8)
        let admission = topic.withUnsafeBytes { topic in
            frame.payload.withUnsafeBytes { payload in
                ladder.admit(
                    topic: topic,
                    payload: payload,
                    receivedAt: frame.receivedAt,
                    registry: registry,
                    into: &batch
                )
            }
        }
        switch admission.verdict {
        case .quarantined(let reason):
            return ("quarantined:\(reason.rawValue)", batch.quarantine.first?.detail)
        case .admitted:
            let summary = try await writer.write(batch)
            registry.formats.remember(batch.formatLayouts)
            if !summary.replayedGates.isEmpty {
                return (
                    "quarantined:\(QuarantineReason.replayed.rawValue)",
                    "its authenticated counter is at or below the meter's high-water mark (see `meters reset-counter`)"
                )
            }
            return (summary.duplicateGates.isEmpty ? "stored" : "duplicate", nil)
        }
    }
}

extension MeterRegistry {
    /// Loads every protocol's registered meters and the collectors they are assigned to.
    /// - Parameters:
    ///   - meters: The meter store.
    ///   - topics: The topic scheme (native downlink topics are built once here).
    ///   - layouts: Where the M-Bus record layouts for compact frames are stored; `nil` loads none.
    ///   - onSkipped: Called with a protocol and how many of its meters have an unusable address or key.
    /// - Returns: The registry.
    static func load(
        from meters: MeterStore,
        layouts: FormatLayoutStore? = nil,
        topics: TopicScheme,
        onSkipped: (FrameProtocol, Int) -> Void = { _, _ in }
    ) async throws -> MeterRegistry {
        var registry = MeterRegistry()
        for frameProtocol in FrameProtocol.allCases {
            let loaded = try await meters.loadMeters(protocol: frameProtocol).map {
                MeterRegistry.Meter(id: $0.id, address: $0.address, aesKey: $0.aesKey, minProtection: $0.minProtection)
            }
            let skipped = registry.replace(frameProtocol, with: loaded, topics: topics)
            if skipped > 0 { onSkipped(frameProtocol, skipped) }
        }
        registry.collectors = CollectorAssignments(try await meters.loadCollectorAssignments())
        if let layouts { registry.formats = try await layouts.loadBook() }
        return registry
    }
}

import Foundation

/// What a fault-campaign publisher sent in one phase: the fleet's own record, which `faults check` compares with
/// the database. Written as JSON to `<records>/<phase>-<name>.frames.json`.
struct FaultRecord: Codable, Sendable {
    /// The phase the frames belong to.
    var phase: Int
    /// The frames, one entry per distinct topic and payload (repeats are counted, not listed).
    var frames: [SentFrame]
}

/// One distinct frame a campaign publisher sent (possibly several times).
struct SentFrame: Codable, Sendable {
    /// What the frame is: `reading`, `alarm`, `random`, `truncated`, `oversize`, `bitflip`, `mismatch`,
    /// `unassigned_collector`, `replay`, `counter_replay`.
    var kind: String
    /// The MQTT topic.
    var topic: String
    /// The payload in hex; for an oversized payload only its first 64 bytes (what the gateway keeps).
    var hex: String
    /// The payload's size in bytes.
    var size: Int
    /// ``FrameFingerprint`` of the whole payload, as `frame_identities.fingerprint` stores it.
    var fingerprint: Int64
    /// The registry protocol and address of the meter the frame must be stored under, when it must be stored.
    var meterProtocol: String?
    var meterAddress: String?
    /// `stored`, `quarantine:<reason>`, or `quarantine:*` (any reason, as long as it is not stored).
    var expect: String
    /// The alarm condition the frame raises when stored, if any.
    var alarm: String?
    /// How often it was published, and how often the broker acknowledged the publish (PUBACK).
    var deliveries: Int
    var confirmed: Int
    /// Whether one of the deliveries carried the retain flag.
    var retained: Bool
    /// When it was first and last published (Unix seconds).
    var firstSentAt: Double
    var lastSentAt: Double

    /// Whether the frame must be stored (as opposed to quarantined).
    var mustBeStored: Bool { expect == "stored" }

    /// The quarantine reason expected, `*` for any, nil when the frame must be stored.
    var expectedReason: String? {
        expect.hasPrefix("quarantine:") ? String(expect.dropFirst("quarantine:".count)) : nil
    }
}

/// Facts the campaign script records about a phase in `<records>/<phase>.events`, one `key=value` per line:
/// `name`, `recover` (seconds until /readyz answered 200 again; may repeat), `window` (a documented broker loss
/// window: `<name> <start> <end>` in Unix seconds), `note`, `skipped` (why the fault was not injected),
/// `peak_rss_kb`, `kills` (gateway deaths inside the phase, which allow quarantine repeat counts above deliveries).
struct PhaseEvents: Sendable {
    /// A documented window in which the broker may drop frames.
    struct Window: Sendable {
        var name: String
        var start: Double
        var end: Double
    }

    var name = ""
    var recoverSeconds: [Double] = []
    var windows: [Window] = []
    var notes: [String] = []
    var skipped: String?
    var peakRSSKilobytes: Int?
    var nativeMeters = 0
    var kills = 0

    /// Reads an events file; a missing file gives empty events.
    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "name": name = value
            case "recover": if let seconds = Double(value) { recoverSeconds.append(seconds) }
            case "window":
                let parts = value.split(separator: " ")
                if parts.count == 3, let start = Double(parts[1]), let end = Double(parts[2]) {
                    windows.append(Window(name: String(parts[0]), start: start, end: end))
                }
            case "note": notes.append(value)
            case "skipped": skipped = value
            case "peak_rss_kb": peakRSSKilobytes = Int(value)
            case "native_meters": nativeMeters = Int(value) ?? 0
            case "kills": kills += Int(value) ?? 0
            default: notes.append("\(key)=\(value)")
            }
        }
    }

    /// The window a frame published at `time` falls in, if any.
    func window(containing time: Double) -> Window? {
        windows.first { time >= $0.start && time <= $0.end }
    }
}

import Logging
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A swift-log handler that writes one JSON object per line, for log shippers (journald's `MESSAGE`, Vector,
/// Fluent Bit, Loki's promtail): `log.format = "json"`.
///
/// Fields, in this order: `timestamp` (RFC 3339, UTC, microseconds: `2026-12-06T23:01:02.123456Z`), `level`,
/// `label`, `message`, `source` (the module), `error` when the event carries one, then the metadata (the handler's,
/// the metadata provider's, the event's; later wins) as top-level fields sorted by key. A nested dictionary is
/// flattened to dotted keys (`http.request.method`), a list becomes a JSON array of strings. A metadata key equal to
/// one of the fixed fields is written as `metadata.<key>` so that it cannot hide them.
///
/// Strings are escaped as RFC 8259 requires (`"`, `\`, and every control character); other characters, including
/// non-ASCII, are written as UTF-8. Each line is written with one `write(2)` under a lock, so lines of concurrent
/// tasks never interleave.
struct JSONLogHandler: LogHandler {
    /// Where lines go: standard error, or a test's collector.
    let sink: @Sendable (String) -> Void
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    /// The fields every line has; metadata with these keys is renamed.
    static let fixedFields: Set<String> = ["timestamp", "level", "label", "message", "source", "error"]

    /// Creates a handler.
    /// - Parameters:
    ///   - label: The logger's label.
    ///   - sink: Receives each line, newline included.
    init(label: String, sink: @escaping @Sendable (String) -> Void = JSONLogHandler.writeToStandardError) {
        self.label = label
        self.sink = sink
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        sink(Self.line(event: event, label: label, metadata: merged, now: Self.now()))
    }

    /// One line for an event.
    /// - Parameters:
    ///   - event: The event.
    ///   - label: The logger's label.
    ///   - metadata: The merged metadata.
    ///   - now: Seconds and nanoseconds since the epoch.
    /// - Returns: The JSON object and a newline.
    static func line(
        event: LogEvent,
        label: String,
        metadata: Logger.Metadata,
        now: (seconds: Int, nanoseconds: Int)
    ) -> String {
        var out = "{\"timestamp\":\"" + rfc3339(seconds: now.seconds, nanoseconds: now.nanoseconds)
        out += "\",\"level\":\"" + event.level.rawValue + "\",\"label\":"
        appendString(label, to: &out)
        out += ",\"message\":"
        appendString(event.message.description, to: &out)
        out += ",\"source\":"
        appendString(event.source, to: &out)
        if let error = event.error {
            out += ",\"error\":"
            appendString(String(describing: error), to: &out)
        }
        var fields: [(String, Logger.Metadata.Value)] = []
        flatten(metadata, prefix: "", into: &fields)
        for (key, value) in fields.sorted(by: { $0.0 < $1.0 }) {
            out += ","
            appendString(fixedFields.contains(key) ? "metadata." + key : key, to: &out)
            out += ":"
            appendValue(value, to: &out)
        }
        out += "}\n"
        return out
    }

    private static func flatten(
        _ metadata: Logger.Metadata,
        prefix: String,
        into fields: inout [(String, Logger.Metadata.Value)]
    ) {
        for (key, value) in metadata {
            let name = prefix.isEmpty ? key : prefix + "." + key
            if case .dictionary(let nested) = value {
                flatten(nested, prefix: name, into: &fields)
            } else {
                fields.append((name, value))
            }
        }
    }

    private static func appendValue(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let text): appendString(text, to: &out)
        case .stringConvertible(let convertible): appendString(convertible.description, to: &out)
        case .array(let values):
            out += "["
            for (index, element) in values.enumerated() {
                if index > 0 { out += "," }
                appendString(element.description, to: &out)
            }
            out += "]"
        case .dictionary(let nested):
            // Flattened before; reached only inside an array's description.
            appendString(Logger.Metadata.Value.dictionary(nested).description, to: &out)
        }
    }

    /// Appends `text` as a JSON string literal (RFC 8259 §7).
    /// - Parameters:
    ///   - text: The text.
    ///   - out: The line.
    static func appendString(_ text: String, to out: inout String) {
        out.unicodeScalars.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.unicodeScalars.append("\"")
    }

    /// The wall-clock time now: seconds and nanoseconds since the epoch.
    static func now() -> (seconds: Int, nanoseconds: Int) {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return (Int(time.tv_sec), Int(time.tv_nsec))
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC.
    /// - Parameters:
    ///   - seconds: Seconds since the epoch.
    ///   - nanoseconds: The fraction, in nanoseconds.
    /// - Returns: The timestamp.
    static func rfc3339(seconds: Int, nanoseconds: Int) -> String {
        var seconds = time_t(seconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-"
            + pad(Int(parts.tm_mday), 2) + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":"
            + pad(Int(parts.tm_sec), 2) + "." + pad(nanoseconds / 1000, 6) + "Z"
    }

    private static let standardErrorLock = Mutex(())

    /// Writes a line to standard error in one `write(2)` (retrying a partial write) under a lock.
    /// - Parameter line: The line.
    @Sendable static func writeToStandardError(_ line: String) {
        standardErrorLock.withLock { _ in
            var bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { buffer in
                    write(2, buffer.baseAddress! + offset, buffer.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

import Foundation
import Logging
import Synchronization
import Testing

@testable import GatewayApp

/// `log.format = "json"`: every line is one JSON object that parses back to what was logged, whatever the message
/// and metadata hold.
@Suite struct JSONLogHandlerTests {
    /// Collects the handler's lines.
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    private func logger(_ lines: Lines, level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: "json-test") { label in
            var handler = JSONLogHandler(label: label) { lines.append($0) }
            handler.logLevel = level
            return handler
        }
        logger[metadataKey: "gateway.instance"] = "a"
        return logger
    }

    private func object(_ line: String) throws -> [String: Any] {
        #expect(line.hasSuffix("\n"))
        #expect(line.dropLast().contains("\n") == false, "one line per event")
        let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(parsed as? [String: Any])
    }

    @Test func escapesQuotesNewlinesControlsAndKeepsUnicode() throws {
        let lines = Lines()
        let message = "quote \" backslash \\ newline \n tab \t cr \r bell \u{07} nul \u{0} del \u{7F} 燃气表 🔥 é"
        logger(lines).warning(
            "\(message)",
            metadata: [
                "meter.id": "MTR\"1\n",
                "nested": ["a": "1", "b": ["c": "deep"]],
                "list": ["x", "y\"z"],
                "level": "not the level",
                "count": .stringConvertible(42),
            ]
        )
        let line = try #require(lines.all.first)
        let json = try object(line)
        #expect(json["message"] as? String == message)
        #expect(json["level"] as? String == "warning")
        #expect(json["label"] as? String == "json-test")
        #expect(json["source"] as? String == "GatewayAppTests")
        #expect(json["meter.id"] as? String == "MTR\"1\n")
        #expect(json["nested.a"] as? String == "1")
        #expect(json["nested.b.c"] as? String == "deep")
        #expect(json["list"] as? [String] == ["x", "y\"z"])
        #expect(json["metadata.level"] as? String == "not the level")
        #expect(json["count"] as? String == "42")
        #expect(json["gateway.instance"] as? String == "a")
        #expect(!line.contains("\u{07}") && !line.contains("\u{0}"), "control characters are escaped")
        #expect(line.contains("燃气表 🔥"), "non-ASCII is written as UTF-8, not escaped")
    }

    @Test func timestampIsRFC3339WithMicrosecondsInUTC() throws {
        let lines = Lines()
        let before = Date()
        logger(lines).info("tick")
        let after = Date()
        let line = try #require(lines.all.first)
        let stamp = try #require(try object(line)["timestamp"] as? String)
        #expect(stamp.count == 27 && stamp.hasSuffix("Z"))
        let parsed = try Date(stamp, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        #expect(parsed.timeIntervalSince(before) > -0.001 && after.timeIntervalSince(parsed) > -0.001)
        #expect(JSONLogHandler.rfc3339(seconds: 1_790_000_000, nanoseconds: 5_000) == "2026-09-21T14:13:20.000005Z")
    }

    @Test func respectsTheLevelAndTheMetadataProvider() throws {
        let lines = Lines()
        var logger = Logger(label: "json-test") { label in
            var handler = JSONLogHandler(label: label) { lines.append($0) }
            handler.logLevel = .notice
            handler.metadataProvider = Logger.MetadataProvider { ["request.id": "r-1"] }
            return handler
        }
        logger.info("dropped")
        logger.error("kept", metadata: ["request.id": "r-2"])
        logger[metadataKey: "x"] = "y"
        logger.critical("also kept")
        #expect(lines.all.count == 2)
        #expect(try object(lines.all[0])["request.id"] as? String == "r-2")
        #expect(try object(lines.all[1])["request.id"] as? String == "r-1")
        #expect(try object(lines.all[1])["x"] as? String == "y")
    }
}

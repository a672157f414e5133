import Foundation
import GatewayTestSupport
import Testing

/// config/meter-gateway.service: the settings README "Running in production" relies on, checked by systemd's own
/// `systemd-analyze verify` (no warnings: an unknown or misplaced key fails) and `systemd-analyze security`
/// (exposure at most 2.0), which work offline on a unit file without systemd running as init.
@Suite struct SystemdUnitTests {
    private var unit: String {
        get throws { try String(contentsOf: Repository.url("config/meter-gateway.service"), encoding: .utf8) }
    }

    /// `[section] key=value` lines (a key may repeat), comments and blank lines left out.
    private func settings(_ text: String) -> [(section: String, key: String, value: String)] {
        var section = ""
        var result: [(String, String, String)] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            result.append((section, String(line[..<equals]), String(line[line.index(after: equals)...])))
        }
        return result
    }

    @Test func hasTheServiceTypeRestartUserStateAndHardening() throws {
        let service = settings(try unit).filter { $0.section == "Service" }
        func value(_ key: String) -> String? { service.last { $0.key == key }?.value }
        #expect(value("Type") == "notify")
        #expect(value("ExecStart") == "/usr/bin/meter-gateway run")
        #expect(value("Restart") == "on-failure")
        #expect(value("User") == "meter-gateway")
        #expect(value("StateDirectory") == "meter-gateway")
        // The times the README states: the graceful stop, the watchdog, the start timeout and the restart pace.
        #expect(value("TimeoutStopSec") == "60s")
        #expect(value("WatchdogSec") == "30s")
        #expect(value("TimeoutStartSec") == "300s")
        #expect(value("RestartSec") == "2s")
        let unitSection = settings(try unit).filter { $0.section == "Unit" }
        #expect(unitSection.last { $0.key == "StartLimitBurst" }?.value == "10")
        #expect(unitSection.last { $0.key == "StartLimitIntervalSec" }?.value == "300")
        for (key, expected) in [
            ("ProtectSystem", "strict"), ("ProtectHome", "true"), ("PrivateTmp", "true"), ("NoNewPrivileges", "true"),
            ("CapabilityBoundingSet", ""), ("MemoryDenyWriteExecute", "true"),
            ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
        ] {
            #expect(value(key) == expected, "\(key)")
        }
        #expect(service.contains { $0.key == "SystemCallFilter" && $0.value == "@system-service" })
        // The packaged configuration's spool is in the unit's state directory.
        let example = try String(contentsOf: Repository.url("config/meter-gateway.example.toml"), encoding: .utf8)
        #expect(example.contains("directory = \"/var/lib/meter-gateway/spool\""))
        // Every hardening line is explained by a comment above it (its group's).
        let lines = try unit.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("# --- Hardening") })
        var commented = false
        for line in lines[start...] {
            if line.hasPrefix("[") { break }
            if line.hasPrefix("#") {
                commented = true
            } else if line.contains("=") {
                #expect(commented, "no comment explains \(line)")
            } else if line.isEmpty {
                commented = false
            }
        }
    }

    @Test func systemdAnalyzeVerifiesAndRatesTheUnit() throws {
        let analyze = try #require(
            executable("/usr/bin/systemd-analyze", "/bin/systemd-analyze"),
            "systemd-analyze (package systemd; systemd need not run as init)"
        )
        try #require(FileManager.default.isExecutableFile(atPath: Repository.gatewayBinary), "build meter-gateway")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("unit-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // verify checks that ExecStart's program exists: the built binary stands in for /usr/bin/meter-gateway.
        let file = folder.appendingPathComponent("meter-gateway.service")
        try (try unit).replacingOccurrences(of: "/usr/bin/meter-gateway", with: Repository.gatewayBinary)
            .write(to: file, atomically: true, encoding: .utf8)
        let verified = try runProgram(analyze, ["verify", "--man=no", file.path], directory: folder)
        #expect(verified.status == 0)
        #expect(verified.stderr.isEmpty && verified.stdout.isEmpty, "systemd-analyze verify: \(verified.stderr)")
        let rated = try runProgram(
            analyze,
            ["security", "--offline=true", "--threshold=20", "--no-pager", file.path],
            directory: folder
        )
        #expect(rated.status == 0, "exposure above 2.0:\n\(rated.stdout)\(rated.stderr)")
        #expect(rated.stdout.contains("Overall exposure level"))
    }
}

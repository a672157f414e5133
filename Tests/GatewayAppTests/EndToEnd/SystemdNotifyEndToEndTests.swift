import Foundation
import GatewayHTTP
import GatewayTestSupport
import PostgresSink
import Testing

@testable import GatewayApp

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The gateway as systemd runs it, with a real notification socket: `READY=1` only once it is ready (MQTT
/// subscribed, database migrated, HTTP listening: `/readyz` answers 200 when the datagram arrives, and no datagram
/// came while the database was missing), `STOPPING=1` on SIGTERM, then a clean exit. The same run checks what the
/// unit relies on: the configuration from `METER_GATEWAY_CONFIG`, `log.format = "json"` (every line parses), the
/// access log (with the actor, never the token), and `MemoryDenyWriteExecute` (the gateway runs under the kernel's
/// `prctl(PR_SET_MDWE)`, which refuses memory that is writable and executable, as the unit's setting does).
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(2))
)
struct SystemdNotifyEndToEndTests {
    /// A bound unix datagram socket, as systemd's notification socket.
    final class NotifySocket {
        let descriptor: Int32
        let path: String

        init(path: String) throws {
            self.path = path
            descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            try #require(descriptor >= 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            try #require(bytes.count < MemoryLayout.size(ofValue: address.sun_path))
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let bound = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            try #require(bound == 0, "bind \(path): errno \(errno)")
        }

        deinit {
            close(descriptor)
            unlink(path)
        }

        /// Every datagram waiting now.
        func drain() -> [String] {
            var messages: [String] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes {
                    recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
                }
                if count <= 0 { return messages }
                messages.append(String(decoding: buffer[..<count], as: UTF8.self))
            }
        }
    }

    private static let token = "notify-desk-" + String(repeating: "3c", count: 16)

    private func status(_ port: Int, _ path: String, token: String? = nil) async -> Int? {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { return nil }
        var request = URLRequest(url: url)
        request.timeoutInterval = 5
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return nil }
        return (response as? HTTPURLResponse)?.statusCode
    }

    private func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func notifiesReadyOnlyWhenReadyAndStoppingOnSIGTERM() async throws {
        let environment = try IntegrationEnvironment()
        let python = try #require(
            executable("/usr/bin/python3", "/usr/local/bin/python3"),
            "python3 runs the MDWE wrapper"
        )
        let folder = try environment.makeFolder() + "/notify"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Named now, created later: until then the gateway retries its database and is not ready.
        let database = "notify_e2e_\(environment.runID)"
        defer { environment.dropDatabase(database) }
        let port = try freePort()
        let path = try environment.writeConfiguration(in: folder, database: database, clientID: "gw-notify")
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text += """

            [[http.credentials]]
            name = "desk-9"
            roles = ["dispatch"]
            token_sha256 = "\(try Credential.hexDigest(ofToken: Self.token))"
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let notify = try NotifySocket(path: folder + "/notify.sock")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        // PR_SET_MDWE = 65, PR_MDWE_REFUSE_EXEC_GAIN = 1; kept across execve. Exit 99 when the kernel refuses it.
        let wrapper =
            "import ctypes,os,sys\nif ctypes.CDLL(None).prctl(65,1,0,0,0)!=0: sys.exit(99)\n"
            + "os.execv(sys.argv[1], sys.argv[1:])"
        process.arguments = ["-c", wrapper, environment.binary, "run"]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("METER_GATEWAY_") }
            .merging([
                "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000", "METER_GATEWAY_CONFIG": path,
                "METER_GATEWAY_HTTP_ENABLED": "true", "METER_GATEWAY_HTTP_PORT": String(port),
                "METER_GATEWAY_LOG_FORMAT": "json", "METER_GATEWAY_LOG_LEVEL": "info",
            ]) { $1 }
        let log = folder + "/gateway.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        ChildReaper.shared.track(process)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        // Listening, but the database does not exist: not ready, and no READY=1 for 2 s.
        let deadline = ContinuousClock.now + .seconds(60)
        while await status(port, "/healthz") != 200 {
            try #require(process.isRunning, "the gateway exited: \(logText())")
            try #require(ContinuousClock.now < deadline, "the HTTP server did not answer: \(logText())")
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(await status(port, "/readyz") == 503)
        try await Task.sleep(for: .seconds(2))
        var received = notify.drain()
        #expect(!received.contains { $0.contains("READY=1") }, "READY=1 before the database existed")
        #expect(await status(port, "/readyz") == 503)

        // The database appears: READY=1 follows, and the gateway is ready when it arrives.
        let owner = try PostgresConnection.connect(conninfo: environment.baseConninfo)
        _ = try owner.execute("CREATE DATABASE \(database)")
        owner.close()
        while !received.contains(where: { $0.contains("READY=1") }) {
            try #require(process.isRunning, "the gateway exited: \(logText())")
            try #require(ContinuousClock.now < deadline, "no READY=1: \(logText())")
            try await Task.sleep(for: .milliseconds(50))
            received += notify.drain()
        }
        #expect(await status(port, "/readyz") == 200)
        #expect(await status(port, "/dispatch/v1/tickets?limit=1", token: Self.token) == 200)
        // The watchdog (WATCHDOG_USEC = 1 s) is pinged every half second.
        try await Task.sleep(for: .seconds(1.2))
        received += notify.drain()
        #expect(received.filter { $0 == "WATCHDOG=1" }.count >= 2, "\(received)")

        // SIGTERM: STOPPING=1, then a clean exit.
        kill(process.processIdentifier, SIGTERM)
        while !received.contains(where: { $0.hasPrefix("STOPPING=1") }) {
            try #require(ContinuousClock.now < deadline, "no STOPPING=1: \(received)")
            try await Task.sleep(for: .milliseconds(50))
            received += notify.drain()
        }
        while process.isRunning {
            try #require(ContinuousClock.now < deadline, "the gateway did not exit")
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(logText())")

        // Every line of the log is one JSON object.
        let lines = logText().split(separator: "\n")
        var objects: [[String: Any]] = []
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not a JSON line: \(line)")
            if let object { objects.append(object) }
        }
        let read = objects.first { $0["message"] as? String == "configuration read" }
        #expect(read?["config.file"] as? String == path)
        #expect(read?["config.origin"] as? String == "METER_GATEWAY_CONFIG")
        #expect(objects.contains { $0["message"] as? String == "systemd notified: READY=1" })
        let access = objects.filter { $0["message"] as? String == "http access" }
        #expect(access.contains { $0["http.path"] as? String == "/readyz" && $0["http.status"] as? String == "503" })
        let tickets = access.first { $0["http.path"] as? String == "/dispatch/v1/tickets" }
        #expect(tickets?["http.actor"] as? String == "desk-9")
        #expect(tickets?["http.role"] as? String == "dispatch")
        #expect(tickets?["http.status"] as? String == "200")
        #expect((tickets?["http.remote"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect(!logText().contains(Self.token) && !logText().contains("Bearer"), "a token was logged")
    }
}

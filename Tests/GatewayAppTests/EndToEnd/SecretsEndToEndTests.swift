import Foundation
import GatewayCore
import GatewayHTTP
import GatewayTestSupport
import Testing

@testable import PostgresSink

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The built gateway with every secret set, against real servers: a private broker that refuses anonymous clients
/// (mosquitto `password_file`), database roles of `config/postgres-roles.sql` whose logins need their passwords
/// (scram-sha-256 for members of `meter_gateway_password_required`, a rule `scripts/services.sh` writes), a master
/// key sealing the meter keys, and HTTP credentials. No secret may appear in the log, `/metrics`, API error
/// responses or the processes' command lines; each service's role may do its work and no more.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .serialized,
    .timeLimit(.minutes(3))
)
struct SecretsEndToEndTests {
    /// A random secret of `prefix` and 24 hexadecimal digits, unlike anything else in a log.
    private static func secret(_ prefix: String) -> String {
        prefix + (0..<12).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// A loopback port nothing listens on now (the kernel's choice).
    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func program(_ name: String) throws -> String {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let found = (folders + ["/usr/sbin", "/usr/bin"]).map { $0 + "/" + name }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(found, "\(name) is not installed (scripts/services.sh install)")
    }

    private static func write(_ text: String, to path: String, mode: Int = 0o600) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    /// Starts mosquitto on `port` refusing anonymous clients; `user` logs in with `password`, which the test hands
    /// to `mosquitto_passwd -U` in a file (never on a command line).
    private static func startBroker(folder: String, port: Int, user: String, password: String) throws -> Process {
        let passwords = folder + "/mosquitto.passwd"
        // Readable by the broker's own user: as root, mosquitto drops to user mosquitto. It holds a salted hash.
        try write("\(user):\(password)\n", to: passwords, mode: 0o644)
        let hash = Process()
        hash.executableURL = URL(fileURLWithPath: try program("mosquitto_passwd"))
        hash.arguments = ["-U", passwords]
        try hash.run()
        hash.waitUntilExit()
        try #require(hash.terminationStatus == 0, "mosquitto_passwd -U failed")
        try #require(!(try String(contentsOfFile: passwords, encoding: .utf8)).contains(password))
        let configuration = folder + "/mosquitto.conf"
        try write(
            "listener \(port) 127.0.0.1\nallow_anonymous false\npassword_file \(passwords)\npersistence false\n"
                + "log_dest stderr\n",
            to: configuration,
            mode: 0o644
        )
        let broker = Process()
        broker.executableURL = URL(fileURLWithPath: try program("mosquitto"))
        broker.arguments = ["-c", configuration]
        let log = folder + "/mosquitto.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        broker.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try broker.run()
        return broker
    }

    private func request(
        _ port: Int,
        _ path: String,
        method: String = "GET",
        token: String? = nil,
        body: String? = nil
    ) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(path)")))
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body { request.httpBody = Data(body.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = try #require(response as? HTTPURLResponse).statusCode
        return (status, String(decoding: data, as: UTF8.self))
    }

    /// The process's command line, its arguments joined by spaces.
    private static func commandLine(_ pid: Int32) -> String {
        let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    @Test func withEverySecretSetNoneLeaksAndEachRoleIsConfined() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "secrets_e2e")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
        let run = environment.runID

        // Secrets.
        let mqttPassword = Self.secret("mqtt-pw-")
        let rolePasswords = [
            "ingest": Self.secret("ingest-pw-"), "validation": Self.secret("valid-pw-"),
            "http": Self.secret("http-pw-"),
        ]
        let masterKey = Self.secret("") + Self.secret("") + String(repeating: "0", count: 16)
        let tokens = ["billing-feed": Self.secret("billing-token-"), "desk-3": Self.secret("dispatch-token-")]
        let hashes = try tokens.values.map { try Credential.hexDigest(ofToken: $0) }
        let strangerToken = Self.secret("stranger-token-")

        // The owner migrates; the roles of config/postgres-roles.sql get their grants; one login per service.
        let owner = try PostgresConnection.connect(conninfo: environment.conninfo(database))
        defer { owner.close() }
        _ = try owner.migrate()
        try owner.executeScript(
            """
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'meter_gateway_password_required') THEN
                    CREATE ROLE meter_gateway_password_required NOLOGIN;
                END IF;
            END $$;
            """
        )
        try owner.executeScript(
            try String(contentsOf: Repository.url("config/postgres-roles.sql"), encoding: .utf8)
        )
        var conninfos: [String: String] = [:]
        for (service, password) in rolePasswords {
            let login = "gw_\(service)_\(run)"
            try owner.execute(
                "CREATE ROLE \(login) LOGIN PASSWORD '\(password)' "
                    + "IN ROLE meter_gateway_\(service), meter_gateway_password_required"
            )
            conninfos[service] = environment.conninfo(database) + " user=\(login) password=\(password)"
        }
        defer {
            // Roles belong to the server, not the database: drop them over a connection of their own, after the
            // database (which holds their grants).
            environment.dropDatabase(database)
            if let admin = try? PostgresConnection.connect(conninfo: environment.baseConninfo) {
                for service in rolePasswords.keys {
                    _ = try? admin.execute("DROP ROLE IF EXISTS gw_\(service)_\(run)")
                }
                admin.close()
            }
        }
        // The password is required: a wrong one is refused, and the refusal does not echo it.
        let wrongPassword = Self.secret("wrong-pw-")
        let refused = #expect(throws: PostgresError.self) {
            try PostgresConnection.connect(
                conninfo: environment.conninfo(database) + " user=gw_ingest_\(run) password=\(wrongPassword)"
            )
        }
        #expect(refused?.description.contains("password authentication failed") == true)
        #expect(refused.map { !"\($0)\(String(reflecting: $0))".contains(wrongPassword) } == true)

        // Confinement: the HTTP role cannot write readings or their verdicts; the ingest role cannot run a migration.
        let http = try PostgresConnection.connect(conninfo: try #require(conninfos["http"]))
        for statement in [
            "INSERT INTO readings DEFAULT VALUES", "UPDATE reading_verdicts SET quality = 0",
            "INSERT INTO validated_reading_months DEFAULT VALUES",
        ] {
            let denied = #expect(throws: PostgresError.self) { try http.execute(statement) }
            #expect(denied?.sqlState == "42501", "\(statement)")
        }
        http.close()
        let ingest = try PostgresConnection.connect(conninfo: try #require(conninfos["ingest"]))
        for ddl in [Migrations.v13.sql, "CREATE TABLE intruder (id int)"] {
            let denied = #expect(throws: PostgresError.self) { try ingest.executeScript(ddl) }
            #expect(denied?.sqlState == "42501")
        }
        ingest.close()

        // Files and environment: the conninfos in secret files (one relative to $CREDENTIALS_DIRECTORY), one in the
        // environment; the MQTT password and master key in files.
        try Self.write(mqttPassword + "\n", to: folder + "/mqtt-password")
        try Self.write(masterKey + "\n", to: folder + "/master-key")
        // The owner logs in without a password (trusted loopback), but one in its conninfo must not leak either.
        let ownerPassword = Self.secret("owner-pw-")
        try Self.write(environment.conninfo(database) + " password=\(ownerPassword)", to: folder + "/owner-conninfo")
        try Self.write(try #require(conninfos["ingest"]), to: folder + "/ingest-conninfo")
        try Self.write(try #require(conninfos["http"]), to: folder + "/http-conninfo")
        let brokerPort = try Self.freePort()
        let broker = try Self.startBroker(folder: folder, port: brokerPort, user: "gw", password: mqttPassword)
        defer {
            // Not waitUntilExit, which was seen never to return for this child; poll, bounded.
            // SIGKILL: the test process blocks SIGTERM, and its children inherit the mask.
            kill(broker.processIdentifier, SIGKILL)
            let end = Date().addingTimeInterval(5)
            while broker.isRunning && Date() < end { usleep(50_000) }
        }
        let httpPort = try Self.freePort()
        var text = """
            [mqtt]
            host = "127.0.0.1"
            port = \(brokerPort)
            client_id = "gw-secrets-\(run)"
            topic_prefix = "it-\(run)/v1"
            username = "gw"
            password_file = "\(folder)/mqtt-password"
            reconnect_min_ms = 100
            reconnect_max_ms = 1000
            [postgres]
            conninfo_file = "\(folder)/owner-conninfo"
            ingest_conninfo_file = "\(folder)/ingest-conninfo"
            http_conninfo_file = "http-conninfo"
            [meters]
            master_key_file = "\(folder)/master-key"
            [spool]
            directory = "\(folder)/spool"
            [pipeline]
            retry_min_ms = 50
            retry_max_ms = 1000
            [http]
            port = \(httpPort)
            [dispatch]
            valve_close_on_p0 = true
            [validation]
            delay_seconds = 0
            [signatures]
            enabled = false
            [log]
            level = "debug"
            """
        for (name, role) in [("billing-feed", "billing"), ("desk-3", "dispatch")] {
            text += """

                [[http.credentials]]
                name = "\(name)"
                roles = ["\(role)"]
                token_sha256 = "\(try Credential.hexDigest(ofToken: try #require(tokens[name])))"
                """
        }
        let config = folder + "/gateway.toml"
        try Self.write(text, to: config)
        let variables = [
            "CREDENTIALS_DIRECTORY": folder,
            "METER_GATEWAY_POSTGRES_VALIDATION_CONNINFO": try #require(conninfos["validation"]),
        ]

        let fleet = [
            "--config", config, "--meters", "6", "--first-meter-id", "700000001", "--alarm-probability", "0",
        ]
        try await environment.runToCompletion(
            ["simulate", "--provision-only"] + fleet,
            log: folder + "/provision.log",
            environment: variables
        )
        #expect(try owner.query("SELECT count(aes_key), count(aes_key_sealed) FROM meters") == [["0", "6"]])
        let masterBytes = try #require(Hex.decode(masterKey))
        let sealer = try #require(MeterKeySealer(masterKey: masterBytes))
        let session = PostgresSession(conninfo: environment.conninfo(database), logger: testLogger)
        var meterKeys: [[UInt8]] = []
        do {
            meterKeys = try await MeterStore(session, sealer: sealer).loadMeters(protocol: .native).compactMap {
                $0.aesKey
            }
            await session.close()
        } catch {
            await session.close()
            throw error
        }
        #expect(meterKeys.count == 6)

        let gateway = try environment.start(
            ["run", "--config", config],
            log: folder + "/gateway.log",
            environment: variables
        )
        defer { if gateway.process.isRunning { gateway.process.terminate() } }
        let deadline = ContinuousClock.now + .seconds(60)
        // What /readyz says while the gateway is not ready names the failing part; it must not quote a secret.
        var readyz: [String] = []
        while true {
            let answer = try? await request(httpPort, "/readyz")
            if let answer { readyz.append(answer.body) }
            if answer?.status == 200 { break }
            try #require(gateway.process.isRunning, "the gateway stopped:\n\(gateway.logText)")
            try #require(ContinuousClock.now < deadline, "the gateway did not get ready:\n\(gateway.logText)")
            try await Task.sleep(for: .milliseconds(100))
        }
        let simulator = try environment.start(
            ["simulate", "--rate", "20", "--duration", "3", "--drain", "5", "--client-id", "fleet-secrets-\(run)"]
                + fleet,
            log: folder + "/simulator.log",
            captureOutput: true,
            environment: variables
        )
        let simulatorLine = Self.commandLine(simulator.processIdentifier)
        let report = try await environment.waitForReport(simulator)
        #expect(report.framesGenerated > 0 && report.acked == report.framesGenerated)

        // Each service did its work through its own role: ingest stored, validation validated, HTTP read and wrote.
        func count(_ sql: String) throws -> Int { Int(try owner.query(sql).first?.first.flatMap { $0 } ?? "") ?? -1 }
        while try count("SELECT count(*) FROM readings_validated WHERE validated_at IS NOT NULL") == 0 {
            try #require(ContinuousClock.now < deadline, "no reading was validated:\n\(gateway.logText)")
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try count("SELECT count(*) FROM uplink_frames") == report.framesGenerated)
        #expect(try count("SELECT count(*) FROM quarantine") == 0)
        let roles = try owner.query(
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() "
                + "AND application_name = 'meter-gateway' AND usename <> current_user ORDER BY 1"
        ).compactMap { $0.first ?? nil }
        #expect(roles == ["gw_http_\(run)", "gw_ingest_\(run)", "gw_validation_\(run)"].sorted())

        var responses: [String] = []
        let billing = try await request(httpPort, "/billing/v1/daily-reads", token: tokens["billing-feed"])
        #expect(billing.status == 200)
        let tickets = try await request(httpPort, "/dispatch/v1/tickets", token: tokens["desk-3"])
        #expect(tickets.status == 200)
        // A hotline ticket (the HTTP role writes it); P0, so the dispatch service opens the meter's sealed key to
        // MAC the valve-close downlink.
        let hotline = try await request(
            httpPort,
            "/dispatch/v1/tickets",
            method: "POST",
            token: tokens["desk-3"],
            body: #"{"protocol":"native","meter":"700000001","reporter":"caller","note":"smell of gas"}"#
        )
        #expect((200..<300).contains(hotline.status), "\(hotline.body)")
        while try count("SELECT count(*) FROM valve_commands WHERE sent_at IS NOT NULL") == 0 {
            try #require(ContinuousClock.now < deadline, "no valve command was sent:\n\(gateway.logText)")
            try await Task.sleep(for: .milliseconds(200))
        }
        for (path, token, status) in [
            ("/billing/v1/daily-reads", strangerToken, 401),
            ("/billing/v1/daily-reads", try #require(tokens["desk-3"]), 403),
            ("/billing/v1/daily-reads?limit=0", try #require(tokens["billing-feed"]), 400),
        ] {
            let answer = try await request(httpPort, path, token: token)
            #expect(answer.status == status, "\(path): \(answer.body)")
            responses.append(answer.body)
        }
        let metrics = try await request(httpPort, "/metrics")
        #expect(metrics.status == 200)
        let gatewayLine = Self.commandLine(gateway.processIdentifier)
        #expect(gatewayLine.contains("run --config"))

        gateway.process.interrupt()
        await gateway.exited()
        #expect(gateway.terminationStatus == 0)

        // A connection refused for a wrong password, through the command line: the message names no password.
        try Self.write(
            environment.conninfo(database) + " user=gw_http_\(run) password=\(wrongPassword)",
            to: folder + "/wrong-conninfo"
        )
        try Self.write(
            text.replacingOccurrences(of: "conninfo_file = \"\(folder)/owner-conninfo\"\n", with: ""),
            to: config
        )
        let migrate = try environment.start(
            ["migrate", "--config", config],
            log: folder + "/migrate.log",
            environment: variables.merging(["METER_GATEWAY_POSTGRES_CONNINFO_FILE": "wrong-conninfo"]) { $1 }
        )
        await migrate.exited()
        #expect(migrate.terminationStatus != 0)

        var secrets = [mqttPassword, ownerPassword, masterKey, masterKey.uppercased(), wrongPassword, strangerToken]
        secrets += Array(rolePasswords.values)
        secrets += Array(tokens.values)
        secrets += hashes
        for key in meterKeys {
            secrets += [Hex.encode(key), Hex.encode(key).lowercased()]
        }
        let texts = [
            ("gateway log", gateway.logText), ("simulator log", simulator.logText),
            ("provision log", (try? String(contentsOfFile: folder + "/provision.log", encoding: .utf8)) ?? ""),
            ("migrate log", migrate.logText), ("/metrics", metrics.body), ("API errors", responses.joined()),
            ("/readyz", readyz.joined(separator: "\n")),
            ("gateway command line", gatewayLine), ("simulator command line", simulatorLine),
        ]
        #expect(gateway.logText.contains("password authentication failed") == false)
        #expect(migrate.logText.contains("password authentication failed"))
        for (place, text) in texts {
            for secret in secrets {
                #expect(!text.contains(secret), "a secret (\(secret.prefix(6))…) appears in the \(place)")
            }
        }
    }
}

import Foundation
import GatewayHTTP
import GatewayTestSupport
import Logging
import PostgresSink
import ServiceLifecycle
import Synchronization
import Testing

@testable import GatewayApp

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The running gateway's HTTP server takes its credentials (`[[http.credentials]]`) and the outage limit
/// (`dispatch.max_outage_hours`) from the configuration: real requests over a socket to the service group.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(3))
)
struct HTTPRolesEndToEndTests {
    private static func token(_ name: String) -> String { name + "-" + String(repeating: "5a", count: 20) }

    /// A loopback port nothing listens on now (the kernel's choice).
    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
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

    @Test func theRunningGatewayTakesCredentialsAndTheOutageLimitFromItsConfiguration() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "roles_e2e")
        defer { environment.dropDatabase(database) }
        let port = try Self.freePort()
        let path = try environment.writeConfiguration(
            in: try environment.makeFolder(),
            database: database,
            clientID: "gw-roles"
        )
        var text = try String(contentsOfFile: path, encoding: .utf8)
        for (name, role) in [("billing-feed", "billing"), ("desk-3", "dispatch"), ("sup-1", "supervisor")] {
            text += """

                [[http.credentials]]
                name = "\(name)"
                roles = ["\(role)"]
                token_sha256 = "\(try Credential.hexDigest(ofToken: Self.token(name)))"
                """
        }
        let configuration = try GatewayConfiguration.load(
            tomlText: text,
            environment: [
                "METER_GATEWAY_HTTP_ENABLED": "true", "METER_GATEWAY_HTTP_PORT": String(port),
                "METER_GATEWAY_DISPATCH_MAX_OUTAGE_HOURS": "2",
            ]
        )
        let logger = Logger(label: "roles-e2e")
        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            // Generous: a full parallel run can hold the cooperative pool, which serves the server, for tens of seconds.
            let deadline = ContinuousClock.now + .seconds(90)
            while (try? await request(port, "/healthz"))?.status != 200 {
                try #require(ContinuousClock.now < deadline, "the HTTP server did not answer")
                try await Task.sleep(for: .milliseconds(100))
            }
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try #require(ContinuousClock.now < deadline, "the database was not migrated")
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await request(port, "/metrics").status == 200)
            #expect(try await request(port, "/billing/v1/daily-reads").status == 401)
            #expect(try await request(port, "/billing/v1/daily-reads", token: Self.token("billing-feed")).status == 200)
            #expect(try await request(port, "/billing/v1/daily-reads", token: Self.token("desk-3")).status == 403)

            let now = Date().timeIntervalSince1970
            func outage(hours: Double) -> String {
                let format = Date.ISO8601FormatStyle()
                let start = Date(timeIntervalSince1970: (now + 600).rounded()).formatted(format)
                let end = Date(timeIntervalSince1970: (now + 600 + hours * 3600).rounded()).formatted(format)
                return #"{"district":"north","starts_at":"\#(start)","ends_at":"\#(end)","reason":"works"}"#
            }
            let desk = try await request(
                port,
                "/dispatch/v1/outages",
                method: "POST",
                token: Self.token("desk-3"),
                body: outage(hours: 1)
            )
            #expect(desk.status == 403)
            let tooLong = try await request(
                port,
                "/dispatch/v1/outages",
                method: "POST",
                token: Self.token("sup-1"),
                body: outage(hours: 3)
            )
            #expect(tooLong.status == 400)
            #expect(tooLong.body.contains("at most 2 h (dispatch.max_outage_hours)"))
            let announced = try await request(
                port,
                "/dispatch/v1/outages",
                method: "POST",
                token: Self.token("sup-1"),
                body: outage(hours: 1)
            )
            #expect(announced.status == 201)
            let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { db.close() }
            #expect(try db.query("SELECT announced_by FROM planned_outages") == [["sup-1"]])
            await group.triggerGracefulShutdown()
        }
    }
}

import Foundation
import GatewayTestSupport
import Testing

@testable import PostgresSink

/// `sslmode=verify-full` against the private server of `scripts/services.sh`, which serves TLS with the scripts'
/// test CA (`GATEWAY_TEST_TLS_DIR`) and a certificate for `localhost` / `127.0.0.1`.
@Suite(
    .enabled(
        if: ProcessInfo.processInfo.environment["PG_PORT"] != nil && TestCertificates.isAvailable,
        "needs PG_PORT and GATEWAY_TEST_TLS_DIR (scripts/services.sh up)"
    ),
    .timeLimit(.minutes(1))
)
struct PostgresTLSTests {
    private static func conninfo(host: String, rootCertificate: String, extra: String = "") throws -> String {
        let port = try #require(ProcessInfo.processInfo.environment["PG_PORT"])
        return "host=\(host) port=\(port) user=postgres dbname=postgres sslmode=verify-full "
            + "sslrootcert=\(try TestCertificates.path(rootCertificate)) connect_timeout=5 \(extra)"
    }

    @Test func verifyFullWithTheRightCAAndHostConnectsOverTLS() throws {
        for host in ["localhost", "127.0.0.1"] {
            let connection = try PostgresConnection.connect(
                conninfo: try Self.conninfo(host: host, rootCertificate: "ca.pem")
            )
            defer { connection.close() }
            let rows = try connection.query("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            #expect(rows == [["true"]], "the session must be encrypted")
        }
    }

    @Test func verifyFullRefusesAServerSignedByAnotherCA() throws {
        let error = #expect(throws: PostgresError.self) {
            _ = try PostgresConnection.connect(
                conninfo: try Self.conninfo(host: "localhost", rootCertificate: "wrong-ca.pem")
            )
        }
        #expect(error?.code == .connectionFailed)
    }

    @Test func verifyFullRefusesAHostNameTheCertificateDoesNotName() throws {
        // The connection goes to 127.0.0.1 (hostaddr), but libpq checks the certificate against host=.
        let error = #expect(throws: PostgresError.self) {
            _ = try PostgresConnection.connect(
                conninfo: try Self.conninfo(
                    host: "other-host.invalid",
                    rootCertificate: "ca.pem",
                    extra: "hostaddr=127.0.0.1"
                )
            )
        }
        #expect(error?.code == .connectionFailed)
        #expect(error.map { "\($0)" }?.contains("does not match host name") == true)
    }
}

/// Where a conninfo connects and with which `sslmode`, as libpq reads it.
@Suite struct PostgresConnectionTargetTests {
    @Test(
        arguments: [
            ("host=db.example port=5432 dbname=x", [:], ["db.example"], "prefer"),
            ("host=db.example sslmode=verify-full", [:], ["db.example"], "verify-full"),
            ("host=localhost hostaddr=10.0.0.7", [:], ["10.0.0.7"], "prefer"),
            ("host=a.example,b.example hostaddr=,10.0.0.8", [:], ["a.example", "10.0.0.8"], "prefer"),
            ("dbname=x", [:], [""], "prefer"),
            ("dbname=x", ["PGHOST": "env.example", "PGSSLMODE": "require"], ["env.example"], "require"),
            ("host=/var/run/postgresql dbname=x", ["PGHOST": "env.example"], ["/var/run/postgresql"], "prefer"),
            ("postgresql://user@db.example:5433/x?sslmode=disable", [:], ["db.example"], "disable"),
            ("postgresql://%2Fvar%2Frun%2Fpostgresql/x", [:], ["/var/run/postgresql"], "prefer"),
        ] as [(String, [String: String], [String], String)]
    )
    func readsAddressesAndModeLikeLibpq(
        conninfo: String,
        environment: [String: String],
        addresses: [String],
        mode: String
    )
        throws
    {
        let target = try PostgresConnectionTarget.parse(conninfo: conninfo, environment: environment)
        #expect(target.addresses == addresses)
        #expect(target.sslMode == mode)
    }

    @Test func aServiceIsReportedAndAnUnparsableConninfoIsNotQuoted() throws {
        #expect(try PostgresConnectionTarget.parse(conninfo: "service=billing", environment: [:]).service == "billing")
        #expect(
            try PostgresConnectionTarget.parse(conninfo: "dbname=x", environment: ["PGSERVICE": "s"]).service == "s"
        )
        let error = #expect(throws: PostgresError.self) {
            _ = try PostgresConnectionTarget.parse(conninfo: "host=x password='s3cret", environment: [:])
        }
        #expect(error.map { "\($0)" }?.contains("s3cret") == false)
    }
}

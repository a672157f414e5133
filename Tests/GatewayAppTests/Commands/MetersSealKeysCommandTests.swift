import Foundation
import GatewayTestSupport
import PostgresSink
import Testing

/// `meters import` with a master key, `meters seal-keys`, and `run` with a wrong master key, through the built binary
/// against a real database.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"))
struct MetersSealKeysCommandTests {
    private static let keys = ["2B7E151628AED2A6ABF7158809CF4F3C", "000102030405060708090A0B0C0D0E0F"]

    private func command(
        _ environment: IntegrationEnvironment,
        database: String,
        masterKeyFile: String?,
        _ arguments: [String]
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: environment.binary)
        process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("METER_GATEWAY_") }
        // A configuration file names the database itself (a secret is given one way only).
        if !arguments.contains("--config") {
            variables["METER_GATEWAY_POSTGRES_CONNINFO"] = environment.conninfo(database)
        }
        variables["METER_GATEWAY_LOG_LEVEL"] = "info"
        if let masterKeyFile { variables["METER_GATEWAY_METERS_MASTER_KEY_FILE"] = masterKeyFile }
        process.environment = variables
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    private static func keyFile(_ folder: String, _ name: String, _ hex: String) throws -> String {
        let path = folder + "/" + name
        try (hex + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return path
    }

    @Test func plaintextKeysAreSealedOnceAndAWrongMasterKeyStopsTheGatewayNamingTheCount() throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "seal_keys")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        let masterHex = String(repeating: "5c", count: 32)
        let master = try Self.keyFile(folder, "master-key", masterHex)
        let wrongHex = String(repeating: "c5", count: 32)
        let wrong = try Self.keyFile(folder, "wrong-master-key", wrongHex)

        // Imported before a master key existed: plaintext.
        let csv = folder + "/meters.csv"
        try "protocol,address,aes_key\nnative,100000001,\(Self.keys[0])\nnative,100000002,\(Self.keys[1])\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        #expect(
            try command(environment, database: database, masterKeyFile: nil, ["meters", "import", csv]).status == 0
        )
        let connection = try PostgresConnection.connect(conninfo: environment.conninfo(database))
        defer { connection.close() }
        let counts = "SELECT count(aes_key), count(aes_key_sealed) FROM meters"
        #expect(try connection.query(counts) == [["2", "0"]])

        let withoutMaster = try command(environment, database: database, masterKeyFile: nil, ["meters", "seal-keys"])
        #expect(withoutMaster.status == 2)
        #expect(withoutMaster.stderr.contains("meters.master_key_file"))
        let sealed = try command(environment, database: database, masterKeyFile: master, ["meters", "seal-keys"])
        #expect(sealed.status == 0, "\(sealed.stderr)")
        #expect(sealed.stdout.contains("sealed 2 meter keys; 2 sealed, 0 in plaintext"), "\(sealed.stdout)")
        #expect(try connection.query(counts) == [["0", "2"]])
        let again = try command(environment, database: database, masterKeyFile: master, ["meters", "seal-keys"])
        #expect(again.stdout.contains("sealed 0 meter keys; 2 sealed, 0 in plaintext"), "\(again.stdout)")
        // seal-keys with another master key refuses: the keys sealed already do not open with it.
        let other = try command(environment, database: database, masterKeyFile: wrong, ["meters", "seal-keys"])
        #expect(other.status != 0)
        #expect(other.stderr.contains("does not open the sealed keys of 2 of 2 native meters"), "\(other.stderr)")

        // The gateway with the wrong master key stops at start, naming the count and no key.
        let config = try environment.writeConfiguration(in: folder, database: database, clientID: "gw-seal")
        let run = try command(environment, database: database, masterKeyFile: wrong, ["run", "--config", config])
        #expect(run.status != 0)
        #expect(run.stderr.contains("does not open the sealed keys of 2 of 2 native meters"), "\(run.stderr)")
        // Without any master key it stops as well.
        let none = try command(environment, database: database, masterKeyFile: nil, ["run", "--config", config])
        #expect(none.status != 0)
        #expect(none.stderr.contains("2 native meters have sealed keys but no master key is configured"))
        // Changing the master key: a previous key that does not open them changes nothing; the right one re-seals.
        let notOpened = try command(
            environment,
            database: database,
            masterKeyFile: wrong,
            ["meters", "seal-keys", "--previous-master-key-file", wrong]
        )
        #expect(notOpened.status != 0)
        #expect(notOpened.stderr.contains("does not open the sealed keys of 2 of 2 meters; nothing was changed"))
        let rotated = try command(
            environment,
            database: database,
            masterKeyFile: wrong,
            ["meters", "seal-keys", "--previous-master-key-file", master]
        )
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(rotated.stdout.contains("re-sealed 2 meter keys under the new master key"), "\(rotated.stdout)")
        let oldKey = try command(environment, database: database, masterKeyFile: master, ["meters", "seal-keys"])
        #expect(oldKey.stderr.contains("does not open the sealed keys of 2 of 2 native meters"))
        for text in [sealed.stdout, sealed.stderr, other.stderr, run.stdout, run.stderr, none.stderr, rotated.stdout] {
            for secret in Self.keys + [masterHex, wrongHex] {
                #expect(!text.uppercased().contains(secret.uppercased()))
            }
        }
    }
}

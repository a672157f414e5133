import ArgumentParser
import Foundation
import GatewayCore
import Logging
import PostgresSink

struct MetersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meters",
        abstract: "Manage the meter registry.",
        subcommands: [
            MetersImportCommand.self, MetersExpiredCommand.self, MetersTestCommand.self,
            MetersResetCounterCommand.self, MetersCollectorsCommand.self, MetersSealKeysCommand.self,
        ]
    )
}

struct MetersImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load or update meters from a CSV file.",
        discussion: """
            The first line names the columns: protocol and address (required), then any of \
            \(MeterCSV.Column.allCases.dropFirst(2).map(\.rawValue).joined(separator: ", ")). \
            A column left out leaves that field of existing meters unchanged; an empty cell clears it. \
            Every bad row is reported by line and column and none of it is imported; the good rows are imported \
            together in one transaction. With meters.master_key_file configured, keys are stored sealed. Exit status: 0 all rows imported, 1 some rows rejected, 2 nothing imported \
            (bad header, unreadable file, or the database refused the import).
            """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The CSV file.")
    var file: String

    @Flag(name: .long, help: "Check the file and report problems without writing anything.")
    var dryRun = false

    func run() async throws {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            FileHandle.standardError.write(Data("cannot read \(file): \(error.localizedDescription)\n".utf8))
            throw ExitCode(2)
        }
        let parsed = MeterCSV.parse(text)
        for problem in parsed.problems {
            FileHandle.standardError.write(Data("\(file): \(problem)\n".utf8))
        }
        let rejected = parsed.rowCount - parsed.rows.count
        if parsed.rows.isEmpty {
            print("read \(parsed.rowCount) rows: nothing imported, \(rejected) rejected")
            throw ExitCode(parsed.problems.isEmpty ? 0 : 2)
        }
        if dryRun {
            print(
                "read \(parsed.rowCount) rows: \(parsed.rows.count) would be imported, \(rejected) rejected (dry run)"
            )
            if rejected > 0 { throw ExitCode(1) }
            return
        }
        let configuration = try options.load()
        let logger = GatewayLogging.bootstrap(level: configuration.log.level)
        let session = PostgresSession(.gateway(conninfo: configuration.postgres.conninfo), logger: logger)
        let written: Int
        do {
            try await session.connect()
            _ = try await session.migrate()
            written = try await MeterStore(session, sealer: configuration.meters.keySealer)
                .importMeters(parsed.rows.map(\.profile), columns: parsed.columns)
            await session.close()
        } catch {
            await session.close()
            FileHandle.standardError.write(
                Data("the database refused the import, nothing was written: \(error)\n".utf8)
            )
            throw ExitCode(2)
        }
        print("read \(parsed.rowCount) rows: imported \(written) meters, \(rejected) rejected")
        if rejected > 0 { throw ExitCode(1) }
    }
}

struct MetersResetCounterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-counter",
        abstract: "Forget a meter's counter high-water marks after it was given a new key or replaced.",
        discussion: """
            Replay protection refuses every frame whose authenticated counter (native frame counter, OMS mode-7 \
            message counter) is at or below the highest the meter has sent. A meter whose counter restarts (a new \
            key, a replacement, a lost counter) therefore needs this command: it deletes the meter's marks and the \
            identities of its counted frames, in one statement. Import the new key first: frames of the old key \
            then no longer authenticate and cannot be replayed. Exit status 2 when the meter is not registered.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "The meter's protocol.")
    var `protocol`: FrameProtocol

    @Option(name: .long, help: "The meter's address as registered.")
    var address: String

    func run() async throws {
        let configuration = try options.load()
        let logger = GatewayLogging.bootstrap(level: configuration.log.level)
        let session = PostgresSession(.gateway(conninfo: configuration.postgres.conninfo), logger: logger)
        let meters = MeterStore(session, sealer: configuration.meters.keySealer)
        let found: RegisteredMeter?
        var reset = (marks: 0, identities: 0)
        do {
            try await session.connect()
            _ = try await session.migrate()
            found = try await meters.lookupMeter(protocol: self.protocol, address: address)
            if let found { reset = try await meters.resetCounters(meterID: found.id) }
            await session.close()
        } catch {
            await session.close()
            throw error
        }
        guard let meter = found else {
            FileHandle.standardError.write(Data("no \(self.protocol.rawValue) meter \(address) is registered\n".utf8))
            throw ExitCode(2)
        }
        logger.notice(
            "meter counter marks reset",
            metadata: ["meter.id": "\(meter.id)", "marks": "\(reset.marks)", "identities": "\(reset.identities)"]
        )
        print(
            "\(self.protocol.rawValue) meter \(address): forgot \(reset.marks) counter marks and "
                + "\(reset.identities) counter identities"
        )
    }
}

struct MetersSealKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal-keys",
        abstract: "Seal every meter key stored in plaintext with the master key (meters.master_key_file).",
        discussion: """
            Each plaintext key (meters.aes_key) is sealed with AES-256-GCM under the master key, bound to its \
            meter's protocol and address, written to meters.aes_key_sealed and removed from aes_key, all in one \
            transaction. Running it again seals nothing more. Keep the master key file safe and backed up apart \
            from the database: without it the sealed keys cannot be opened and the gateway refuses to start. \
            To change the master key, configure the new one and give the old one with \
            --previous-master-key-file: every sealed key is opened with the old key and sealed with the new one, \
            in the same transaction (nothing changes if the old key does not open them all). \
            Exit status 2 without a master key.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "The master key file the keys are sealed with now, to re-seal them under the new one.")
    var previousMasterKeyFile: String?

    func run() async throws {
        let configuration = try options.load()
        guard let sealer = configuration.meters.keySealer else {
            FileHandle.standardError.write(
                Data("no master key: set meters.master_key_file (see config --example)\n".utf8)
            )
            throw ExitCode(2)
        }
        let logger = GatewayLogging.bootstrap(level: configuration.log.level)
        let session = PostgresSession(.gateway(conninfo: configuration.postgres.conninfo), logger: logger)
        var previous: MeterKeySealer?
        if let previousMasterKeyFile {
            do {
                let bytes = try GatewayConfiguration.Meters.readMasterKey(
                    path: previousMasterKeyFile,
                    environment: ProcessInfo.processInfo.environment
                )
                previous = MeterKeySealer(masterKey: bytes)
            } catch let error as ConfigurationError {
                throw ValidationError("--previous-master-key-file: \(error.problem)")
            }
        }
        let meters = MeterStore(session, sealer: sealer)
        var resealed = 0
        let sealed: Int
        let counts: (plaintext: Int, sealed: Int)
        do {
            try await session.connect()
            _ = try await session.migrate()
            if let previous { resealed = try await meters.resealKeys(from: previous) }
            sealed = try await meters.sealKeys()
            // Every sealed key must open with this master key (a key sealed with another one is reported).
            for frameProtocol in FrameProtocol.allCases { _ = try await meters.loadMeters(protocol: frameProtocol) }
            counts = try await meters.keyCounts()
            await session.close()
        } catch {
            await session.close()
            throw error
        }
        if previousMasterKeyFile != nil { print("re-sealed \(resealed) meter keys under the new master key") }
        print("sealed \(sealed) meter keys; \(counts.sealed) sealed, \(counts.plaintext) in plaintext")
    }
}

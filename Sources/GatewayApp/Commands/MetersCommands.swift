import ArgumentParser
import Foundation
import GatewayCore
import Logging
import PostgresSink
import Synchronization

struct MetersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meters",
        abstract: "Manage the meter registry.",
        subcommands: [
            MetersImportCommand.self, MetersExpiredCommand.self, MetersTestCommand.self,
            MetersResetCounterCommand.self, MetersCollectorsCommand.self, MetersSealKeysCommand.self,
            MetersPlotCommand.self,
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
            Every bad row is reported on standard error by line and column and none of it is imported (a meter \
            named on an earlier line too is reported on its later line); the good rows are imported together in one \
            transaction. The file is read in chunks and written in batches of \(MeterStore.importBatchRows) rows, so \
            memory stays flat however long the file is; a progress line goes to standard error every \
            \(MeterCSVFile.progressEvery) rows and one summary line to standard output at the end. With \
            meters.master_key_file configured, keys are stored sealed. Exit status: 0 all rows imported, 1 some rows \
            rejected, 2 nothing imported (bad header, unreadable file, a record over 1 MiB such as an unclosed \
            quote, or the database refused the import).
            """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The CSV file.")
    var file: String

    @Flag(name: .long, help: "Check the file and report problems without writing anything.")
    var dryRun = false

    func run() async throws {
        let csv: MeterCSVFile
        do {
            csv = try MeterCSVFile(path: file, batchRows: MeterStore.importBatchRows, detectsDuplicates: dryRun)
        } catch {
            FileHandle.standardError.write(Data("cannot read \(file): \(error.localizedDescription)\n".utf8))
            throw ExitCode(2)
        }
        if dryRun {
            _ = try read(csv) { csv in
                var count = 0
                while let batch = try csv.nextBatch() { count += batch.count }
                return count
            }
            let counts = csv.status.counts
            let rejected = counts.rows - counts.passed
            try requireHeader(csv)
            print("read \(counts.rows) rows: \(counts.passed) would be imported, \(rejected) rejected (dry run)")
            if rejected > 0 { throw ExitCode(1) }
            return
        }
        let configuration = try options.load()
        let logger = GatewayLogging.bootstrap(configuration.log)
        let session = PostgresSession(.gateway(conninfo: configuration.postgres.conninfo), logger: logger)
        var summary = MeterImportSummary(written: 0, repeated: 0)
        do {
            try await session.connect()
            _ = try await session.migrate()
            // The header comes first: its columns decide which fields the import sets.
            let first = try read(csv) { try $0.nextBatch() }
            let header = csv.status
            if header.isHeaderValid, let first {
                let firstBatch = Mutex<[(line: Int, profile: MeterProfile)]?>(first)
                let meters = MeterStore(session, sealer: configuration.meters.keySealer)
                summary = try await meters.importMeters(
                    columns: header.columns,
                    next: { try firstBatch.withLock { $0.take() } ?? csv.nextBatch() },
                    repeated: { line, firstLine, profile in
                        csv.report(
                            MeterCSV.Problem(
                                line: line,
                                column: MeterCSV.Column.address.rawValue,
                                message: "meter \(profile.address) already appears on line \(firstLine)"
                            )
                        )
                    }
                )
            }
            await session.close()
        } catch {
            await session.close()
            if error is ExitCode { throw error }
            if error is MeterCSVFile.Aborted || error is MeterCSVFile.ReadFailed {
                try read(csv) { _ -> Void in throw error }
            }
            FileHandle.standardError.write(
                Data("the database refused the import, nothing was written: \(error)\n".utf8)
            )
            throw ExitCode(2)
        }
        try requireHeader(csv)
        let counts = csv.status.counts
        let rejected = counts.rows - counts.passed + summary.repeated
        if counts.passed == 0 {
            print("read \(counts.rows) rows: nothing imported, \(rejected) rejected")
            throw ExitCode(counts.problems == 0 ? 0 : 2)
        }
        print("read \(counts.rows) rows: imported \(summary.written) meters, \(rejected) rejected")
        if rejected > 0 { throw ExitCode(1) }
    }

    /// Runs `body` over the file, turning a read failure or a record too long into exit status 2 (reported).
    private func read<R>(_ csv: MeterCSVFile, _ body: (MeterCSVFile) throws -> R) throws -> R {
        do {
            return try body(csv)
        } catch is MeterCSVFile.Aborted {
            print("read \(csv.status.counts.rows) rows: nothing imported (the file was not read to its end)")
            throw ExitCode(2)
        } catch let error as MeterCSVFile.ReadFailed {
            FileHandle.standardError.write(Data("cannot read \(file): \(error.reason); nothing imported\n".utf8))
            throw ExitCode(2)
        }
    }

    /// Exit status 2 (the problems are reported already) when the header was bad or missing.
    private func requireHeader(_ csv: MeterCSVFile) throws {
        let status = csv.status
        guard !status.isHeaderValid else { return }
        print("read \(status.counts.rows) rows: nothing imported, \(status.counts.rows) rejected")
        throw ExitCode(2)
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
        let logger = GatewayLogging.bootstrap(configuration.log)
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
        let logger = GatewayLogging.bootstrap(configuration.log)
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

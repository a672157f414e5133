import ArgumentParser
import Foundation
import GatewayCore
import Logging
import PostgresSink

struct MetersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meters",
        abstract: "Manage the meter registry.",
        subcommands: [MetersImportCommand.self, MetersExpiredCommand.self, MetersTestCommand.self]
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
            together in one transaction. Exit status: 0 all rows imported, 1 some rows rejected, 2 nothing imported \
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
            written = try await MeterStore(session).importMeters(parsed.rows.map(\.profile), columns: parsed.columns)
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

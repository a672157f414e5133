import ArgumentParser
import Foundation
import GatewayTestSupport
import Testing

@testable import GatewayApp

/// `--version`, closed value sets in `--help`, the `--format` option of every list command.
@Suite struct CommandLineTests {
    /// Runs the built binary without a database.
    private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Repository.gatewayBinary)
        process.arguments = arguments
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

    @Test func versionIsTheNewestChangelogHeadingAndTheBinaryPrintsIt() throws {
        let changelog = try String(contentsOf: Repository.url("Sources/GatewayApp/CHANGELOG.md"), encoding: .utf8)
        let heading = try #require(changelog.split(separator: "\n").first { $0.hasPrefix("## ") })
        let version = heading.dropFirst(3).prefix { $0 != " " }
        #expect(GatewayVersion.current == String(version))
        #expect(GatewayCommand.configuration.version == GatewayVersion.current)
        guard FileManager.default.isExecutableFile(atPath: Repository.gatewayBinary) else { return }
        let printed = try run(["--version"])
        #expect(printed.status == 0)
        #expect(printed.stdout == GatewayVersion.current + "\n")
    }

    /// Every list command, with the arguments it needs to parse.
    static let listCommands: [[String]] = [
        ["tickets", "list"], ["tickets", "outage", "list"], ["tickets", "sla"], ["tickets", "inspections-due"],
        ["review", "list"], ["meters", "expired"], ["meters", "collectors", "list"], ["quarantine", "list"],
    ]

    @Test(arguments: listCommands)
    func listCommandsTakeFormatWithTableByDefault(_ command: [String]) throws {
        let parsed = try GatewayCommand.parseAsRoot(command + ["--format", "json"])
        #expect(String(describing: parsed).contains("OutputOptions(_format: json)"), "\(parsed)")
        let byDefault = try GatewayCommand.parseAsRoot(command)
        #expect(String(describing: byDefault).contains("OutputOptions(_format: table)"), "\(byDefault)")
        #expect(throws: (any Error).self) { try GatewayCommand.parseAsRoot(command + ["--format", "xml"]) }
    }

    /// The help of a subcommand, on one line.
    private func help(_ command: any ParsableCommand.Type) -> String {
        GatewayCommand.helpMessage(for: command, columns: 10_000).split(whereSeparator: \.isWhitespace)
            .joined(separator: " ")
    }

    @Test func helpListsTheValuesOfClosedOptionSets() {
        let expected: [(any ParsableCommand.Type, [String])] = [
            (TicketsListCommand.self, ["values: P0, P1, P2, P3", "values: table, csv, json; default: table"]),
            (QuarantineListCommand.self, ["unknown_meter", "bad_mac", "values: table, csv, json"]),
            (BillingExportCommand.self, ["values: csv, json; default: csv"]),
            (
                ReviewDecideCommand.self,
                [
                    "values: accept, reject", "values: native, cjt188, wmbus, mbus",
                    "values: unspecified, uncorrected, converted;",
                ]
            ),
            (MetersTestCommand.self, ["values: verification, field, dispute"]),
        ]
        for (command, values) in expected {
            let text = help(command)
            for value in values { #expect(text.contains(value), "\(command): \(text)") }
        }
    }
}

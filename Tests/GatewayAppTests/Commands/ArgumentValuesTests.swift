import ArgumentParser
import GatewayCore
import GatewayDomain
import Testing

@testable import GatewayApp

/// Closed option sets are parsed by argument-parser, so a wrong value is refused with the allowed values named.
@Suite struct ArgumentValuesTests {
    /// The message argument-parser prints for `arguments`, which must fail to parse.
    private func parseFailure(_ arguments: [String]) -> String? {
        do {
            _ = try GatewayCommand.parseAsRoot(arguments)
            return nil
        } catch {
            return GatewayCommand.message(for: error)
        }
    }

    @Test(arguments: [
        (["billing", "export", "--format", "xml"], ["'csv'", "'json'"]),
        (["tickets", "list", "--priority", "P9"], ["'P0'", "'P1'", "'P2'", "'P3'"]),
        (
            ["tickets", "hotline", "--protocol", "lora", "--meter", "1", "--reporter", "r", "--actor", "a"],
            ["'native'", "'cjt188'", "'wmbus'", "'mbus'"]
        ),
        (
            ["tickets", "hotline", "--condition", "smoke", "--meter", "1", "--reporter", "r", "--actor", "a"],
            ["gas_smell_reported", "unrecognised_alarm"]
        ),
        (["tickets", "step", "7", "teleported", "--actor", "a"], ["acknowledged", "closed"]),
        (
            [
                "meters", "test", "--protocol", "native", "--meter", "1", "--kind", "guess", "--flow", "2.5",
                "--error", "0.1", "--tester", "t",
            ],
            ["'verification'", "'field'", "'dispute'"]
        ),
        (
            [
                "review", "decide", "maybe", "--protocol", "native", "--meter", "1", "--reviewer", "r", "--reason", "x",
            ],
            ["'accept'", "'reject'"]
        ),
        (
            [
                "review", "decide", "accept", "--protocol", "native", "--meter", "1", "--basis", "dry", "--reviewer",
                "r", "--reason", "x",
            ],
            ["'unspecified'", "'uncorrected'", "'converted'"]
        ),
        (
            [
                "review", "decide", "accept", "--protocol", "native", "--meter", "1", "--kind", "9", "--reviewer", "r",
                "--reason", "x",
            ],
            ["'0'", "'1'", "'2'", "'3'"]
        ),
        (["quarantine", "list", "--reason", "gremlins"], ["unknown_meter", "bad_mac", "database_rejected"]),
    ])
    func anInvalidValueIsRefusedWithTheAllowedValues(arguments: [String], allowed: [String]) throws {
        let message = try #require(parseFailure(arguments), "\(arguments) must not parse")
        #expect(message.contains("is invalid for"), "\(message)")
        for value in allowed {
            #expect(message.contains(value), "\(message) does not name \(value)")
        }
    }

    @Test func validValuesParseIntoTheirTypes() throws {
        let list = try #require(
            try GatewayCommand.parseAsRoot(["tickets", "list", "--priority", "P1"]) as? TicketsListCommand
        )
        #expect(list.priority == .p1)
        let export = try #require(
            try GatewayCommand.parseAsRoot(["billing", "export", "--format", "json"]) as? BillingExportCommand
        )
        #expect(export.format == .json)
        let decide = try #require(
            try GatewayCommand.parseAsRoot([
                "review", "decide", "reject", "--protocol", "wmbus", "--meter", "1", "--basis", "converted", "--kind",
                "1", "--reviewer", "r", "--reason", "x",
            ]) as? ReviewDecideCommand
        )
        #expect(decide.decision == .reject)
        #expect(decide.protocol == .wmbus)
        #expect(decide.basis == .converted)
        #expect(decide.kind == .dailyFrozen)
        let quarantine = try #require(
            try GatewayCommand.parseAsRoot(["quarantine", "list", "--reason", "bad_mac"]) as? QuarantineListCommand
        )
        #expect(quarantine.filter.reason == QuarantineReason(rawValue: "bad_mac"))
    }
}

import ArgumentParser
import Foundation
import GatewayCore
import PostgresSink

struct MetersCollectorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collectors",
        abstract: "Assign meters to the collectors that may forward their frames.",
        discussion: """
            A frame on <prefix>/up/collector/<collector id> is stored only when the meter it names is assigned to \
            that collector; otherwise it is quarantined collector_not_assigned (every protocol). A meter may be \
            assigned to several collectors. Meter topics (<prefix>/up/<protocol>/<address>) need no assignment. \
            A running gateway picks changes up at its next registry reload (every 5 s). \
            The import's collectors column sets a meter's collectors in bulk.
            """,
        subcommands: [
            MetersCollectorsAssignCommand.self, MetersCollectorsUnassignCommand.self, MetersCollectorsListCommand.self,
        ]
    )
}

/// The meter an assign or unassign command names.
struct CollectorMeterOptions: ParsableArguments {
    @Option(name: .long, help: "The meter's protocol.")
    var `protocol`: FrameProtocol

    @Option(name: .long, help: "The meter's address as registered.")
    var address: String

    @Option(name: .long, parsing: .upToNextOption, help: "One or more collector ids.")
    var collector: [String]

    func validate() throws {
        guard !collector.isEmpty else { throw ValidationError("name at least one --collector") }
        if let message = collector.lazy.compactMap(CollectorID.problem).first { throw ValidationError(message) }
    }

    /// Looks the meter up, or exits with status 2 saying it is not registered.
    func meter(in store: MeterStore) async throws -> RegisteredMeter {
        guard let meter = try await store.lookupMeter(protocol: self.protocol, address: address) else {
            FileHandle.standardError.write(Data("no \(self.protocol.rawValue) meter \(address) is registered\n".utf8))
            throw ExitCode(2)
        }
        return meter
    }
}

struct MetersCollectorsAssignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Let collectors forward a meter's frames.",
        discussion: "Exit status 2 when the meter is not registered; assigning twice changes nothing."
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var meter: CollectorMeterOptions

    func run() async throws {
        let added = try await withDatabase(options) { writer in
            let store = MeterStore(writer.database)
            let found = try await meter.meter(in: store)
            return try await store.assignCollectors(meterID: found.id, collectors: meter.collector)
        }
        print(
            "\(meter.protocol.rawValue) meter \(meter.address): assigned to \(meter.collector.joined(separator: ", ")) "
                + "(\(added) new, \(meter.collector.count - added) already assigned)"
        )
    }
}

struct MetersCollectorsUnassignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unassign",
        abstract: "Stop collectors from forwarding a meter's frames.",
        discussion: """
            Exit status 2 when the meter is not registered, 1 when it was assigned to none of the collectors named.
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var meter: CollectorMeterOptions

    func run() async throws {
        let removed = try await withDatabase(options) { writer in
            let store = MeterStore(writer.database)
            let found = try await meter.meter(in: store)
            return try await store.unassignCollectors(meterID: found.id, collectors: meter.collector)
        }
        print(
            "\(meter.protocol.rawValue) meter \(meter.address): unassigned from \(removed) of "
                + "\(meter.collector.count) collectors"
        )
        if removed == 0 {
            FileHandle.standardError.write(Data("the meter was not assigned to any collector named\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct MetersCollectorsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Print assignments: collector, protocol, address.",
        discussion: """
            With --collector, that collector's meters; with --protocol and --address, that meter's collectors; \
            with neither, every assignment. Exit status 2 when the meter named is not registered.
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "Only this collector's meters.")
    var collector: String?

    @Option(name: .long, help: "Only this meter's collectors (with --address).")
    var `protocol`: FrameProtocol?

    @Option(name: .long, help: "Only this meter's collectors (with --protocol).")
    var address: String?

    func validate() throws {
        if let collector, let message = CollectorID.problem(collector) { throw ValidationError(message) }
        guard (self.protocol == nil) == (address == nil) else {
            throw ValidationError("--protocol and --address go together")
        }
    }

    func run() async throws {
        let assignments = try await withDatabase(options) { writer in
            let store = MeterStore(writer.database)
            var meterID: Int64?
            if let frameProtocol = self.protocol, let address {
                guard let meter = try await store.lookupMeter(protocol: frameProtocol, address: address) else {
                    FileHandle.standardError.write(
                        Data("no \(frameProtocol.rawValue) meter \(address) is registered\n".utf8)
                    )
                    throw ExitCode(2)
                }
                meterID = meter.id
            }
            return try await store.collectorAssignments(collector: collector, meterID: meterID)
        }
        var table = CommandTable(columns: ["collector", "protocol", "address"])
        for assignment in assignments {
            table.append([.text(assignment.collector), .text(assignment.protocol.rawValue), .text(assignment.address)])
        }
        print(table.render(output.format), terminator: "")
    }
}

import ArgumentParser
import Foundation
import GatewayCore
import GatewayDomain
import PostgresSink

struct MetersPlotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Write a meter's consumption chart, or a district's balance chart, as SVG to standard output.",
        discussion: """
            The same charts as GET /dispatch/v1/meters/{protocol}/{meter}/consumption.svg and \
            GET /dispatch/v1/districts/{district}/balance.svg. A meter's chart shows the flow of every interval and, \
            per day, the lowest interval flow and the night minimum, over whole days of the billing zone, and marks \
            what the leak signatures found there with their own thresholds ([signatures]): the continuous-flow band, \
            the night-minimum trend, the intervals above the over-flow cut-off, flow with the valve closed. With \
            --ticket the days end with the day that ticket opened, and the chart says what raised it. A district's \
            chart shows its supply meter against the sum of its customers per billing day, with the tolerance band \
            the balance check allows, and marks the days it found a network_leak_suspected. \
            Example: meter-gateway meters plot 00012345 --days 30 > meter.svg. \
            Exit status 2 when the meter, the ticket (of that meter) or the district is not found.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The meter's address as registered (leave out with --district).")
    var meter: String?

    @Option(name: .long, help: "The meter's protocol.")
    var `protocol`: FrameProtocol = .native

    @Option(name: .long, help: "Chart this district's balance instead of a meter.")
    var district: String?

    @Option(name: .long, help: "How many days, ending today (1...366).")
    var days = 30

    @Option(name: .long, help: "Mark what raised this ticket of the meter; the days end with the day it opened.")
    var ticket: Int64?

    func validate() throws {
        guard (1...366).contains(days) else { throw ValidationError("--days must be from 1 to 366") }
        switch (meter, district) {
        case (nil, nil): throw ValidationError("name a meter, or a district with --district")
        case (.some, .some): throw ValidationError("name a meter or --district, not both")
        default: break
        }
        if district != nil, ticket != nil { throw ValidationError("--ticket goes with a meter, not a district") }
    }

    func run() async throws {
        let configuration = try options.load()
        let settings = configuration.chartSignatureSettings
        let svg: String
        do {
            svg = try await withDatabase(configuration: configuration) { database in
                let charts = ChartStore(database.database)
                if let district {
                    return try await charts.districtBalanceChart(
                        district: district,
                        days: days,
                        now: charts.clock(),
                        zone: settings.zone
                    ).svg()
                }
                return try await charts.consumptionChart(
                    meter: (self.protocol, meter ?? ""),
                    days: days,
                    ticketID: ticket,
                    now: charts.clock(),
                    settings: settings
                ).svg()
            }
        } catch let missing as ChartStore.NotFound {
            FileHandle.standardError.write(Data("\(missing.message)\n".utf8))
            throw ExitCode(2)
        }
        FileHandle.standardOutput.write(Data(svg.utf8))
    }
}

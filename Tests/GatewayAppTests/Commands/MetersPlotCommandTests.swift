import Foundation
import GatewayTestSupport
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// `meters plot` through the built binary against a real database: an SVG on standard output (a file that parses as
/// SVG), and a clear error for a meter that is not registered.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"))
struct MetersPlotCommandTests {
    private func command(
        _ environment: IntegrationEnvironment,
        database: String,
        _ arguments: [String],
        stdout path: String? = nil
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: environment.binary)
        process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("METER_GATEWAY_") }
        variables["METER_GATEWAY_POSTGRES_CONNINFO"] = environment.conninfo(database)
        variables["METER_GATEWAY_LOG_LEVEL"] = "warning"
        process.environment = variables
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if let path { try out.write(to: URL(fileURLWithPath: path)) }
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// The root element's name and the `<title>` text of an SVG file, `nil` when it is not well-formed XML.
    private func svgRoot(ofFile path: String) throws -> (root: String, title: String)? {
        final class Delegate: NSObject, XMLParserDelegate {
            var root: String?
            var inTitle = false
            var title = ""
            func parser(
                _ parser: XMLParser,
                didStartElement elementName: String,
                namespaceURI: String?,
                qualifiedName: String?,
                attributes: [String: String] = [:]
            ) {
                if root == nil { root = elementName }
                inTitle = elementName == "title" && title.isEmpty
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) {
                if inTitle { title += string }
            }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?)
            {
                inTitle = false
            }
        }
        let delegate = Delegate()
        let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: path)))
        parser.delegate = delegate
        guard parser.parse(), let root = delegate.root else { return nil }
        return (root, delegate.title)
    }

    @Test func aMetersChartIsWrittenAsSVGAndAnUnknownMeterIsRefused() throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "plot")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        let csv = folder + "/meters.csv"
        try "protocol,address,district\nnative,100000123,north\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let imported = try command(environment, database: database, ["meters", "import", csv])
        try #require(imported.status == 0, "\(imported.stderr)")

        let file = folder + "/meter.svg"
        let plotted = try command(
            environment,
            database: database,
            ["meters", "plot", "100000123", "--days", "14"],
            stdout: file
        )
        #expect(plotted.status == 0, "\(plotted.stderr)")
        let parsed = try #require(try svgRoot(ofFile: file))
        #expect(parsed.root == "svg")
        #expect(parsed.title.hasPrefix("Consumption of meter native 100000123"))
        #expect(parsed.title.hasSuffix("(14 days, UTC)"))
        #expect(plotted.stdout.contains("no interval data"))

        let district = folder + "/district.svg"
        let balance = try command(
            environment,
            database: database,
            ["meters", "plot", "--district", "north"],
            stdout: district
        )
        #expect(balance.status == 0, "\(balance.stderr)")
        #expect(try svgRoot(ofFile: district)?.title.hasPrefix("District north balance") == true)

        let unknown = try command(environment, database: database, ["meters", "plot", "NOPE"])
        #expect(unknown.status == 2)
        #expect(unknown.stdout.isEmpty)
        #expect(unknown.stderr.contains("no native meter NOPE is registered"))

        let neither = try command(environment, database: database, ["meters", "plot"])
        #expect(neither.status == 64)
        #expect(neither.stderr.contains("name a meter, or a district with --district"))
    }
}

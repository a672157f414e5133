import ArgumentParser
import Foundation
import GatewayCore
import GatewayHTTP
import Logging
import PostgresSink

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the gateway until SIGTERM or SIGINT. Migrations are applied at start."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load(requiringSettings: true)
        let logger = GatewayLogging.bootstrap(configuration.log)
        let file = options.file
        logger.info(
            "configuration read",
            metadata: ["config.file": "\(file.path ?? "-")", "config.origin": "\(file.origin)"]
        )
        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        logger.info(
            "meter-gateway starting",
            metadata: [
                "mqtt.broker": "\(configuration.mqtt.host):\(configuration.mqtt.port)",
                "mqtt.client.id": "\(configuration.mqtt.clientID)",
                "spool.directory": "\(configuration.spool.directory)",
            ]
        )
        try await runtime.run(logger: logger)
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the database migrations that are not applied yet, then exit."
    )

    @OptionGroup var options: ConfigOptions

    @Option(
        name: .customLong("to-version"),
        help: ArgumentHelp(
            "Apply migrations only up to this version: a scratch database of an earlier schema (the bench's v16 "
                + "storage comparison). `run` applies the rest at start.",
            valueName: "version"
        )
    )
    var toVersion: Int?

    func run() async throws {
        let configuration = try options.load()
        let logger = GatewayLogging.bootstrap(configuration.log)
        let writer = TelemetryStore(
            conninfo: configuration.postgres.conninfo,
            logger: logger,
            rules: configuration.ticketRules
        )
        try await writer.connect()
        let applied = try await writer.migrate(through: toVersion ?? Int.max)
        await writer.close()
        let versions = applied.map(String.init).joined(separator: ", ")
        print(applied.isEmpty ? "database is up to date" : "applied migrations: \(versions)")
    }
}

import ArgumentParser
import Foundation
import GatewayCore
import Logging

@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meter-gateway",
        abstract:
            "Gas-meter telemetry gateway: MQTT frames → decoded, checked readings, alarms and repair tickets in PostgreSQL.",
        version: GatewayVersion.current,
        subcommands: [
            RunCommand.self, MigrateCommand.self, DecodeCommand.self, SimulateCommand.self, DemoCommand.self,
            ConfigCommand.self, DecodeBenchmarkCommand.self, MetersCommand.self, BillingCommand.self,
            ReviewCommand.self, TicketsCommand.self, QuarantineCommand.self, CredentialsCommand.self,
            FaultsCommand.self, BenchAlarmsCommand.self, ReferenceConsumerCommand.self, StorageCommand.self,
        ]
    )
}

/// Options shared by every command that reads the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (TOML). Environment variables METER_GATEWAY_* override it.")
    var config: String?

    /// Loads and checks the configuration, or exits with a message naming the bad setting.
    func load() throws -> GatewayConfiguration {
        var text: String?
        if let config {
            do {
                text = try String(contentsOfFile: config, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read configuration file \(config): \(error.localizedDescription)")
            }
        }
        do {
            return try GatewayConfiguration.load(tomlText: text, environment: ProcessInfo.processInfo.environment)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
    }
}

/// Sets up logging once per process.
enum GatewayLogging {
    static func bootstrap(level: String) -> Logger {
        let parsed = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
        return Logger(label: "meter-gateway")
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the documented example configuration, or check a configuration file."
    )

    @Flag(name: .long, help: "Print the example configuration with every setting and its default.")
    var example = false

    @OptionGroup var options: ConfigOptions

    func run() throws {
        if example {
            print(GatewayConfiguration.exampleFile(), terminator: "")
            return
        }
        _ = try options.load()
        print("configuration is valid")
    }
}

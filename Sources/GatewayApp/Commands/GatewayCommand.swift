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
            ReviewCommand.self, TicketsCommand.self, ComplaintsCommand.self, QuarantineCommand.self,
            CredentialsCommand.self,
            FaultsCommand.self, BenchAlarmsCommand.self, ReferenceConsumerCommand.self, StorageCommand.self,
        ]
    )
}

/// Options shared by every command that reads the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Configuration file (TOML). Without it: the file named by METER_GATEWAY_CONFIG, else "
                + "\(ConfigurationFile.defaultPath) if it exists. Environment variables METER_GATEWAY_* override it.",
            valueName: "file"
        )
    )
    var config: String?

    /// The file ``load(requiringSettings:)`` reads (see ``ConfigurationFile``).
    var file: ConfigurationFile {
        ConfigurationFile.choose(option: config, environment: ProcessInfo.processInfo.environment) {
            FileManager.default.fileExists(atPath: $0)
        }
    }

    /// Loads and checks the configuration, or exits with a message naming the bad setting.
    /// - Parameter requiringSettings: Refuse when there is no file and no `METER_GATEWAY_*` setting (`run`).
    func load(requiringSettings: Bool = false) throws -> GatewayConfiguration {
        let environment = ProcessInfo.processInfo.environment
        var text: String?
        let file = self.file
        if let path = file.path {
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ValidationError(
                    "cannot read configuration file \(path) (\(file.origin)): \(error.localizedDescription)"
                )
            }
        } else if requiringSettings
            && !environment.keys.contains(where: { $0.hasPrefix("METER_GATEWAY_") })
        {
            throw ValidationError(ConfigurationFile.missingMessage())
        }
        do {
            return try GatewayConfiguration.load(tomlText: text, environment: environment)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
    }
}

/// Sets up logging once per process.
enum GatewayLogging {
    /// Bootstraps swift-log with the `[log]` settings: the level, and `text` (swift-log's stream handler) or `json`
    /// (``JSONLogHandler``) on standard error.
    /// - Parameter log: The `[log]` settings.
    /// - Returns: The gateway's logger.
    static func bootstrap(_ log: GatewayConfiguration.Log) -> Logger {
        let parsed = Logger.Level(rawValue: log.level) ?? .info
        let isJSON = log.format == "json"
        LoggingSystem.bootstrap { label in
            if isJSON {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = parsed
                return handler
            }
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

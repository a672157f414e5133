import ArgumentParser
import Foundation
import PostgresSink

struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Storage upkeep on the schema owner's connection (postgres.conninfo).",
        subcommands: [StorageMaintainCommand.self]
    )
}

struct StorageMaintainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maintain",
        abstract: "Create the monthly partitions ahead, move rows out of DEFAULT, drop partitions past retention.",
        discussion: """
            For readings and interval_days (migration v23): every month from the current one (UTC) to \
            storage.partition_months_ahead later, and every month with rows in the DEFAULT partition, gets a \
            partition (the DEFAULT's rows of that month move into it); partitions wholly older than the current \
            month minus storage.readings_retention_months / storage.interval_days_retention_months are dropped (0 \
            keeps everything). Run it daily from cron or a timer as the schema owner; it is idempotent.
            """
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load()
        let storage = configuration.storage
        let connection = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
        defer { connection.close() }
        let maintenance = PartitionMaintenance(connection: connection, lockTimeoutSeconds: storage.lockTimeoutSeconds)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let today = calendar.dateComponents([.year, .month], from: Date())
        let current = PartitionMonth(year: today.year!, month: today.month!)
        let tables: [(PartitionMaintenance.Table, Int)] = [
            (.readings, storage.readingsRetentionMonths), (.intervalDays, storage.intervalDaysRetentionMonths),
        ]
        for (table, retention) in tables {
            let outcome = try maintenance.maintain(
                table,
                current: current,
                monthsAhead: storage.partitionMonthsAhead,
                retentionMonths: retention
            )
            let created = outcome.created.map {
                "\($0.name) (\($0.movedRows) row\($0.movedRows == 1 ? "" : "s") from DEFAULT)"
            }
            print(
                "\(table.name): created \(created.isEmpty ? "none" : created.joined(separator: ", ")); "
                    + "dropped \(outcome.dropped.isEmpty ? "none" : outcome.dropped.joined(separator: ", "))"
            )
        }
    }
}

import Foundation
public import Logging
public import PostgresSink

/// The server the integration suites use: `GATEWAY_TEST_PG`, a key=value conninfo or URI.
public enum TestServer {
    /// The server's conninfo, or `nil` when the integration suites are off.
    public static var conninfo: String? { ProcessInfo.processInfo.environment["GATEWAY_TEST_PG"] }

    /// Whether `GATEWAY_TEST_PG` is set.
    public static var isAvailable: Bool { conninfo != nil }

    /// `conninfo` pointing at another database (later keywords win in a key=value conninfo).
    /// - Parameter database: The database's name.
    /// - Returns: The server's conninfo with that database.
    public static func conninfo(database: String) -> String {
        let base = conninfo ?? ""
        if base.hasPrefix("postgres://") || base.hasPrefix("postgresql://") {
            return base + (base.contains("?") ? "&" : "?") + "dbname=\(database)"
        }
        return base + " dbname=\(database)"
    }
}

/// A fresh, empty database for one test, dropped afterwards, so tests never see each other's rows.
public struct TestDatabase: Sendable {
    /// The database's generated name (`t_…`).
    public let name: String
    /// A conninfo for it.
    public let conninfo: String

    /// Creates an empty database on ``TestServer``.
    /// - Returns: The new database.
    /// - Throws: ``PostgresError`` when the server refuses.
    public static func create() throws -> TestDatabase {
        let name = "t_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let admin = try PostgresConnection.connect(conninfo: TestServer.conninfo ?? "")
        try admin.execute("CREATE DATABASE \(name)")
        return TestDatabase(name: name, conninfo: TestServer.conninfo(database: name))
    }

    /// Drops the database, closing its connections; errors are ignored.
    public func drop() {
        guard let admin = try? PostgresConnection.connect(conninfo: TestServer.conninfo ?? "") else { return }
        _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// A new connection to the database.
    /// - Returns: The connection.
    /// - Throws: ``PostgresError`` when it cannot connect.
    public func connect() throws -> PostgresConnection {
        try PostgresConnection.connect(conninfo: conninfo)
    }

    /// One text value.
    /// - Parameters:
    ///   - sql: A query returning at least one row and column.
    ///   - parameters: Its `$n` parameters as text.
    /// - Returns: The first column of the first row, or `nil`.
    /// - Throws: ``PostgresError`` when the query fails.
    public func scalar(_ sql: String, _ parameters: [String?] = []) throws -> String? {
        try connect().query(sql, parameters: parameters).first?.first ?? nil
    }

    /// The rows of `table` that match `condition`.
    /// - Parameters:
    ///   - table: The table.
    ///   - condition: An SQL condition.
    /// - Returns: The count, or -1 when it cannot be read.
    /// - Throws: ``PostgresError`` when the query fails.
    public func count(_ table: String, where condition: String = "true") throws -> Int {
        Int(try scalar("SELECT count(*) FROM \(table) WHERE \(condition)") ?? "") ?? -1
    }
}

/// A quiet logger for the store suites (warnings and above).
public let testLogger: Logger = {
    var logger = Logger(label: "PostgresSinkTests")
    logger.logLevel = .warning
    return logger
}()

extension GatewayConfiguration {
    /// `[postgres]`: the database connection.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Postgres: Sendable, Equatable {
        var conninfo = "host=127.0.0.1 port=5432 dbname=meter_gateway user=meter_gateway"
    }
}

extension GatewayConfiguration.Postgres {
    /// The `[postgres]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "postgres",
            key: "conninfo",
            kind: .string(\.postgres.conninfo, isSecret: true, allowed: nil),
            help:
                "libpq connection string. Put the password in PGPASSWORD or ~/.pgpass, or set METER_GATEWAY_POSTGRES_CONNINFO."
        ),
    ]
}

extension GatewayConfiguration {
    /// `[postgres]`: the database connection.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Postgres: Sendable, Equatable {
        var conninfo = "host=127.0.0.1 port=5432 dbname=meter_gateway user=meter_gateway"
        /// Connect off loopback without `sslmode=verify-full`
        /// (see ``GatewayConfiguration/validateTransportSecurity(environment:)``).
        var allowUnverified = false
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
                "libpq connection string. Put the password in PGPASSWORD or ~/.pgpass, or set METER_GATEWAY_POSTGRES_CONNINFO. "
                + "Off loopback write sslmode=verify-full sslrootcert=<CA file> (host= a name in the server's certificate): "
                + "start-up refuses any other sslmode there, libpq's default prefer included, since it checks no certificate."
        ),
        Setting(
            section: "postgres",
            key: "allow_unverified",
            kind: .boolean(\.postgres.allowUnverified),
            help:
                "Start although postgres.conninfo reaches a server off loopback without sslmode=verify-full "
                + "(the server's identity unchecked, with disable or allow not even encrypted). Leave off."
        ),
    ]
}

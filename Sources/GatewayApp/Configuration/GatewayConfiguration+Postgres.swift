extension GatewayConfiguration {
    /// `[postgres]`: the database connections: the owner's (migrations, and every service not given its own) and,
    /// optionally, one per service for separate database roles (`config/postgres-roles.sql`).
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Postgres: Sendable, Equatable {
        var conninfo = "host=127.0.0.1 port=5432 dbname=meter_gateway user=meter_gateway"
        /// Connect off loopback without `sslmode=verify-full`
        /// (see ``GatewayConfiguration/validateTransportSecurity(environment:)``).
        var allowUnverified = false
        var ingestConninfo = ""
        var validationConninfo = ""
        var httpConninfo = ""

        /// The connection of the ingest pipeline (readings, alarms, tickets, quarantine, counter marks).
        var ingest: String { ingestConninfo.isEmpty ? conninfo : ingestConninfo }
        /// The connection of the validation service.
        var validation: String { validationConninfo.isEmpty ? conninfo : validationConninfo }
        /// The connection of the HTTP APIs and the dispatch service (billing reads, review and dispatch events).
        var http: String { httpConninfo.isEmpty ? conninfo : httpConninfo }
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
                "libpq connection string of the schema's owner: migrations, the commands, and every service not given "
                + "a conninfo of its own below. A password may be in it, in PGPASSFILE/~/.pgpass, or in a secret file. "
                + "Off loopback write sslmode=verify-full sslrootcert=<CA file> (host= a name in the server's certificate): "
                + "start-up refuses any other sslmode there, libpq's default prefer included, since it checks no certificate."
        ),
        Setting(
            section: "postgres",
            key: "ingest_conninfo",
            kind: .string(\.postgres.ingestConninfo, isSecret: true, allowed: nil),
            help:
                "Connection of the ingest pipeline (role meter_gateway_ingest of config/postgres-roles.sql); empty: "
                + "postgres.conninfo."
        ),
        Setting(
            section: "postgres",
            key: "validation_conninfo",
            kind: .string(\.postgres.validationConninfo, isSecret: true, allowed: nil),
            help:
                "Connection of the validation service (role meter_gateway_validation); empty: postgres.conninfo."
        ),
        Setting(
            section: "postgres",
            key: "http_conninfo",
            kind: .string(\.postgres.httpConninfo, isSecret: true, allowed: nil),
            help:
                "Connection of the HTTP APIs and the dispatch service (role meter_gateway_http); empty: "
                + "postgres.conninfo."
        ),
        Setting(
            section: "postgres",
            key: "allow_unverified",
            kind: .boolean(\.postgres.allowUnverified),
            help:
                "Start although a postgres conninfo reaches a server off loopback without sslmode=verify-full "
                + "(the server's identity unchecked, with disable or allow not even encrypted). Leave off."
        ),
    ]
}

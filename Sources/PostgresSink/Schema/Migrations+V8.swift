extension Migrations {
    /// v8: no rule inputs in the database. The ticket deadlines and the major-incident thresholds were copied into
    /// `ticket_deadline_settings` and `dispatch_settings` for the ticket SQL to read; the rules now run in Swift
    /// (GatewayDomain `TicketFolding`, `MajorIncidentRule`) from the gateway's configuration, so the copies go: a
    /// table nothing reads would only show a second, possibly stale, truth.
    static let v8 = Migration(
        version: 8,
        name: "ticket rules from the configuration, not from settings tables",
        sql: """
            DROP TABLE ticket_deadline_settings;
            DROP TABLE dispatch_settings;
            """
    )
}

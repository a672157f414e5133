extension Migrations {
    /// v9: planned outages can be cancelled, and both ends are audited. An announced outage silences the
    /// pressure-loss alarms of a district, so who announced it, when and why (`announced_by`, `created_at`, `reason`)
    /// and who called it off, when and why (`cancelled_by`, `cancelled_at`, `cancel_reason`) stay on its row. The
    /// three cancellation columns are set together or not at all; a cancelled outage explains no further alarm.
    static let v9 = Migration(
        version: 9,
        name: "cancellable, audited planned outages",
        sql: """
            ALTER TABLE planned_outages
                ADD COLUMN cancelled_at timestamptz,
                ADD COLUMN cancelled_by text CHECK (cancelled_by <> ''),
                ADD COLUMN cancel_reason text CHECK (cancel_reason <> ''),
                ADD CONSTRAINT planned_outages_cancellation_complete CHECK (
                    (cancelled_at IS NULL) = (cancelled_by IS NULL)
                    AND (cancelled_at IS NULL) = (cancel_reason IS NULL)
                );
            """
    )
}

extension Migrations {
    /// v14: who recorded an inspection, and when. `inspector` is a fact of the visit (who was on site), written as
    /// given; `recorded_by` is the audit: the HTTP credential's name that recorded it, never taken from the request
    /// body. Rows recorded before v14 keep `recorded_by` NULL: nobody knows who sent them.
    static let v14 = Migration(
        version: 14,
        name: "inspections record who recorded them",
        sql: """
            ALTER TABLE inspections
                ADD COLUMN recorded_by text CHECK (recorded_by <> ''),
                ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now();
            """
    )
}

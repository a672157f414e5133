extension Migrations {
    /// v20: `interval_point_flags` as an inlinable SQL function (same results, same refusals).
    ///
    /// The ingest writer codes one flag per staged interval (48 per daily report); as a PL/pgSQL function each was
    /// an interpreter call (~1 µs of PostgreSQL CPU each, measured). The SQL body below is a single expression that
    /// the planner inlines into the writer's statements. The refusals stay in a PL/pgSQL function,
    /// `interval_point_flags_refused`, called only in the branch of a refused combination (it always raises); it is
    /// `VOLATILE` so that the planner never evaluates it ahead of time for constant arguments, and
    /// `interval_point_flags` is `VOLATILE` too, because an `IMMUTABLE` SQL function is not inlined when its body
    /// calls a volatile function. Functions only: no table is touched, no lock beyond the catalog's.
    static let v20 = Migration(
        version: 20,
        name: "interval_point_flags inlinable (SQL) for the ingest writer",
        sql: """
            CREATE FUNCTION interval_point_flags_refused(protection protection_level, key_source text, receipt integer)
            RETURNS smallint LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                IF receipt < 0 OR receipt > 2047 THEN
                    RAISE EXCEPTION 'interval receipt number % is out of range 0...2047', receipt
                        USING ERRCODE = 'numeric_value_out_of_range';
                END IF;
                RAISE EXCEPTION 'interval protection % with key source % is not allowed', protection, key_source
                    USING ERRCODE = 'check_violation';
            END
            $$;

            CREATE OR REPLACE FUNCTION interval_point_flags(protection protection_level, key_source text, receipt integer)
            RETURNS smallint LANGUAGE sql VOLATILE AS $$
                SELECT CASE
                    WHEN NOT ((protection = 'plain' AND (key_source IS NULL OR key_source IN ('meter', 'default')))
                        OR (protection > 'plain' AND key_source = 'meter'))
                        THEN interval_point_flags_refused(protection, key_source, NULL)
                    WHEN receipt < 0 OR receipt > 2047 THEN interval_point_flags_refused(protection, key_source, receipt)
                    -- Parenthesised: PostgreSQL gives | and << the same precedence, left to right.
                    ELSE ((CASE protection WHEN 'plain' THEN 0 WHEN 'encrypted' THEN 1 ELSE 2 END)
                        | (CASE key_source WHEN 'meter' THEN 4 WHEN 'default' THEN 8 ELSE 0 END)
                        | (receipt << 4))::smallint
                END
            $$;
            """
    )
}

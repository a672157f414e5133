extension Migrations {
    /// v15: which key protected a stored reading, interval or alarm (GatewayCore's `KeySource`).
    ///
    /// * `readings`, `interval_readings`, `alarms`: `key_source` text, `meter` or `default`, NULL when no key
    ///   protected the row (`protection = 'plain'` from a plain frame or outside the protected part). Written by the
    ///   binary COPY. `default` means a manufacturer's published default key (`[meters.default_keys]`) opened the
    ///   frame of a meter registered without a key of its own.
    /// * Two CHECKs keep the pair honest: a row above `plain` was protected by the meter's own key
    ///   (`key_source = 'meter'`), and a default key never raises a row above `plain`.
    /// * Old rows: `meter` where `protection` is above `plain` (only a meter's own key could raise it before v15),
    ///   else NULL (no default keys existed).
    static let v15 = Migration(
        version: 15,
        name: "key_source on readings, intervals and alarms (manufacturer default keys)",
        sql: """
            ALTER TABLE readings ADD COLUMN key_source text;
            UPDATE readings SET key_source = 'meter' WHERE protection > 'plain';
            ALTER TABLE readings ADD CONSTRAINT readings_key_source_level CHECK (
                (protection = 'plain' AND (key_source IS NULL OR key_source IN ('meter', 'default')))
                OR (protection > 'plain' AND key_source = 'meter'));

            ALTER TABLE interval_readings ADD COLUMN key_source text;
            UPDATE interval_readings SET key_source = 'meter' WHERE protection > 'plain';
            ALTER TABLE interval_readings ADD CONSTRAINT interval_readings_key_source_level CHECK (
                (protection = 'plain' AND (key_source IS NULL OR key_source IN ('meter', 'default')))
                OR (protection > 'plain' AND key_source = 'meter'));

            ALTER TABLE alarms ADD COLUMN key_source text;
            UPDATE alarms SET key_source = 'meter' WHERE protection > 'plain';
            ALTER TABLE alarms ADD CONSTRAINT alarms_key_source_level CHECK (
                (protection = 'plain' AND (key_source IS NULL OR key_source IN ('meter', 'default')))
                OR (protection > 'plain' AND key_source = 'meter'));
            """
    )
}

extension Migrations {
    /// v11: protection levels (GatewayCore's `ProtectionLevel`) on every stored reading, interval and alarm, on
    /// the days derived from them, and a per-meter minimum.
    ///
    /// * Type `protection_level`: the enum `plain` < `encrypted` < `authenticated` (enum order, so `min()` gives
    ///   the weakest).
    /// * `readings`, `interval_readings`, `alarms`: `protection` NOT NULL, written by the binary COPY. Old rows:
    ///   `authenticated` for native ones (the native decoder stored nothing whose CMAC had not verified; every
    ///   interval row is native), else `plain` (an old M-Bus row's frame security was not recorded, so nothing
    ///   better is known).
    /// * `daily_reads`, `billing_feed`: `protection`, the weakest input the day was derived from. Old rows:
    ///   `authenticated` for native meters, else `plain`, as above.
    /// * `meters.min_protection`: the least a meter's frames must carry, else they are quarantined
    ///   `insufficient_security` (`unencrypted_frame` for a plain frame from a meter requiring `encrypted`). Old
    ///   rows: `encrypted` for a native or M-Bus meter with a key (the behaviour before v11: an unprotected frame
    ///   from a keyed meter was refused), else `plain`. A CHECK refuses minimums the protocol can never reach
    ///   (CJ/T 188 above `plain`, wired M-Bus `authenticated`).
    ///
    /// The columns keep no default: every writer states the level.
    static let v11 = Migration(
        version: 11,
        name: "protection levels on readings, intervals, alarms and days; meters.min_protection",
        sql: """
            CREATE TYPE protection_level AS ENUM ('plain', 'encrypted', 'authenticated');

            ALTER TABLE readings ADD COLUMN protection protection_level NOT NULL DEFAULT 'plain';
            UPDATE readings SET protection = 'authenticated' WHERE source = 'native';
            ALTER TABLE readings ALTER COLUMN protection DROP DEFAULT;

            ALTER TABLE interval_readings ADD COLUMN protection protection_level NOT NULL DEFAULT 'authenticated';
            ALTER TABLE interval_readings ALTER COLUMN protection DROP DEFAULT;

            ALTER TABLE alarms ADD COLUMN protection protection_level NOT NULL DEFAULT 'plain';
            UPDATE alarms SET protection = 'authenticated' WHERE source = 'native';
            ALTER TABLE alarms ALTER COLUMN protection DROP DEFAULT;

            ALTER TABLE daily_reads ADD COLUMN protection protection_level NOT NULL DEFAULT 'plain';
            UPDATE daily_reads d SET protection = 'authenticated'
            FROM meters m WHERE m.id = d.meter_id AND m.protocol = 'native';
            ALTER TABLE daily_reads ALTER COLUMN protection DROP DEFAULT;

            ALTER TABLE billing_feed ADD COLUMN protection protection_level NOT NULL DEFAULT 'plain';
            UPDATE billing_feed f SET protection = 'authenticated'
            FROM meters m WHERE m.id = f.meter_id AND m.protocol = 'native';
            ALTER TABLE billing_feed ALTER COLUMN protection DROP DEFAULT;

            ALTER TABLE meters ADD COLUMN min_protection protection_level NOT NULL DEFAULT 'plain';
            UPDATE meters SET min_protection = 'encrypted'
            WHERE aes_key IS NOT NULL AND protocol IN ('native', 'wmbus', 'mbus');
            ALTER TABLE meters ADD CONSTRAINT meters_min_protection_reachable CHECK (
                NOT (protocol = 'cjt188' AND min_protection <> 'plain')
                AND NOT (protocol = 'mbus' AND min_protection = 'authenticated'));

            CREATE OR REPLACE VIEW billing_daily_reads AS
            SELECT f.seq, m.protocol, m.address AS meter, m.district, f.basis, f.day, f.day_start, f.version,
                f.is_correction,
                f.start_index_ml, f.end_index_ml, f.volume_ml, read_quality_name(f.quality) AS quality, f.reasons,
                f.published_at, f.protection
            FROM billing_feed f JOIN meters m ON m.id = f.meter_id;

            CREATE OR REPLACE VIEW billing_interval_reads AS
            SELECT f.seq, m.protocol, m.address AS meter, f.basis, f.day, f.version, f.is_correction,
                f.day_start + (i.slot - 1) * f.interval_minutes * interval '1 minute' AS interval_start,
                f.interval_minutes, i.volume_ml, i.estimated, f.protection
            FROM billing_feed f
            JOIN meters m ON m.id = f.meter_id
            CROSS JOIN LATERAL unnest(f.intervals_ml, f.intervals_estimated) WITH ORDINALITY AS i (volume_ml, estimated, slot)
            WHERE f.intervals_ml IS NOT NULL;
            """
    )
}

extension Migrations {
    /// v7: one quality coding. `daily_reads.quality` and `billing_feed.quality` become `smallint` with the coding
    /// `readings.quality` has had since v4 (0 valid, 1 estimated, 2 suspect, 3 rejected; ``ReadQuality``'s raw
    /// values), so a reading and a day compare directly.
    ///
    /// * The smaller tables change: `daily_reads` and `billing_feed` hold one row per meter and day, while
    ///   `readings`, the high-volume series, is not rewritten.
    /// * What billing reads stays as it was: `billing_daily_reads` shows the word (`valid`, `estimated`, …) through
    ///   `read_quality_name(smallint)`, which is also there for people querying the tables by hand.
    static let v7 = Migration(
        version: 7,
        name: "one quality coding",
        sql: """
            CREATE FUNCTION read_quality_name(quality smallint) RETURNS text
                LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                AS $$ SELECT (ARRAY['valid', 'estimated', 'suspect', 'rejected'])[quality + 1] $$;

            DROP VIEW billing_daily_reads;
            DROP INDEX daily_reads_quality_idx;
            ALTER TABLE daily_reads DROP CONSTRAINT daily_reads_quality_check;
            ALTER TABLE daily_reads ALTER COLUMN quality TYPE smallint USING (CASE quality
                WHEN 'valid' THEN 0 WHEN 'estimated' THEN 1 WHEN 'suspect' THEN 2 WHEN 'rejected' THEN 3 END);
            ALTER TABLE daily_reads ADD CONSTRAINT daily_reads_quality_check CHECK (quality BETWEEN 0 AND 3);
            CREATE INDEX daily_reads_quality_idx ON daily_reads (quality, day) WHERE quality >= 2;

            ALTER TABLE billing_feed ALTER COLUMN quality TYPE smallint USING (CASE quality
                WHEN 'valid' THEN 0 WHEN 'estimated' THEN 1 WHEN 'suspect' THEN 2 WHEN 'rejected' THEN 3 END);
            ALTER TABLE billing_feed ADD CONSTRAINT billing_feed_quality_check CHECK (quality BETWEEN 0 AND 3);

            -- What billing reads, as before: the quality as a word.
            CREATE VIEW billing_daily_reads AS
            SELECT f.seq, m.protocol, m.address AS meter, m.district, f.basis, f.day, f.day_start, f.version,
                f.is_correction,
                f.start_index_ml, f.end_index_ml, f.volume_ml, read_quality_name(f.quality) AS quality, f.reasons,
                f.published_at
            FROM billing_feed f JOIN meters m ON m.id = f.meter_id;
            """
    )
}

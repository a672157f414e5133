/// SQL that gives stored readings a verdict by hand, the way validation stores one (migrations v25 and v30): the
/// readings join their channel's `validated_reading_months` list, and a verdict other than valid without reasons gets a
/// `reading_verdicts` row (a valid one loses it). Tests use it where they set a quality directly; before v25 they
/// updated `readings.quality`.
public enum ReadingVerdictSQL {
    /// A script giving every billing-channel reading (storage 0, tariff 0) that matches `condition` (SQL over the
    /// columns of `readings`) the verdict `quality` with `reasons` (a `text[]` literal, e.g. `'{spike}'`).
    public static func set(quality: Int, reasons: String = "'{}'", where condition: String) -> String {
        """
        INSERT INTO validated_reading_months AS d (meter_id, basis, month, reads, validated_at)
        SELECT meter_id, basis, date_trunc('month', read_at AT TIME ZONE 'UTC')::date,
            array_agg((extract(epoch FROM read_at) * 1000000)::bigint * 4 + kind ORDER BY read_at, kind), now()
        FROM readings WHERE storage = 0 AND tariff = 0 AND (\(condition))
        GROUP BY 1, 2, 3
        ON CONFLICT (meter_id, basis, month) DO UPDATE
            SET reads = ARRAY(SELECT DISTINCT c FROM unnest(d.reads || excluded.reads) AS c ORDER BY c),
                validated_at = excluded.validated_at;
        DELETE FROM reading_verdicts
        WHERE (meter_id, read_at, kind, basis) IN (
            SELECT meter_id, read_at, kind, basis FROM readings WHERE storage = 0 AND tariff = 0 AND (\(condition)));
        INSERT INTO reading_verdicts (meter_id, read_at, kind, basis, quality, reasons, validated_at)
        SELECT meter_id, read_at, kind, basis, \(quality), \(reasons)::text[], now()
        FROM readings
        WHERE storage = 0 AND tariff = 0 AND (\(condition)) AND (\(quality) <> 0 OR \(reasons)::text[] <> '{}');
        """
    }
}

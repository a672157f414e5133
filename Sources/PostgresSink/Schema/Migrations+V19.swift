extension Migrations {
    /// v19: a reading's verdict can be stored without touching its indexes (HOT updates), and the held (suspect)
    /// readings are listed by a small side table instead of a partial index.
    ///
    /// * Validation updates every reading once or more (`quality`, `reasons`, `validated_at`). `quality` was in the
    ///   predicate of `readings_suspect_idx`, so no such update could be HOT: each added an entry to every index.
    ///   Now no index of `readings` covers a column validation writes, so an update is HOT whenever its page has
    ///   room. The fill factor stays 100: one validation pass updates every reading of a page in one transaction,
    ///   so only a fill factor near 50 would make all of them HOT, and that would keep every page half empty for
    ///   good, whereas at 100 the versions a pass leaves behind are freed by VACUUM and refilled by later readings
    ///   (measured: Schema.md, v19).
    /// * `held_readings` (meter_id, read_at, kind, basis, storage, tariff): exactly the readings whose `quality` is 2
    ///   (suspect, held from billing), kept by row triggers on `readings` whose `WHEN` clause fires only when a row
    ///   enters or leaves quality 2 (the common valid verdict costs one comparison, no trigger call). It serves the
    ///   held-readings list (BillingStore) in (read_at, meter_id) order, as the partial index did.
    /// * `readings_received_at_idx` (btree) becomes `readings_received_at_brin` (BRIN): readings arrive roughly in
    ///   `received_at` order, no statement needs that column's order, and a BRIN is a few pages instead of ~43
    ///   bytes per row.
    /// * Locks: `DROP INDEX` and `CREATE INDEX … USING brin` hold `readings` locked against writes for one sequential
    ///   scan (BRIN builds without sorting); the backfill of `held_readings` reads `readings` once. No table is
    ///   rewritten.
    static let v19 = Migration(
        version: 19,
        name: "HOT-friendly reading verdicts: held_readings instead of the suspect index, BRIN on received_at",
        sql: """
            CREATE TABLE held_readings (
                meter_id bigint NOT NULL,
                read_at timestamptz NOT NULL,
                kind smallint NOT NULL,
                basis smallint NOT NULL,
                storage smallint NOT NULL,
                tariff smallint NOT NULL,
                PRIMARY KEY (meter_id, read_at, kind, basis, storage, tariff)
            );
            CREATE INDEX held_readings_order_idx ON held_readings (read_at, meter_id);

            CREATE FUNCTION held_readings_track() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.quality = 2 THEN
                    DELETE FROM held_readings
                    WHERE meter_id = OLD.meter_id AND read_at = OLD.read_at AND kind = OLD.kind AND basis = OLD.basis
                        AND storage = OLD.storage AND tariff = OLD.tariff;
                END IF;
                IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.quality = 2 THEN
                    INSERT INTO held_readings (meter_id, read_at, kind, basis, storage, tariff)
                    VALUES (NEW.meter_id, NEW.read_at, NEW.kind, NEW.basis, NEW.storage, NEW.tariff)
                    ON CONFLICT DO NOTHING;
                END IF;
                RETURN NULL;
            END
            $$;
            CREATE TRIGGER readings_held_insert AFTER INSERT ON readings
                FOR EACH ROW WHEN (NEW.quality = 2) EXECUTE FUNCTION held_readings_track();
            CREATE TRIGGER readings_held_update AFTER UPDATE ON readings
                FOR EACH ROW WHEN (coalesce(OLD.quality = 2, false) <> coalesce(NEW.quality = 2, false)
                    OR (NEW.quality = 2 AND (OLD.meter_id, OLD.read_at, OLD.kind, OLD.basis, OLD.storage, OLD.tariff)
                        IS DISTINCT FROM (NEW.meter_id, NEW.read_at, NEW.kind, NEW.basis, NEW.storage, NEW.tariff)))
                EXECUTE FUNCTION held_readings_track();
            CREATE TRIGGER readings_held_delete AFTER DELETE ON readings
                FOR EACH ROW WHEN (OLD.quality = 2) EXECUTE FUNCTION held_readings_track();

            INSERT INTO held_readings (meter_id, read_at, kind, basis, storage, tariff)
            SELECT meter_id, read_at, kind, basis, storage, tariff FROM readings WHERE quality = 2;

            DROP INDEX readings_suspect_idx;
            DROP INDEX readings_received_at_idx;
            CREATE INDEX readings_received_at_brin ON readings USING brin (received_at);
            """
    )
}

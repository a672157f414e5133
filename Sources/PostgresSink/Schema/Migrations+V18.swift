extension Migrations {
    /// v18: the registry's change cursor, so that a running gateway reads only the meters changed since its last
    /// read instead of the whole registry.
    ///
    /// * `meters.changed_xid` (`xid8`, indexed): the id of the transaction that last wrote the row, stamped by the
    ///   trigger `meters_stamp_change` on every insert and update, whoever writes (the gateway's tools or plain SQL);
    ///   the same trigger keeps `updated_at` at the time of the last update. A transaction id, not a time, is the
    ///   cursor because a reader's snapshot says exactly which transactions it cannot see yet (all at or above the
    ///   snapshot's `xmin`), whereas a timestamp written by a transaction that commits late would be skipped.
    /// * `meter_tombstones`: one row per meter deleted, or per (protocol, address) a meter left when its address or
    ///   protocol was changed (trigger `meters_record_tombstone`), with its `changed_xid`. Gateways drop these
    ///   identities from memory; rows older than a day are pruned by the gateways.
    /// * Collector assignments: inserting, deleting or updating `collector_meters` rows stamps their meters
    ///   (statement triggers `collector_meters_stamp_*`), so a gateway re-reads a meter's collectors with it.
    /// * `mbus_format_layouts.changed_xid` (indexed, stamped by `mbus_format_layouts_stamp_change`): the layouts
    ///   are read incrementally too.
    ///
    /// Version 17 belongs to another change; versions are applied in order whatever the gaps.
    static let v18 = Migration(
        version: 18,
        name: "registry change cursor: meters.changed_xid, meter_tombstones, change triggers",
        sql: """
            ALTER TABLE meters ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
            CREATE INDEX meters_changed_xid_idx ON meters (changed_xid);

            CREATE FUNCTION meters_stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.changed_xid := pg_current_xact_id();
                IF TG_OP = 'UPDATE' THEN
                    NEW.updated_at := now();
                END IF;
                RETURN NEW;
            END
            $$;
            CREATE TRIGGER meters_stamp_change BEFORE INSERT OR UPDATE ON meters
                FOR EACH ROW EXECUTE FUNCTION meters_stamp_change();

            CREATE TABLE meter_tombstones (
                meter_id bigint NOT NULL,
                protocol text NOT NULL,
                address text NOT NULL,
                changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
                removed_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX meter_tombstones_changed_xid_idx ON meter_tombstones (changed_xid);
            CREATE INDEX meter_tombstones_removed_at_idx ON meter_tombstones (removed_at);

            CREATE FUNCTION meters_record_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE'
                    OR OLD.protocol IS DISTINCT FROM NEW.protocol OR OLD.address IS DISTINCT FROM NEW.address
                THEN
                    INSERT INTO meter_tombstones (meter_id, protocol, address) VALUES (OLD.id, OLD.protocol, OLD.address);
                END IF;
                RETURN NULL;
            END
            $$;
            CREATE TRIGGER meters_record_tombstone AFTER DELETE OR UPDATE OF protocol, address ON meters
                FOR EACH ROW EXECUTE FUNCTION meters_record_tombstone();

            CREATE FUNCTION collector_meters_stamp_meters() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                -- A meter the same transaction wrote already carries its id; it is not updated twice.
                IF TG_OP = 'DELETE' THEN
                    UPDATE meters SET changed_xid = pg_current_xact_id()
                    WHERE id IN (SELECT meter_id FROM changed_old) AND changed_xid <> pg_current_xact_id();
                ELSIF TG_OP = 'INSERT' THEN
                    UPDATE meters SET changed_xid = pg_current_xact_id()
                    WHERE id IN (SELECT meter_id FROM changed_new) AND changed_xid <> pg_current_xact_id();
                ELSE
                    UPDATE meters SET changed_xid = pg_current_xact_id()
                    WHERE id IN (SELECT meter_id FROM changed_old UNION SELECT meter_id FROM changed_new)
                        AND changed_xid <> pg_current_xact_id();
                END IF;
                RETURN NULL;
            END
            $$;
            CREATE TRIGGER collector_meters_stamp_insert AFTER INSERT ON collector_meters
                REFERENCING NEW TABLE AS changed_new
                FOR EACH STATEMENT EXECUTE FUNCTION collector_meters_stamp_meters();
            CREATE TRIGGER collector_meters_stamp_delete AFTER DELETE ON collector_meters
                REFERENCING OLD TABLE AS changed_old
                FOR EACH STATEMENT EXECUTE FUNCTION collector_meters_stamp_meters();
            CREATE TRIGGER collector_meters_stamp_update AFTER UPDATE ON collector_meters
                REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
                FOR EACH STATEMENT EXECUTE FUNCTION collector_meters_stamp_meters();

            ALTER TABLE mbus_format_layouts ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
            CREATE INDEX mbus_format_layouts_changed_xid_idx ON mbus_format_layouts (changed_xid);
            CREATE FUNCTION mbus_format_layouts_stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.changed_xid := pg_current_xact_id();
                RETURN NEW;
            END
            $$;
            CREATE TRIGGER mbus_format_layouts_stamp_change BEFORE INSERT OR UPDATE ON mbus_format_layouts
                FOR EACH ROW EXECUTE FUNCTION mbus_format_layouts_stamp_change();
            """
    )
}

/// One versioned schema change, embedded in the binary (no resource bundle).
///
/// Rules: versions only grow; a published migration's SQL is never edited (add a new one instead); each runs
/// inside the migration transaction, so it must not use statements that refuse to run in a transaction block
/// (`CREATE INDEX CONCURRENTLY`, `VACUUM`).
struct Migration: Sendable {
    let version: Int
    let name: String
    let sql: String
}

/// Every migration, in version order. Versions only grow but may skip a number.
enum Migrations {
    static let all: [Migration] = [
        v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, v16, v17, v18, v19, v20, v23, v24, v25,
        v26, v27, v28, v29, v30,
    ]

    /// Key of the transaction-scoped advisory lock that serialises concurrent `migrate()` calls
    /// (ASCII "mg-migr8").
    static let advisoryLockKey: Int64 = 0x6D67_2D6D_6967_7238

    static let bootstrap = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """

    /// The v1 schema.
    ///
    /// Design notes:
    /// * Telemetry tables (`readings`, `interval_readings`, `uplink_frames`, `alarms`, `quarantine`) carry no
    ///   CHECK constraints on measured values: a constraint that rejects one row aborts the whole batch and
    ///   blocks the pipeline. Tables the gateway itself governs (`meters`, tickets) do carry them.
    /// * `readings` and `interval_readings` (the high-volume series) have no foreign key to `meters`: the
    ///   per-row RI trigger would cost more than the insert. `uplink_frames`, `alarms` and `repair_tickets` do.
    /// * Every table has a natural key; the writer inserts with `ON CONFLICT DO NOTHING` and records a
    ///   different value under an existing key in `value_conflicts`.
    static let v1 = Migration(
        version: 1,
        name: "initial schema",
        sql: """
            CREATE TABLE meters (
                id bigserial PRIMARY KEY,
                protocol text NOT NULL CHECK (protocol IN ('native', 'cjt188', 'wmbus', 'mbus')),
                address text NOT NULL,
                district text,
                is_rural boolean NOT NULL DEFAULT false,
                aes_key bytea CHECK (aes_key IS NULL OR octet_length(aes_key) = 16),
                registered_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (protocol, address)
            );

            CREATE TABLE uplink_frames (
                meter_id bigint NOT NULL REFERENCES meters (id),
                frame_counter bigint NOT NULL,
                frame_type smallint NOT NULL,
                meter_time timestamptz NOT NULL,
                received_at timestamptz NOT NULL,
                PRIMARY KEY (meter_id, frame_counter)
            );

            CREATE TABLE readings (
                meter_id bigint NOT NULL,
                read_at timestamptz NOT NULL,
                kind smallint NOT NULL,
                received_at timestamptz NOT NULL,
                volume_ml bigint NOT NULL,
                register_modulus_ml bigint NOT NULL,
                flow_ml_per_h bigint,
                valve smallint NOT NULL,
                battery_mv integer,
                temperature_centi_c integer,
                signal_dbm integer,
                status_bits bigint NOT NULL,
                frame_counter bigint,
                source text NOT NULL,
                PRIMARY KEY (meter_id, read_at, kind)
            );
            CREATE INDEX readings_received_at_idx ON readings (received_at);

            CREATE TABLE interval_readings (
                meter_id bigint NOT NULL,
                interval_start timestamptz NOT NULL,
                interval_minutes smallint NOT NULL,
                volume_ml bigint NOT NULL,
                end_index_ml bigint NOT NULL,
                received_at timestamptz NOT NULL,
                PRIMARY KEY (meter_id, interval_start)
            );
            CREATE INDEX interval_readings_received_at_brin ON interval_readings USING brin (received_at);

            -- The same natural key arrived with a different value. The first stored value is kept; each
            -- distinct conflicting value is recorded once. kind is the reading kind for series 'reading'
            -- and 0 for series 'interval'.
            CREATE TABLE value_conflicts (
                id bigserial PRIMARY KEY,
                series text NOT NULL CHECK (series IN ('reading', 'interval')),
                meter_id bigint NOT NULL,
                at timestamptz NOT NULL,
                kind smallint NOT NULL DEFAULT 0,
                stored_volume_ml bigint NOT NULL,
                conflicting_volume_ml bigint NOT NULL,
                received_at timestamptz NOT NULL,
                detected_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (series, meter_id, at, kind, conflicting_volume_ml)
            );

            CREATE TABLE alarms (
                id bigserial PRIMARY KEY,
                meter_id bigint NOT NULL REFERENCES meters (id),
                raised_at timestamptz NOT NULL,
                received_at timestamptz NOT NULL,
                source text NOT NULL,
                raw_code integer NOT NULL,
                condition text NOT NULL,
                is_cleared boolean NOT NULL,
                priority text NOT NULL,
                valve smallint NOT NULL,
                detail bigint NOT NULL,
                frame_counter bigint,
                UNIQUE (meter_id, raised_at, raw_code, is_cleared)
            );
            -- Lookups by meter use the unique index (meter_id, raised_at, ...); the dispatch feed reads by arrival.
            CREATE INDEX alarms_received_at_idx ON alarms (received_at);

            CREATE TABLE quarantine (
                id bigserial PRIMARY KEY,
                received_at timestamptz NOT NULL,
                topic text NOT NULL,
                payload bytea NOT NULL,
                payload_hash bigint NOT NULL,
                reason text NOT NULL,
                detail text NOT NULL,
                source text,
                meter_address text,
                replayed_at timestamptz,
                UNIQUE (received_at, payload_hash)
            );
            CREATE INDEX quarantine_reason_idx ON quarantine (reason, received_at);
            CREATE INDEX quarantine_pending_idx ON quarantine (received_at) WHERE replayed_at IS NULL;

            -- Seconds from a ticket's opening alarm to each deadline. Seeded with the service-commitment
            -- defaults; PostgresWriter.syncTicketPolicy overwrites them from the configured TicketPolicy.
            CREATE TABLE ticket_deadline_settings (
                priority text NOT NULL CHECK (priority IN ('P0', 'P1', 'P2', 'P3')),
                is_rural boolean NOT NULL,
                acknowledge_s bigint NOT NULL CHECK (acknowledge_s >= 0),
                arrive_s bigint NOT NULL CHECK (arrive_s >= 0),
                make_safe_s bigint NOT NULL CHECK (make_safe_s >= 0),
                repair_s bigint NOT NULL CHECK (repair_s >= 0),
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (priority, is_rural)
            );
            INSERT INTO ticket_deadline_settings (priority, is_rural, acknowledge_s, arrive_s, make_safe_s, repair_s)
            VALUES
                ('P0', false, 300, 1800, 21600, 86400),
                ('P0', true, 300, 3600, 21600, 86400),
                ('P1', false, 900, 7200, 21600, 86400),
                ('P1', true, 900, 7200, 21600, 86400),
                ('P2', false, 3600, 86400, 86400, 86400),
                ('P2', true, 3600, 86400, 86400, 86400),
                ('P3', false, 14400, 259200, 259200, 259200),
                ('P3', true, 14400, 259200, 259200, 259200);

            CREATE TABLE repair_tickets (
                id bigserial PRIMARY KEY,
                meter_id bigint NOT NULL REFERENCES meters (id),
                condition text NOT NULL,
                priority text NOT NULL CHECK (priority IN ('P0', 'P1', 'P2', 'P3')),
                status text NOT NULL DEFAULT 'open' CHECK (status IN (
                    'open', 'acknowledged', 'dispatched', 'on_site', 'made_safe', 'resolved', 'follow_up_done',
                    'closed')),
                opened_at timestamptz NOT NULL,
                first_alarm_id bigint REFERENCES alarms (id),
                last_alarm_at timestamptz NOT NULL,
                alarm_count integer NOT NULL DEFAULT 1,
                acknowledge_by timestamptz,
                arrive_by timestamptz,
                make_safe_by timestamptz,
                repair_by timestamptz,
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            -- Exactly one active ticket per meter and condition, whatever the number of writers.
            CREATE UNIQUE INDEX repair_tickets_one_active_idx ON repair_tickets (meter_id, condition)
                WHERE status IN ('open', 'acknowledged', 'dispatched', 'on_site', 'made_safe');
            CREATE INDEX repair_tickets_status_priority_idx ON repair_tickets (status, priority, opened_at);
            CREATE INDEX repair_tickets_meter_idx ON repair_tickets (meter_id, opened_at);

            CREATE TABLE ticket_events (
                id bigserial PRIMARY KEY,
                ticket_id bigint NOT NULL REFERENCES repair_tickets (id),
                at timestamptz NOT NULL,
                kind text NOT NULL CHECK (kind IN (
                    'opened', 'alarm', 'alarm_cleared', 'priority_raised', 'acknowledged', 'dispatched', 'on_site',
                    'made_safe', 'resolved', 'follow_up_done', 'closed', 'reopened', 'note')),
                actor text NOT NULL,
                alarm_id bigint REFERENCES alarms (id),
                detail text
            );
            CREATE INDEX ticket_events_ticket_idx ON ticket_events (ticket_id, id);
            -- An alarm produces each kind of event at most once (belt and braces: the writer only derives
            -- events from alarms it has just inserted).
            CREATE UNIQUE INDEX ticket_events_alarm_kind_idx ON ticket_events (alarm_id, kind)
                WHERE alarm_id IS NOT NULL;

            -- The advisory-lock key that serialises changes to the active ticket of one meter and condition.
            -- Every writer of repair_tickets (gateway, dispatch API) should take
            -- pg_advisory_xact_lock(ticket_lock_key(meter_id, condition)) before reading and changing it.
            CREATE FUNCTION ticket_lock_key(meter_id bigint, condition text) RETURNS bigint
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                AS $$ SELECT hashtextextended(meter_id::text || '/' || condition, 7411) $$;
            """
    )

    /// v2: readings from CJ/T 188 and M-Bus meters.
    ///
    /// A reading's natural key gains the volume channel (`basis`: 0 not stated, 1 Vm uncorrected, 2 Vb converted),
    /// the protocol's `storage` number and the `tariff` register, so the Vm and Vb registers of one gas meter, its
    /// stored values and tariff registers are separate rows. Existing rows get 0/0/0, which is what they are.
    /// `value_conflicts` records the same three fields.
    static let v2 = Migration(
        version: 2,
        name: "reading channels for CJ/T 188 and M-Bus",
        sql: """
            ALTER TABLE readings
                ADD COLUMN basis smallint NOT NULL DEFAULT 0,
                ADD COLUMN storage smallint NOT NULL DEFAULT 0,
                ADD COLUMN tariff smallint NOT NULL DEFAULT 0;
            ALTER TABLE readings DROP CONSTRAINT readings_pkey;
            ALTER TABLE readings ADD PRIMARY KEY (meter_id, read_at, kind, basis, storage, tariff);

            ALTER TABLE value_conflicts
                ADD COLUMN basis smallint NOT NULL DEFAULT 0,
                ADD COLUMN storage smallint NOT NULL DEFAULT 0,
                ADD COLUMN tariff smallint NOT NULL DEFAULT 0;
            -- v1 left the unique constraint's name to PostgreSQL; find it rather than spell it.
            DO $$
            DECLARE
                name text;
            BEGIN
                SELECT conname INTO STRICT name FROM pg_constraint
                WHERE conrelid = 'value_conflicts'::regclass AND contype = 'u';
                EXECUTE format('ALTER TABLE value_conflicts DROP CONSTRAINT %I', name);
            END
            $$;
            ALTER TABLE value_conflicts ADD CONSTRAINT value_conflicts_natural_key
                UNIQUE (series, meter_id, at, kind, basis, storage, tariff, conflicting_volume_ml);
            """
    )

    /// v3: what validation and ticket rules need to know about each meter (domain rules §1.5 and §3.3).
    ///
    /// Flows are exact millilitres per hour, stored from the nameplate or type record (never derived from the size).
    /// `register_digits` is the number of integer digits of the register (rollover at 10^digits m³).
    static let v3 = Migration(
        version: 3,
        name: "meter registry for validation",
        sql: """
            ALTER TABLE meters
                ADD COLUMN size text CHECK (size IN ('G1.6', 'G2.5', 'G4', 'G6', 'G10', 'G16', 'G25', 'G40', 'G65', 'G100')),
                ADD COLUMN qmin_ml_per_h bigint CHECK (qmin_ml_per_h > 0),
                ADD COLUMN qt_ml_per_h bigint CHECK (qt_ml_per_h > 0),
                ADD COLUMN qmax_ml_per_h bigint CHECK (qmax_ml_per_h > 0),
                ADD COLUMN accuracy_class text CHECK (accuracy_class IN ('0.5', '1.0', '1.5')),
                ADD COLUMN register_digits smallint CHECK (register_digits BETWEEN 1 AND 12),
                ADD COLUMN customer_class text CHECK (customer_class IN ('residential', 'commercial', 'industrial')),
                ADD COLUMN verified_on date,
                ADD COLUMN verification_expires_on date,
                ADD COLUMN continuous_appliance boolean NOT NULL DEFAULT false,
                ADD COLUMN methane_detector_linked boolean NOT NULL DEFAULT false,
                ADD COLUMN mac_key bytea CHECK (mac_key IS NULL OR octet_length(mac_key) = 16),
                ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
                ADD CONSTRAINT meters_flow_order CHECK (
                    (qmin_ml_per_h IS NULL OR qt_ml_per_h IS NULL OR qmin_ml_per_h < qt_ml_per_h)
                    AND (qt_ml_per_h IS NULL OR qmax_ml_per_h IS NULL OR qt_ml_per_h < qmax_ml_per_h)
                    AND (qmin_ml_per_h IS NULL OR qmax_ml_per_h IS NULL OR qmin_ml_per_h < qmax_ml_per_h)),
                ADD CONSTRAINT meters_verification_order CHECK (
                    verified_on IS NULL OR verification_expires_on IS NULL OR verified_on < verification_expires_on);
            CREATE INDEX meters_verification_expires_idx ON meters (verification_expires_on);
            """
    )

    /// v4: validation before billing.
    ///
    /// * `readings.quality` (0 valid, 1 estimated, 2 suspect, 3 rejected; NULL until validated) and `reasons`
    ///   keep each reading's verdict on its row.
    /// * `validation_queue`: meters with new data since `dirty_from`; the ingest transaction upserts it and the
    ///   validator deletes the row when `version` is unchanged.
    /// * `reading_reviews`, `day_reviews`: every reviewer decision (insert-only); the latest per reading or day
    ///   applies, and revalidation keeps it.
    /// * `daily_reads`: the current determinants per meter, volume basis and billing day, with the day's interval
    ///   volumes (actual and estimated) as arrays in slot order.
    /// * `accuracy_tests`: field, dispute and verification results with their verdict against the class MPE.
    /// * `billing_feed`: every publication of a day (first and corrections), in commit order: the validator appends
    ///   under one advisory lock held until commit, so a reader paging by `seq` never misses a row.
    static let v4 = Migration(
        version: 4,
        name: "validation and billing",
        sql: """
            ALTER TABLE readings
                ADD COLUMN quality smallint CHECK (quality BETWEEN 0 AND 3),
                ADD COLUMN reasons text[],
                ADD COLUMN validated_at timestamptz;
            CREATE INDEX readings_suspect_idx ON readings (read_at, meter_id) WHERE quality = 2;

            CREATE TABLE validation_queue (
                meter_id bigint PRIMARY KEY,
                dirty_from timestamptz NOT NULL,
                version bigint NOT NULL DEFAULT 1,
                queued_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX validation_queue_queued_idx ON validation_queue (queued_at);

            CREATE TABLE reading_reviews (
                id bigserial PRIMARY KEY,
                meter_id bigint NOT NULL REFERENCES meters (id),
                read_at timestamptz NOT NULL,
                kind smallint NOT NULL,
                basis smallint NOT NULL,
                decision text NOT NULL CHECK (decision IN ('accept', 'reject')),
                reviewer text NOT NULL CHECK (reviewer <> ''),
                reason text NOT NULL CHECK (reason <> ''),
                reviewed_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX reading_reviews_key_idx ON reading_reviews (meter_id, read_at, kind, basis, id);

            CREATE TABLE day_reviews (
                id bigserial PRIMARY KEY,
                meter_id bigint NOT NULL REFERENCES meters (id),
                basis smallint NOT NULL,
                day date NOT NULL,
                decision text NOT NULL CHECK (decision IN ('accept', 'reject')),
                reviewer text NOT NULL CHECK (reviewer <> ''),
                reason text NOT NULL CHECK (reason <> ''),
                reviewed_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX day_reviews_key_idx ON day_reviews (meter_id, basis, day, id);

            -- Meter-accuracy tests (field, dispute, verification): the error E at a flow point, judged against the
            -- class MPE for the flow band when recorded (the limit applied is kept beside the verdict).
            CREATE TABLE accuracy_tests (
                id bigserial PRIMARY KEY,
                meter_id bigint NOT NULL REFERENCES meters (id),
                tested_on date NOT NULL,
                kind text NOT NULL CHECK (kind IN ('verification', 'field', 'dispute')),
                flow_ml_per_h bigint NOT NULL CHECK (flow_ml_per_h > 0),
                error_bp integer NOT NULL,
                verdict text NOT NULL CHECK (verdict IN ('pass', 'fail', 'out_of_range', 'unknown')),
                band text CHECK (band IN ('low', 'high')),
                limit_bp integer,
                tester text NOT NULL CHECK (tester <> ''),
                note text,
                recorded_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX accuracy_tests_meter_idx ON accuracy_tests (meter_id, tested_on);

            CREATE TABLE daily_reads (
                meter_id bigint NOT NULL REFERENCES meters (id),
                basis smallint NOT NULL,
                day date NOT NULL,
                day_start timestamptz NOT NULL,
                start_index_ml bigint NOT NULL,
                end_index_ml bigint NOT NULL,
                volume_ml bigint NOT NULL,
                quality text NOT NULL CHECK (quality IN ('valid', 'estimated', 'suspect', 'rejected')),
                reasons text[] NOT NULL,
                valve smallint NOT NULL,
                interval_minutes smallint,
                intervals_ml bigint[],
                intervals_estimated boolean[],
                version integer NOT NULL,
                published_version integer NOT NULL DEFAULT 0,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (meter_id, basis, day)
            );
            CREATE INDEX daily_reads_quality_idx ON daily_reads (quality, day) WHERE quality IN ('suspect', 'rejected');

            CREATE TABLE billing_feed (
                seq bigserial PRIMARY KEY,
                meter_id bigint NOT NULL REFERENCES meters (id),
                basis smallint NOT NULL,
                day date NOT NULL,
                day_start timestamptz NOT NULL,
                version integer NOT NULL,
                is_correction boolean NOT NULL,
                start_index_ml bigint NOT NULL,
                end_index_ml bigint NOT NULL,
                volume_ml bigint NOT NULL,
                quality text NOT NULL,
                reasons text[] NOT NULL,
                interval_minutes smallint,
                intervals_ml bigint[],
                intervals_estimated boolean[],
                published_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (meter_id, basis, day, version)
            );

            -- What billing reads: every published day version in feed order, with the meter's identity. Page with
            -- WHERE seq > <last seq seen> ORDER BY seq LIMIT n; a later row for the same meter, basis and day is a
            -- correction that replaces the earlier one.
            CREATE VIEW billing_daily_reads AS
            SELECT f.seq, m.protocol, m.address AS meter, m.district, f.basis, f.day, f.day_start, f.version,
                f.is_correction,
                f.start_index_ml, f.end_index_ml, f.volume_ml, f.quality, f.reasons, f.published_at
            FROM billing_feed f JOIN meters m ON m.id = f.meter_id;

            -- The same feed with the day's intervals one row each.
            CREATE VIEW billing_interval_reads AS
            SELECT f.seq, m.protocol, m.address AS meter, f.basis, f.day, f.version, f.is_correction,
                f.day_start + (i.slot - 1) * f.interval_minutes * interval '1 minute' AS interval_start,
                f.interval_minutes, i.volume_ml, i.estimated
            FROM billing_feed f
            JOIN meters m ON m.id = f.meter_id
            CROSS JOIN LATERAL unnest(f.intervals_ml, f.intervals_estimated) WITH ORDINALITY AS i (volume_ml, estimated, slot)
            WHERE f.intervals_ml IS NOT NULL;
            """
    )

    /// v5: dispatch — the ticket lifecycle with a timestamp per step, escalation, planned outages, major incidents,
    /// manual (hotline) tickets, inspections, and the outbox of the MQTT dispatch topic.
    ///
    /// * `ticket_events.dispatched_at`: when the event was published on the dispatch topic (QoS 1, acknowledged by
    ///   the broker); events without it are (re)published, so each reaches the topic at least once, in id order.
    /// * An `escalated` event per ticket and missed deadline at most once (partial unique index).
    /// * `alarms.outage_id`: the planned outage that explains the alarm; such alarms are recorded, not dispatched.
    static let v5 = Migration(
        version: 5,
        name: "dispatch",
        sql: """
            DO $$
            DECLARE
                name text;
            BEGIN
                SELECT conname INTO STRICT name FROM pg_constraint
                WHERE conrelid = 'ticket_events'::regclass AND contype = 'c';
                EXECUTE format('ALTER TABLE ticket_events DROP CONSTRAINT %I', name);
            END
            $$;
            ALTER TABLE ticket_events
                ADD CONSTRAINT ticket_events_kind_check CHECK (kind IN (
                    'opened', 'alarm', 'alarm_cleared', 'priority_raised', 'acknowledged', 'dispatched', 'on_site',
                    'made_safe', 'resolved', 'follow_up_done', 'closed', 'reopened', 'note', 'escalated',
                    'incident_linked', 'valve_command', 'valve_answer')),
                ADD COLUMN dispatched_at timestamptz;
            CREATE INDEX ticket_events_undispatched_idx ON ticket_events (id) WHERE dispatched_at IS NULL;
            CREATE UNIQUE INDEX ticket_events_escalation_idx ON ticket_events (ticket_id, detail)
                WHERE kind = 'escalated';

            CREATE TABLE major_incidents (
                id bigserial PRIMARY KEY,
                district text NOT NULL,
                condition text NOT NULL,
                opened_at timestamptz NOT NULL,
                last_alarm_at timestamptz NOT NULL,
                meter_count integer NOT NULL,
                status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
                closed_at timestamptz
            );
            CREATE UNIQUE INDEX major_incidents_one_open_idx ON major_incidents (district, condition)
                WHERE status = 'open';

            -- A district's supply meter (regulator or station outlet) against which its customers' meters are balanced.
            ALTER TABLE meters ADD COLUMN role text NOT NULL DEFAULT 'customer'
                CHECK (role IN ('customer', 'district_supply'));

            ALTER TABLE repair_tickets
                ADD COLUMN origin text NOT NULL DEFAULT 'alarm' CHECK (origin IN ('alarm', 'signature', 'hotline')),
                ADD COLUMN incident_id bigint REFERENCES major_incidents (id),
                ADD COLUMN escalation_level integer NOT NULL DEFAULT 0,
                ADD COLUMN acknowledged_at timestamptz,
                ADD COLUMN dispatched_at timestamptz,
                ADD COLUMN on_site_at timestamptz,
                ADD COLUMN made_safe_at timestamptz,
                ADD COLUMN resolved_at timestamptz,
                ADD COLUMN follow_up_done_at timestamptz,
                ADD COLUMN closed_at timestamptz,
                ADD COLUMN reporter text,
                ADD COLUMN note text;
            CREATE INDEX repair_tickets_incident_idx ON repair_tickets (incident_id) WHERE incident_id IS NOT NULL;

            CREATE TABLE planned_outages (
                id bigserial PRIMARY KEY,
                district text NOT NULL,
                starts_at timestamptz NOT NULL,
                ends_at timestamptz NOT NULL,
                reason text NOT NULL CHECK (reason <> ''),
                announced_by text NOT NULL CHECK (announced_by <> ''),
                created_at timestamptz NOT NULL DEFAULT now(),
                CHECK (ends_at > starts_at)
            );
            CREATE INDEX planned_outages_district_idx ON planned_outages (district, starts_at);
            ALTER TABLE alarms ADD COLUMN outage_id bigint REFERENCES planned_outages (id);

            CREATE TABLE inspections (
                id bigserial PRIMARY KEY,
                meter_id bigint NOT NULL REFERENCES meters (id),
                inspected_on date NOT NULL,
                inspector text NOT NULL CHECK (inspector <> ''),
                result text NOT NULL CHECK (result <> ''),
                note text
            );
            CREATE INDEX inspections_meter_idx ON inspections (meter_id, inspected_on);

            -- Valve-close commands sent by the optional P0 policy, one per ticket, and the meter's answer.
            CREATE TABLE valve_commands (
                id bigserial PRIMARY KEY,
                ticket_id bigint NOT NULL UNIQUE REFERENCES repair_tickets (id),
                meter_id bigint NOT NULL REFERENCES meters (id),
                frame_counter bigint,
                action text NOT NULL CHECK (action IN ('close')),
                sent_at timestamptz,
                answered_at timestamptz,
                outcome text,
                valve smallint
            );
            CREATE UNIQUE INDEX valve_commands_counter_idx ON valve_commands (meter_id, frame_counter);

            -- Numeric dispatch settings the SQL needs (synced from the configuration at start).
            CREATE TABLE dispatch_settings (
                name text PRIMARY KEY,
                value bigint NOT NULL
            );
            INSERT INTO dispatch_settings (name, value) VALUES
                ('incident_window_s', 600), ('incident_min_meters', 5);
            """
    )

    /// Exactly once for every protocol, and a bounded quarantine.
    ///
    /// * `frame_identities`: the identity of every admitted frame (native: frame counter; a meter clock: meter
    ///   time + channel; neither: a fingerprint of the bytes) with the fingerprint of its bytes, kept for
    ///   `ingest.dedupe_horizon_days` after it was stored. A delivery whose identity and fingerprint are stored
    ///   is a duplicate and writes nothing, so a clock-less frame delivered again is never a second reading.
    /// * `quarantine`: one row per topic + reason + bytes, with `repeat_count` and `last_received_at`, so a
    ///   flood of one hostile payload is one row (keyed by `payload_hash`, over topic and bytes, and reason); `replay_outcome`/`replay_detail` record `quarantine replay`.
    static let v6 = Migration(
        version: 6,
        name: "frame identities, quarantine repeats and replay",
        sql: """
            CREATE TABLE frame_identities (
                meter_id bigint NOT NULL,
                kind smallint NOT NULL CHECK (kind IN (1, 2, 3)),
                identity bigint NOT NULL,
                fingerprint bigint NOT NULL,
                source text NOT NULL,
                first_received_at timestamptz NOT NULL,
                stored_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (meter_id, kind, identity)
            );
            CREATE INDEX frame_identities_stored_idx ON frame_identities (stored_at);

            ALTER TABLE quarantine
                ADD COLUMN repeat_count bigint NOT NULL DEFAULT 1,
                ADD COLUMN last_received_at timestamptz,
                ADD COLUMN replay_outcome text,
                ADD COLUMN replay_detail text;
            WITH folded AS (
                SELECT min(id) AS keep, count(*) AS repeats, max(received_at) AS last_at
                FROM quarantine GROUP BY payload_hash, reason
            )
            UPDATE quarantine q SET repeat_count = f.repeats, last_received_at = f.last_at
            FROM folded f WHERE q.id = f.keep;
            DELETE FROM quarantine WHERE last_received_at IS NULL;
            ALTER TABLE quarantine ALTER COLUMN last_received_at SET NOT NULL;
            ALTER TABLE quarantine DROP CONSTRAINT quarantine_received_at_payload_hash_key;
            -- payload_hash covers topic and bytes (a topic can be longer than an index entry may be).
            CREATE UNIQUE INDEX quarantine_repeat_key ON quarantine (payload_hash, reason);
            """
    )
}

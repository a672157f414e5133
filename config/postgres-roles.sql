-- meter-gateway: separate database roles per service (README "Security", "Database roles").
--
-- Run it as the schema's owner (the user of postgres.conninfo, which runs the migrations) in the gateway's database,
-- AFTER `meter-gateway migrate`, and again after every upgrade that adds migrations (it is idempotent):
--
--     meter-gateway migrate --config gateway.toml
--     psql "host=db dbname=meter_gateway user=meter_gateway" -v ON_ERROR_STOP=1 -f config/postgres-roles.sql
--
-- It creates three group roles without login (if missing; that needs CREATEROLE, or create them beforehand) and
-- grants each what its service needs and nothing more:
--
--   meter_gateway_ingest      the ingest pipeline (postgres.ingest_conninfo): reads meters; writes frames, readings,
--                             intervals, alarms, tickets and their events, major incidents, quarantine, frame
--                             identities, counter marks, value conflicts, the validation queue, M-Bus format
--                             layouts, and a meter's answer on its valve command.
--   meter_gateway_validation  the validation service (postgres.validation_conninfo): reads readings; writes their
--                             verdicts; writes daily reads, the billing feed, the validation queue, and the alarms,
--                             tickets and events of leak signatures and balance checks.
--   meter_gateway_http        the HTTP APIs and the dispatch service (postgres.http_conninfo): billing and review
--                             reads; review decisions (and the requeue they cause); tickets, steps, notes, hotline
--                             tickets, planned outages, inspections, valve commands, and their events; complaints,
--                             their events and return calls.
--
-- None of them owns a table or may create one in schema public, so none can run a migration (permission denied):
-- migrations and the command-line tools keep the owner's postgres.conninfo. Give each service a login role of its
-- own that is a member of its group, with a password, for example:
--
--     CREATE ROLE gw_ingest LOGIN PASSWORD '…' IN ROLE meter_gateway_ingest;
--
-- and put the password in a secret file or ~/.pgpass, not in the configuration file (README "Secrets and keys").
-- Every role may still create temporary tables (the gateway stages COPY rows in them; PUBLIC has TEMP by default).

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'meter_gateway_ingest') THEN
        CREATE ROLE meter_gateway_ingest NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'meter_gateway_validation') THEN
        CREATE ROLE meter_gateway_validation NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'meter_gateway_http') THEN
        CREATE ROLE meter_gateway_http NOLOGIN;
    END IF;
END
$$;

-- PostgreSQL before 15 lets every role create tables in public; the gateway's roles must not.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO meter_gateway_ingest, meter_gateway_validation, meter_gateway_http;

-- Start from nothing, so that rerunning the file after a change also takes back what is no longer granted.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM meter_gateway_ingest, meter_gateway_validation, meter_gateway_http;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM meter_gateway_ingest, meter_gateway_validation, meter_gateway_http;

-- Reading is shared: the rules join readings, meters and tickets everywhere.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO meter_gateway_ingest, meter_gateway_validation, meter_gateway_http;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO meter_gateway_ingest, meter_gateway_validation, meter_gateway_http;

GRANT INSERT, UPDATE ON
    uplink_frames, readings, interval_days, alarms, repair_tickets, ticket_events, major_incidents, quarantine,
    counter_marks, value_conflicts, validation_queue
    TO meter_gateway_ingest;
GRANT INSERT, UPDATE, DELETE ON frame_identities TO meter_gateway_ingest;
GRANT INSERT, UPDATE ON mbus_format_layouts TO meter_gateway_ingest;
GRANT DELETE ON meter_tombstones TO meter_gateway_ingest;
-- A native meter's answer to a valve command is recorded on the command in the batch that stores its frame.
GRANT UPDATE (answered_at, outcome, valve) ON valve_commands TO meter_gateway_ingest;

-- A reading's verdict: from v25 in reading_verdicts and validated_reading_days (readings is insert-only), from v30
-- the lists per month in validated_reading_months; before v25 on the reading's row, with held_readings (v19) kept by
-- triggers that run as the role setting the quality.
DO $$
BEGIN
    IF to_regclass('validated_reading_months') IS NOT NULL THEN
        GRANT INSERT, UPDATE, DELETE ON reading_verdicts, validated_reading_months TO meter_gateway_validation;
    ELSIF to_regclass('reading_verdicts') IS NOT NULL THEN
        GRANT INSERT, UPDATE, DELETE ON reading_verdicts, validated_reading_days TO meter_gateway_validation;
    ELSE
        GRANT UPDATE (quality, reasons, validated_at) ON readings TO meter_gateway_validation;
        GRANT INSERT, DELETE ON held_readings TO meter_gateway_validation;
    END IF;
END
$$;
GRANT INSERT, UPDATE ON
    daily_reads, billing_feed, alarms, repair_tickets, ticket_events, major_incidents
    TO meter_gateway_validation;
GRANT INSERT, UPDATE, DELETE ON validation_queue TO meter_gateway_validation;

GRANT INSERT ON reading_reviews, day_reviews TO meter_gateway_http;
-- Complaints and return calls (v24): the HTTP API writes them, the dispatch service escalates late complaints.
-- Only once the schema has them (the file may run against an older schema before an upgrade).
DO $$
BEGIN
    IF to_regclass('complaints') IS NOT NULL THEN
        GRANT INSERT, UPDATE ON complaints TO meter_gateway_http;
        GRANT INSERT ON complaint_events, return_calls TO meter_gateway_http;
    END IF;
    -- v29: writing a complaint event fills the outbox (a trigger, as the writer); the dispatch service empties it.
    IF to_regclass('complaint_event_outbox') IS NOT NULL THEN
        GRANT INSERT, DELETE ON complaint_event_outbox TO meter_gateway_http;
    END IF;
END
$$;
GRANT INSERT, UPDATE ON
    validation_queue, repair_tickets, ticket_events, major_incidents, planned_outages, inspections, valve_commands,
    accuracy_tests
    TO meter_gateway_http;

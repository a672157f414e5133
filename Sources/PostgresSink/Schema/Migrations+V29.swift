extension Migrations {
    /// v29: complaint events leave the database as ticket events do — a `NOTIFY complaint_events` in the transaction
    /// that writes them, and an outbox the dispatch service publishes on MQTT.
    ///
    /// * `complaint_event_message(bigint)`: the event as versioned JSON (version 1), the one shape NOTIFY and the MQTT
    ///   topic carry. It names the complaint by id, channel, category, status, district, meter, escalation level,
    ///   receipt and answer deadline; never the complainant, the contact, the summary, the request or an answer's
    ///   text. `detail` (a step's outcome and text, an escalation's reason) is left out of `note` events and of every
    ///   event of a confidential complaint.
    /// * `complaint_event_outbox`: one row per event not yet published, with its message as it was when the event
    ///   was written (a later step does not change what an earlier event says), deleted once the broker acknowledged
    ///   it. `complaint_events` stays insert-only (v24), so the mark cannot live on the event row.
    /// * An `AFTER INSERT` trigger on `complaint_events` fills the outbox and notifies, so every writer of events
    ///   (the API's steps and notes, the dispatch service's escalations, anything later) is covered without a
    ///   change of its own. The message is built after the statement, so it carries the status the statement set.
    /// * Events stored before v29 are not published (they predate the topic).
    static let v29 = Migration(
        version: 29,
        name: "complaint events on NOTIFY complaint_events and an outbox for the MQTT dispatch topic",
        sql: """
            CREATE FUNCTION iso_utc(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
                SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                    || CASE WHEN extract(microseconds FROM t)::bigint % 1000000 = 0 THEN ''
                        ELSE to_char(t AT TIME ZONE 'UTC', '.US') END
                    || 'Z'
            $$;
            CREATE FUNCTION complaint_event_message(event bigint) RETURNS text LANGUAGE sql STABLE AS $$
                SELECT json_build_object(
                    'version', 1,
                    'event_id', e.id,
                    'event', e.kind,
                    'at', iso_utc(e.at),
                    'actor', e.actor,
                    'detail', CASE WHEN c.confidential OR e.kind = 'note' THEN NULL ELSE e.detail END,
                    'complaint', json_build_object(
                        'id', c.id,
                        'channel', c.channel,
                        'category', c.category,
                        'status', c.status,
                        'confidential', c.confidential,
                        'district', coalesce(c.district, m.district),
                        'meter', CASE WHEN m.id IS NULL THEN NULL
                            ELSE json_build_object('protocol', m.protocol, 'id', m.address) END,
                        'escalation_level', c.escalation_level,
                        'received_at', iso_utc(c.received_at),
                        'answer_by', iso_utc(c.answer_by)
                    )
                )::text
                FROM complaint_events e
                JOIN complaints c ON c.id = e.complaint_id
                LEFT JOIN meters m ON m.id = c.meter_id
                WHERE e.id = event
            $$;
            CREATE TABLE complaint_event_outbox (
                event_id bigint PRIMARY KEY REFERENCES complaint_events (id),
                category text NOT NULL,
                message text NOT NULL
            );
            CREATE FUNCTION complaint_events_publish() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                message text := complaint_event_message(NEW.id);
            BEGIN
                INSERT INTO complaint_event_outbox (event_id, category, message)
                VALUES (NEW.id, message::json -> 'complaint' ->> 'category', message);
                PERFORM pg_notify('complaint_events', message);
                RETURN NULL;
            END
            $$;
            CREATE TRIGGER complaint_events_publish AFTER INSERT ON complaint_events
                FOR EACH ROW EXECUTE FUNCTION complaint_events_publish();
            """
    )
}

extension Migrations {
    /// v24: complaints as cases of their own, and return calls (回访) for tickets and complaints.
    ///
    /// * `complaints`: channel, category, household (meter, optional), complainant, what was asked, confidentiality,
    ///   the disputed days of a billing dispute; a timestamp per lifecycle step; `answer_by`, the end of the 5th
    ///   working day after receipt (``WorkingCalendar``), with `answer_by_provisional` when a year of the count had
    ///   no calendar file.
    /// * `complaint_events`: every step, note and escalation with actor and time. Insert-only (a trigger refuses
    ///   UPDATE and DELETE); an `escalated` event at most once per complaint (partial unique index).
    /// * The lifecycle is forward only in the database too: a trigger allows only the transitions of
    ///   ``ComplaintStep/allowedFrom`` (the list below is spelt out, since a published migration never changes; a
    ///   test checks it against the Swift rule), and `follow_up_done` only with a `return_calls` row.
    /// * `return_calls`: one per ticket or complaint, the outcome (satisfied, not satisfied, unreachable after N
    ///   attempts, or waived by a supervisor with the reason as remarks). A trigger on `repair_tickets` likewise
    ///   lets a ticket reach `follow_up_done` only with its return call.
    static let v24 = Migration(
        version: 24,
        name: "complaints, working-day answer deadlines and return calls",
        sql: """
            CREATE TABLE complaints (
                id bigserial PRIMARY KEY,
                channel text NOT NULL CHECK (channel IN ('hotline', 'counter', 'web', 'app')),
                category text NOT NULL CHECK (category IN ('billing_dispute', 'meter_accuracy', 'service_attitude',
                    'supply_interruption', 'safety', 'other')),
                meter_id bigint REFERENCES meters (id),
                district text,
                complainant text NOT NULL CHECK (complainant <> ''),
                contact text,
                confidential boolean NOT NULL DEFAULT false,
                summary text NOT NULL CHECK (summary <> ''),
                request text,
                disputed_from date,
                disputed_to date,
                status text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'accepted', 'not_accepted',
                    'proposed', 'answered', 'follow_up_done', 'closed')),
                received_at timestamptz NOT NULL,
                received_by text NOT NULL CHECK (received_by <> ''),
                answer_by timestamptz NOT NULL,
                answer_by_provisional boolean NOT NULL DEFAULT false,
                accepted_at timestamptz,
                not_accepted_at timestamptz,
                proposed_at timestamptz,
                answered_at timestamptz,
                follow_up_done_at timestamptz,
                closed_at timestamptz,
                not_accepted_reason text,
                proposal text,
                answer text,
                outcome text CHECK (outcome IN ('bill_confirmed', 'corrected', 'meter_replaced')),
                escalation_level integer NOT NULL DEFAULT 0,
                updated_at timestamptz NOT NULL,
                CHECK (answer_by > received_at),
                CHECK (disputed_from IS NULL OR disputed_to IS NULL OR disputed_from <= disputed_to),
                CHECK (category <> 'billing_dispute' OR (meter_id IS NOT NULL AND disputed_from IS NOT NULL
                    AND disputed_to IS NOT NULL)),
                CHECK (not_accepted_at IS NULL OR not_accepted_reason <> ''),
                CHECK (outcome IS NULL OR category = 'billing_dispute')
            );
            CREATE INDEX complaints_status_idx ON complaints (status, answer_by);
            CREATE INDEX complaints_received_idx ON complaints (received_at, district);
            CREATE INDEX complaints_meter_idx ON complaints (meter_id, received_at) WHERE meter_id IS NOT NULL;

            CREATE TABLE complaint_events (
                id bigserial PRIMARY KEY,
                complaint_id bigint NOT NULL REFERENCES complaints (id),
                at timestamptz NOT NULL,
                kind text NOT NULL CHECK (kind IN ('received', 'accepted', 'not_accepted', 'proposed', 'answered',
                    'follow_up_done', 'closed', 'escalated', 'note')),
                actor text NOT NULL CHECK (actor <> ''),
                detail text
            );
            CREATE INDEX complaint_events_complaint_idx ON complaint_events (complaint_id, id);
            CREATE UNIQUE INDEX complaint_events_escalated_idx ON complaint_events (complaint_id)
                WHERE kind = 'escalated';

            CREATE FUNCTION complaint_events_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'complaint_events are insert-only (% refused)', TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END
            $$;
            CREATE TRIGGER complaint_events_insert_only BEFORE UPDATE OR DELETE ON complaint_events
                FOR EACH ROW EXECUTE FUNCTION complaint_events_insert_only();

            CREATE TABLE return_calls (
                id bigserial PRIMARY KEY,
                ticket_id bigint UNIQUE REFERENCES repair_tickets (id),
                complaint_id bigint UNIQUE REFERENCES complaints (id),
                outcome text NOT NULL CHECK (outcome IN ('satisfied', 'not_satisfied', 'unreachable', 'waived')),
                attempts integer NOT NULL CHECK (attempts BETWEEN 0 AND 100),
                remarks text,
                actor text NOT NULL CHECK (actor <> ''),
                at timestamptz NOT NULL,
                CHECK ((ticket_id IS NULL) <> (complaint_id IS NULL)),
                CHECK (outcome <> 'waived' OR (attempts = 0 AND remarks <> '')),
                CHECK (outcome = 'waived' OR attempts >= 1)
            );

            CREATE FUNCTION complaints_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.status IS DISTINCT FROM OLD.status THEN
                    IF (OLD.status, NEW.status) NOT IN (
                        ('received', 'accepted'), ('received', 'not_accepted'), ('accepted', 'proposed'),
                        ('proposed', 'answered'), ('answered', 'follow_up_done'),
                        ('not_accepted', 'follow_up_done'), ('follow_up_done', 'closed')) THEN
                        RAISE EXCEPTION 'complaint % cannot move from % to %', OLD.id, OLD.status, NEW.status
                            USING ERRCODE = 'check_violation';
                    END IF;
                    IF NEW.status = 'follow_up_done'
                        AND NOT EXISTS (SELECT 1 FROM return_calls WHERE complaint_id = NEW.id) THEN
                        RAISE EXCEPTION 'complaint % has no return call', OLD.id USING ERRCODE = 'check_violation';
                    END IF;
                END IF;
                IF NEW.received_at IS DISTINCT FROM OLD.received_at OR NEW.answer_by IS DISTINCT FROM OLD.answer_by THEN
                    RAISE EXCEPTION 'complaint % keeps its receipt and answer deadline', OLD.id
                        USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END
            $$;
            CREATE TRIGGER complaints_forward_only BEFORE UPDATE ON complaints
                FOR EACH ROW EXECUTE FUNCTION complaints_forward_only();
            CREATE FUNCTION complaints_received_first() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.status <> 'received' THEN
                    RAISE EXCEPTION 'a complaint starts as received' USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END
            $$;
            CREATE TRIGGER complaints_received_first BEFORE INSERT ON complaints
                FOR EACH ROW EXECUTE FUNCTION complaints_received_first();

            CREATE FUNCTION repair_tickets_return_call() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.status = 'follow_up_done' AND OLD.status <> 'follow_up_done'
                    AND NOT EXISTS (SELECT 1 FROM return_calls WHERE ticket_id = NEW.id) THEN
                    RAISE EXCEPTION 'ticket % has no return call', OLD.id USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END
            $$;
            CREATE TRIGGER repair_tickets_return_call BEFORE UPDATE OF status ON repair_tickets
                FOR EACH ROW EXECUTE FUNCTION repair_tickets_return_call();
            """
    )
}

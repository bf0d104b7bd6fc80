-- Periodic reports (docs/reports.md, "Periodic reports"): the agents' status history
-- the after-call time is counted from, the stored reports, and the runs that roll the
-- day counts and make the reports on a schedule.

-- agent_status keeps only an agent's current status; this keeps every change, written
-- by the database on each write of the core's status code, so that no writer can forget
-- it. A status set again (the same one) is no change.
CREATE TABLE agent_status_changes (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status  text NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX agent_status_changes_at_idx ON agent_status_changes (at);

CREATE FUNCTION agent_status_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status THEN
        INSERT INTO agent_status_changes (user_id, status, at)
        VALUES (NEW.user_id, NEW.status, NEW.since);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER agent_status_history
    AFTER INSERT OR UPDATE OF status ON agent_status
    FOR EACH ROW EXECUTE FUNCTION agent_status_history();

-- A report as it was made: one version per regeneration, the latest is the one shown.
-- scope: a hotline's code, or '' for the whole centre.
CREATE TABLE periodic_reports (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period_kind  text NOT NULL CHECK (period_kind IN ('daily', 'weekly', 'monthly', 'custom')),
    first_day    date NOT NULL,
    last_day     date NOT NULL CHECK (last_day >= first_day),
    scope        text NOT NULL,
    version      integer NOT NULL,
    document     jsonb NOT NULL,
    data_as_of   timestamptz,
    generated_at timestamptz NOT NULL,
    -- who asked for this version; NULL: the schedule made it
    generated_by bigint REFERENCES users (id),
    UNIQUE (period_kind, first_day, last_day, scope, version)
);
CREATE INDEX periodic_reports_recent_idx ON periodic_reports (first_day DESC, period_kind);

-- The schedule's runs, drained by the relay into RQ like the outbox: 'recent' rolls today
-- and yesterday every few minutes, 'morning' rolls the last days again and makes the
-- day's, week's and month's reports that are due. Each run's end queues the next one.
CREATE TABLE report_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('recent', 'morning')),
    state       text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'enqueued', 'done', 'failed')),
    due_at      timestamptz NOT NULL,
    lease_until timestamptz,
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    finished_at timestamptz,
    error       text
);
CREATE INDEX report_runs_due_idx ON report_runs (due_at) WHERE state IN ('pending', 'enqueued');
-- At most one waiting run of each kind.
CREATE UNIQUE INDEX report_runs_one_waiting ON report_runs (kind)
    WHERE state IN ('pending', 'enqueued');

-- migrate: each statement below runs alone, outside a transaction
-- A day's order events (dispatches, returns, coordination, redos) and calls, read by
-- each roll of a day. Both tables are big and written all the time: built concurrently.
CREATE INDEX CONCURRENTLY IF NOT EXISTS order_events_created_idx ON order_events (created_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS calls_queued_idx ON calls (queued_at)
    WHERE queued_at IS NOT NULL;

-- The figures' counts of closed local days, counted once (callbacks/rollup.py,
-- docs/callbacks.md "Figures"). A period's figures add the rolled days' counts to a live
-- count of the days not rolled (today, yesterday, a day changed since), so reading a
-- month costs about the same at any volume.

-- A rolled day: [day_start, day_end) is one local day of the installation's time zone.
CREATE TABLE figure_days (
    day_start timestamptz PRIMARY KEY,
    day_end   timestamptz NOT NULL,
    rolled_at timestamptz NOT NULL,
    CHECK (day_end > day_start)
);

-- Its counts per unit, service item and hotline: the columns of callbacks.queries'
-- figures, dispatches made that day (response) and lead dispatches completed that day.
CREATE TABLE figure_day_counts (
    day_start         timestamptz NOT NULL REFERENCES figure_days ON DELETE CASCADE,
    enterprise_id     bigint NOT NULL,
    service_item_code text NOT NULL,
    hotline_code      text NOT NULL,
    dispatched        integer NOT NULL,
    signed_on_time    integer NOT NULL,
    completed         integer NOT NULL,
    completed_on_time integer NOT NULL,
    called_back       integer NOT NULL,
    unreachable       integer NOT NULL,
    reopened          integer NOT NULL,
    answered          integer NOT NULL,
    solved            integer NOT NULL,
    rated             integer NOT NULL,
    good              integer NOT NULL,
    PRIMARY KEY (day_start, enterprise_id, service_item_code, hotline_code)
);

-- A change to a dispatch made or completed more than half an hour before, so of a day
-- that may be rolled (the roll-up waits an hour after a day ends: a sign-for, a late
-- rating, an approved appeal), forgets that day, which is then counted live until it
-- is rolled again. The shared lock pairs with the exclusive one the roll-up holds while
-- it counts a day, so a change is either in its count or forgets it afterwards. The
-- lookup is bounded to the days that can hold the time (a local day is at most 25
-- hours). (An order's service item and hotline no longer change once it is dispatched,
-- so work_orders needs no such trigger.)
CREATE FUNCTION figure_days_forget() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    settled timestamptz := clock_timestamp() - interval '30 minutes';
    old_finished timestamptz;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        old_finished := OLD.finished_at;
    END IF;
    IF NEW.created_at < settled OR NEW.finished_at < settled OR old_finished < settled THEN
        PERFORM pg_advisory_xact_lock_shared(1752134764, 2);
        DELETE FROM figure_days f
         USING unnest(ARRAY[NEW.created_at, NEW.finished_at, old_finished]) AS t (at)
         WHERE f.day_start > t.at - interval '26 hours' AND f.day_start <= t.at
           AND t.at < f.day_end;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER dispatches_figure_days AFTER INSERT OR UPDATE ON dispatches
    FOR EACH ROW EXECUTE FUNCTION figure_days_forget();

-- 挂起 stops the resolution clock (docs/routing.md, "Suspensions"), and the figures judge
-- returns by the centre's review (docs/callbacks.md, "Figures").

-- An approved suspension: the resolution clock stopped at started_at with
-- remaining_seconds left, counted in the limit's kind of time (natural seconds for an
-- order on urgent limits, working seconds on the working calendar otherwise), and the
-- time left until the yellow warning (null: it had already gone out). Resuming starts
-- the clock again from there; ended_at says when. resume_by is the end the unit
-- expected when it asked. One open suspension per order.
CREATE TABLE order_suspensions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id          bigint NOT NULL REFERENCES work_orders (id),
    dispatch_id       bigint NOT NULL REFERENCES dispatches (id),
    enterprise_id     bigint NOT NULL REFERENCES enterprises (id),
    time_request_id   bigint NOT NULL UNIQUE REFERENCES time_requests (id),
    started_at        timestamptz NOT NULL,
    resume_by         timestamptz NOT NULL,
    remaining_seconds numeric NOT NULL CHECK (remaining_seconds > 0),
    remaining_unit    text NOT NULL CHECK (remaining_unit IN ('hours', 'working_hours')),
    warning_seconds   numeric,
    ended_at          timestamptz,
    ended_by          text
);
CREATE UNIQUE INDEX order_suspensions_open_idx ON order_suspensions (order_id)
    WHERE ended_at IS NULL;
-- The figures read a period's suspensions by the moment they started.
CREATE INDEX order_suspensions_started_idx ON order_suspensions (started_at);

-- The centre's review of a returned dispatch, on the dispatch itself so that the
-- figures' trigger sees it: null while the review is pending.
ALTER TABLE dispatches ADD COLUMN return_review text
    CHECK (return_review IN ('upheld', 'overruled'));

-- Copied from the return whenever it is reviewed, in the review's transaction, by
-- whichever release reviews it (during the rolling upgrade, docs/deploy.md, the
-- previous one still does and knows nothing of the column). The dispatch's write then
-- moves the figures' counts through their own trigger.
CREATE FUNCTION order_returns_review_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE dispatches SET return_review = NEW.state
     WHERE id = NEW.dispatch_id AND return_review IS DISTINCT FROM NEW.state;
    RETURN NULL;
END
$$;

CREATE TRIGGER order_returns_review_copy AFTER UPDATE OF state ON order_returns
    FOR EACH ROW WHEN (NEW.state IN ('upheld', 'overruled'))
    EXECUTE FUNCTION order_returns_review_copy();

UPDATE dispatches d SET return_review = r.state
  FROM order_returns r
 WHERE r.dispatch_id = d.id AND r.state IN ('upheld', 'overruled');

-- The definition of migration 0017, with one change: a returned dispatch is judged by
-- its review. Pending or upheld (truly not the unit's duty) it counts nowhere in the
-- response figures; overruled it counts as dispatched and not signed in time.
CREATE OR REPLACE FUNCTION figure_rows(d dispatches, r dispatch_ratings, item text,
                                       line text, tz text)
RETURNS TABLE (day date, enterprise_id bigint, service_item_code text, hotline_code text,
               dispatched integer, signed_on_time integer, completed integer,
               completed_on_time integer, called_back integer, unreachable integer,
               reopened integer, answered integer, solved integer, rated integer,
               good integer)
LANGUAGE sql STABLE AS $$
    SELECT (d.created_at AT TIME ZONE tz)::date, d.enterprise_id, item, line,
           (d.signed_at IS NOT NULL OR d.state = 'returned'
            OR d.sign_for_missed_at IS NOT NULL)::integer,
           coalesce(d.signed_at <= d.sign_for_due_at, d.signed_at IS NOT NULL)::integer,
           0, 0, 0, 0, 0, 0, 0, 0, 0
     WHERE d.state <> 'withdrawn'
       AND (d.state <> 'returned' OR d.return_review = 'overruled')
    UNION ALL
    SELECT (d.finished_at AT TIME ZONE tz)::date, d.enterprise_id, item, line,
           0, 0, 1,
           coalesce(d.completed_on_time, false)::integer,
           coalesce(r.callback_outcome IN ('good', 'bad'), false)::integer,
           coalesce(r.callback_outcome = 'unreachable', false)::integer,
           coalesce(r.callback_outcome = 'bad', false)::integer,
           (r.solved IS NOT NULL AND NOT r.score_excluded)::integer,
           coalesce(r.solved AND NOT r.score_excluded, false)::integer,
           (r.rating IS NOT NULL AND NOT r.score_excluded)::integer,
           coalesce(r.rating >= 3 AND NOT r.score_excluded, false)::integer
     WHERE d.role = 'lead' AND d.state = 'completed' AND d.finished_at IS NOT NULL
$$;

SELECT figure_counts_rebuild();

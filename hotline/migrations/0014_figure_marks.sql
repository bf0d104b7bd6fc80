-- The figures' last live count made a kept one (docs/callbacks.md, "Counts kept by the
-- writes"). Until now the figures counted, at every read, the unsigned dispatches whose
-- sign-for deadline had passed: the units' whole backlog. The ladder's reminder (催办),
-- which runs when that deadline passes, now marks the dispatch, and the mark is a write
-- the figures' trigger counts. Only dispatches past their deadline and not marked yet
-- (the reminder still on its way) are counted live.

ALTER TABLE dispatches ADD COLUMN sign_for_missed_at timestamptz;

-- Dispatches whose response is due or given: signed for, returned, or marked unsigned
-- past the deadline. It was "responded" (signed for or returned).
ALTER TABLE figure_day_counts RENAME COLUMN responded TO dispatched;

-- Unsigned and not marked: the reminders still on their way, and the dispatches whose
-- deadline is still ahead.
DROP INDEX dispatches_unsigned_idx;
CREATE INDEX dispatches_unmarked_idx ON dispatches (created_at)
    WHERE signed_at IS NULL AND state NOT IN ('returned', 'withdrawn')
      AND sign_for_missed_at IS NULL;

-- The definitions of migration 0012, with the new column and its new name.
DROP FUNCTION figure_rows(dispatches, text, text, text);

CREATE FUNCTION figure_rows(d dispatches, item text, line text, tz text)
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
    UNION ALL
    SELECT (d.finished_at AT TIME ZONE tz)::date, d.enterprise_id, item, line,
           0, 0, 1,
           coalesce(d.completed_on_time, false)::integer,
           coalesce(d.callback_outcome IN ('good', 'bad'), false)::integer,
           coalesce(d.callback_outcome = 'unreachable', false)::integer,
           coalesce(d.callback_outcome = 'bad', false)::integer,
           (d.solved IS NOT NULL AND NOT d.score_excluded)::integer,
           coalesce(d.solved AND NOT d.score_excluded, false)::integer,
           (d.rating IS NOT NULL AND NOT d.score_excluded)::integer,
           coalesce(d.rating >= 3 AND NOT d.score_excluded, false)::integer
     WHERE d.role = 'lead' AND d.state = 'completed' AND d.finished_at IS NOT NULL
$$;

-- A dispatch written: its new rows in, its old rows out, per day and key, skipping
-- what adds nothing (a new unsigned dispatch adds nothing, so routing writes no count).
-- A row of counts is locked until the writer commits; writers of the same day, unit,
-- item and hotline take turns, others never meet. An order's service item and hotline
-- no longer change once it is dispatched.
CREATE OR REPLACE FUNCTION figure_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tz   text := (SELECT timezone FROM figure_settings);
    item text;
    line text;
BEGIN
    -- An order without a service item (none is dispatched so) must not fail the write.
    SELECT coalesce(o.service_item_code, ''), o.hotline_code INTO item, line
      FROM work_orders o WHERE o.id = NEW.order_id;
    INSERT INTO figure_day_counts AS c
    SELECT r.day, r.enterprise_id, r.service_item_code, r.hotline_code,
           sum(r.dispatched * r.sign), sum(r.signed_on_time * r.sign),
           sum(r.completed * r.sign), sum(r.completed_on_time * r.sign),
           sum(r.called_back * r.sign), sum(r.unreachable * r.sign),
           sum(r.reopened * r.sign), sum(r.answered * r.sign), sum(r.solved * r.sign),
           sum(r.rated * r.sign), sum(r.good * r.sign)
      FROM (SELECT n.*, 1 AS sign FROM figure_rows(NEW, item, line, tz) n
            UNION ALL
            SELECT o.*, -1 FROM figure_rows(OLD, item, line, tz) o
             WHERE TG_OP = 'UPDATE') r
     GROUP BY 1, 2, 3, 4
    HAVING (sum(r.dispatched * r.sign), sum(r.signed_on_time * r.sign),
            sum(r.completed * r.sign), sum(r.completed_on_time * r.sign),
            sum(r.called_back * r.sign), sum(r.unreachable * r.sign),
            sum(r.reopened * r.sign), sum(r.answered * r.sign), sum(r.solved * r.sign),
            sum(r.rated * r.sign), sum(r.good * r.sign))
           IS DISTINCT FROM (0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                             0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                             0::bigint)
    ON CONFLICT (day, enterprise_id, service_item_code, hotline_code) DO UPDATE SET
        dispatched = c.dispatched + EXCLUDED.dispatched,
        signed_on_time = c.signed_on_time + EXCLUDED.signed_on_time,
        completed = c.completed + EXCLUDED.completed,
        completed_on_time = c.completed_on_time + EXCLUDED.completed_on_time,
        called_back = c.called_back + EXCLUDED.called_back,
        unreachable = c.unreachable + EXCLUDED.unreachable,
        reopened = c.reopened + EXCLUDED.reopened,
        answered = c.answered + EXCLUDED.answered,
        solved = c.solved + EXCLUDED.solved,
        rated = c.rated + EXCLUDED.rated,
        good = c.good + EXCLUDED.good;
    RETURN NULL;
END
$$;

-- Every day counted again from the dispatches: after a bulk load that skipped the
-- trigger, or a change of figure_settings.timezone. Returns the rows written.
CREATE OR REPLACE FUNCTION figure_counts_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    written bigint;
BEGIN
    LOCK TABLE figure_day_counts IN EXCLUSIVE MODE;
    DELETE FROM figure_day_counts;
    INSERT INTO figure_day_counts
    SELECT r.day, r.enterprise_id, r.service_item_code, r.hotline_code,
           sum(r.dispatched), sum(r.signed_on_time), sum(r.completed),
           sum(r.completed_on_time), sum(r.called_back), sum(r.unreachable),
           sum(r.reopened), sum(r.answered), sum(r.solved), sum(r.rated), sum(r.good)
      FROM dispatches d JOIN work_orders o ON o.id = d.order_id
     CROSS JOIN LATERAL figure_rows(d, coalesce(o.service_item_code, ''), o.hotline_code,
                                    (SELECT timezone FROM figure_settings)) r
     GROUP BY 1, 2, 3, 4
    HAVING sum(r.dispatched + r.signed_on_time + r.completed + r.completed_on_time
               + r.called_back + r.unreachable + r.reopened + r.answered + r.solved
               + r.rated + r.good) > 0
     ORDER BY 1, 2, 3, 4;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;

-- A period's rows side by side: the rebuild writes them in day order, and room left in
-- each page lets the trigger's updates stay in it (HOT) instead of scattering a day's
-- rows over the table (a month of counts was 1,700 pages, read one by one; now 180).
ALTER TABLE figure_day_counts SET (fillfactor = 70);

-- Dispatches already reminded: marked as the reminder would have, then counted again.
UPDATE dispatches d SET sign_for_missed_at = n.created_at
  FROM supervision_notices n
 WHERE n.dispatch_id = d.id AND n.level = 'reminder'
   AND d.signed_at IS NULL AND d.state = 'pending';

-- A lead unit's completion now says whether it was on time in the same write (it was
-- the order.completed outbox handler's second write). Completions whose handler had
-- not run yet get the mark the handler would have given.
UPDATE dispatches d SET completed_on_time = (o.resolution_due_at IS NULL
                                             OR d.finished_at <= o.resolution_due_at)
  FROM work_orders o
 WHERE o.id = d.order_id AND d.role = 'lead' AND d.state = 'completed'
   AND d.completed_on_time IS NULL;

SELECT figure_counts_rebuild();

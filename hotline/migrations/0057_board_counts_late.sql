-- The counts kept by the writes (migration 0013) by hotline, and the late completions
-- among them, for the periodic reports (docs/reports.md, "Overdue and late"): a
-- month's report counted its open orders past due and its orders completed late from
-- the orders' indexes, as many entries as there are such orders (10 and 13 ms of an
-- 80 ms report at ten million orders, ten times a million's). Kept by the hour, they
-- read a row an hour however many orders fall in it.
--
--   due   key = the order's hotline ('' for none; was '' for all)
--         hour = the UTC hour its resolution is due (open orders)
--   late  key = the order's hotline ('' for none)
--         hour = the UTC hour it was completed, when that was after its due
--
-- The board sums every key of a family, so a family keyed by hotline counts for it as
-- before.

CREATE OR REPLACE FUNCTION board_order_rows(
    status text, created_at timestamptz, due_at timestamptz, hotline_code text,
    completed_at timestamptz)
RETURNS TABLE (family text, key text, hour timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT 'status', status, '-infinity'::timestamptz
    UNION ALL
    SELECT 'registered', '', date_trunc('hour', created_at, 'UTC')
     WHERE status <> 'draft'
    UNION ALL
    SELECT 'due', coalesce(hotline_code, ''), date_trunc('hour', due_at, 'UTC')
     WHERE due_at IS NOT NULL
       AND status IN ('registered', 'dispatching', 'dispatched', 'returned', 'escalated',
                      'in_progress', 'reopened')
    UNION ALL
    SELECT 'late', coalesce(hotline_code, ''), date_trunc('hour', completed_at, 'UTC')
     WHERE completed_at > due_at
$$;

CREATE OR REPLACE FUNCTION board_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'work_orders' AND TG_OP = 'INSERT' THEN
        -- The common write (every registration), kept to one plain insert.
        INSERT INTO board_count_changes (family, key, hour, n)
        SELECT r.family, r.key, r.hour, 1
          FROM board_order_rows(NEW.status, NEW.created_at, NEW.resolution_due_at,
                                NEW.hotline_code, NEW.completed_at) r;
    ELSIF TG_TABLE_NAME = 'work_orders' THEN
        INSERT INTO board_count_changes (family, key, hour, n)
        SELECT c.family, c.key, c.hour, sum(c.n)
          FROM (SELECT r.*, 1 AS n
                  FROM board_order_rows(NEW.status, NEW.created_at, NEW.resolution_due_at,
                                        NEW.hotline_code, NEW.completed_at) r
                 WHERE TG_OP <> 'DELETE'
                UNION ALL
                SELECT r.*, -1
                  FROM board_order_rows(OLD.status, OLD.created_at, OLD.resolution_due_at,
                                        OLD.hotline_code, OLD.completed_at) r) c
         GROUP BY 1, 2, 3
        HAVING sum(c.n) <> 0;
    ELSE
        INSERT INTO board_count_changes (family, key, hour, n)
        SELECT TG_TABLE_NAME, NEW.state, '-infinity'::timestamptz, 1
         WHERE TG_OP <> 'DELETE'
        UNION ALL
        SELECT TG_TABLE_NAME, OLD.state, '-infinity'::timestamptz, -1
         WHERE TG_OP <> 'INSERT';
    END IF;
    RETURN NULL;
END
$$;

-- Replaced in place: its lock (share row exclusive) stops the writes to work_orders
-- until the migration commits, and no reads, so no write falls between the old rows and
-- the new ones counted below.
CREATE OR REPLACE TRIGGER work_orders_board_counts_update
    AFTER UPDATE OF status, created_at, resolution_due_at, hotline_code, completed_at
    ON work_orders
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.resolution_due_at IS DISTINCT FROM NEW.resolution_due_at
          OR OLD.hotline_code IS DISTINCT FROM NEW.hotline_code
          OR OLD.completed_at IS DISTINCT FROM NEW.completed_at)
    EXECUTE FUNCTION board_counts_follow();

CREATE OR REPLACE FUNCTION board_counts_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    written bigint;
BEGIN
    LOCK TABLE work_orders, order_returns, time_requests IN SHARE MODE;
    LOCK TABLE board_counts, board_count_changes IN EXCLUSIVE MODE;
    DELETE FROM board_count_changes;
    DELETE FROM board_counts;
    INSERT INTO board_counts (family, key, hour, n)
    SELECT r.family, r.key, r.hour, count(*)
      FROM work_orders o
     CROSS JOIN LATERAL board_order_rows(o.status, o.created_at, o.resolution_due_at,
                                         o.hotline_code, o.completed_at) r
     GROUP BY 1, 2, 3
    UNION ALL
    SELECT 'order_returns', state, '-infinity'::timestamptz, count(*)
      FROM order_returns GROUP BY state
    UNION ALL
    SELECT 'time_requests', state, '-infinity'::timestamptz, count(*)
      FROM time_requests GROUP BY state;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;

DROP FUNCTION board_order_rows(text, timestamptz, timestamptz);

-- The counts moved to the new rows as changes for the relay to fold: the due hours
-- kept under '' out, counted again by hotline, and the late hours counted; from the
-- orders' partial indexes (open by due, late by completion), not every order, so the
-- writes wait seconds at ten million orders, not the minute a rebuild takes.
INSERT INTO board_count_changes (family, key, hour, n)
SELECT 'due', '', hour, -sum(n)
  FROM (SELECT hour, n FROM board_counts WHERE family = 'due' AND key = ''
        UNION ALL
        SELECT hour, n FROM board_count_changes WHERE family = 'due' AND key = '') kept
 GROUP BY hour
HAVING sum(n) <> 0
UNION ALL
SELECT 'due', coalesce(hotline_code, ''), date_trunc('hour', resolution_due_at, 'UTC'), count(*)
  FROM work_orders
 WHERE resolution_due_at IS NOT NULL
   AND status IN ('registered', 'dispatching', 'dispatched', 'returned', 'escalated',
                  'in_progress', 'reopened')
 GROUP BY 2, 3
UNION ALL
SELECT 'late', coalesce(hotline_code, ''), date_trunc('hour', completed_at, 'UTC'), count(*)
  FROM work_orders
 WHERE completed_at > resolution_due_at
 GROUP BY 2, 3;

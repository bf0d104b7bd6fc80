-- The supervisors' board's counters kept by the writes (docs/console.md, "Counters kept
-- by the writes"), so that a count reads a few dozen rows however many orders are open.
--
-- Each write to an order, a return or a time request appends what it changes to
-- board_count_changes: insert only, so writers never wait for one another on a counter
-- row, as intake would if every order added one to the same row. The relay folds the
-- changes into board_counts a batch at a time; the board sums both tables, in one
-- snapshot, so a count is exact whether or not its changes have been folded yet.

-- A count is a sum of n over (family, key, hour):
--   status         key = the order's status              hour = -infinity
--   registered     key = ''   hour = the UTC hour it was registered (drafts are not yet)
--   due            key = ''   hour = the UTC hour its resolution is due (open orders)
--   order_returns  key = the return's state              hour = -infinity
--   time_requests  key = the request's state             hour = -infinity
-- The board counts a period's whole hours from these rows, and the minutes at its ends
-- from the orders' own indexes.
CREATE TABLE board_counts (
    family text NOT NULL,
    key    text NOT NULL,
    hour   timestamptz NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (family, key, hour)
);

CREATE TABLE board_count_changes (
    family text NOT NULL,
    key    text NOT NULL,
    hour   timestamptz NOT NULL,
    n      integer NOT NULL
);

-- What one order adds to the counts. The open statuses are those of
-- work_orders_board_open_idx (migration 0009).
CREATE FUNCTION board_order_rows(status text, created_at timestamptz, due_at timestamptz)
RETURNS TABLE (family text, key text, hour timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT 'status', status, '-infinity'::timestamptz
    UNION ALL
    SELECT 'registered', '', date_trunc('hour', created_at, 'UTC')
     WHERE status <> 'draft'
    UNION ALL
    SELECT 'due', '', date_trunc('hour', due_at, 'UTC')
     WHERE due_at IS NOT NULL
       AND status IN ('registered', 'dispatching', 'dispatched', 'returned', 'escalated',
                      'in_progress', 'reopened')
$$;

-- A row written: its new rows in, its old rows out, leaving out what cancels (a status
-- change moves one order between two status rows and leaves its hours alone).
CREATE FUNCTION board_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'work_orders' AND TG_OP = 'INSERT' THEN
        -- The common write (every registration), kept to one plain insert.
        INSERT INTO board_count_changes (family, key, hour, n)
        SELECT r.family, r.key, r.hour, 1
          FROM board_order_rows(NEW.status, NEW.created_at, NEW.resolution_due_at) r;
    ELSIF TG_TABLE_NAME = 'work_orders' THEN
        INSERT INTO board_count_changes (family, key, hour, n)
        SELECT c.family, c.key, c.hour, sum(c.n)
          FROM (SELECT r.*, 1 AS n
                  FROM board_order_rows(NEW.status, NEW.created_at, NEW.resolution_due_at) r
                 WHERE TG_OP <> 'DELETE'
                UNION ALL
                SELECT r.*, -1
                  FROM board_order_rows(OLD.status, OLD.created_at, OLD.resolution_due_at) r) c
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

CREATE TRIGGER work_orders_board_counts AFTER INSERT OR DELETE ON work_orders
    FOR EACH ROW EXECUTE FUNCTION board_counts_follow();
CREATE TRIGGER work_orders_board_counts_update
    AFTER UPDATE OF status, created_at, resolution_due_at ON work_orders
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.resolution_due_at IS DISTINCT FROM NEW.resolution_due_at)
    EXECUTE FUNCTION board_counts_follow();

CREATE TRIGGER order_returns_board_counts AFTER INSERT OR DELETE ON order_returns
    FOR EACH ROW EXECUTE FUNCTION board_counts_follow();
CREATE TRIGGER order_returns_board_counts_update AFTER UPDATE OF state ON order_returns
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION board_counts_follow();

CREATE TRIGGER time_requests_board_counts AFTER INSERT OR DELETE ON time_requests
    FOR EACH ROW EXECUTE FUNCTION board_counts_follow();
CREATE TRIGGER time_requests_board_counts_update AFTER UPDATE OF state ON time_requests
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION board_counts_follow();

-- Up to ``batch`` changes folded into the counts; returns how many. One folder at a
-- time (another relay's pass returns 0 at once); rows that fall to zero are removed, so
-- the due hours left are those of open orders. A change committed while a fold runs is
-- not in its snapshot and waits for the next one.
CREATE FUNCTION board_counts_fold(batch integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    taken          integer;
    empty_families text[];
    empty_keys     text[];
    empty_hours    timestamptz[];
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('board_counts_fold')) THEN
        RETURN 0;
    END IF;
    WITH changes AS (
        DELETE FROM board_count_changes
         WHERE ctid = ANY (ARRAY(SELECT ctid FROM board_count_changes LIMIT batch))
        RETURNING board_count_changes.family, board_count_changes.key,
                  board_count_changes.hour, board_count_changes.n
    ), merged AS (
        INSERT INTO board_counts AS c (family, key, hour, n)
        SELECT ch.family, ch.key, ch.hour, sum(ch.n) FROM changes ch GROUP BY 1, 2, 3
        ON CONFLICT ON CONSTRAINT board_counts_pkey DO UPDATE SET n = c.n + EXCLUDED.n
        RETURNING c.family, c.key, c.hour, c.n
    )
    SELECT (SELECT count(*) FROM changes),
           array_agg(m.family), array_agg(m.key), array_agg(m.hour)
      INTO taken, empty_families, empty_keys, empty_hours
      FROM merged m WHERE m.n = 0;
    DELETE FROM board_counts c
     USING unnest(empty_families, empty_keys, empty_hours) AS e (family, key, hour)
     WHERE c.family = e.family AND c.key = e.key AND c.hour = e.hour AND c.n = 0;
    RETURN taken;
END
$$;

-- Every count made again from the tables (after a bulk load that skipped the triggers).
-- Writes wait meanwhile, so no change falls between the count and the tables.
CREATE FUNCTION board_counts_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
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
     CROSS JOIN LATERAL board_order_rows(o.status, o.created_at, o.resolution_due_at) r
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

SELECT board_counts_rebuild();

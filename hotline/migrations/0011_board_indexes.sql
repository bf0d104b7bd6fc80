-- The supervisors' board at millions of orders (bench/console.py, part b).

-- The coordination list (协调督办): orders in coordination, newest first. Without it
-- the planner reads every open order through a board index and sorts them (43 ms at a
-- million orders, ten times that at ten million); with it, the first page is the
-- index's first entries however many orders there are.
CREATE INDEX IF NOT EXISTS work_orders_escalated_idx ON work_orders (created_at DESC, id DESC)
    WHERE status = 'escalated';

-- Time requests (延期 / 挂起) waiting for a decision, oldest first: the board's list reads
-- the first page of this index instead of sorting every pending request (13 ms at ten
-- million orders and growing with them; returns have had such an index since 0004).
CREATE INDEX IF NOT EXISTS time_requests_pending_idx ON time_requests (created_at)
    WHERE state = 'pending';

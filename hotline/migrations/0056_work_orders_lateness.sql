-- The periodic report's list of the orders completed latest against their due
-- (reports/periodic/queries.py, completed_late): the late orders in order of lateness,
-- with what the list filters on. A month's 20 latest are then the first of them that
-- were completed in the month: about 20 entries per month of history are read, however
-- many orders the month had late (a million orders or ten). Before, the list read every
-- late completion of the month from work_orders_completed_late_idx and sorted them:
-- 53,000 at ten million orders, 11 ms of a 111 ms report (docs/reports.md). A day's
-- few late orders are still read from that index, which the planner takes for them.
-- migrate: each statement below runs alone, outside a transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS work_orders_lateness_idx
    ON work_orders ((completed_at - resolution_due_at) DESC, id)
    INCLUDE (completed_at, resolution_due_at, hotline_code)
    WHERE completed_at > resolution_due_at;

-- A common word with `overdue` (docs/core.md, "Finding orders"): the open orders newest
-- first, with their resolution due in the index, so that a search walks them from the
-- newest, passes over those not yet due inside the index and reads only the overdue
-- ones' rows for their words until its page is full (about 280 rows, under a
-- millisecond, at one and at three million orders). Before, it read every overdue
-- order's row to test its words and sorted the matches: 150 ms at a million orders,
-- growing with them. A partial GIN index of the open orders' words, tried first, still
-- reads every match's row (3,751 at a million orders, 85 ms). The predicate is
-- OPEN_PREDICATE (hotline/orders/queries.py) as the overdue test writes it; a few per
-- cent of the orders are open, so the index is small (2.4 MiB at three million orders).
CREATE INDEX work_orders_open_created_idx ON work_orders (created_at, id, resolution_due_at)
    WHERE status IN ('dispatched', 'dispatching', 'escalated', 'in_progress', 'registered',
                     'reopened', 'returned');

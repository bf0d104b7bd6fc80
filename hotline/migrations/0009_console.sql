-- The web console: agents' status, and indexes for what the consoles count and list.

-- Available, busy (on a call), after-call work (话后处理), offline. One row per agent,
-- replaced on each change; the time it was set is when the current status began.
CREATE TABLE agent_status (
    user_id    bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    status     text NOT NULL CHECK (status IN ('available', 'busy', 'after_call', 'offline')),
    since      timestamptz NOT NULL
);

-- Orders someone still has to work on, by resolution due. The supervisors' board counts
-- open, due-soon and overdue orders as ranges of this index without touching the table.
CREATE INDEX work_orders_board_open_idx ON work_orders (resolution_due_at)
    WHERE status IN ('registered', 'dispatching', 'dispatched', 'returned', 'escalated',
                     'in_progress', 'reopened');

-- Orders registered today (drafts are not registered yet), counted from the index alone.
CREATE INDEX work_orders_registered_idx ON work_orders (created_at) WHERE status <> 'draft';

-- An agent's own orders, newest first.
CREATE INDEX work_orders_registered_by_idx ON work_orders (registered_by, created_at DESC)
    WHERE registered_by IS NOT NULL;

-- The per-unit rates read the dispatches of a period: dispatches_created_idx, made by
-- 0007_callbacks for the callbacks' figures.

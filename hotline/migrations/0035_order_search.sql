-- Finding orders (docs/core.md, "Finding orders"): full-text words, the filters' and the
-- sorts' indexes, and each user's saved filters.

-- The order's words (hotline.words: jieba, cut for search) of its description, address
-- and caller name, as to_tsvector('simple', ...). Written with every change of those
-- texts; NULL for the orders written before this migration until the relay's chore has
-- filled them (a search matches those by their text meanwhile).
ALTER TABLE work_orders ADD COLUMN search_words tsvector;
CREATE INDEX work_orders_search_words_idx ON work_orders USING gin (search_words);
-- The orders still without words: the chore's queue and the search's fallback. Empty
-- once the chore is done, so it costs nothing afterwards.
CREATE INDEX work_orders_unindexed_idx ON work_orders (id) WHERE search_words IS NULL;

-- A caller's orders by the phone given on the contact, newest first.
CREATE INDEX work_orders_caller_phone_idx ON work_orders (caller_phone, created_at DESC)
    WHERE caller_phone IS NOT NULL;

-- The sorts other than registered (work_orders_created_idx) and due: each pages on
-- (key, id). Orders without a completion time are paged apart, by id.
CREATE INDEX work_orders_completed_sort_idx ON work_orders (completed_at, id)
    WHERE completed_at IS NOT NULL;
CREATE INDEX work_orders_updated_sort_idx ON work_orders (updated_at, id);
CREATE INDEX work_orders_due_sort_idx ON work_orders (resolution_due_at, id)
    WHERE resolution_due_at IS NOT NULL;

-- "Went to the centre's coordination at least once": the events that moved an order
-- there, by order. Few rows (a small share of orders is ever escalated).
CREATE INDEX order_events_escalated_idx ON order_events (order_id) WHERE to_status = 'escalated';

-- A user's saved searches: the query parameters of GET /api/v1/orders under a name.
CREATE TABLE saved_filters (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    params     jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, name)
);

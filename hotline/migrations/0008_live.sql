-- The live stream of order events (agents_ui/live_publisher.py, docs/console.md).
--
-- `seq` comes from a sequence when a row is inserted, but the row becomes visible when
-- its transaction commits, in another order: a reader that publishes "seq > the last
-- one published" skips a lower seq that commits late. So every insert first takes a
-- shared transaction-level advisory lock, and only then its seq. The publisher reads
-- the sequence's last value S, then the transactions holding that lock: every seq up to
-- S belongs to one of them or to a transaction that has ended. When none of them holds
-- the lock any more, every event up to S is committed or gone for good. Shared locks
-- never wait for each other, and nothing else takes this one.
--
-- The lock key is the pair (STREAM_LOCK_CLASS, STREAM_LOCK_ID) of hotline/stream/queries.py.

CREATE FUNCTION order_events_take_seq() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1752134764, 1);
    -- Always from the sequence, after the lock: a seq given in the INSERT could be
    -- taken outside the lock and slip under the publisher's horizon.
    NEW.seq := nextval('order_events_seq_seq');
    RETURN NEW;
END;
$$;

-- The default would take a seq before the trigger runs (and waste it).
ALTER TABLE order_events ALTER COLUMN seq DROP DEFAULT;

CREATE TRIGGER order_events_seq
    BEFORE INSERT ON order_events
    FOR EACH ROW EXECUTE FUNCTION order_events_take_seq();

-- How far the publisher has published: every event with seq <= published_seq has gone
-- out. One row.
CREATE TABLE live_cursor (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    published_seq bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Start where the history stands: an upgraded system does not push its whole past.
INSERT INTO live_cursor (published_seq)
SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM order_events_seq_seq;

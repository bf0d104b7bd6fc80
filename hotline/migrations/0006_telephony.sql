-- Telephony: a caller who leaves the queue (no agent answered in time, queue full, error)
-- records a message instead, and must no longer be offered to an agent as waiting.
ALTER TABLE calls
    ADD COLUMN left_queue_at timestamptz,
    ADD COLUMN queue_result  text;          -- Twilio's QueueResult (leave, queue-full ...)

DROP INDEX calls_waiting_idx;
CREATE INDEX calls_waiting_idx ON calls (hotline_code, queued_at)
    WHERE agent_user_id IS NULL AND left_queue_at IS NULL AND queued_at IS NOT NULL
      AND status IN ('queued', 'ringing', 'in-progress');

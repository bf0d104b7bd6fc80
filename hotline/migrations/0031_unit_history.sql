-- The enterprise inbox's history (GET /api/v1/inbox/history): a unit's completed
-- dispatches, the latest finished first, keyset-paged on (finished_at, id). Without it a
-- page sorted every completed dispatch the unit ever had.
CREATE INDEX dispatches_unit_history_idx ON dispatches (enterprise_id, finished_at DESC, id DESC)
    WHERE state = 'completed';

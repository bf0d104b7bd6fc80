-- Indexes no query reads since the figures' counts are kept (migration 0012): the
-- figures read figure_day_counts, and the late dispatches dispatches_unmarked_idx. The
-- release before this one did not read them either, so dropping them is safe under a
-- running older release (docs/deploy.md, Upgrades). Each cost every dispatch written an
-- index entry, and the first misled the planner at ten million orders into walking a
-- month of dispatches for the figures.
DROP INDEX IF EXISTS dispatches_created_idx;
DROP INDEX IF EXISTS dispatches_completed_lead_idx;

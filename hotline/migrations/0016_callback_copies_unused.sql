-- Callback ratings have one writer, callbacks, in its own table: callback_surveys keeps
-- each answer (solved, rating, comment, outcome, answered_at), and a redo names its
-- survey in the order's reopen event. This release stops writing the copies callbacks
-- kept in other packages' tables, which nothing ever read:
--   work_orders.callback_solved, callback_rating, callback_at  (the latest answer)
--   dispatches.redo_survey_id                                   (the survey behind a redo)
-- The figures (figure_rows, migrations 0012 and 0014) never read them.
-- Not dropped here (docs/deploy.md, Upgrades): the previous release still writes them
-- while it serves during the upgrade. The release after this one drops them, once no
-- running code writes them; until then the schema says so.
COMMENT ON COLUMN work_orders.callback_solved IS
    'unused since 0016 (callback_surveys keeps answers); dropped by the next release';
COMMENT ON COLUMN work_orders.callback_rating IS
    'unused since 0016 (callback_surveys keeps answers); dropped by the next release';
COMMENT ON COLUMN work_orders.callback_at IS
    'unused since 0016 (callback_surveys keeps answers); dropped by the next release';
COMMENT ON COLUMN dispatches.redo_survey_id IS
    'unused since 0016 (the reopen event names the survey); dropped by the next release';

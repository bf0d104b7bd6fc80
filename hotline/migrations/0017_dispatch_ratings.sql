-- A unit's callback rating in a table callbacks owns (one writer per table): it was
-- written by callbacks into routing's dispatches (solved, rating, rated_at,
-- callback_outcome, score_excluded). The figures (migrations 0012 and 0014) now read a
-- dispatch's rating from here, and a rating written, changed or taken back moves the
-- kept counts itself.

-- The rating of a lead unit's dispatch by its callback, and an approved appeal
-- (申诉) taking it out of the unit's score. A dispatch never called back has no row.
CREATE TABLE dispatch_ratings (
    dispatch_id      bigint PRIMARY KEY REFERENCES dispatches (id),
    solved           boolean,
    rating           smallint CHECK (rating BETWEEN 1 AND 5),
    rated_at         timestamptz,
    callback_outcome text CHECK (callback_outcome IN ('good', 'bad', 'unreachable')),
    score_excluded   boolean NOT NULL DEFAULT false
);

-- The ratings given so far. The counts stay as they are: the rows below read the same
-- values from here as they read from dispatches.
INSERT INTO dispatch_ratings (dispatch_id, solved, rating, rated_at, callback_outcome,
                              score_excluded)
SELECT id, solved, rating, rated_at, callback_outcome, score_excluded
  FROM dispatches
 WHERE solved IS NOT NULL OR rating IS NOT NULL OR rated_at IS NOT NULL
    OR callback_outcome IS NOT NULL OR score_excluded;

-- The definitions of migration 0014, the rating read from its own row. A dispatch
-- without a rating row (r null) counts as one with no answer and no appeal; a null
-- dispatch counts nothing (both parts need its state).
DROP FUNCTION figure_rows(dispatches, text, text, text);

CREATE FUNCTION figure_rows(d dispatches, r dispatch_ratings, item text, line text, tz text)
RETURNS TABLE (day date, enterprise_id bigint, service_item_code text, hotline_code text,
               dispatched integer, signed_on_time integer, completed integer,
               completed_on_time integer, called_back integer, unreachable integer,
               reopened integer, answered integer, solved integer, rated integer,
               good integer)
LANGUAGE sql STABLE AS $$
    SELECT (d.created_at AT TIME ZONE tz)::date, d.enterprise_id, item, line,
           (d.signed_at IS NOT NULL OR d.state = 'returned'
            OR d.sign_for_missed_at IS NOT NULL)::integer,
           coalesce(d.signed_at <= d.sign_for_due_at, d.signed_at IS NOT NULL)::integer,
           0, 0, 0, 0, 0, 0, 0, 0, 0
     WHERE d.state <> 'withdrawn'
    UNION ALL
    SELECT (d.finished_at AT TIME ZONE tz)::date, d.enterprise_id, item, line,
           0, 0, 1,
           coalesce(d.completed_on_time, false)::integer,
           coalesce(r.callback_outcome IN ('good', 'bad'), false)::integer,
           coalesce(r.callback_outcome = 'unreachable', false)::integer,
           coalesce(r.callback_outcome = 'bad', false)::integer,
           (r.solved IS NOT NULL AND NOT r.score_excluded)::integer,
           coalesce(r.solved AND NOT r.score_excluded, false)::integer,
           (r.rating IS NOT NULL AND NOT r.score_excluded)::integer,
           coalesce(r.rating >= 3 AND NOT r.score_excluded, false)::integer
     WHERE d.role = 'lead' AND d.state = 'completed' AND d.finished_at IS NOT NULL
$$;

-- One change of a dispatch or of its rating: the rows of (new dispatch, new rating) in,
-- those of (old dispatch, old rating) out, per day and key, skipping what adds nothing.
-- A row of counts is locked until the writer commits; writers of the same day, unit,
-- item and hotline take turns, others never meet. An order's service item and hotline
-- no longer change once it is dispatched.
CREATE FUNCTION figure_counts_move(new_d dispatches, new_r dispatch_ratings,
                                   old_d dispatches, old_r dispatch_ratings)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    tz   text := (SELECT timezone FROM figure_settings);
    item text;
    line text;
BEGIN
    -- An order without a service item (none is dispatched so) must not fail the write.
    SELECT coalesce(o.service_item_code, ''), o.hotline_code INTO item, line
      FROM work_orders o WHERE o.id = new_d.order_id;
    INSERT INTO figure_day_counts AS c
    SELECT r.day, r.enterprise_id, r.service_item_code, r.hotline_code,
           sum(r.dispatched * r.sign), sum(r.signed_on_time * r.sign),
           sum(r.completed * r.sign), sum(r.completed_on_time * r.sign),
           sum(r.called_back * r.sign), sum(r.unreachable * r.sign),
           sum(r.reopened * r.sign), sum(r.answered * r.sign), sum(r.solved * r.sign),
           sum(r.rated * r.sign), sum(r.good * r.sign)
      FROM (SELECT n.*, 1 AS sign FROM figure_rows(new_d, new_r, item, line, tz) n
            UNION ALL
            SELECT o.*, -1 FROM figure_rows(old_d, old_r, item, line, tz) o) r
     GROUP BY 1, 2, 3, 4
    HAVING (sum(r.dispatched * r.sign), sum(r.signed_on_time * r.sign),
            sum(r.completed * r.sign), sum(r.completed_on_time * r.sign),
            sum(r.called_back * r.sign), sum(r.unreachable * r.sign),
            sum(r.reopened * r.sign), sum(r.answered * r.sign), sum(r.solved * r.sign),
            sum(r.rated * r.sign), sum(r.good * r.sign))
           IS DISTINCT FROM (0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                             0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                             0::bigint)
    ON CONFLICT (day, enterprise_id, service_item_code, hotline_code) DO UPDATE SET
        dispatched = c.dispatched + EXCLUDED.dispatched,
        signed_on_time = c.signed_on_time + EXCLUDED.signed_on_time,
        completed = c.completed + EXCLUDED.completed,
        completed_on_time = c.completed_on_time + EXCLUDED.completed_on_time,
        called_back = c.called_back + EXCLUDED.called_back,
        unreachable = c.unreachable + EXCLUDED.unreachable,
        reopened = c.reopened + EXCLUDED.reopened,
        answered = c.answered + EXCLUDED.answered,
        solved = c.solved + EXCLUDED.solved,
        rated = c.rated + EXCLUDED.rated,
        good = c.good + EXCLUDED.good;
END
$$;

-- A dispatch written (routing): with its current rating, read by primary key. OLD is
-- null for an insert, and a null dispatch has no rows to take away. A rating written in
-- another transaction meanwhile waits for this one (the share lock below), so each
-- sees the other's change.
CREATE OR REPLACE FUNCTION figure_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rating_row dispatch_ratings := (SELECT r FROM dispatch_ratings r
                                     WHERE r.dispatch_id = NEW.id);
BEGIN
    PERFORM figure_counts_move(NEW, rating_row, OLD, rating_row);
    RETURN NULL;
END
$$;

-- A rating written, changed or deleted (callbacks): with its dispatch as it stands,
-- read by primary key and share-locked until commit, so that a concurrent write of the
-- dispatch counts with this rating and not the one before it. OLD is null for an
-- insert, NEW for a delete: the dispatch counts as unrated then.
CREATE FUNCTION figure_counts_follow_rating() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    dispatch_row dispatches := (SELECT d FROM dispatches d
                                 WHERE d.id = coalesce(NEW.dispatch_id, OLD.dispatch_id)
                                   FOR SHARE);
BEGIN
    PERFORM figure_counts_move(dispatch_row, NEW, dispatch_row, OLD);
    RETURN NULL;
END
$$;

CREATE TRIGGER dispatch_ratings_figure_counts AFTER INSERT OR UPDATE OR DELETE
    ON dispatch_ratings FOR EACH ROW EXECUTE FUNCTION figure_counts_follow_rating();

-- Every day counted again from the dispatches and their ratings: after a bulk load that
-- skipped the triggers, or a change of figure_settings.timezone. Returns the rows
-- written.
CREATE OR REPLACE FUNCTION figure_counts_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    written bigint;
BEGIN
    LOCK TABLE figure_day_counts IN EXCLUSIVE MODE;
    DELETE FROM figure_day_counts;
    INSERT INTO figure_day_counts
    SELECT r.day, r.enterprise_id, r.service_item_code, r.hotline_code,
           sum(r.dispatched), sum(r.signed_on_time), sum(r.completed),
           sum(r.completed_on_time), sum(r.called_back), sum(r.unreachable),
           sum(r.reopened), sum(r.answered), sum(r.solved), sum(r.rated), sum(r.good)
      FROM dispatches d JOIN work_orders o ON o.id = d.order_id
      LEFT JOIN dispatch_ratings dr ON dr.dispatch_id = d.id
     CROSS JOIN LATERAL figure_rows(d, dr, coalesce(o.service_item_code, ''), o.hotline_code,
                                    (SELECT timezone FROM figure_settings)) r
     GROUP BY 1, 2, 3, 4
    HAVING sum(r.dispatched + r.signed_on_time + r.completed + r.completed_on_time
               + r.called_back + r.unreachable + r.reopened + r.answered + r.solved
               + r.rated + r.good) > 0
     ORDER BY 1, 2, 3, 4;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;

-- During the rolling upgrade (docs/deploy.md, Upgrades) the previous release still
-- serves and writes its ratings into dispatches. Such a write is copied here before the
-- dispatch row changes, so that the rating counts and can be appealed: its trigger
-- moves the counts from (old dispatch, old rating) to (old dispatch, new rating), the
-- dispatch's trigger then from there to (new dispatch, new rating). This release never
-- writes these columns; the next one drops them with this trigger.
CREATE FUNCTION dispatch_ratings_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dispatch_ratings (dispatch_id, solved, rating, rated_at, callback_outcome,
                                  score_excluded)
    VALUES (NEW.id, NEW.solved, NEW.rating, NEW.rated_at, NEW.callback_outcome,
            NEW.score_excluded)
    ON CONFLICT (dispatch_id) DO UPDATE SET
        solved = EXCLUDED.solved, rating = EXCLUDED.rating, rated_at = EXCLUDED.rated_at,
        callback_outcome = EXCLUDED.callback_outcome, score_excluded = EXCLUDED.score_excluded;
    RETURN NEW;
END
$$;

CREATE TRIGGER dispatches_copy_rating
    BEFORE UPDATE OF solved, rating, rated_at, callback_outcome, score_excluded ON dispatches
    FOR EACH ROW
    WHEN ((OLD.solved, OLD.rating, OLD.rated_at, OLD.callback_outcome, OLD.score_excluded)
          IS DISTINCT FROM
          (NEW.solved, NEW.rating, NEW.rated_at, NEW.callback_outcome, NEW.score_excluded))
    EXECUTE FUNCTION dispatch_ratings_copy();

-- Not dropped here (docs/deploy.md, Upgrades): the previous release reads and writes
-- them while it serves during the upgrade. The release after this one drops them, once
-- no running code uses them; until then the schema says so.
COMMENT ON COLUMN dispatches.solved IS
    'unused since 0017 (dispatch_ratings keeps ratings); dropped by the next release';
COMMENT ON COLUMN dispatches.rating IS
    'unused since 0017 (dispatch_ratings keeps ratings); dropped by the next release';
COMMENT ON COLUMN dispatches.rated_at IS
    'unused since 0017 (dispatch_ratings keeps ratings); dropped by the next release';
COMMENT ON COLUMN dispatches.callback_outcome IS
    'unused since 0017 (dispatch_ratings keeps ratings); dropped by the next release';
COMMENT ON COLUMN dispatches.score_excluded IS
    'unused since 0017 (dispatch_ratings keeps ratings); dropped by the next release';

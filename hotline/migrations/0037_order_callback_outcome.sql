-- The order's callback outcome on its own row, for the search's rating filter
-- (docs/core.md, "Finding orders"): asked per order as a subquery (the latest rated
-- lead dispatch), a common word with `rating=bad` read a million ratings at a million
-- orders. The callbacks package writes the ratings (dispatch_ratings); a trigger
-- (migration 0038) keeps their order's copy, in the rating's transaction, so no code
-- writes it twice and no rating is left uncopied.

ALTER TABLE work_orders ADD COLUMN callback_outcome text
    CHECK (callback_outcome IN ('good', 'bad', 'unreachable'));

-- A rating with words: the orders of that outcome, newest first, met with the words'
-- index as a bitmap; a rating alone walks it newest first.
CREATE INDEX work_orders_callback_outcome_idx ON work_orders (callback_outcome, created_at DESC)
    WHERE callback_outcome IS NOT NULL;

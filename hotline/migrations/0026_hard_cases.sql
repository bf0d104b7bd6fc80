-- 办不成事: an order the citizen could not get done elsewhere. It skips the routing rules
-- and goes straight to the centre's coordination, on a limit of its own (the hard-case
-- due, set when routing takes it), and its figures are reported apart. tried_elsewhere
-- is where the citizen already tried, in their words; a hard case always says it.
ALTER TABLE work_orders
    ADD COLUMN hard_case        boolean NOT NULL DEFAULT false,
    ADD COLUMN tried_elsewhere  text NOT NULL DEFAULT '',
    ADD COLUMN hard_case_due_at timestamptz,
    ADD CONSTRAINT work_orders_hard_case_tried CHECK (NOT hard_case OR tried_elsewhere <> '');

-- The board's hard-case list and their figures: few rows, read by time.
CREATE INDEX work_orders_hard_case_idx ON work_orders (created_at) WHERE hard_case;

-- On-site visits after a bad rating (上门回访): for the service items that ask for it, a
-- citizen's unsatisfied callback gives the unit a visit to make and record before it may
-- complete the order again. Repairs ask for it by default; the catalogue may say otherwise.
ALTER TABLE service_items
    ADD COLUMN visit_after_bad_rating boolean NOT NULL DEFAULT false;
UPDATE service_items SET visit_after_bad_rating = true WHERE kind = 'repair';

-- One visit per order and round of work (the redo count the bad rating opened). Routing
-- writes it: opened when it redoes the reopened order, recorded by the lead unit, or
-- settled by a supervisor's ruling that closes the order.
CREATE TABLE onsite_visits (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id             bigint NOT NULL REFERENCES work_orders (id),
    round                integer NOT NULL CHECK (round > 0),
    state                text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'recorded', 'ruled')),
    reason               text NOT NULL DEFAULT '',   -- in Chinese, as reports read it
    texts                jsonb NOT NULL DEFAULT '{}'::jsonb,  -- the reason in either language
    due_at               timestamptz NOT NULL,
    created_at           timestamptz NOT NULL,
    -- What the unit recorded.
    dispatch_id          bigint REFERENCES dispatches (id),
    enterprise_id        bigint REFERENCES enterprises (id),
    visited_at           timestamptz,
    visitors             text,
    findings             text,
    attachment_ids       bigint[] NOT NULL DEFAULT '{}',
    citizen_confirmation text CHECK (citizen_confirmation IN ('on_site', 'by_phone', 'refused')),
    recorded_by          text,
    recorded_at          timestamptz,
    -- A supervisor's ruling that closed the order without it.
    ruled_by             text,
    ruling               text,
    ruled_at             timestamptz,
    UNIQUE (order_id, round),
    CHECK ((state = 'recorded') = (recorded_at IS NOT NULL)),
    CHECK ((state = 'recorded') = (citizen_confirmation IS NOT NULL)),
    CHECK ((state = 'ruled') = (ruled_at IS NOT NULL))
);
CREATE INDEX onsite_visits_pending_idx ON onsite_visits (order_id) WHERE state = 'pending';

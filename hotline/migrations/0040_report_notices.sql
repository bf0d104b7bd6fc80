-- Notices (通报) drafted from a ranking of the units (reports/rankings): the worst units
-- of a period and their overdue orders, edited by a supervisor, then published to the
-- units named, each of which marks them read. Written by the reports package only.

CREATE TABLE report_notices (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state         text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'published')),
    title         text NOT NULL,
    body          text NOT NULL DEFAULT '',
    -- The ranking it was drafted from: the period, what was ranked and by which figure.
    period        text NOT NULL CHECK (period IN ('day', 'week', 'month', 'custom')),
    period_start  date NOT NULL,
    period_end    date NOT NULL,
    ranked_by     text NOT NULL,
    metric        text NOT NULL,
    created_by    bigint NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    updated_by    bigint NOT NULL REFERENCES users (id),
    updated_at    timestamptz NOT NULL,
    published_by  bigint REFERENCES users (id),
    published_at  timestamptz,
    CHECK ((state = 'published') = (published_at IS NOT NULL))
);
-- The supervisors' list, newest first.
CREATE INDEX report_notices_created_idx ON report_notices (created_at DESC, id DESC);

-- The units a notice names (and is addressed to once published), with the rank and
-- value the ranking gave them; read_at and read_by when someone of the unit read it.
CREATE TABLE report_notice_units (
    notice_id     bigint NOT NULL REFERENCES report_notices (id),
    enterprise_id bigint NOT NULL REFERENCES enterprises (id),
    position      integer NOT NULL,
    rank          integer,
    value         double precision,
    read_at       timestamptz,
    read_by       bigint REFERENCES users (id),
    PRIMARY KEY (notice_id, enterprise_id)
);
-- A unit's inbox: the notices addressed to it.
CREATE INDEX report_notice_units_unit_idx ON report_notice_units (enterprise_id, notice_id);

-- The orders a notice lists, each under one of its units, and why: still open past its
-- resolution due, or completed late in the period.
CREATE TABLE report_notice_orders (
    notice_id     bigint NOT NULL REFERENCES report_notices (id),
    order_id      bigint NOT NULL REFERENCES work_orders (id),
    enterprise_id bigint NOT NULL REFERENCES enterprises (id),
    reason        text NOT NULL CHECK (reason IN ('open_overdue', 'completed_late', 'added')),
    PRIMARY KEY (notice_id, order_id)
);

-- Every change to a notice: who did what, when, and the fields it changed.
CREATE TABLE report_notice_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notice_id   bigint NOT NULL REFERENCES report_notices (id),
    action      text NOT NULL CHECK (action IN ('drafted', 'edited', 'published', 'read')),
    user_id     bigint REFERENCES users (id),
    enterprise_id bigint REFERENCES enterprises (id),
    at          timestamptz NOT NULL,
    changes     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX report_notice_changes_notice_idx ON report_notice_changes (notice_id, id);

-- A notice lists the lead dispatches a unit completed late in the period: few against
-- all it completed, which dispatches_enterprise_idx would walk (every completed dispatch
-- of the unit, ever). Only the rows the notices read.
CREATE INDEX dispatches_completed_late_idx ON dispatches (enterprise_id, finished_at)
    WHERE role = 'lead' AND state = 'completed' AND completed_on_time IS NOT TRUE;

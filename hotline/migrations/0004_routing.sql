-- The routing engine: rule history, returns and their review, coordination, time
-- requests, the escalation ladder's notices, proof files, enterprise webhooks, and
-- what duplicate detection needs.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE routing_rules
    ADD COLUMN note       text NOT NULL DEFAULT '',
    ADD COLUMN created_by bigint REFERENCES users (id),
    ADD COLUMN updated_by bigint REFERENCES users (id);

-- Who changed a rule, when, and what it was before and after.
CREATE TABLE routing_rule_history (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id    bigint NOT NULL REFERENCES routing_rules (id),
    action     text NOT NULL CHECK (action IN ('created', 'updated', 'disabled', 'enabled')),
    changed_by bigint REFERENCES users (id),
    changed_at timestamptz NOT NULL DEFAULT now(),
    before     jsonb,
    after      jsonb NOT NULL
);
CREATE INDEX routing_rule_history_rule_idx ON routing_rule_history (rule_id, id);

ALTER TABLE dispatches
    ADD COLUMN rule_id     bigint REFERENCES routing_rules (id),
    ADD COLUMN reason      text NOT NULL DEFAULT '',   -- why this unit, readable
    ADD COLUMN forced      boolean NOT NULL DEFAULT false,  -- 强制派单 after an overruled return
    ADD COLUMN reply       text NOT NULL DEFAULT '',   -- the unit's reply, or an assisting unit's part
    ADD COLUMN due_at      timestamptz;                -- the unit's resolution due (coordination)
CREATE UNIQUE INDEX dispatches_one_open_lead_idx ON dispatches (order_id)
    WHERE role = 'lead' AND state IN ('pending', 'signed');

ALTER TABLE work_orders
    ADD COLUMN extension_count integer NOT NULL DEFAULT 0,
    ADD COLUMN first_due_at    timestamptz;  -- the resolution due before any extension
CREATE INDEX work_orders_dup_idx ON work_orders (service_item_code, area_code, created_at DESC)
    WHERE status NOT IN ('closed', 'merged', 'cancelled', 'resolved_on_call');

-- Addresses compared for duplicates without spaces and punctuation, which callers and
-- agents type in many ways ("宁夏路 201 号" and "宁夏路201号" are one address).
CREATE FUNCTION address_key(address text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(regexp_replace(address, '[[:space:][:punct:]，。、；：（）]+', '', 'g'))
$$;

-- 退单: a unit sends a dispatch back; the centre upholds or overrules.
CREATE TABLE order_returns (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id      bigint NOT NULL REFERENCES work_orders (id),
    dispatch_id   bigint NOT NULL UNIQUE REFERENCES dispatches (id),
    enterprise_id bigint NOT NULL REFERENCES enterprises (id),
    reason_code   text NOT NULL CHECK (reason_code IN
        ('not_our_duty', 'wrong_area', 'insufficient_information', 'duplicate', 'other')),
    reason_text   text NOT NULL DEFAULT '',
    returned_by   text NOT NULL,
    created_at    timestamptz NOT NULL,
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'upheld', 'overruled')),
    reviewed_by   bigint REFERENCES users (id),
    reviewed_at   timestamptz,
    review_note   text NOT NULL DEFAULT ''
);
CREATE INDEX order_returns_pending_idx ON order_returns (created_at) WHERE state = 'pending';

-- 延期 / 挂起 requests and the centre's decision.
CREATE TABLE time_requests (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id         bigint NOT NULL REFERENCES work_orders (id),
    dispatch_id      bigint NOT NULL REFERENCES dispatches (id),
    kind             text NOT NULL CHECK (kind IN ('extension', 'suspension')),
    reason           text NOT NULL,
    requested_due_at timestamptz NOT NULL,
    requested_by     text NOT NULL,
    created_at       timestamptz NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'approved', 'rejected')),
    decided_by       bigint REFERENCES users (id),
    decided_at       timestamptz,
    decision_note    text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX time_requests_one_pending_idx ON time_requests (order_id) WHERE state = 'pending';

-- The ladder's steps (催办, yellow, red/督办, 通报). The unique key makes each step happen
-- once per dispatch or order, whatever the number of times a deadline job runs.
CREATE TABLE supervision_notices (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id      bigint NOT NULL REFERENCES work_orders (id),
    dispatch_id   bigint REFERENCES dispatches (id),
    enterprise_id bigint REFERENCES enterprises (id),
    level         text NOT NULL
        CHECK (level IN ('reminder', 'yellow', 'red', 'supervision', 'public_notice')),
    message       text NOT NULL,
    created_at    timestamptz NOT NULL,
    acknowledged_at timestamptz
);
CREATE UNIQUE INDEX supervision_notices_once_idx
    ON supervision_notices (order_id, coalesce(dispatch_id, 0), level);
CREATE INDEX supervision_notices_level_idx ON supervision_notices (level, created_at DESC);

-- Proof of work (佐证材料) uploaded with a completion.
CREATE TABLE attachments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id     bigint NOT NULL REFERENCES work_orders (id),
    dispatch_id  bigint REFERENCES dispatches (id),
    filename     text NOT NULL,
    content_type text NOT NULL,
    size_bytes   integer NOT NULL CHECK (size_bytes > 0),
    sha256       text NOT NULL,
    storage_key  text NOT NULL UNIQUE,
    uploaded_by  text NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX attachments_order_idx ON attachments (order_id);

-- Outbound webhooks to enterprise systems: one row per effect, written before sending.
CREATE TABLE webhook_deliveries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    effect_key    text NOT NULL UNIQUE,
    enterprise_id bigint NOT NULL REFERENCES enterprises (id),
    url           text NOT NULL,
    event         text NOT NULL,
    payload       jsonb NOT NULL,
    state         text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    due_at        timestamptz NOT NULL DEFAULT now(),  -- next attempt
    lease_until   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (due_at) WHERE state = 'pending';
CREATE TABLE webhook_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id),
    attempted_at timestamptz NOT NULL DEFAULT now(),
    status_code integer,
    error       text NOT NULL DEFAULT '',
    duration_ms integer NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);

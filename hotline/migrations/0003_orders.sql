-- Work orders, their append-only history, dispatches, deadlines, the outbox, and
-- outage notices.

CREATE TABLE order_number_counters (
    hotline_code text NOT NULL REFERENCES hotlines (code),
    day          date NOT NULL,
    last_value   integer NOT NULL,
    PRIMARY KEY (hotline_code, day)
);

CREATE TABLE work_orders (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number            text NOT NULL UNIQUE,          -- 96111-20261122-0042
    hotline_code      text NOT NULL REFERENCES hotlines (code),
    channel           text NOT NULL
        CHECK (channel IN ('voice', 'sms', 'web', 'wechat', 'open311', 'enterprise', 'agent')),
    kind              text NOT NULL
        CHECK (kind IN ('consultation', 'repair', 'complaint', 'suggestion', 'praise', 'request')),
    service_item_code text NOT NULL REFERENCES service_items (code),
    area_code         text REFERENCES areas (code),
    address           text NOT NULL DEFAULT '',
    description       text NOT NULL,
    priority          text NOT NULL DEFAULT 'normal' CHECK (priority IN ('normal', 'urgent')),
    status            text NOT NULL,
    citizen_id        bigint REFERENCES citizens (id),
    caller_phone      text,                          -- E.164 as given on this contact
    caller_name       text NOT NULL DEFAULT '',
    registered_by     bigint REFERENCES users (id),
    client_request_id text,
    lead_enterprise_id bigint REFERENCES enterprises (id),
    parent_id         bigint REFERENCES work_orders (id),
    reply             text NOT NULL DEFAULT '',
    redo_count        integer NOT NULL DEFAULT 0,
    bounce_count      integer NOT NULL DEFAULT 0,
    resolution_due_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz,
    closed_at         timestamptz
);
-- A retried registration (same user, same client request id) finds the first one.
CREATE UNIQUE INDEX work_orders_client_request_idx
    ON work_orders (registered_by, client_request_id) WHERE client_request_id IS NOT NULL;
CREATE INDEX work_orders_created_idx ON work_orders (created_at DESC, id DESC);
CREATE INDEX work_orders_status_idx ON work_orders (status, created_at DESC);
CREATE INDEX work_orders_citizen_idx ON work_orders (citizen_id, created_at DESC);
CREATE INDEX work_orders_lead_idx ON work_orders (lead_enterprise_id, status);
CREATE INDEX work_orders_open_due_idx ON work_orders (resolution_due_at)
    WHERE status NOT IN ('closed', 'merged', 'cancelled', 'resolved_on_call');
CREATE INDEX work_orders_parent_idx ON work_orders (parent_id) WHERE parent_id IS NOT NULL;

-- The history of every order. The global sequence lets a console replay what it
-- missed after a reconnect. Rows are never changed or removed.
CREATE TABLE order_events (
    seq           bigserial PRIMARY KEY,
    order_id      bigint NOT NULL REFERENCES work_orders (id),
    type          text NOT NULL,
    actor_user_id bigint REFERENCES users (id),
    actor         text NOT NULL DEFAULT '',   -- who, readable: a user, a unit, "system"
    from_status   text,
    to_status     text,
    data          jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order_idx ON order_events (order_id, seq);

CREATE FUNCTION order_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'order_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER order_events_no_change
    BEFORE UPDATE OR DELETE ON order_events
    FOR EACH ROW EXECUTE FUNCTION order_events_append_only();
CREATE TRIGGER order_events_no_truncate
    BEFORE TRUNCATE ON order_events
    FOR EACH STATEMENT EXECUTE FUNCTION order_events_append_only();

-- Which units an order went to. The routing engine fills in the behaviour; the core
-- needs the table because an enterprise sees exactly the orders dispatched to it.
CREATE TABLE dispatches (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint NOT NULL REFERENCES work_orders (id),
    enterprise_id   bigint NOT NULL REFERENCES enterprises (id),
    role            text NOT NULL DEFAULT 'lead' CHECK (role IN ('lead', 'assisting')),
    state           text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'signed', 'returned', 'completed', 'withdrawn')),
    sign_for_due_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    signed_at       timestamptz,
    finished_at     timestamptz
);
CREATE INDEX dispatches_order_idx ON dispatches (order_id);
CREATE INDEX dispatches_enterprise_idx ON dispatches (enterprise_id, state, created_at DESC);

-- Durable timers. The relay claims due rows (FOR UPDATE SKIP LOCKED) and enqueues
-- one job per row; Redis may be flushed at any time without losing a deadline.
CREATE TABLE deadlines (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES work_orders (id),
    dispatch_id bigint REFERENCES dispatches (id),
    kind        text NOT NULL,
    due_at      timestamptz NOT NULL,
    state       text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'enqueued', 'fired', 'cancelled')),
    lease_until timestamptz,
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    fired_at    timestamptz
);
CREATE INDEX deadlines_due_idx ON deadlines (due_at) WHERE state IN ('pending', 'enqueued');
CREATE INDEX deadlines_order_idx ON deadlines (order_id);

-- Work to do after commit. `key` is the effect's natural key: a second insert of the
-- same effect is ignored, so retries never double it.
CREATE TABLE outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic       text NOT NULL,
    key         text NOT NULL UNIQUE,
    payload     jsonb NOT NULL DEFAULT '{}',
    due_at      timestamptz NOT NULL DEFAULT now(),
    state       text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'enqueued', 'done', 'failed')),
    lease_until timestamptz,
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (due_at) WHERE state IN ('pending', 'enqueued');

CREATE TABLE outage_notices (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain          text NOT NULL CHECK (domain IN ('water', 'gas', 'heating')),
    kind            text NOT NULL CHECK (kind IN ('planned', 'emergency')),
    title           text NOT NULL,
    description     text NOT NULL DEFAULT '',
    area_codes      text[] NOT NULL,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    parent_order_id bigint REFERENCES work_orders (id),
    created_by      bigint REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    cancelled_at    timestamptz,
    CHECK (ends_at > starts_at)
);
CREATE INDEX outage_notices_window_idx ON outage_notices (starts_at, ends_at);
CREATE INDEX outage_notices_areas_idx ON outage_notices USING gin (area_codes);

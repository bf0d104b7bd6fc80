-- Intake channels: calls, SMS, Twilio deliveries (deduplicated by natural key), outbound
-- messages (one row per effect), Open311 clients, drafts an agent confirms.

-- A draft (from an SMS, a recorded message or a form) may not know its service item or
-- kind yet; every other status must.
ALTER TABLE work_orders ALTER COLUMN service_item_code DROP NOT NULL;
ALTER TABLE work_orders ALTER COLUMN kind DROP NOT NULL;
ALTER TABLE work_orders ADD CONSTRAINT work_orders_classified_unless_draft
    CHECK (status = 'draft' OR (service_item_code IS NOT NULL AND kind IS NOT NULL));
ALTER TABLE work_orders
    ADD COLUMN media_url    text,          -- a photo from a form or Open311 (media_url)
    ADD COLUMN latitude     double precision,
    ADD COLUMN longitude    double precision,
    ADD COLUMN reporter_email text NOT NULL DEFAULT '';
CREATE INDEX work_orders_drafts_idx ON work_orders (created_at) WHERE status = 'draft';

CREATE TABLE calls (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_sid           text NOT NULL UNIQUE,
    hotline_code       text REFERENCES hotlines (code),
    direction          text NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound')),
    from_phone         text NOT NULL,                -- E.164 (or the raw value if unparsable)
    to_number          text NOT NULL,
    citizen_id         bigint REFERENCES citizens (id),
    status             text NOT NULL DEFAULT 'ringing',
    -- Statuses only move forward: a late or repeated callback compares ranks.
    status_rank        integer NOT NULL DEFAULT 0,
    menu_choice        text,
    agent_user_id      bigint REFERENCES users (id),
    queued_at          timestamptz,
    answered_at        timestamptz,
    ended_at           timestamptz,
    duration_seconds   integer,
    recording_sid      text,
    recording_url      text,
    recording_seconds  integer,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calls_citizen_idx ON calls (citizen_id, created_at DESC);
CREATE INDEX calls_waiting_idx ON calls (hotline_code, queued_at) WHERE agent_user_id IS NULL
    AND status IN ('queued', 'ringing', 'in-progress');

ALTER TABLE work_orders ADD COLUMN call_id bigint REFERENCES calls (id);
CREATE INDEX work_orders_call_idx ON work_orders (call_id) WHERE call_id IS NOT NULL;

-- Every Twilio delivery once: (kind, sid, status) is its natural key. The stored answer is
-- given again to a duplicate, which has no other effect.
CREATE TABLE twilio_deliveries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,        -- voice, gather, status, recording, sms
    sid           text NOT NULL,
    status        text NOT NULL DEFAULT '',
    response_type text NOT NULL DEFAULT 'text/xml',
    response_body text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, sid, status)
);

CREATE TABLE sms_messages (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_sid  text NOT NULL UNIQUE,
    direction    text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    from_phone   text NOT NULL,
    to_number    text NOT NULL,
    body         text NOT NULL,
    hotline_code text REFERENCES hotlines (code),
    citizen_id   bigint REFERENCES citizens (id),
    order_id     bigint REFERENCES work_orders (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_messages_citizen_idx ON sms_messages (citizen_id, created_at DESC);

-- Outbound SMS and calls: the row (keyed by the effect) is written before anything is
-- sent, so a retry never sends twice.
CREATE TABLE outbound_messages (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    effect_key   text NOT NULL UNIQUE,
    channel      text NOT NULL CHECK (channel IN ('sms', 'call')),
    to_phone     text NOT NULL,
    from_number  text NOT NULL,
    body         text NOT NULL DEFAULT '',
    provider     text NOT NULL,
    provider_sid text,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    due_at       timestamptz NOT NULL DEFAULT now(),
    lease_until  timestamptz,
    last_error   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX outbound_messages_due_idx ON outbound_messages (due_at) WHERE state = 'pending';

-- Open311 GeoReport v2 clients: an api_key each (stored as a hash).
CREATE TABLE open311_clients (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL,
    key_hash     bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

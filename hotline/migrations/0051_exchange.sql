-- Exchange with the city's 12345 platform and other hotlines (docs/exchange.md): orders
-- received from a platform, orders transferred to one (转办), and every status the
-- platform must see, sent in order, once each.

-- Orders that came from a platform, and those transferred out, are of their own channel.
ALTER TABLE work_orders DROP CONSTRAINT work_orders_channel_check;
ALTER TABLE work_orders ADD CONSTRAINT work_orders_channel_check
    CHECK (channel IN ('voice', 'sms', 'web', 'wechat', 'open311', 'enterprise', 'agent',
                       '12345'));
ALTER TABLE notification_settings DROP CONSTRAINT notification_settings_channel_check;
ALTER TABLE notification_settings ADD CONSTRAINT notification_settings_channel_check
    CHECK (channel IN ('default', 'voice', 'sms', 'web', 'wechat', 'open311', 'enterprise',
                       'agent', '12345'));

-- A platform this centre exchanges with. ``key_hash``: the SHA-256 of the API key the
-- platform sends (the key is shown once); ``secret``: the HMAC key both sides sign
-- with; ``base_url``: where our messages go; ``contract``: how this platform differs
-- from the default contract (field names, paths, event codes, headers).
CREATE TABLE exchange_platforms (
    code         text PRIMARY KEY CHECK (code ~ '^[a-z0-9_-]{1,32}$'),
    name_zh      text NOT NULL,
    name_en      text NOT NULL,
    hotline_code text NOT NULL REFERENCES hotlines (code),
    key_hash     text NOT NULL UNIQUE,
    secret       text NOT NULL,
    base_url     text NOT NULL DEFAULT '',
    contract     jsonb NOT NULL DEFAULT '{}',
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- An order exchanged with a platform: received from it ('in', with its number, its
-- classification code and its own limits) or transferred to it ('out', with the number
-- its acknowledgement gave). ``body_hash``: a repeated push of the same number must
-- carry the same order.
CREATE TABLE exchange_orders (
    order_id            bigint PRIMARY KEY REFERENCES work_orders (id),
    platform_code       text NOT NULL REFERENCES exchange_platforms (code),
    direction           text NOT NULL CHECK (direction IN ('in', 'out')),
    platform_number     text,
    classification_code text,
    sign_for_due_at     timestamptz,
    resolution_due_at   timestamptz,
    body_hash           text,
    received            jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL
);
CREATE UNIQUE INDEX exchange_orders_number_idx
    ON exchange_orders (platform_code, platform_number) WHERE direction = 'in';
CREATE INDEX exchange_orders_platform_idx ON exchange_orders (platform_code, created_at);

-- What the platform must see, one row per event of an exchanged order (``effect_key``
-- 'event:<seq>'), sent in ``seq`` order per order: a message waits ('waiting') until
-- the one before it is delivered; the relay takes 'pending' ones. ``tries`` counts the
-- attempts since the last retry an administrator asked for; ``answer``: the
-- platform's acknowledgement.
CREATE TABLE exchange_messages (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id      bigint NOT NULL REFERENCES work_orders (id),
    platform_code text NOT NULL REFERENCES exchange_platforms (code),
    seq           integer NOT NULL,
    event         text NOT NULL,
    effect_key    text NOT NULL UNIQUE,
    payload       jsonb NOT NULL,
    state         text NOT NULL CHECK (state IN ('waiting', 'pending', 'delivered', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    tries         integer NOT NULL DEFAULT 0,
    due_at        timestamptz NOT NULL DEFAULT now(),
    lease_until   timestamptz,
    delivered_at  timestamptz,
    answer        jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, seq)
);
CREATE INDEX exchange_messages_due_idx ON exchange_messages (due_at) WHERE state = 'pending';
CREATE INDEX exchange_messages_failed_idx ON exchange_messages (platform_code)
    WHERE state = 'failed';

CREATE TABLE exchange_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   bigint NOT NULL REFERENCES exchange_messages (id),
    attempted_at timestamptz NOT NULL DEFAULT now(),
    status_code  integer,
    error        text NOT NULL DEFAULT '',
    duration_ms  integer NOT NULL
);
CREATE INDEX exchange_attempts_message_idx ON exchange_attempts (message_id, id);

-- Requests a platform sent us, accepted or refused (a bad signature, a replay, an
-- invalid order): what an administrator looks at when a platform says "we sent it".
CREATE TABLE exchange_requests (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform_code   text,
    platform_number text,
    order_id        bigint REFERENCES work_orders (id),
    status          integer NOT NULL,
    error           text NOT NULL DEFAULT '',
    received_at     timestamptz NOT NULL
);
CREATE INDEX exchange_requests_platform_idx ON exchange_requests (platform_code, id);
CREATE INDEX exchange_requests_order_idx ON exchange_requests (order_id) WHERE order_id IS NOT NULL;

-- How far the feed has turned order events into messages. Starts where the history
-- stands (there is no exchanged order before this migration).
CREATE TABLE exchange_cursor (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq        bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO exchange_cursor (seq)
SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM order_events_seq_seq;

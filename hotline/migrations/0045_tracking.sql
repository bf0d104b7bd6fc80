-- Progress lookup (docs/integrations.md, "Progress lookup"): the one-time codes sent by
-- SMS to the phone that reported an order, and the short grants a verified lookup hands
-- the page's follow-up form. Written only by integrations/tracking.

-- A code is kept as SHA-256 of its salt and digits: whoever reads the table learns no
-- code. It is good for one successful use, a few attempts and a few minutes.
CREATE TABLE tracking_codes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id   bigint NOT NULL REFERENCES work_orders (id),
    salt       bytea NOT NULL,
    code_hash  bytea NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX tracking_codes_order_idx ON tracking_codes (order_id, created_at DESC);

-- What a verified lookup may still do for a while (add to the order) without the phone
-- or a code again: a random token the page carries, kept as its SHA-256.
CREATE TABLE tracking_grants (
    token_hash bytea PRIMARY KEY,
    order_id   bigint NOT NULL REFERENCES work_orders (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX tracking_grants_expiry_idx ON tracking_grants (expires_at);

-- Users, their sessions and API keys, and the citizens who call.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL,
    display_name  text NOT NULL,
    password_hash text NOT NULL,
    role          text NOT NULL
        CHECK (role IN ('agent', 'supervisor', 'enterprise_user', 'enterprise_admin', 'admin')),
    enterprise_id bigint REFERENCES enterprises (id),
    hotline_code  text REFERENCES hotlines (code),
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    -- Enterprise roles belong to exactly one enterprise; centre roles to none.
    CHECK ((role IN ('enterprise_user', 'enterprise_admin')) = (enterprise_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_username_idx ON users (lower(username));

-- The cookie holds a random token; only its SHA-256 is stored, so a leaked table
-- cannot be replayed as sessions.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    user_agent   text NOT NULL DEFAULT '',
    ip           text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE api_keys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_id bigint NOT NULL REFERENCES enterprises (id),
    name          text NOT NULL,
    key_prefix    text NOT NULL,                 -- shown in lists to tell keys apart
    key_hash      bytea NOT NULL UNIQUE,
    created_by    bigint REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

CREATE TABLE citizens (
    id                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone                      text NOT NULL UNIQUE,   -- E.164
    name                       text NOT NULL DEFAULT '',
    special_needs              boolean NOT NULL DEFAULT false,
    key_account                boolean NOT NULL DEFAULT false,
    representative_user_id     bigint REFERENCES users (id),  -- 客户代表
    area_code                  text REFERENCES areas (code),
    address                    text NOT NULL DEFAULT '',
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);

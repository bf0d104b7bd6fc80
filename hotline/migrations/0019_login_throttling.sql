-- Every login attempt, and the failures in a row that throttle the next ones (issue 14).
-- Both in PostgreSQL, not Redis: throttling must hold while Redis is away and across
-- restarts, and the attempts are a record supervisors read.

CREATE TABLE login_attempts (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL,
    username text NOT NULL,                 -- as typed, whether such a user exists or not
    user_id  bigint REFERENCES users (id) ON DELETE SET NULL,
    address  text NOT NULL,                 -- the client, behind trusted proxies
    result   text NOT NULL
        CHECK (result IN ('success', 'bad_credentials', 'throttled', 'locked'))
);
CREATE INDEX login_attempts_at_idx ON login_attempts (at);

-- One row per account (the lower-cased name, existing or not, so that throttling says
-- nothing about which names exist) and per client address (IPv6 by /64) with recent
-- failures. An attempt counts before its password is checked, so attempts sent at once
-- cannot all slip under the limit; a success ends the run of its account and address.
CREATE TABLE login_throttles (
    scope           text NOT NULL CHECK (scope IN ('account', 'address')),
    key             text NOT NULL,
    failures        integer NOT NULL CHECK (failures >= 0),
    last_failure_at timestamptz NOT NULL,
    locked_at       timestamptz,            -- accounts only; until an admin unlocks it
    PRIMARY KEY (scope, key),
    CHECK (scope = 'account' OR locked_at IS NULL)
);

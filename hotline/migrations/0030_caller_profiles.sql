-- Caller profiles edited in the console, with their history, and the hotlines a centre
-- user works for (docs/core.md, "Who may see what"; "Caller profiles").

-- More hotlines for a centre user than users.hotline_code (a supervisor of 96111 and
-- 96556). A user's hotlines are that column and these rows; none at all: every hotline.
CREATE TABLE user_hotlines (
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hotline_code text NOT NULL REFERENCES hotlines (code),
    PRIMARY KEY (user_id, hotline_code)
);

ALTER TABLE citizens
    ADD COLUMN preferred_language text NOT NULL DEFAULT ''
        CHECK (preferred_language IN ('', 'zh', 'en', 'ko', 'ja')),
    ADD COLUMN notes text NOT NULL DEFAULT '';

-- Every change of a profile field: who, when, the old and the new value (as text).
CREATE TABLE citizen_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    citizen_id  bigint NOT NULL REFERENCES citizens (id),
    field       text NOT NULL,
    old_value   text NOT NULL,
    new_value   text NOT NULL,
    user_id     bigint REFERENCES users (id),
    actor       text NOT NULL,
    changed_at  timestamptz NOT NULL
);
CREATE INDEX citizen_changes_citizen_idx ON citizen_changes (citizen_id, id);

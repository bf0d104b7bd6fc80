-- The service-item classifier (issue 16): the item the console suggested first when an
-- agent registered an order (what the agent then chose tells a correction from an
-- accepted suggestion, and corrections weigh more in training), the model versions and
-- the training runs that build them. hotline.suggest writes the two tables.

ALTER TABLE work_orders ADD COLUMN suggested_item_code text;

-- One row a model version: its figures on the held-back data, the current version's
-- figures on the same data when it was trained, and the two fitted models (pickled by
-- the trainer): `evaluated` was fitted without the held-back data, so later versions
-- compare against it fairly; `serving` is fitted on everything and answers the console.
CREATE TABLE suggest_models (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at     timestamptz NOT NULL,
    training_id    bigint,
    state          text NOT NULL CHECK (state IN ('promoted', 'retired', 'rejected')),
    promoted_at    timestamptz,
    -- Sizes of what it learned from.
    corpus_lines   integer NOT NULL,
    order_lines    integer NOT NULL,
    corrections    integer NOT NULL,
    items          integer NOT NULL,
    held_back      integer NOT NULL,
    -- On the held-back data: this version, and the version it was measured against.
    top1           double precision NOT NULL,
    top3           double precision NOT NULL,
    baseline_id    bigint REFERENCES suggest_models (id),
    baseline_top1  double precision,
    baseline_top3  double precision,
    per_item       jsonb NOT NULL DEFAULT '{}'::jsonb,
    confusions     jsonb NOT NULL DEFAULT '[]'::jsonb,
    seconds        double precision NOT NULL,
    evaluated      bytea NOT NULL,
    serving        bytea NOT NULL
);
CREATE UNIQUE INDEX suggest_models_one_promoted ON suggest_models ((true))
    WHERE state = 'promoted';

-- Training runs, drained by the relay like the outbox: a supervisor's request (due at
-- once) or the nightly run (due at night, the next one queued when it ends).
CREATE TABLE suggest_trainings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reason        text NOT NULL CHECK (reason IN ('nightly', 'requested')),
    requested_by  bigint REFERENCES users (id),
    state         text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'enqueued', 'done', 'failed')),
    due_at        timestamptz NOT NULL,
    lease_until   timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    model_id      bigint REFERENCES suggest_models (id),
    error         text
);
CREATE INDEX suggest_trainings_due_idx ON suggest_trainings (due_at)
    WHERE state IN ('pending', 'enqueued');
-- At most one waiting run of each reason: a second request joins the first.
CREATE UNIQUE INDEX suggest_trainings_one_waiting ON suggest_trainings (reason)
    WHERE state IN ('pending', 'enqueued');

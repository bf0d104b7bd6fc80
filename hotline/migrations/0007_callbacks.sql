-- Callbacks (回访): campaigns, one survey per order round or phone, attempts as durable
-- rows sent one at a time (hotline/leased.py), the pacer per provider account, ratings on
-- the order and on the unit's dispatch, appeals against a rating.

CREATE TABLE callback_campaigns (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('post_completion', 'spot_check', 'proactive')),
    name         text NOT NULL,
    channel      text NOT NULL CHECK (channel IN ('voice', 'sms', 'manual')),
    state        text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused')),
    hotline_code text REFERENCES hotlines (code),   -- surveys without an order call from it
    sample_share numeric CHECK (sample_share > 0 AND sample_share <= 1),  -- spot checks
    week_start   date,                                                    -- spot checks
    created_by   bigint REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- The standing campaign every completed order joins; there is exactly one.
CREATE UNIQUE INDEX callback_campaigns_one_post_completion_idx
    ON callback_campaigns (kind) WHERE kind = 'post_completion';
INSERT INTO callback_campaigns (kind, name, channel) VALUES ('post_completion', '办结回访', 'voice');

-- One survey per (campaign, order, round) or, without an order, per (campaign, phone).
-- It keeps the survey's state by phone: which question comes next, the answers.
CREATE TABLE callback_surveys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id   bigint NOT NULL REFERENCES callback_campaigns (id),
    order_id      bigint REFERENCES work_orders (id),
    round         integer NOT NULL DEFAULT 0,          -- the order's redo count when surveyed
    dispatch_id   bigint REFERENCES dispatches (id),   -- the lead unit's dispatch being rated
    enterprise_id bigint REFERENCES enterprises (id),
    phone         text NOT NULL,                       -- E.164
    contact_name  text NOT NULL DEFAULT '',
    hotline_code  text NOT NULL REFERENCES hotlines (code),
    channel       text NOT NULL CHECK (channel IN ('voice', 'sms', 'manual')),
    state         text NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'answered', 'unreachable', 'cancelled')),
    step          text NOT NULL DEFAULT 'solved' CHECK (step IN ('solved', 'rating', 'done')),
    solved        boolean,
    rating        smallint CHECK (rating BETWEEN 1 AND 5),
    comment       text NOT NULL DEFAULT '',
    recording_url text,
    outcome       text CHECK (outcome IN ('closed', 'reopened', 'escalated', 'recorded')),
    answered_by   bigint REFERENCES users (id),
    answered_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX callback_surveys_order_round_idx
    ON callback_surveys (campaign_id, order_id, round) WHERE order_id IS NOT NULL;
CREATE UNIQUE INDEX callback_surveys_phone_idx
    ON callback_surveys (campaign_id, phone) WHERE order_id IS NULL;
CREATE INDEX callback_surveys_open_phone_idx ON callback_surveys (phone, id DESC)
    WHERE state = 'open';
CREATE INDEX callback_surveys_campaign_idx ON callback_surveys (campaign_id, state);
CREATE INDEX callback_surveys_order_idx ON callback_surveys (order_id) WHERE order_id IS NOT NULL;

-- Each try to reach the citizen, written before anything is sent; effect_key names it.
-- pending: the relay leases it when due; held: its campaign is paused; manual: waits
-- for an agent; placed: the call or SMS went out; done / cancelled: settled.
CREATE TABLE callback_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey_id    bigint NOT NULL REFERENCES callback_surveys (id),
    number       integer NOT NULL CHECK (number >= 1),
    channel      text NOT NULL CHECK (channel IN ('voice', 'sms', 'manual')),
    effect_key   text NOT NULL UNIQUE,
    state        text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'held', 'manual', 'placed', 'done', 'cancelled')),
    outcome      text NOT NULL DEFAULT '',
    due_at       timestamptz NOT NULL,
    lease_until  timestamptz,
    attempts     integer NOT NULL DEFAULT 0,         -- times a relay claimed it
    placing_at   timestamptz,                        -- committed before the provider is asked
    provider     text,                               -- the account: 'twilio:AC…', 'log', 'sms', 'agent'
    provider_sid text,
    last_error   text NOT NULL DEFAULT '',
    placed_at    timestamptz,
    finished_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (survey_id, number)
);
CREATE INDEX callback_attempts_due_idx ON callback_attempts (due_at) WHERE state = 'pending';
CREATE INDEX callback_attempts_manual_idx ON callback_attempts (due_at) WHERE state = 'manual';
CREATE INDEX callback_attempts_in_flight_idx ON callback_attempts (provider, placing_at)
    WHERE channel = 'voice' AND state IN ('placed', 'pending');

-- Calls per second per provider account: the clock second being filled and how many
-- calls it already holds (callbacks/pacing.py).
CREATE TABLE callback_pacers (
    account text PRIMARY KEY,
    second  timestamptz NOT NULL,
    used    integer NOT NULL DEFAULT 0
);

-- The latest callback's answer on the order; each round's on the lead unit's dispatch,
-- where the figures read it.
ALTER TABLE work_orders
    ADD COLUMN callback_solved boolean,
    ADD COLUMN callback_rating smallint CHECK (callback_rating BETWEEN 1 AND 5),
    ADD COLUMN callback_at     timestamptz;
ALTER TABLE dispatches
    ADD COLUMN solved           boolean,
    ADD COLUMN rating           smallint CHECK (rating BETWEEN 1 AND 5),
    ADD COLUMN rated_at         timestamptz,
    ADD COLUMN callback_outcome text CHECK (callback_outcome IN ('good', 'bad', 'unreachable')),
    ADD COLUMN completed_on_time boolean,  -- the lead unit completed within the limit
    ADD COLUMN score_excluded   boolean NOT NULL DEFAULT false,  -- an approved appeal
    ADD COLUMN redo_survey_id   bigint REFERENCES callback_surveys (id);  -- 回访不满意 redo
-- The figures read one period of dispatches through these, never the whole table.
CREATE INDEX dispatches_created_idx ON dispatches (created_at);
CREATE INDEX dispatches_completed_lead_idx ON dispatches (finished_at)
    WHERE role = 'lead' AND state = 'completed';
CREATE INDEX work_orders_closed_idx ON work_orders (closed_at) WHERE status = 'closed';  -- spot checks

-- A unit's appeal (申诉) against a rating; approved, the rating leaves its score.
CREATE TABLE rating_appeals (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dispatch_id   bigint NOT NULL REFERENCES dispatches (id),
    enterprise_id bigint NOT NULL REFERENCES enterprises (id),
    reason        text NOT NULL,
    appealed_by   text NOT NULL,
    created_at    timestamptz NOT NULL,
    state         text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'approved', 'rejected')),
    decided_by    bigint REFERENCES users (id),
    decided_at    timestamptz,
    note          text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX rating_appeals_one_pending_idx ON rating_appeals (dispatch_id)
    WHERE state = 'pending';
CREATE INDEX rating_appeals_pending_idx ON rating_appeals (created_at) WHERE state = 'pending';

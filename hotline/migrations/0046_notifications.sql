-- Status notifications: SMS to the caller when the order is dispatched, completed and
-- before the callback (docs/integrations.md, "Status notifications").

-- What an administrator set for a hotline: its channel 'default', or one channel of the
-- orders (an override of the default for orders that came in that way). A hotline
-- without a row uses the built-in defaults (integrations/notifications/settings.py).
CREATE TABLE notification_settings (
    hotline_code       text NOT NULL REFERENCES hotlines (code),
    channel            text NOT NULL CHECK (channel IN (
                           'default', 'voice', 'sms', 'web', 'wechat', 'open311',
                           'enterprise', 'agent')),
    config             jsonb NOT NULL,
    updated_by_user_id bigint REFERENCES users (id),
    updated_by         text NOT NULL,
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (hotline_code, channel)
);

-- Every change of a setting: who, when, before and after (null: none / removed).
CREATE TABLE notification_setting_changes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hotline_code text NOT NULL,
    channel      text NOT NULL,
    old_config   jsonb,
    new_config   jsonb,
    user_id      bigint REFERENCES users (id),
    actor        text NOT NULL,
    changed_at   timestamptz NOT NULL
);
CREATE INDEX notification_setting_changes_idx
    ON notification_setting_changes (hotline_code, channel, id);

-- One row per notice decided for an order, keyed by its effect (a repeated outbox run
-- finds it and does nothing): queued (its outbound message goes at due_at), skipped
-- (why), and then sent or failed as the outbound message goes.
CREATE TABLE order_notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    effect_key text NOT NULL UNIQUE,
    order_id   bigint NOT NULL REFERENCES work_orders (id),
    kind       text NOT NULL CHECK (kind IN ('dispatched', 'completed', 'before_callback')),
    state      text NOT NULL CHECK (state IN ('queued', 'skipped', 'sent', 'failed')),
    reason     text NOT NULL DEFAULT '',
    due_at     timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX order_notifications_order_idx ON order_notifications (order_id, id);

-- The messages counted against an order's cap. A row per order, raised by one
-- conditional upsert: two notices of one order deciding at once take turns on the row,
-- so the cap holds under concurrency.
CREATE TABLE order_notification_counts (
    order_id bigint PRIMARY KEY REFERENCES work_orders (id),
    messages integer NOT NULL
);

-- Callers who asked for no more notices by SMS (回复 TD 退订, docs/integrations.md, "An
-- SMS"): their number (E.164), when, and the message that asked. A reply of 订阅 removes
-- the row. The status notices and the "fault fixed" texts are not sent to these numbers.
CREATE TABLE sms_opt_outs (
    phone        text PRIMARY KEY,
    opted_out_at timestamptz NOT NULL,
    message_sid  text NOT NULL
);

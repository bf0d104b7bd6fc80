-- Hot issues (docs/reports.md, "Hot issues"): what each local day adds to the repeats
-- and to the words of the descriptions, rolled with that day's counts (report_day_counts),
-- so that a month's lists sum a day's rows instead of reading every order again.

-- Each day's orders per hotline under a repeat key: 'address' (address_key() of the
-- order's address, the routing's normalised form: "宁夏路 201 号" = "宁夏路201号") and
-- 'caller' (the caller's phone as given, E.164). `label` is one of the day's addresses
-- as typed, for showing; `area_code` the area of that order.
CREATE TABLE report_day_repeats (
    day          date NOT NULL,
    hotline_code text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('address', 'caller')),
    key          text NOT NULL,
    n            bigint NOT NULL,
    label        text NOT NULL DEFAULT '',
    area_code    text,
    PRIMARY KEY (day, kind, hotline_code, key)
);

-- Each day's most frequent words of the descriptions per hotline: n orders mention the
-- word (each order counts once). Only a day's first words are kept (reports.hot.words).
CREATE TABLE report_day_words (
    day          date NOT NULL,
    hotline_code text NOT NULL,
    word         text NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (day, hotline_code, word)
);

-- The orders reopened more than once, by registration time: a small share of orders,
-- so the list of a period reads a small index.
CREATE INDEX work_orders_reopened_idx ON work_orders (created_at) WHERE redo_count >= 2;

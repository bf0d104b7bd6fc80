-- Hot issues (docs/reports.md, "Hot issues"): what each local day adds to the repeats
-- and to the words of the descriptions, rolled with that day's counts (report_day_counts),
-- so that a month's lists sum a day's rows instead of reading every order again.

-- Each day's orders per hotline under a repeat key: 'address' (address_key() of the
-- order's address, the routing's normalised form: "宁夏路 201 号" = "宁夏路201号") and
-- 'caller' (the caller's phone as given, E.164). A period's repeats sum n per key over
-- its days: most keys come once, so that is about a row per order and key, and the sum
-- groups the key's 64-bit hash (hashtextextended), read from the primary key alone,
-- rather than the text. `label` is one of the day's addresses as typed, for showing;
-- `area_code` the area of that order. `repeated`: the key has another order within
-- REPEAT_WINDOW days of this day (or two on it); a period's list sums only those rows,
-- a small share, through their own index.
CREATE TABLE report_day_repeats (
    day          date NOT NULL,
    hotline_code text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('address', 'caller')),
    key_hash     bigint NOT NULL,
    key          text NOT NULL,
    n            integer NOT NULL,
    label        text NOT NULL DEFAULT '',
    area_code    text,
    repeated     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (kind, day, hotline_code, key_hash) INCLUDE (n)
);
CREATE INDEX report_day_repeats_repeated_idx
    ON report_day_repeats (kind, day, hotline_code, key_hash) INCLUDE (n) WHERE repeated;
-- The days of the few keys a list shows (the key, its labels, on how many days).
CREATE INDEX report_day_repeats_key_idx ON report_day_repeats (kind, key_hash, day);

-- Each day's most frequent words of the descriptions per hotline: n orders mention the
-- word (each order counts once). Only a day's first words are kept (reports.hot.words).
CREATE TABLE report_day_words (
    day          date NOT NULL,
    hotline_code text NOT NULL,
    word         text NOT NULL,
    n            integer NOT NULL,
    PRIMARY KEY (day, hotline_code, word)
);

-- The hot issues read one dimension's day counts over a period and its baseline
-- (eight periods back), and a few keys' days (a trend, the heat table's cells): each
-- from an index alone, not every dimension's rows of those days.
CREATE INDEX report_day_counts_window_idx
    ON report_day_counts (dimension, measure, day) INCLUDE (hotline_code, key, n);
CREATE INDEX report_day_counts_key_idx
    ON report_day_counts (dimension, measure, key, day) INCLUDE (hotline_code, n);

-- The orders reopened more than once, by registration time: a small share of orders,
-- so the list of a period reads a small index.
CREATE INDEX work_orders_reopened_idx ON work_orders (created_at) WHERE redo_count >= 2;

-- Reports at scale (docs/reports.md, "Month rows"): each calendar month's sums of the
-- day counts and of the hot issues' repeat rows, kept in the day roll's transaction, so
-- that a month (a report, its month before and year before, a hot issue's baseline of
-- calendar months) reads one row per key instead of one per key and day. The days of a
-- key fill in as the orders grow, the month rows do not: at ten million orders a month's
-- sums read thirty times fewer rows.

-- The sums of report_day_counts per calendar month: n is the sum of the month's day
-- rows of the key (a key whose days sum to 0 has no row, as if it had none).
CREATE TABLE report_month_counts (
    month        date NOT NULL CHECK (extract(day FROM month) = 1),
    hotline_code text NOT NULL,
    dimension    text NOT NULL,
    key          text NOT NULL,
    measure      text NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (month, hotline_code, dimension, measure, key)
);
CREATE INDEX report_month_counts_window_idx
    ON report_month_counts (dimension, measure, month) INCLUDE (hotline_code, key, n);
CREATE INDEX report_month_counts_key_idx
    ON report_month_counts (dimension, measure, key, month) INCLUDE (hotline_code, n);

INSERT INTO report_month_counts (month, hotline_code, dimension, key, measure, n)
SELECT date_trunc('month', day::timestamp)::date, hotline_code, dimension, key, measure, sum(n)
  FROM report_day_counts
 GROUP BY 1, 2, 3, 4, 5
HAVING sum(n) <> 0;

-- The orders of each repeat key (report_day_repeats) per calendar month and hotline,
-- and across the hotlines (hotline_code ''). Two orders of one calendar month are
-- within REPEAT_WINDOW days of each other, so a key with two orders or more in a month
-- is repeated on all its days of the month: the month's list of repeats (two orders or
-- more) is the keys' rows with n at least that, read in order from the partial index.
-- A row whose orders were all rolled away keeps n = 0 until its key comes back.
CREATE TABLE report_month_repeats (
    month        date NOT NULL CHECK (extract(day FROM month) = 1),
    kind         text NOT NULL CHECK (kind IN ('address', 'caller')),
    hotline_code text NOT NULL,
    key_hash     bigint NOT NULL,
    n            integer NOT NULL,
    PRIMARY KEY (kind, month, hotline_code, key_hash)
);
CREATE INDEX report_month_repeats_most_idx
    ON report_month_repeats (kind, month, hotline_code, n DESC, key_hash) WHERE n >= 2;

INSERT INTO report_month_repeats (month, kind, hotline_code, key_hash, n)
SELECT date_trunc('month', r.day::timestamp)::date, r.kind, h.code, r.key_hash, sum(r.n)
  FROM report_day_repeats r
 CROSS JOIN LATERAL (VALUES (r.hotline_code), ('')) AS h (code)
 GROUP BY 1, 2, 3, 4;

-- The first day of the first calendar month that starts on or after from_day, and the
-- first day of the month of to_day (never before the former): the calendar months
-- wholly inside [from_day, to_day) are the first days in between.
CREATE FUNCTION report_whole_from(from_day date) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT (date_trunc('month', (from_day - 1)::timestamp) + interval '1 month')::date
$$;
CREATE FUNCTION report_whole_to(from_day date, to_day date) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT greatest(date_trunc('month', to_day::timestamp)::date, report_whole_from(from_day))
$$;

-- The counts of the days [from_day, to_day) per hotline, dimension, key and measure, as
-- rows to sum: the month rows of the calendar months wholly inside, the day rows of the
-- days before the first of them and after the last (all the days when no month is
-- whole). A plain SQL function of one statement: the planner inlines it, and a query's
-- conditions on dimension, measure, key and hotline reach each branch's index.
CREATE FUNCTION report_counts(from_day date, to_day date)
RETURNS TABLE (hotline_code text, dimension text, key text, measure text, n bigint)
LANGUAGE sql STABLE AS $$
    -- The whole months are the first days in [report_whole_from, report_whole_to).
    SELECT m.hotline_code, m.dimension, m.key, m.measure, m.n
      FROM report_month_counts m
     WHERE m.month >= report_whole_from(from_day)
       AND m.month < report_whole_to(from_day, to_day)
    UNION ALL
    SELECT d.hotline_code, d.dimension, d.key, d.measure, d.n
      FROM report_day_counts d
     WHERE d.day >= from_day AND d.day < least(report_whole_from(from_day), to_day)
    UNION ALL
    SELECT d.hotline_code, d.dimension, d.key, d.measure, d.n
      FROM report_day_counts d
     WHERE d.day >= report_whole_to(from_day, to_day) AND d.day < to_day
$$;

-- Reports (docs/reports.md): each local day's counts, rolled up from the facts of that
-- day (orders registered on it, calls offered on it, …) by the reports package, so that
-- a month's report or a year's baseline reads a few thousand rows however many orders
-- there are. A day is rolled again while its facts can still change; see "Day counts".
CREATE TABLE report_day_counts (
    day          date NOT NULL,
    hotline_code text NOT NULL,
    -- what the key is: 'total' (key ''), 'channel', 'kind', 'item', 'domain',
    -- 'district', 'street', 'area_item' ('district|item'), 'unit', 'agent', …
    dimension    text NOT NULL,
    key          text NOT NULL,
    -- what is counted: 'registered', …
    measure      text NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (day, hotline_code, dimension, measure, key)
);

-- When each day was last rolled, and from what time on its facts were final.
CREATE TABLE report_days (
    day       date PRIMARY KEY,
    rolled_at timestamptz NOT NULL
);

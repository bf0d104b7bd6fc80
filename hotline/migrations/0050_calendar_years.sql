-- The working calendar's years as administrators keep them (docs/core.md, "Working
-- calendar administration"): a year's days (calendar_days) are provisional — projected,
-- or entered and not yet checked — until an administrator confirms them against the
-- State Council's notice, which becomes the year's source.
CREATE TABLE calendar_years (
    year         integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
    state        text NOT NULL CHECK (state IN ('provisional', 'confirmed')),
    source       text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now(),
    -- Null for a year confirmed before administration (loaded from an official notice).
    confirmed_by bigint REFERENCES users (id),
    confirmed_at timestamptz,
    CHECK (state = 'confirmed' OR (confirmed_by IS NULL AND confirmed_at IS NULL))
);

-- A day arriving for a year without a row (the seed, SQL) gives the year one:
-- provisional when the day's source says it is a projection (the seed marks a
-- provisional year's days "（预测，待官方通知）"), confirmed otherwise. An
-- administrator's import writes the year's row first, so this finds it there.
CREATE FUNCTION calendar_year_of(day date, source text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO calendar_years (year, state, source)
    VALUES (extract(year FROM day)::integer,
            CASE WHEN source LIKE '%预测%' THEN 'provisional' ELSE 'confirmed' END,
            replace(source, '（预测，待官方通知）', ''))
    ON CONFLICT (year) DO NOTHING
$$;

CREATE FUNCTION calendar_days_year() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM calendar_year_of(NEW.day, NEW.source);
    RETURN NULL;
END $$;

CREATE TRIGGER calendar_days_year AFTER INSERT ON calendar_days
    FOR EACH ROW EXECUTE FUNCTION calendar_days_year();

-- The years already loaded.
SELECT calendar_year_of(day, source) FROM calendar_days ORDER BY day;

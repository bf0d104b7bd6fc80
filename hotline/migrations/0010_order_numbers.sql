-- Order numbers from one sequence per hotline and local day, instead of a counter row.
-- The counter row was locked from the moment a number was taken until its transaction
-- committed, so every registration of a hotline queued behind the one before it (intake
-- throughput halved under load). A sequence hands out numbers without a lock held to
-- commit; the price is a gap where a transaction that took a number rolls back, which a
-- work-order number may have (it must be unique and rise through the day, not be gapless).

-- The next number, like 96111-20261122-0042 (four digits at least, more past 9999).
CREATE FUNCTION next_order_number(hotline text, day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    seq text := quote_ident(format('order_numbers_%s_%s', hotline, to_char(day, 'YYYYMMDD')));
    n bigint;
BEGIN
    IF to_regclass(seq) IS NULL THEN
        -- The day's first order. Two first orders at once: the second waits for the
        -- first's transaction, then finds the sequence there.
        BEGIN
            EXECUTE 'CREATE SEQUENCE IF NOT EXISTS ' || seq;
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL;
        END;
    END IF;
    n := nextval(seq::regclass);
    RETURN format('%s-%s-%s', hotline, to_char(day, 'YYYYMMDD'),
                  CASE WHEN n < 10000 THEN lpad(n::text, 4, '0') ELSE n::text END);
END;
$$;

-- Carry on where today's and later counters stopped.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT hotline_code, day, last_value FROM order_number_counters
              WHERE day >= current_date - 1
    LOOP
        EXECUTE format('CREATE SEQUENCE %I START %s',
                       format('order_numbers_%s_%s', c.hotline_code, to_char(c.day, 'YYYYMMDD')),
                       c.last_value + 1);
    END LOOP;
END;
$$;

DROP TABLE order_number_counters;

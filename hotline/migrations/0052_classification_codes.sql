-- The national classification of government hotline services, GB/T 39666-2020
-- (docs/core.md, "Classification codes (GB/T 39666)"): orders exchanged with the city's
-- 12345 platform carry its six-digit codes, two digits each for the major class (大类,
-- XX0000), the middle class (中类, XXYY00) and the minor class (小类, XXYYZZ). The
-- official table is loaded by an administrator (a CSV import) and kept like the other
-- reference data: retired, never deleted (orders exchanged name the codes).
CREATE TABLE classification_codes (
    code        text PRIMARY KEY
        -- Six digits; a major class is never 00, a minor class sits in a middle class.
        CHECK (code ~ '^[0-9]{6}$' AND left(code, 2) <> '00'
               AND (substr(code, 3, 2) <> '00' OR right(code, 2) = '00')),
    level       text NOT NULL GENERATED ALWAYS AS (
        CASE WHEN code LIKE '__0000' THEN 'major'
             WHEN code LIKE '____00' THEN 'middle'
             ELSE 'minor' END) STORED,
    -- The class it sits in: a middle class's major, a minor class's middle.
    parent_code text GENERATED ALWAYS AS (
        CASE WHEN code LIKE '__0000' THEN NULL
             WHEN code LIKE '____00' THEN left(code, 2) || '0000'
             ELSE left(code, 4) || '00' END) STORED
        REFERENCES classification_codes (code),
    name_zh     text NOT NULL CHECK (name_zh <> ''),
    name_en     text NOT NULL DEFAULT '',
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX classification_codes_parent_idx ON classification_codes (parent_code);

-- Every writer (a rename, an import, retiring) dates its change without saying so.
CREATE FUNCTION classification_codes_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END $$;
CREATE TRIGGER classification_codes_touch BEFORE UPDATE ON classification_codes
    FOR EACH ROW EXECUTE FUNCTION classification_codes_touch();

-- The class a service item is exchanged under; null until an administrator maps it.
ALTER TABLE service_items
    ADD COLUMN classification_code text REFERENCES classification_codes (code);
CREATE INDEX service_items_classification_idx ON service_items (classification_code);

-- Each process caches the codes with the catalogue (hotline/reference/cache.py): a write
-- moves the reference version on, as migration 0047 does for the other reference tables.
CREATE TRIGGER classification_codes_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON classification_codes
    FOR EACH STATEMENT EXECUTE FUNCTION reference_version_bump('reference');

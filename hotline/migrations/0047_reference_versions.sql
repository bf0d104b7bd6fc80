-- Reference data changed while the system runs (docs/core.md, "Reference data while
-- running"): each process caches hotlines, items, areas, enterprises and the calendar,
-- and must see an administrator's change without a restart. Every write to those tables
-- moves their version on, in the writer's own transaction; a process compares the
-- version it loaded with this one when told of a change (through Redis) and at the
-- latest every few seconds, so a lost message only delays the change.
CREATE TABLE reference_versions (
    name       text PRIMARY KEY CHECK (name IN ('reference', 'calendar')),
    version    bigint NOT NULL DEFAULT 0,
    changed_at timestamptz
);
INSERT INTO reference_versions (name) VALUES ('reference'), ('calendar');

CREATE FUNCTION reference_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reference_versions SET version = version + 1, changed_at = now()
     WHERE name = TG_ARGV[0];
    RETURN NULL;
END $$;

CREATE TRIGGER hotlines_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON hotlines
    FOR EACH STATEMENT EXECUTE FUNCTION reference_version_bump('reference');
CREATE TRIGGER areas_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON areas
    FOR EACH STATEMENT EXECUTE FUNCTION reference_version_bump('reference');
CREATE TRIGGER enterprises_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON enterprises
    FOR EACH STATEMENT EXECUTE FUNCTION reference_version_bump('reference');
CREATE TRIGGER service_items_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON service_items
    FOR EACH STATEMENT EXECUTE FUNCTION reference_version_bump('reference');
CREATE TRIGGER calendar_days_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON calendar_days
    FOR EACH STATEMENT EXECUTE FUNCTION reference_version_bump('calendar');

-- What administrators changed, by whom and when: one row per change of one thing
-- (a user, an enterprise, an item, a calendar year, a key …), with its state before and
-- after (secrets left out).
CREATE TABLE admin_changes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    user_id    bigint REFERENCES users (id),
    entity     text NOT NULL,
    entity_key text NOT NULL,
    action     text NOT NULL,
    before     jsonb,
    after      jsonb
);
CREATE INDEX admin_changes_entity_idx ON admin_changes (entity, entity_key, at DESC);
CREATE INDEX admin_changes_at_idx ON admin_changes (at DESC);

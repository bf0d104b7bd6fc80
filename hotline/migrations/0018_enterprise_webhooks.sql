-- An enterprise's webhook (where its orders are pushed, and the secret they are signed
-- with) has one writer, integrations, in a table of its own; until now integrations
-- wrote it into the reference table enterprises, which the core seeds.
CREATE TABLE enterprise_webhooks (
    enterprise_id bigint PRIMARY KEY REFERENCES enterprises (id),
    url           text NOT NULL,
    secret        text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

INSERT INTO enterprise_webhooks (enterprise_id, url, secret)
SELECT id, webhook_url, webhook_secret FROM enterprises
 WHERE webhook_url IS NOT NULL AND webhook_secret IS NOT NULL;

-- During the upgrade (docs/deploy.md, Upgrades) the previous release still sets
-- webhooks in enterprises: carry what it writes over, so that no subscription set then
-- is lost. This release never fires it; the next one drops it with the old columns.
CREATE FUNCTION enterprises_copy_webhook() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.webhook_url IS NULL OR NEW.webhook_secret IS NULL THEN
        DELETE FROM enterprise_webhooks WHERE enterprise_id = NEW.id;
    ELSE
        INSERT INTO enterprise_webhooks (enterprise_id, url, secret)
        VALUES (NEW.id, NEW.webhook_url, NEW.webhook_secret)
        ON CONFLICT (enterprise_id) DO UPDATE
           SET url = EXCLUDED.url, secret = EXCLUDED.secret, updated_at = now();
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER enterprises_copy_webhook
    AFTER UPDATE OF webhook_url, webhook_secret ON enterprises
    FOR EACH ROW
    WHEN (OLD.webhook_url IS DISTINCT FROM NEW.webhook_url
          OR OLD.webhook_secret IS DISTINCT FROM NEW.webhook_secret)
    EXECUTE FUNCTION enterprises_copy_webhook();

COMMENT ON COLUMN enterprises.webhook_url IS
    'unused since 0018 (enterprise_webhooks keeps it); dropped by the next release';
COMMENT ON COLUMN enterprises.webhook_secret IS
    'unused since 0018 (enterprise_webhooks keeps it); dropped by the next release';

-- Administration of reference data (docs/core.md, "Administering reference data").
--
-- Areas and service windows are retired, never deleted (orders and rules name them), as
-- enterprises and service items already are.
ALTER TABLE areas ADD COLUMN active boolean NOT NULL DEFAULT true;
ALTER TABLE service_windows ADD COLUMN active boolean NOT NULL DEFAULT true;

-- An order keeps the time limits it was registered under: a copy of its service item's
-- limits (normal and urgent) taken at registration, which every later deadline of the
-- order (dispatch, sign-for, priority change, redo, visit) is computed from. An
-- administrator's new limits apply to orders registered after the change. Null for a
-- draft (it has no item until confirmed).
ALTER TABLE work_orders ADD COLUMN time_limits jsonb;

-- The limits of an item as an order keeps them (the shape of hotline/deadlines/limits.py
-- ``snapshot``: amounts as decimal strings).
CREATE FUNCTION service_item_limits(item service_items) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'sign_for_amount', item.sign_for_amount::text, 'sign_for_unit', item.sign_for_unit,
        'first_contact_amount', item.first_contact_amount::text,
        'first_contact_unit', item.first_contact_unit,
        'resolution_amount', item.resolution_amount::text,
        'resolution_unit', item.resolution_unit,
        'urgent_sign_for_hours', item.urgent_sign_for_hours::text,
        'urgent_first_contact_hours', item.urgent_first_contact_hours::text,
        'urgent_resolution_hours', item.urgent_resolution_hours::text)
$$;

-- Registration gives the limits it computed the order's deadlines with; a writer that
-- does not (SQL by hand, a bulk load) gets the item's limits of the moment, so an order
-- with an item always has them.
CREATE FUNCTION work_orders_keep_limits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT service_item_limits(i) INTO NEW.time_limits
      FROM service_items i WHERE i.code = NEW.service_item_code;
    RETURN NEW;
END $$;
CREATE TRIGGER work_orders_keep_limits
    BEFORE INSERT OR UPDATE OF service_item_code ON work_orders
    FOR EACH ROW WHEN (NEW.time_limits IS NULL AND NEW.service_item_code IS NOT NULL)
    EXECUTE FUNCTION work_orders_keep_limits();

-- Orders registered before this migration ran on the item's limits of today.
UPDATE work_orders o SET time_limits = service_item_limits(i)
  FROM service_items i
 WHERE i.code = o.service_item_code;

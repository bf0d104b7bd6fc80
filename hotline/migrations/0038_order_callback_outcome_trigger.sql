-- The trigger that keeps work_orders.callback_outcome (migration 0037) the outcome of
-- the order's latest lead dispatch called back, and the copy of the ratings so far.

-- The outcome of the order's latest lead dispatch called back (NULL: none yet).
CREATE FUNCTION order_callback_outcome(order_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT r.callback_outcome
      FROM dispatches d JOIN dispatch_ratings r ON r.dispatch_id = d.id
     WHERE d.order_id = $1 AND d.role = 'lead' AND r.callback_outcome IS NOT NULL
     ORDER BY d.id DESC LIMIT 1
$$;

CREATE FUNCTION work_orders_follow_outcome() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    order_of bigint;
BEGIN
    SELECT d.order_id INTO order_of FROM dispatches d WHERE d.id = NEW.dispatch_id;
    UPDATE work_orders SET callback_outcome = order_callback_outcome(order_of)
     WHERE id = order_of
       AND callback_outcome IS DISTINCT FROM order_callback_outcome(order_of);
    RETURN NULL;
END;
$$;

CREATE TRIGGER dispatch_ratings_order_outcome
    AFTER INSERT OR UPDATE OF callback_outcome ON dispatch_ratings
    FOR EACH ROW EXECUTE FUNCTION work_orders_follow_outcome();

UPDATE work_orders o SET callback_outcome = x.outcome
  FROM (SELECT DISTINCT ON (d.order_id) d.order_id, r.callback_outcome AS outcome
          FROM dispatches d JOIN dispatch_ratings r ON r.dispatch_id = d.id
         WHERE d.role = 'lead' AND r.callback_outcome IS NOT NULL
         ORDER BY d.order_id, d.id DESC) x
 WHERE o.id = x.order_id;

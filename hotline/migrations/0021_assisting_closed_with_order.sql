-- Assisting units are closed with the order (issue 15, item 4). When the lead unit
-- completes, routing withdraws every assisting dispatch still open (unsigned, or signed
-- without its part handed in), in the same transaction, with an order event. A
-- dispatch now says why it was withdrawn: the order completed, went to coordination,
-- or was merged. Rows withdrawn before this migration have no reason (NULL).
ALTER TABLE dispatches ADD COLUMN withdrawn_reason text;

-- Assisting dispatches left open on orders already done, finished or merged before
-- this rule: withdrawn as the completion would have, their sign-for clocks cancelled
-- and the order's history told. The figures' trigger takes them out of the counts
-- (a withdrawn dispatch is counted nowhere, migration 0017).
WITH closed AS (
    UPDATE dispatches d
       SET state = 'withdrawn',
           finished_at = coalesce(o.completed_at, o.closed_at, o.updated_at),
           withdrawn_reason = '订单已办结，协办任务随之撤回'
      FROM work_orders o
     WHERE o.id = d.order_id AND d.role = 'assisting'
       AND d.state IN ('pending', 'signed')
       AND o.status IN ('resolved_on_call', 'completed', 'callback', 'closed', 'merged',
                        'cancelled')
    RETURNING d.id, d.order_id, d.enterprise_id, d.finished_at, d.withdrawn_reason
), clocks AS (
    UPDATE deadlines SET state = 'cancelled', lease_until = NULL
     WHERE dispatch_id IN (SELECT id FROM closed) AND state IN ('pending', 'enqueued')
)
INSERT INTO order_events (order_id, type, actor_user_id, actor, data, created_at)
SELECT c.order_id, 'dispatch.withdrawn', NULL, 'system',
       jsonb_build_object('dispatch_id', c.id, 'enterprise_id', c.enterprise_id,
                          'role', 'assisting', 'reason', c.withdrawn_reason),
       c.finished_at
  FROM closed c
 ORDER BY c.order_id, c.id;

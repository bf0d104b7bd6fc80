// The server's fixed vocabularies that the console offers as choices or checks a user
// against, in one place. The server does not send them (it validates against its own
// copies), so each names where it lives there; a change there is made here too.

// The centre's clock, in which every time is shown: the default of hotline/settings.py
// `timezone` (a deployment that sets another must set it here too).
export const TIME_ZONE = "Asia/Shanghai";

// The utilities a service item or a routing rule belongs to (the CHECKs of
// hotline/migrations/0001_reference.sql).
export const DOMAINS = ["water", "gas", "heating", "billing"];
// What can be cut off: billing has no outages (routing/outages.py).
export const OUTAGE_DOMAINS = ["water", "gas", "heating"];

// hotline/orders/models.py `Kind`.
export const ORDER_KINDS = ["consultation", "repair", "complaint", "suggestion", "praise", "request"];

// routing/handling.py `ReasonCode`: why a unit sends a dispatch back.
export const RETURN_REASONS = ["not_our_duty", "wrong_area", "insufficient_information", "duplicate", "other"];

// hotline/users/models.py: who may do what.
export const CENTRE_ROLES = ["agent", "supervisor", "admin"];
export const SUPERVISOR_ROLES = ["supervisor", "admin"];
export const UNIT_ROLES = ["enterprise_user", "enterprise_admin"];
export const ADMIN_ROLES = ["admin"];
// Every role, in the order the administrators' screens offer them.
export const ROLES = ["agent", "supervisor", "enterprise_user", "enterprise_admin", "admin"];
// Who answers calls: agents, and supervisors stepping in.
export const CALL_TAKER_ROLES = ["agent", "supervisor"];

// hotline/orders/lifecycle.py `Status`, in the order an order usually passes them.
export const ORDER_STATUSES = [
  "draft", "registered", "resolved_on_call", "dispatching", "dispatched", "returned", "escalated",
  "in_progress", "completed", "callback", "closed", "reopened", "merged", "cancelled", "transferred",
];
// hotline/orders/models.py `Channel`.
export const CHANNELS = ["voice", "sms", "web", "wechat", "open311", "enterprise", "agent", "12345"];
// The order search's callback outcome (GET /api/v1/orders `rating`; none: no outcome yet).
export const CALLBACK_RATINGS = ["good", "bad", "unreachable", "none"];
// The knowledge base (hotline/migrations/0036_knowledge.sql): an article's kind and a
// version's state.
export const KB_KINDS = ["guide", "faq", "policy", "script", "outage"];
export const KB_STATES = ["draft", "submitted", "published", "rejected", "superseded"];
// Who writes articles (the centre's supervisors and admins, units their own) and who
// reviews them; everyone reads.
export const KB_WRITER_ROLES = [...SUPERVISOR_ROLES, ...UNIT_ROLES];
export const KB_READER_ROLES = [...CENTRE_ROLES, ...UNIT_ROLES];

-- The unit answerable for a whole domain (issue 15): an order whose item has a domain
-- but which no routing rule covers goes to it instead of to coordination. One per
-- domain; routing owns it, loaded with the demo rules from config/demo/routing.json.

CREATE TABLE domain_groups (
    domain        text PRIMARY KEY CHECK (domain IN ('water', 'gas', 'heating', 'billing')),
    enterprise_id bigint NOT NULL REFERENCES enterprises (id)
);

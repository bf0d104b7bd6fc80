-- Every caller of a merged order is called back (docs/callbacks.md, "Merged callers").

-- Whether the hotline texts the callers merged into an order that its fault is fixed,
-- as soon as the order is completed (the callbacks follow in calling hours).
ALTER TABLE hotlines ADD COLUMN fixed_sms boolean NOT NULL DEFAULT false;

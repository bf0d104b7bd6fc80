-- Urgent limits of a service item, in natural hours (weekends and holidays count): an
-- order marked urgent (紧急) runs on them. An item has all three or none; without
-- them an urgent order keeps the item's normal limits.
ALTER TABLE service_items
    ADD COLUMN urgent_sign_for_hours      numeric CHECK (urgent_sign_for_hours > 0),
    ADD COLUMN urgent_first_contact_hours numeric CHECK (urgent_first_contact_hours > 0),
    ADD COLUMN urgent_resolution_hours    numeric CHECK (urgent_resolution_hours > 0),
    ADD CONSTRAINT service_items_urgent_all_or_none CHECK (
        num_nulls(urgent_sign_for_hours, urgent_first_contact_hours, urgent_resolution_hours)
        IN (0, 3)
    );

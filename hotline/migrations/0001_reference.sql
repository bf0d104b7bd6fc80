-- Reference data: hotlines, areas, enterprises and their windows, the service
-- catalogue, the working calendar, and the shape of routing rules.

CREATE TABLE hotlines (
    code         text PRIMARY KEY,
    name_zh      text NOT NULL,
    name_en      text NOT NULL,
    number       text NOT NULL UNIQUE,          -- the short service number callers dial
    voice_number text UNIQUE,                   -- E.164 number the carrier routes to us
    domain       text,
    greeting_zh  text NOT NULL DEFAULT '',
    greeting_en  text NOT NULL DEFAULT ''
);

CREATE TABLE areas (
    code        text PRIMARY KEY,
    parent_code text REFERENCES areas (code),
    level       text NOT NULL CHECK (level IN ('district', 'street')),
    name_zh     text NOT NULL,
    name_en     text NOT NULL,
    CHECK ((level = 'district') = (parent_code IS NULL))
);
CREATE INDEX areas_parent_idx ON areas (parent_code);

CREATE TABLE enterprises (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           text NOT NULL UNIQUE,
    parent_id      bigint REFERENCES enterprises (id),
    kind           text NOT NULL CHECK (kind IN ('group', 'company', 'branch')),
    name_zh        text NOT NULL,
    name_en        text NOT NULL,
    domains        text[] NOT NULL DEFAULT '{}',
    hotline_code   text REFERENCES hotlines (code),
    -- An enterprise with its own system receives signed webhooks (routing issue).
    webhook_url    text,
    webhook_secret text,
    active         boolean NOT NULL DEFAULT true,
    CHECK ((kind = 'branch') = (parent_id IS NOT NULL))
);

CREATE TABLE service_windows (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_id bigint NOT NULL REFERENCES enterprises (id),
    code          text NOT NULL UNIQUE,
    name_zh       text NOT NULL,
    name_en       text NOT NULL,
    area_code     text REFERENCES areas (code)
);
CREATE INDEX service_windows_enterprise_idx ON service_windows (enterprise_id);

CREATE TABLE service_items (
    code                 text PRIMARY KEY,
    domain               text CHECK (domain IN ('water', 'gas', 'heating', 'billing')),
    kind                 text NOT NULL
        CHECK (kind IN ('consultation', 'repair', 'complaint', 'suggestion', 'praise', 'request')),
    name_zh              text NOT NULL,
    name_en              text NOT NULL,
    sign_for_amount      numeric NOT NULL CHECK (sign_for_amount > 0),
    sign_for_unit        text NOT NULL CHECK (sign_for_unit IN ('hours', 'working_hours', 'working_days')),
    first_contact_amount numeric NOT NULL CHECK (first_contact_amount > 0),
    first_contact_unit   text NOT NULL CHECK (first_contact_unit IN ('hours', 'working_hours', 'working_days')),
    resolution_amount    numeric NOT NULL CHECK (resolution_amount > 0),
    resolution_unit      text NOT NULL CHECK (resolution_unit IN ('hours', 'working_hours', 'working_days')),
    keywords             text[] NOT NULL DEFAULT '{}',
    active               boolean NOT NULL DEFAULT true
);

-- A row here wins over the chinese-calendar library: the State Council publishes
-- next year's schedule in November, before libraries are updated.
CREATE TABLE calendar_days (
    day        date PRIMARY KEY,
    workday    boolean NOT NULL,
    name       text NOT NULL DEFAULT '',
    source     text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Shape only: the routing engine gives these their behaviour.
CREATE TABLE routing_rules (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_item_code text REFERENCES service_items (code),
    domain            text CHECK (domain IN ('water', 'gas', 'heating', 'billing')),
    area_code         text REFERENCES areas (code),          -- NULL: any area
    candidates        bigint[] NOT NULL,                     -- enterprise ids, in order
    assisting         bigint[] NOT NULL DEFAULT '{}',
    active            boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((service_item_code IS NULL) <> (domain IS NULL)),
    CHECK (cardinality(candidates) > 0)
);
CREATE UNIQUE INDEX routing_rules_key_idx ON routing_rules
    (coalesce(service_item_code, ''), coalesce(domain, ''), coalesce(area_code, '')) WHERE active;

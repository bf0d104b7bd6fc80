-- The area (district, street) suggested from the address a citizen gives (docs/suggest.md,
-- "Area from the address").

-- The seed gazetteer (config/demo/roads.json, loaded by `hotline seed`): one row per name
-- people use for a road, its own and each alias, with the street it mainly runs through.
-- A name may repeat in another district (市南 and 平度 both have a 天津路).
CREATE TABLE seed_roads (
    name        text NOT NULL,
    street_code text NOT NULL REFERENCES areas (code),
    road        text NOT NULL,   -- the road's own name, which an alias stands for
    PRIMARY KEY (name, street_code)
);

-- The gazetteer the centre's own orders make: the orders whose address contains a road,
-- counted per area, asked while an agent types. Trigrams let "address LIKE '%香港中路%'"
-- read the index instead of every order; drafts and orders without an area teach nothing.
CREATE INDEX work_orders_address_trgm_idx ON work_orders USING gin (address gin_trgm_ops)
    WHERE area_code IS NOT NULL AND status <> 'draft';

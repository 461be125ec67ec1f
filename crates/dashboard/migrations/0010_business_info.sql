-- What Yelp's business_info says of each business: its name (already a column, never written before),
-- address, whether it is closed or removed from search, and where it migrated. `info_at` is when
-- business_info last answered for it (NULL: never), so a sync asks again only for new or day-old ones.
-- `search_name` is the name lower-cased and without accents, which the programs search matches.
ALTER TABLE businesses ADD COLUMN search_name TEXT;
ALTER TABLE businesses ADD COLUMN address TEXT;
ALTER TABLE businesses ADD COLUMN city TEXT;
ALTER TABLE businesses ADD COLUMN state TEXT;
ALTER TABLE businesses ADD COLUMN zip TEXT;
ALTER TABLE businesses ADD COLUMN is_closed BIGINT;
ALTER TABLE businesses ADD COLUMN is_removed_from_search BIGINT;
ALTER TABLE businesses ADD COLUMN migrated_to TEXT;
ALTER TABLE businesses ADD COLUMN unknown_at_yelp BIGINT NOT NULL DEFAULT 0;
ALTER TABLE businesses ADD COLUMN info_at BIGINT;
ALTER TABLE sync_runs ADD COLUMN businesses_updated BIGINT;

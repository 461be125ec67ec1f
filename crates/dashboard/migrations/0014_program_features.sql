-- What Yelp last answered of a program's features (`GET|POST|DELETE /program/{id}/features/v1`), as its
-- JSON body, so that the status page shows their settings without asking Yelp. Apart from `programs`,
-- which a sync rewrites from the listing (whose `active_features` says only which types are on).
CREATE TABLE program_features (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    program_id   TEXT NOT NULL,
    features     TEXT NOT NULL,
    read_at      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, program_id)
);
-- A label's search form (lower case, accents folded), so that the programs search finds programs by it.
-- Labels set before it are folded to lower case here (SQL cannot fold accents) and fully when set again.
ALTER TABLE program_labels ADD COLUMN search_name TEXT;
UPDATE program_labels SET search_name = LOWER(custom_name);

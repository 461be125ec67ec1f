-- Reporting API v3: where to reach it and the Fusion API key Yelp enabled for it (sealed like the partner
-- password, never answered), and the reports asked for. A report's figures never change once Yelp made it
-- (Yelp's data is final a day later), so a ready report is kept for good and an identical request is answered
-- from here without asking Yelp again.
ALTER TABLE workspaces ADD COLUMN reporting_base_url TEXT;
ALTER TABLE workspaces ADD COLUMN reporting_key_enc TEXT;
CREATE TABLE reports (
    id             TEXT PRIMARY KEY,   -- ours (store::new_id)
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id),
    request_key    TEXT NOT NULL,      -- SHA-256 of the canonical request: granularity, range, businesses, metrics
    granularity    TEXT NOT NULL,      -- daily | monthly
    start_date     TEXT NOT NULL,      -- YYYY-MM-DD, or YYYY-MM for monthly
    end_date       TEXT NOT NULL,
    business_ids   TEXT NOT NULL,      -- comma-separated, sorted
    metrics        TEXT NOT NULL,      -- comma-separated, sorted
    state          TEXT NOT NULL,      -- requesting | requested | ready | failed
    yelp_report_id TEXT,
    requested_by   TEXT,
    requested_at   BIGINT NOT NULL,    -- unix ms
    checked_at     BIGINT,             -- when Yelp was last asked how it stands
    ready_at       BIGINT,
    rows_json      TEXT,               -- the rows, once ready
    error          TEXT                -- Yelp's words, once failed
);
CREATE UNIQUE INDEX reports_by_request ON reports (workspace_id, request_key);
CREATE INDEX reports_by_workspace ON reports (workspace_id, requested_at);

-- Portable between SQLite and PostgreSQL: text ids made by the application, BIGINT for times (unix
-- milliseconds), money (cents) and booleans (0/1), TEXT for dates (YYYY-MM-DD, which sorts) and JSON.

CREATE TABLE workspaces (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    yelp_base_url TEXT NOT NULL,
    yelp_username TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (yelp_base_url, yelp_username)
);

CREATE TABLE businesses (
    workspace_id        TEXT NOT NULL REFERENCES workspaces (id),
    business_id         TEXT NOT NULL,
    partner_business_id TEXT,
    name                TEXT,
    first_seen_at       BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, business_id)
);

CREATE TABLE programs (
    workspace_id        TEXT NOT NULL REFERENCES workspaces (id),
    program_id          TEXT NOT NULL,
    business_id         TEXT,
    partner_business_id TEXT,
    program_type        TEXT NOT NULL,
    program_status      TEXT NOT NULL,
    pause_status        TEXT NOT NULL,
    start_date          TEXT,
    end_date            TEXT,             -- NULL: no end (Yelp's 9999-12-31)
    budget_cents        BIGINT,
    max_bid_cents       BIGINT,
    is_autobid          BIGINT,           -- 0/1, NULL when Yelp did not say
    currency            TEXT,
    fee_period          TEXT,
    billed_impressions  BIGINT,
    billed_clicks       BIGINT,
    ad_cost_cents       BIGINT,
    active_features     TEXT NOT NULL,    -- JSON array
    available_features  TEXT NOT NULL,    -- JSON array
    ad_categories       TEXT NOT NULL,    -- JSON array
    raw                 TEXT NOT NULL,    -- the entry exactly as Yelp sent it
    first_seen_at       BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,  -- content last changed
    removed_at          BIGINT,           -- missing from a complete listing; kept, not deleted
    PRIMARY KEY (workspace_id, program_id)
);
CREATE INDEX programs_by_business ON programs (workspace_id, business_id);

CREATE TABLE sync_runs (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    trigger_kind  TEXT NOT NULL,          -- cli, page, button, api, schedule
    requested_by  TEXT,
    instance_id   TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    status        TEXT NOT NULL,          -- running, synced, up_to_date, error, interrupted
    total_api     BIGINT,
    added         BIGINT NOT NULL DEFAULT 0,
    updated       BIGINT NOT NULL DEFAULT 0,
    unchanged     BIGINT NOT NULL DEFAULT 0,
    removed       BIGINT NOT NULL DEFAULT 0,
    pages         BIGINT NOT NULL DEFAULT 0,
    pages_failed  BIGINT NOT NULL DEFAULT 0,
    error         TEXT
);
CREATE INDEX sync_runs_by_workspace ON sync_runs (workspace_id, started_at);

-- Every event of a run, so that late subscribers (and other instances) can replay it.
CREATE TABLE sync_events (
    run_id TEXT NOT NULL REFERENCES sync_runs (id),
    seq    BIGINT NOT NULL,
    event  TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- At most one sync of a workspace at a time, across processes: a lease that expires if its holder dies.
CREATE TABLE sync_leases (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id),
    run_id       TEXT NOT NULL,
    holder       TEXT NOT NULL,
    expires_at   BIGINT NOT NULL
);

-- The history of every program: one row a field that changed (old and new value as stored, canonical: cents,
-- enum codes, ISO dates, feature codes), or a program added, removed or restored; with what made it (one of
-- this dashboard's jobs, a change set, a schedule, a user's direct change, or a sync that found Yelp's copy
-- different: made outside this dashboard) and who. Kept 2 years by default.
CREATE TABLE program_history (
    id            TEXT PRIMARY KEY,  -- time-ordered (store::new_id)
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    program_id    TEXT NOT NULL,
    business_id   TEXT,
    at            BIGINT NOT NULL,   -- unix ms
    kind          TEXT NOT NULL,     -- changed | added | removed | restored
    field         TEXT,              -- for `changed`: budget, max_bid, bidding, status, pause, start_date, end_date, features
    old_value     TEXT,
    new_value     TEXT,
    source        TEXT NOT NULL,     -- job | change_set | schedule | user | outside
    actor_id      TEXT,
    actor         TEXT,
    job_id        TEXT,
    change_set_id TEXT,
    schedule_id   TEXT,
    run_id        TEXT
);
CREATE INDEX program_history_by_workspace ON program_history (workspace_id, at);
CREATE INDEX program_history_by_program ON program_history (workspace_id, program_id, at);
CREATE INDEX program_history_by_business ON program_history (workspace_id, business_id, at);
CREATE INDEX program_history_by_job ON program_history (job_id);
CREATE INDEX jobs_by_program ON jobs (workspace_id, program_id);

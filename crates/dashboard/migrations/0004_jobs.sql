-- Every change to a program, tracked to its end. Portable like 0001: text ids, BIGINT unix-ms times,
-- JSON as TEXT.
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,        -- Yelp's job_id when there is one, else our own id
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id),
    user_id          TEXT,
    username         TEXT,
    job_type         TEXT NOT NULL,           -- create, edit, duplicate, terminate, pause, resume
    program_id       TEXT,
    business_id      TEXT,
    request          TEXT NOT NULL,           -- JSON of what was asked (no secrets)
    yelp_job_id      TEXT,
    status           TEXT NOT NULL,           -- PENDING, IN_PROGRESS, COMPLETED, FAILED
    yelp_status      TEXT,
    receipt          TEXT,                    -- the last receipt exactly as Yelp sent it
    errors           TEXT,                    -- JSON [{field, code, message}]
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    completed_at     BIGINT,
    next_poll_at     BIGINT,                  -- NULL once finished
    poll_count       BIGINT NOT NULL DEFAULT 0,
    lease_owner      TEXT,                    -- the watcher polling it now
    lease_expires_at BIGINT
);
CREATE INDEX jobs_by_workspace ON jobs (workspace_id, created_at);
CREATE INDEX jobs_due ON jobs (status, next_poll_at);

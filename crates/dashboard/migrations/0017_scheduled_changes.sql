-- Scheduled changes: a change set to post at a time. A schedule is fired once: the instance that claims it
-- (state `firing`, with a lease) checks its change set against the programs as Yelp has them then, and posts
-- what still applies; one that stopped half-way leaves the lease to run out, and the next claim carries on
-- from the change set's own state, which is never posted twice.
CREATE TABLE scheduled_changes (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id),
    user_id          TEXT,
    username         TEXT,
    change_set_id    TEXT NOT NULL REFERENCES change_sets (id),
    description      TEXT NOT NULL,
    due_at           BIGINT NOT NULL,  -- unix ms, UTC
    window_of        TEXT,             -- for the resume that ends a pause window: the pause's schedule
    state            TEXT NOT NULL,    -- scheduled | firing | fired | skipped | missed | cancelled
    outcome          TEXT,             -- why it was skipped or missed, in words
    fired_at         BIGINT,
    late_ms          BIGINT,           -- how long after its time it fired
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_expires_at BIGINT
);
CREATE INDEX scheduled_changes_due ON scheduled_changes (state, due_at);
CREATE INDEX scheduled_changes_by_workspace ON scheduled_changes (workspace_id, due_at);

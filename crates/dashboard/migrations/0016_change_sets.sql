-- Change sets: one operation (or an imported file) staged over many programs, checked, then posted as one
-- tracked batch of jobs. Each item is a program's change with what the mirror held when it was staged, so
-- that a check sees a program changed at Yelp since, and an undo knows what to go back to.
CREATE TABLE change_sets (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id),
    user_id          TEXT,
    username         TEXT,
    operation        TEXT,             -- JSON {"kind", "value"}; NULL for an import, a retry or an undo
    description      TEXT NOT NULL,    -- what it does, in words
    origin_id        TEXT,             -- the change set it retries or undoes
    origin_kind      TEXT,             -- retry | undo | import
    state            TEXT NOT NULL,    -- draft | checked | posting | done
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    checked_at       BIGINT,
    posted_at        BIGINT,
    finished_at      BIGINT,
    lease_owner      TEXT,             -- the instance posting it
    lease_expires_at BIGINT
);
CREATE INDEX change_sets_by_workspace ON change_sets (workspace_id, created_at);
CREATE INDEX change_sets_by_state ON change_sets (state);

-- An item is sent at most once: it is marked `sending` before its job is asked for, with a submission
-- token of its own (`cs_<change set>_<position>`), so that a poster that stops half-way finds its job by
-- the token instead of sending it again.
CREATE TABLE change_set_items (
    change_set_id TEXT NOT NULL REFERENCES change_sets (id),
    position      INTEGER NOT NULL,    -- its order in the change set, from 0
    program_id    TEXT NOT NULL,
    change        TEXT NOT NULL,       -- JSON of the change (edit fields, pause, resume, end)
    before        TEXT NOT NULL,       -- JSON of the program's fields in the mirror when staged
    state         TEXT NOT NULL,       -- staged | ready | no_op | conflict | refused | dropped | sending | sent | failed | completed
    message       TEXT,                -- why it is refused, a conflict or failed, for the user
    job_id        TEXT,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (change_set_id, position)
);
CREATE INDEX change_set_items_by_job ON change_set_items (job_id);

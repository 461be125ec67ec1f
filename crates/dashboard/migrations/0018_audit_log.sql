-- The workspace's audit log: who did what to the workspace itself (sign-ins, users and roles, the Yelp
-- credentials, change sets, schedules, exports), with when and from where. Never a password, token or
-- credential. A failed sign-in of a name no workspace knows has no workspace and shows in no workspace's log.
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT REFERENCES workspaces (id),
    at           BIGINT NOT NULL,
    actor_id     TEXT,             -- the user who did it, when signed in
    actor        TEXT,             -- their name, or the name typed at a failed sign-in
    action       TEXT NOT NULL,    -- sign_in, sign_in_failed, sign_out, role_changed, …
    target       TEXT,             -- what it was done to (a user, a change set, …)
    detail       TEXT,             -- in words, for the reader
    address      TEXT,
    user_agent   TEXT
);
CREATE INDEX audit_log_by_workspace ON audit_log (workspace_id, at);

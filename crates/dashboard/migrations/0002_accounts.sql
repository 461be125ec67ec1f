-- Accounts, sessions and sign-in throttling. Portable between SQLite and PostgreSQL, like 0001.

-- The workspace's Yelp partner password, encrypted with the instance's secret key
-- (base64 of nonce || ciphertext); NULL when none is stored.
ALTER TABLE workspaces ADD COLUMN yelp_password_enc TEXT;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,              -- argon2id PHC string
    role          TEXT NOT NULL,              -- admin, operator, viewer
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
-- Usernames are ASCII (the application checks), so lower() folds them the same way on both databases:
-- 'Alice' and 'alice' are one user.
CREATE UNIQUE INDEX users_by_lower_username ON users (lower(username));
CREATE INDEX users_by_workspace ON users (workspace_id);

-- Only the SHA-256 of a session token is stored, so that a copy of the database signs nobody in.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,            -- hex SHA-256 of the cookie's token
    user_id      TEXT NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Failed sign-ins per key (`user:<lowercased name>`, `addr:<ip>`) within a window, and the lock they cause.
CREATE TABLE login_throttle (
    key               TEXT PRIMARY KEY,
    failures          BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL,
    locked_until      BIGINT NOT NULL         -- 0 when not locked
);

-- Bumped in the transaction of every change to a workspace's programs: list caches key on it.
ALTER TABLE workspaces ADD COLUMN mirror_version BIGINT NOT NULL DEFAULT 0;

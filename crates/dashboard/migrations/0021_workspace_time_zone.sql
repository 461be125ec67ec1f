-- The workspace's time zone, an IANA name: schedule times typed without an offset are read in it and pages
-- show times in it. Times are still stored as unix ms (UTC); the zone only reads and shows them.
ALTER TABLE workspaces ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

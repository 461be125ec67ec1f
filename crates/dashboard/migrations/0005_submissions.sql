-- Guards against a change sent twice (Yelp has no idempotency key). A form's one-time submission token:
-- a second submission with it answers the first one's job. A create's fingerprint (business, type, start
-- date, budget): an identical create within minutes needs the user's confirmation.
ALTER TABLE jobs ADD COLUMN submission_token TEXT;
ALTER TABLE jobs ADD COLUMN fingerprint TEXT;
-- Several NULLs are allowed on both databases: jobs without a token are not constrained.
CREATE UNIQUE INDEX jobs_by_submission_token ON jobs (workspace_id, submission_token);
CREATE INDEX jobs_by_fingerprint ON jobs (workspace_id, fingerprint, created_at);

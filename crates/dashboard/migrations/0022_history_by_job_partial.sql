-- Only the entries a job made are looked up by job: most entries (a sync's outside changes, removals) have no
-- job, and each of them kept an index entry that every sync wrote and no query read.
DROP INDEX program_history_by_job;
CREATE INDEX program_history_by_job ON program_history (job_id) WHERE job_id IS NOT NULL;

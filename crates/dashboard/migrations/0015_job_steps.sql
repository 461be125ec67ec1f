-- The steps a job takes after Yelp's own job: a duplicate copies the source's features to the new program,
-- one feature type a step. A step is recorded before it is sent (state `sending`), so that a watcher that
-- stops half-way, or a second watcher, never sends it again: a step left `sending` is read back instead.
CREATE TABLE job_steps (
    job_id       TEXT NOT NULL REFERENCES jobs (id),
    feature_type TEXT NOT NULL,
    position     INTEGER NOT NULL,     -- the order it is taken in
    state        TEXT NOT NULL,        -- sending | copied | failed
    message      TEXT,                 -- why it failed, for the user
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (job_id, feature_type)
);

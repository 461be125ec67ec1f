-- A program's local label ("custom name" in the replaced system): Yelp has no field for a program's name,
-- so it is ours to keep. Apart from `programs`, which a sync rewrites from Yelp's answers.
CREATE TABLE program_labels (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    program_id   TEXT NOT NULL,
    custom_name  TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    updated_by   TEXT,                 -- the username that set it
    PRIMARY KEY (workspace_id, program_id)
);

-- CPC programs' metrics over time: one row each time a write of the mirror found a program's budget, spend
-- (`ad_cost`, of the fee period current then), billed clicks or billed impressions different from what the
-- mirror held (a program seen for the first time counts as different). Nothing is written for a program
-- whose figures did not change, so a quiet day costs nothing. Kept 400 days by default.
CREATE TABLE program_snapshots (
    workspace_id       TEXT NOT NULL REFERENCES workspaces (id),
    program_id         TEXT NOT NULL,
    at                 BIGINT NOT NULL,  -- unix ms: when the mirror was written with these figures
    budget_cents       BIGINT NOT NULL,
    spend_cents        BIGINT NOT NULL,  -- 0 when Yelp sent no ad_cost
    billed_clicks      BIGINT NOT NULL,  -- 0 when Yelp sent none
    billed_impressions BIGINT NOT NULL,  -- 0 when Yelp sent none
    PRIMARY KEY (workspace_id, program_id, at)
);
-- Pruning deletes by time across workspaces.
CREATE INDEX program_snapshots_by_time ON program_snapshots (at);

-- The figures the mirror holds already, as of when they were written, so that charts and pacing have a
-- starting point in a mirror that predates this table.
INSERT INTO program_snapshots (workspace_id, program_id, at, budget_cents, spend_cents, billed_clicks,
                               billed_impressions)
SELECT workspace_id, program_id, updated_at, budget_cents, COALESCE(ad_cost_cents, 0),
       COALESCE(billed_clicks, 0), COALESCE(billed_impressions, 0)
FROM programs
WHERE program_type = 'CPC' AND budget_cents IS NOT NULL AND removed_at IS NULL;

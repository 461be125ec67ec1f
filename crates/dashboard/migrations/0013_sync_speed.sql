-- The page size a workspace's syncs use when Yelp refused the default one (NULL: the default).
ALTER TABLE workspaces ADD COLUMN sync_page_size INTEGER;
-- The number of pages in flight a run's adaptive window settled on, and the page size it listed with.
ALTER TABLE sync_runs ADD COLUMN settled_window INTEGER;
ALTER TABLE sync_runs ADD COLUMN page_size INTEGER;

-- 0006_occurrence_pages.sql: the queue's pages and the calendar feed read a workspace's
-- occurrences in (planned_at, id) order a page at a time; this index makes each page a
-- range read instead of a scan and sort of all of them.

CREATE INDEX occurrences_workspace ON occurrences(workspace_id, planned_at, id);

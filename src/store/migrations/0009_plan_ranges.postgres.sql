-- 0009_plan_ranges.postgres.sql (the SQLite twin is 0009_plan_ranges.sqlite.sql, which
-- says what this is for): the same column, trigger and index in PostgreSQL's words.
ALTER TABLE channels ADD COLUMN freed BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION occurrences_freed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE channels SET freed = freed + 1 WHERE id = OLD.channel_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER occurrences_freed AFTER UPDATE OF state, planned_at, channel_id ON occurrences
    FOR EACH ROW
    WHEN (NEW.planned_at <> OLD.planned_at OR NEW.channel_id <> OLD.channel_id
          OR (NEW.state IN ('cancelled', 'failed') AND OLD.state NOT IN ('cancelled', 'failed')))
    EXECUTE FUNCTION occurrences_freed();

CREATE INDEX occurrences_published ON occurrences(channel_id, published_at) WHERE state = 'published';

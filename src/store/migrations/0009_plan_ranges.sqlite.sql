-- 0009_plan_ranges.sqlite.sql (the PostgreSQL twin is 0009_plan_ranges.postgres.sql): what
-- lets planning read only the part of the queue that matters (core/post.c).
--
-- channels.freed counts the times one of the channel's occurrences let go of its instant:
-- it was cancelled or failed, or moved to another time or channel. Only these free a slot
-- (a new occurrence only takes one), so while the count stays the same, slots seen taken
-- stay taken, and the next free slot is searched from where the last search ended instead
-- of from now. A trigger keeps it, so no statement that frees a slot can forget to.
ALTER TABLE channels ADD COLUMN freed BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER occurrences_freed AFTER UPDATE OF state, planned_at, channel_id ON occurrences
    WHEN NEW.planned_at <> OLD.planned_at OR NEW.channel_id <> OLD.channel_id
        OR (NEW.state IN ('cancelled', 'failed') AND OLD.state NOT IN ('cancelled', 'failed'))
BEGIN
    UPDATE channels SET freed = freed + 1 WHERE id = OLD.channel_id;
END;

-- The checks read a channel's published posts by the time they went out (queued ones by
-- planned_at, occurrences_channel); only published rows are in it, so planning a post
-- costs it nothing.
CREATE INDEX occurrences_published ON occurrences(channel_id, published_at) WHERE state = 'published';

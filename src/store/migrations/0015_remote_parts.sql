-- 0015_remote_parts.sql: the parts of a thread (PRODUCT.md P4, P16; docs/bluesky.md,
-- docs/mastodon.md). remote_id names a published copy's first post; a long text goes out as
-- a thread of replies to it, whose ids are kept here, as the network gave them (a JSON
-- list of at:// URIs or status ids, in order; NULL for a single post), so that replacing
-- the copy (replace on repost) deletes the whole thread, not its first post only.
ALTER TABLE occurrences ADD COLUMN remote_parts TEXT;

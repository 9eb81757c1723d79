-- 0002_queue.sql: what the publishing queue needs on top of 0001.
-- Channels get weekly posting slots (JSON list of "mon 09:00"), frequency caps and a
-- human-readable status message; workspaces get the content-mix preset. Occurrences are
-- the outbox: one row per delivery, claimed with a lease before the network is called.

ALTER TABLE channels ADD COLUMN slots TEXT NOT NULL DEFAULT '[]';
ALTER TABLE channels ADD COLUMN max_per_hour BIGINT NOT NULL DEFAULT 2;
ALTER TABLE channels ADD COLUMN max_per_day BIGINT NOT NULL DEFAULT 12;
ALTER TABLE workspaces ADD COLUMN mix_preset TEXT NOT NULL DEFAULT 'balanced'
    CHECK (mix_preset IN ('gentle', 'balanced', 'retail'));
ALTER TABLE workspaces ADD COLUMN ical_token TEXT;

-- Who asked for a post to skip a blocking check, and why (P9).
ALTER TABLE posts ADD COLUMN override_reason TEXT;

CREATE INDEX occurrences_post ON occurrences(post_id);
CREATE INDEX occurrences_lease ON occurrences(state, lease_until);

-- next_attempt_at is always set (planned_at at first), so due work is one index range.
CREATE INDEX occurrences_next ON occurrences(state, next_attempt_at);

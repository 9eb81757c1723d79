-- 0008_waiting.sql: why a due occurrence waits. A channel's caps hold at publish time, so
-- a post due now can wait for its channel's limit of posts an hour or a day; that is not
-- a failed attempt, and it is said in words of its own (in the reader's language) instead
-- of in last_error. wait_reason: NULL (not waiting), 'hour_cap' or 'day_cap'; wait_limit:
-- the limit it waits for.
ALTER TABLE occurrences ADD COLUMN wait_reason TEXT CHECK (wait_reason IN ('hour_cap', 'day_cap'));
ALTER TABLE occurrences ADD COLUMN wait_limit BIGINT;

-- 0011_pause.sql: a channel's queue can be paused (PRODUCT.md P1; docs/api.md, Channel).
-- paused_at: NULL while the channel publishes; else when a member paused it. While it is
-- set, the publisher's claim skips the channel's occurrences: they stay scheduled (in the
-- calendar) and go out, within the caps, once it is NULL again. It is its own column, not
-- a value of status: status says whether the network accepts the channel (active,
-- reconnect) and is set by the publisher and the reader; a pause is a member's choice,
-- stops only publishing (mentions and messages are still read), and survives a reconnect.
ALTER TABLE channels ADD COLUMN paused_at BIGINT;

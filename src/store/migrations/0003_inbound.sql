-- 0003_inbound.sql: what the real channels bring in (#4): messages read from the
-- networks (mentions, replies, quotes, direct messages; D1 builds conversations on them),
-- each channel's read position, engagement counts fetched after publishing (M6), and
-- OAuth connections waiting for the user to come back from the instance.

-- Why a channel is not 'active' ('reconnect': the network refused its credentials; its
-- queue waits until someone reconnects it).
ALTER TABLE channels ADD COLUMN status_at BIGINT;

CREATE TABLE messages (
    id               {{id}},
    workspace_id     BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id       BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('mention', 'reply', 'quote', 'direct')),
    remote_id        TEXT NOT NULL,
    remote_url       TEXT,
    parent_remote_id TEXT,
    root_remote_id   TEXT,
    thread_id        TEXT,
    author_id        TEXT NOT NULL,
    author_handle    TEXT,
    author_name      TEXT,
    text             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    received_at      BIGINT NOT NULL,
    UNIQUE (channel_id, remote_id)
);
CREATE INDEX messages_workspace ON messages(workspace_id, id);

-- Where each channel's reading stopped (opaque to the store: the connector's cursor).
CREATE TABLE channel_cursors (
    channel_id  BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (channel_id, name)
);

-- One fetch of a published occurrence's counts at a checkpoint after publishing.
CREATE TABLE engagement (
    occurrence_id  BIGINT NOT NULL REFERENCES occurrences(id) ON DELETE CASCADE,
    checkpoint     BIGINT NOT NULL,            -- seconds after publishing: 3600, 86400, ...
    due_at         BIGINT NOT NULL,
    fetched_at     BIGINT,
    attempts       BIGINT NOT NULL DEFAULT 0,
    likes          BIGINT,
    reposts        BIGINT,
    replies        BIGINT,
    quotes         BIGINT,
    error          TEXT,
    PRIMARY KEY (occurrence_id, checkpoint)
);
CREATE INDEX engagement_due ON engagement(fetched_at, due_at);

-- An OAuth connection started and not yet finished: the state sent to the instance
-- (stored as a hash), the app registered there (its secret sealed like channel secrets).
CREATE TABLE oauth_pending (
    state_hash    TEXT PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id       BIGINT REFERENCES users(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    channel_id    BIGINT REFERENCES channels(id) ON DELETE CASCADE,  -- reconnecting this one
    detail        TEXT NOT NULL,                -- JSON: instance, client_id, name, timezone, redirect_uri
    secret        {{blob}},
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);

-- 0003_inbound.sql: what the real channels bring in (#4): messages read from the
-- networks (mentions, replies, quotes, direct messages; D1 builds conversations on them),
-- each channel's read position, engagement counts fetched after publishing (M6), and
-- OAuth connections waiting for the user to come back from the instance.

-- Why a channel is not 'active' ('reconnect': the network refused its credentials; its
-- queue waits until someone reconnects it).
ALTER TABLE channels ADD COLUMN status_at INTEGER;

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id     INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id       INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
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
    created_at       INTEGER NOT NULL,
    received_at      INTEGER NOT NULL,
    UNIQUE (channel_id, remote_id)
);
CREATE INDEX messages_workspace ON messages(workspace_id, id);

-- Where each channel's reading stopped (opaque to the store: the connector's cursor).
CREATE TABLE channel_cursors (
    channel_id  INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, name)
);

-- One fetch of a published occurrence's counts at a checkpoint after publishing.
CREATE TABLE engagement (
    occurrence_id  INTEGER NOT NULL REFERENCES occurrences(id) ON DELETE CASCADE,
    checkpoint     INTEGER NOT NULL,            -- seconds after publishing: 3600, 86400, ...
    due_at         INTEGER NOT NULL,
    fetched_at     INTEGER,
    attempts       INTEGER NOT NULL DEFAULT 0,
    likes          INTEGER,
    reposts        INTEGER,
    replies        INTEGER,
    quotes         INTEGER,
    error          TEXT,
    PRIMARY KEY (occurrence_id, checkpoint)
);
CREATE INDEX engagement_due ON engagement(fetched_at, due_at);

-- An OAuth connection started and not yet finished: the state sent to the instance
-- (stored as a hash), the app registered there (its secret sealed like channel secrets).
CREATE TABLE oauth_pending (
    state_hash    TEXT PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id       INTEGER REFERENCES users(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    channel_id    INTEGER REFERENCES channels(id) ON DELETE CASCADE,  -- reconnecting this one
    detail        TEXT NOT NULL,                -- JSON: instance, client_id, name, timezone, redirect_uri
    secret        BLOB,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);

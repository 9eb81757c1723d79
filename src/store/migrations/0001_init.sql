-- 0001_init.sql: the foundation schema.
-- Instants are INTEGER Unix seconds, UTC. Ids are AUTOINCREMENT: never reused, so an old
-- URL or audit entry never points at a different object. Every table that belongs to a workspace has
-- workspace_id with ON DELETE CASCADE, so erasing a workspace erases all of it.

CREATE TABLE workspaces (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    timezone    TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    email                 TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name                  TEXT NOT NULL,
    password_hash         TEXT NOT NULL DEFAULT '',
    must_change_password  INTEGER NOT NULL DEFAULT 0,
    totp_secret           BLOB,
    created_at            INTEGER NOT NULL
);

CREATE TABLE members (
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'agent', 'viewer')),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX members_user ON members(user_id);

-- Only a hash of the session cookie is stored.
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash    BLOB NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Only a hash of the API token is stored; prefix lets a person recognise it.
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    token_hash    BLOB NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_tokens_workspace ON api_tokens(workspace_id);

-- secret is nonce || XSalsa20-Poly1305 ciphertext under the key kept outside the database.
CREATE TABLE channels (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id    INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('bluesky', 'mastodon', 'feed', 'jetstream', 'file', 'webhook')),
    name            TEXT NOT NULL,
    timezone        TEXT NOT NULL,
    settings        TEXT NOT NULL DEFAULT '{}',
    secret          BLOB,
    status          TEXT NOT NULL DEFAULT 'active',
    status_message  TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE posts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    author_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    text          TEXT NOT NULL,
    link          TEXT,
    category      TEXT NOT NULL DEFAULT 'value'
                  CHECK (category IN ('value', 'promo', 'personal', 'share', 'dialogue')),
    campaign      TEXT,
    variants      TEXT NOT NULL DEFAULT '[]',
    state         TEXT NOT NULL DEFAULT 'draft'
                  CHECK (state IN ('draft', 'scheduled', 'published', 'failed', 'cancelled')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX posts_workspace ON posts(workspace_id, state);

-- A post repeated by a rule (P3).
CREATE TABLE series (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id      INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    post_id           INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    per_day           INTEGER NOT NULL DEFAULT 3,
    days              INTEGER,
    until_at          INTEGER,
    max_count         INTEGER,
    min_gap_minutes   INTEGER NOT NULL DEFAULT 240,
    replace_previous  INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL
);

-- One delivery of one post to one channel at one instant: the unit of exactly-once
-- publishing (P10).
CREATE TABLE occurrences (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id     INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    post_id          INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    channel_id       INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    series_id        INTEGER REFERENCES series(id) ON DELETE SET NULL,
    variant          INTEGER NOT NULL DEFAULT 0,
    planned_at       INTEGER NOT NULL,
    state            TEXT NOT NULL DEFAULT 'scheduled'
                     CHECK (state IN ('scheduled', 'publishing', 'published', 'failed', 'cancelled')),
    idempotency_key  TEXT NOT NULL UNIQUE,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    lease_owner      TEXT,
    lease_until      INTEGER,
    remote_id        TEXT,
    remote_url       TEXT,
    last_error       TEXT,
    published_at     INTEGER,
    deleted_at       INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX occurrences_due ON occurrences(state, planned_at);
CREATE INDEX occurrences_channel ON occurrences(channel_id, planned_at);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  INTEGER REFERENCES workspaces(id) ON DELETE CASCADE,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    target        TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT '{}',
    at            INTEGER NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log(workspace_id, id);

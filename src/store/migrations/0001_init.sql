-- 0001_init.sql: the foundation schema.
-- Instants are BIGINT Unix seconds, UTC. Ids are AUTOINCREMENT: never reused, so an old
-- URL or audit entry never points at a different object. Every table that belongs to a workspace has
-- workspace_id with ON DELETE CASCADE, so erasing a workspace erases all of it.

CREATE TABLE workspaces (
    id          {{id}},
    name        TEXT NOT NULL UNIQUE,
    timezone    TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id                    {{id}},
    email                 TEXT NOT NULL UNIQUE {{nocase}},
    name                  TEXT NOT NULL,
    password_hash         TEXT NOT NULL DEFAULT '',
    must_change_password  BIGINT NOT NULL DEFAULT 0,
    totp_secret           {{blob}},
    created_at            BIGINT NOT NULL
);

CREATE TABLE members (
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'agent', 'viewer')),
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX members_user ON members(user_id);

-- Only a hash of the session cookie is stored.
CREATE TABLE sessions (
    id            {{id}},
    token_hash    {{blob}} NOT NULL UNIQUE,
    user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Only a hash of the API token is stored; prefix lets a person recognise it.
CREATE TABLE api_tokens (
    id            {{id}},
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    token_hash    {{blob}} NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX api_tokens_workspace ON api_tokens(workspace_id);

-- secret is nonce || XSalsa20-Poly1305 ciphertext under the key kept outside the database.
CREATE TABLE channels (
    id              {{id}},
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('bluesky', 'mastodon', 'feed', 'jetstream', 'file', 'webhook')),
    name            TEXT NOT NULL,
    timezone        TEXT NOT NULL,
    settings        TEXT NOT NULL DEFAULT '{}',
    secret          {{blob}},
    status          TEXT NOT NULL DEFAULT 'active',
    status_message  TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE posts (
    id            {{id}},
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    author_id     BIGINT REFERENCES users(id) ON DELETE SET NULL,
    text          TEXT NOT NULL,
    link          TEXT,
    category      TEXT NOT NULL DEFAULT 'value'
                  CHECK (category IN ('value', 'promo', 'personal', 'share', 'dialogue')),
    campaign      TEXT,
    variants      TEXT NOT NULL DEFAULT '[]',
    state         TEXT NOT NULL DEFAULT 'draft'
                  CHECK (state IN ('draft', 'scheduled', 'published', 'failed', 'cancelled')),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX posts_workspace ON posts(workspace_id, state);

-- A post repeated by a rule (P3).
CREATE TABLE series (
    id                {{id}},
    workspace_id      BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    post_id           BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    per_day           BIGINT NOT NULL DEFAULT 3,
    days              BIGINT,
    until_at          BIGINT,
    max_count         BIGINT,
    min_gap_minutes   BIGINT NOT NULL DEFAULT 240,
    replace_previous  BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL
);

-- One delivery of one post to one channel at one instant: the unit of exactly-once
-- publishing (P10).
CREATE TABLE occurrences (
    id               {{id}},
    workspace_id     BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    post_id          BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    channel_id       BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    series_id        BIGINT REFERENCES series(id) ON DELETE SET NULL,
    variant          BIGINT NOT NULL DEFAULT 0,
    planned_at       BIGINT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'scheduled'
                     CHECK (state IN ('scheduled', 'publishing', 'published', 'failed', 'cancelled')),
    idempotency_key  TEXT NOT NULL UNIQUE,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT,
    lease_owner      TEXT,
    lease_until      BIGINT,
    remote_id        TEXT,
    remote_url       TEXT,
    last_error       TEXT,
    published_at     BIGINT,
    deleted_at       BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX occurrences_due ON occurrences(state, planned_at);
CREATE INDEX occurrences_channel ON occurrences(channel_id, planned_at);

CREATE TABLE audit_log (
    id            {{id}},
    workspace_id  BIGINT REFERENCES workspaces(id) ON DELETE CASCADE,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    target        TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT '{}',
    at            BIGINT NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log(workspace_id, id);

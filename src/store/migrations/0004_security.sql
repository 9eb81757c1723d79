-- 0004_security.sql: invitations, what a login needs to be told about failed attempts,
-- and the second factor (X6).

-- Membership by invitation: the account is made, or an existing one joins, only when the
-- invited person opens the link. Only a hash of the link's secret is stored; a link is
-- used once and expires. email is kept in lower case (ASCII) for comparisons.
CREATE TABLE invitations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    name          TEXT,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'agent', 'viewer')),
    token_hash    BLOB NOT NULL UNIQUE,
    language      TEXT NOT NULL DEFAULT 'en',
    invited_by    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    delivery      TEXT NOT NULL DEFAULT 'link' CHECK (delivery IN ('link', 'email')),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    accepted_at   INTEGER,
    accepted_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    revoked_at    INTEGER
);
CREATE INDEX invitations_workspace ON invitations(workspace_id, id);
CREATE INDEX invitations_email ON invitations(email);

-- Failed logins on an account since its last successful one, shown to its owner at the
-- next login (and mailed when mail is configured).
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_login_at INTEGER;
ALTER TABLE users ADD COLUMN failed_login_addr TEXT;
ALTER TABLE users ADD COLUMN failed_notified_at INTEGER;
ALTER TABLE users ADD COLUMN last_login_at INTEGER;
-- The second factor: totp_secret (0001) holds the sealed secret once enrolment is
-- confirmed; totp_pending the one being enrolled; totp_last_step the last time step a
-- code was accepted at (a code is never accepted twice).
ALTER TABLE users ADD COLUMN totp_pending BLOB;
ALTER TABLE users ADD COLUMN totp_enabled_at INTEGER;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- What a session's login was told: failed attempts before it (shown once as a notice).
ALTER TABLE sessions ADD COLUMN notice_failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN notice_failed_at INTEGER;
ALTER TABLE sessions ADD COLUMN notice_failed_addr TEXT;

-- Recovery codes of the second factor, as keyed hashes; each works once.
CREATE TABLE recovery_codes (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  BLOB NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

-- A password checked, the second factor still to come: the challenge the client holds
-- meanwhile (hash only), short-lived, with its count of wrong codes.
CREATE TABLE login_challenges (
    token_hash  BLOB PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    address     TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

-- A workspace may require the second factor of its owners and editors.
ALTER TABLE workspaces ADD COLUMN require_second_factor INTEGER NOT NULL DEFAULT 0;

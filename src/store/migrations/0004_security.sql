-- 0004_security.sql: invitations, what a login needs to be told about failed attempts,
-- and the second factor (X6).

-- Membership by invitation: the account is made, or an existing one joins, only when the
-- invited person opens the link. Only a hash of the link's secret is stored; a link is
-- used once and expires. email is kept in lower case (ASCII) for comparisons.
CREATE TABLE invitations (
    id            {{id}},
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    name          TEXT,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'agent', 'viewer')),
    token_hash    {{blob}} NOT NULL UNIQUE,
    language      TEXT NOT NULL DEFAULT 'en',
    invited_by    BIGINT REFERENCES users(id) ON DELETE SET NULL,
    delivery      TEXT NOT NULL DEFAULT 'link' CHECK (delivery IN ('link', 'email')),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    accepted_at   BIGINT,
    accepted_by   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    revoked_at    BIGINT
);
CREATE INDEX invitations_workspace ON invitations(workspace_id, id);
CREATE INDEX invitations_email ON invitations(email);

-- Failed logins on an account since its last successful one, shown to its owner at the
-- next login (and mailed when mail is configured).
ALTER TABLE users ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_login_at BIGINT;
ALTER TABLE users ADD COLUMN failed_login_addr TEXT;
ALTER TABLE users ADD COLUMN failed_notified_at BIGINT;
ALTER TABLE users ADD COLUMN last_login_at BIGINT;
-- The second factor: totp_secret (0001) holds the sealed secret once enrolment is
-- confirmed; totp_pending the one being enrolled; totp_last_step the last time step a
-- code was accepted at (a code is never accepted twice).
ALTER TABLE users ADD COLUMN totp_pending {{blob}};
ALTER TABLE users ADD COLUMN totp_enabled_at BIGINT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- What a session's login was told: failed attempts before it (shown once as a notice).
ALTER TABLE sessions ADD COLUMN notice_failed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN notice_failed_at BIGINT;
ALTER TABLE sessions ADD COLUMN notice_failed_addr TEXT;

-- Recovery codes of the second factor, as keyed hashes; each works once.
CREATE TABLE recovery_codes (
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  {{blob}} NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- A password checked, the second factor still to come: the challenge the client holds
-- meanwhile (hash only), short-lived, with its count of wrong codes.
CREATE TABLE login_challenges (
    token_hash  {{blob}} PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    address     TEXT NOT NULL DEFAULT '',
    attempts    BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- A workspace may require the second factor of its owners and editors.
ALTER TABLE workspaces ADD COLUMN require_second_factor BIGINT NOT NULL DEFAULT 0;

-- 0005_mail.sql: the mail outbox. Every email samtale sends (invitations, later reports
-- and alerts) is written here first and sent by the mailer of `samtale serve`, so a mail
-- server that is down loses nothing: a message is claimed with a lease before it is
-- handed to the server, and the outcome is written after.
--
-- state: queued (due at next_attempt_at), sending (leased to lease_owner until
-- lease_until; a lease that ran out is claimed again), sent (sent_at), failed (for good:
-- the server refused it, or it could not be sent within two days; last_error says why).
-- reply keeps the mail server's last answer ("250 2.0.0 Ok: queued as 4F2A"), cleaned
-- and bounded. The Message-ID is derived from id and created_at, so a retry sends the
-- same message. A body that holds a secret (an invitation's link) is sealed (sealed = 1:
-- base64 of nonce || XSalsa20-Poly1305 ciphertext under the secret key) and emptied once
-- the message is sent or has failed for good.

CREATE TABLE mail_outbox (
    id              {{id}},
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    reply           TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    sealed          BIGINT NOT NULL DEFAULT 0
);

-- Due work is one index range: queued by next_attempt_at, sending by lease_until.
CREATE INDEX mail_outbox_due ON mail_outbox(state, next_attempt_at);
CREATE INDEX mail_outbox_lease ON mail_outbox(state, lease_until);

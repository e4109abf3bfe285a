-- 0002_lifecycle: tokens sent by mail, the mail outbox, password history (SQLite).
-- Timestamps are Unix seconds UTC. Rules for migration files: see src/migrate.h.

-- A token mailed to the user (verify an address, reset a password, confirm a new
-- address). Only its SHA-256 is kept; used_at makes it single use. email is the
-- address it was sent to (verify_email, change_email: the address it proves).
CREATE TABLE tokens (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL
                       CHECK (purpose IN ('verify_email', 'reset_password', 'change_email')),
    email      TEXT    NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NULL
);

CREATE INDEX tokens_user_id_idx ON tokens (user_id, purpose);

CREATE INDEX tokens_expires_at_idx ON tokens (expires_at);

-- Mail waiting to be delivered by the background watchdog, queued in the same
-- transaction as whatever it tells. transport names the AuthsvcMailTransport of the
-- virtual host that queued it. recipient and message (which may carry a token) are
-- cleared once the message is sent or given up.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at      INTEGER NOT NULL,
    template        TEXT    NOT NULL,
    transport       TEXT    NOT NULL,
    sender          TEXT    NOT NULL,
    recipient       TEXT    NULL,
    message         TEXT    NULL,
    status          TEXT    NOT NULL DEFAULT 'queued'
                            CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER NULL,
    last_error      TEXT    NULL,
    sent_at         INTEGER NULL
);

CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_attempt_at);

-- Earlier password hashes, for AuthsvcPasswordHistory.
CREATE TABLE password_history (
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE INDEX password_history_user_id_idx ON password_history (user_id, created_at);

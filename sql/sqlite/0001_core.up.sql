-- 0001_core: users, sessions, audit_log (SQLite).
-- Timestamps are Unix seconds UTC. Rules for migration files: see src/migrate.h.
-- TEXT PRIMARY KEY columns say NOT NULL explicitly: SQLite, unlike PostgreSQL,
-- otherwise accepts NULL in a non-INTEGER primary key.

CREATE TABLE users (
    id                TEXT    NOT NULL PRIMARY KEY,
    email             TEXT    NOT NULL UNIQUE,
    username          TEXT    NULL,
    password_hash     TEXT    NOT NULL,
    first_name        TEXT    NULL,
    last_name         TEXT    NULL,
    email_verified_at INTEGER NULL,
    status            TEXT    NOT NULL DEFAULT 'active'
                              CHECK (status IN ('active', 'disabled')),
    roles             TEXT    NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));

CREATE TABLE sessions (
    token_hash      TEXT    NOT NULL PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    ip              TEXT    NULL,
    user_agent      TEXT    NULL,
    revoked_at      INTEGER NULL
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- user_id has no foreign key on purpose: audit rows outlive the user.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    event      TEXT    NOT NULL,
    user_id    TEXT    NULL,
    login      TEXT    NULL,
    ip         TEXT    NULL,
    user_agent TEXT    NULL,
    request_id TEXT    NULL,
    detail     TEXT    NULL
);

CREATE INDEX audit_log_user_id_idx ON audit_log (user_id, id);

CREATE INDEX audit_log_event_at_idx ON audit_log (event, at);

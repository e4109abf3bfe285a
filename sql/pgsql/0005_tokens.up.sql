-- 0005_tokens: rotating refresh tokens for API clients (PostgreSQL).
-- A refresh token is 32 random bytes; only its SHA-256 is kept. Every login that
-- issues tokens starts a family (family_id) bound to its session (session_hash is the
-- session's token_hash). Each use rotates the token: rotated_at is set once, atomically,
-- and a new row of the same family is written. A rotated token presented again
-- (after AuthsvcRefreshReuseGrace) revokes the family and its session.

CREATE TABLE refresh_tokens (
    token_hash   TEXT    NOT NULL PRIMARY KEY,
    family_id    TEXT    NOT NULL,
    session_hash TEXT    NOT NULL,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    rotated_at   BIGINT  NULL,
    revoked_at   BIGINT  NULL
);

CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);

CREATE INDEX refresh_tokens_session_hash_idx ON refresh_tokens (session_hash);

CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);

CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

-- 0004_mfa: TOTP second factor, recovery codes, sign-in challenges, and how each
-- session was authenticated (SQLite).
-- totp_secret / totp_pending hold the 160-bit TOTP secret sealed with AES-256-GCM under
-- an AuthsvcSecretKeyFile key (the user id is the associated data), never in clear.
-- totp_last_step is the last time step a code was accepted for: a code is accepted
-- only for a later step, so each code works once (the update is atomic).

ALTER TABLE users ADD COLUMN totp_secret TEXT NULL;

ALTER TABLE users ADD COLUMN totp_pending TEXT NULL;

ALTER TABLE users ADD COLUMN totp_pending_at INTEGER NULL;

ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

ALTER TABLE users ADD COLUMN mfa_enabled_at INTEGER NULL;

-- Single-use recovery codes: only the SHA-256 of each (80 random bits) is kept.
CREATE TABLE mfa_recovery_codes (
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- The second step of a sign-in: a short-lived single-use token handed out after the
-- right password of an account with MFA (only its SHA-256 is kept). auth_at is when
-- the password was checked.
CREATE TABLE mfa_challenges (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NULL
);

CREATE INDEX mfa_challenges_user_id_idx ON mfa_challenges (user_id);

CREATE INDEX mfa_challenges_expires_at_idx ON mfa_challenges (expires_at);

-- auth_at: the last full authentication (sign-in or re-authentication); mfa_at: the
-- last second factor passed in this session; amr: the methods (pwd, otp, rc).
ALTER TABLE sessions ADD COLUMN auth_at INTEGER NOT NULL DEFAULT 0;

ALTER TABLE sessions ADD COLUMN mfa_at INTEGER NULL;

ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

UPDATE sessions SET auth_at = created_at;

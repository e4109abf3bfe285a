-- 0009_passkeys: WebAuthn credentials (passkeys) and the challenges of their
-- ceremonies (PostgreSQL).
-- credential_id and public_key are base64url: the credential id the authenticator chose
-- and the key in libfido2's raw form (alg says which: COSE -7, -8 or -257).
-- user_handle is the random per-account id the authenticator keeps with a discoverable
-- credential (never the account id or the email). sign_count is the last signature
-- counter seen (0: the authenticator keeps none); backup_eligible/backed_up are the
-- BE/BS flags.
CREATE TABLE passkeys (
    id              TEXT    NOT NULL PRIMARY KEY,
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   TEXT    NOT NULL UNIQUE,
    user_handle     TEXT    NOT NULL,
    public_key      TEXT    NOT NULL,
    alg             BIGINT  NOT NULL,
    sign_count      BIGINT  NOT NULL DEFAULT 0,
    name            TEXT    NOT NULL,
    transports      TEXT    NULL,
    backup_eligible BIGINT  NOT NULL DEFAULT 0,
    backed_up       BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    last_used_at    BIGINT NULL
);

CREATE INDEX passkeys_user_id_idx ON passkeys (user_id);

-- One challenge per ceremony, only its SHA-256 kept, used up by a DELETE: purpose
-- 'register' (bound to user_id, with the user_handle the new credential gets) or
-- 'login' (user_id NULL: the credential names the account).
CREATE TABLE webauthn_challenges (
    challenge_hash TEXT    NOT NULL PRIMARY KEY,
    purpose        TEXT    NOT NULL,
    user_id        TEXT    NULL REFERENCES users (id) ON DELETE CASCADE,
    user_handle    TEXT    NULL,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL
);

CREATE INDEX webauthn_challenges_expires_at_idx ON webauthn_challenges (expires_at);

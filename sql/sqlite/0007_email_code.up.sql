-- 0007_email_code: sign-in codes sent by mail, and the devices accounts signed in from (SQLite).
-- email_codes: at most one live code per account (a new request replaces it). The code
-- itself is never stored: code_hash is the SHA-256 of "code_token:user_id:code",
-- where code_token is the opaque value the request for the code was answered with (32
-- random bytes, a per-code salt that is not stored either: only its SHA-256, token_hash).
-- A code is used up by the DELETE that finds it; failures counts wrong codes.
-- devices_seen: the keys of the devices an account signed in from (each the SHA-256 of
-- account id + a device cookie, or of account id + coarse agent + network), for the
-- new-device alerts; rows not seen again before expires_at are pruned.

CREATE TABLE email_codes (
    user_id    TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT    NOT NULL,
    code_hash  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    failures   INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX email_codes_expires_at_idx ON email_codes (expires_at);

CREATE TABLE devices_seen (
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_key TEXT    NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_key)
);

CREATE INDEX devices_seen_expires_at_idx ON devices_seen (expires_at);

-- How the first step of a sign-in still waiting for its second factor was passed
-- ("pwd", "email"), so that the session names the right methods; NULL (rows written
-- before this version) reads as "pwd".
ALTER TABLE mfa_challenges ADD COLUMN first_factor TEXT;

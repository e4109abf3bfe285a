-- 0008_remembered_devices: browsers where a user ticked "remember this device" after
-- the second step of a sign-in (PostgreSQL). While AuthsvcMFARememberDays is on, a later
-- password sign-in of the same user from that browser skips the second step.
-- The device cookie carries 32 random bytes; only their SHA-256 (token_hash) is kept.
-- id is the public id (GET/DELETE /users/me/devices/{id}). A row belongs to one user:
-- the cookie of another user's device does nothing. Rows go with their user, when the
-- password is changed or reset, and when the second factor is turned off.

CREATE TABLE remembered_devices (
    id           TEXT    NOT NULL PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    last_used_at BIGINT  NULL,
    ip           TEXT    NULL,
    user_agent   TEXT    NULL,
    name         TEXT    NULL
);

CREATE INDEX remembered_devices_user_id_idx ON remembered_devices (user_id);

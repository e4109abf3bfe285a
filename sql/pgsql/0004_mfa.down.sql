-- 0004_mfa down (PostgreSQL): drop MFA state and the sessions' authentication record.

ALTER TABLE sessions DROP COLUMN amr;

ALTER TABLE sessions DROP COLUMN mfa_at;

ALTER TABLE sessions DROP COLUMN auth_at;

DROP TABLE mfa_challenges;

DROP TABLE mfa_recovery_codes;

ALTER TABLE users DROP COLUMN mfa_enabled_at;

ALTER TABLE users DROP COLUMN totp_last_step;

ALTER TABLE users DROP COLUMN totp_pending_at;

ALTER TABLE users DROP COLUMN totp_pending;

ALTER TABLE users DROP COLUMN totp_secret;

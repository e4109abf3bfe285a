-- 0003_abuse: lockout state on the account (PostgreSQL).
-- failed_logins counts password checks claimed since failed_window_start (a
-- claim is taken before the check, so parallel guesses cannot overshoot);
-- lockouts counts locks since the last successful sign-in (each doubles the
-- next); hour_failures/hour_start cap failures at 100 an hour whatever the
-- lockout settings (NIST SP 800-63B).

ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;

ALTER TABLE users ADD COLUMN failed_window_start BIGINT NULL;

ALTER TABLE users ADD COLUMN locked_until BIGINT NULL;

ALTER TABLE users ADD COLUMN lockouts INTEGER NOT NULL DEFAULT 0;

ALTER TABLE users ADD COLUMN hour_failures INTEGER NOT NULL DEFAULT 0;

ALTER TABLE users ADD COLUMN hour_start BIGINT NULL;

-- 0003_abuse down (PostgreSQL): drop the lockout columns.

ALTER TABLE users DROP COLUMN hour_start;

ALTER TABLE users DROP COLUMN hour_failures;

ALTER TABLE users DROP COLUMN lockouts;

ALTER TABLE users DROP COLUMN locked_until;

ALTER TABLE users DROP COLUMN failed_window_start;

ALTER TABLE users DROP COLUMN failed_logins;

-- 0007_email_code down (PostgreSQL): drop the sign-in codes and the seen devices.

ALTER TABLE mfa_challenges DROP COLUMN first_factor;

DROP TABLE devices_seen;

DROP TABLE email_codes;

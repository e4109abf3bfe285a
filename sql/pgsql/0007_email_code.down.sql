-- 0007_email_code down (PostgreSQL): drop the sign-in codes and the seen devices.

DROP TABLE devices_seen;

DROP TABLE email_codes;

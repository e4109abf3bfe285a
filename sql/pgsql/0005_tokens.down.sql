-- 0005_tokens down (PostgreSQL): drop the refresh tokens.

DROP TABLE refresh_tokens;

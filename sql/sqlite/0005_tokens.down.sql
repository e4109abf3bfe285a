-- 0005_tokens down (SQLite): drop the refresh tokens.

DROP TABLE refresh_tokens;

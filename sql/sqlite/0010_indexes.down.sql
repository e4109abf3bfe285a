-- 0010_indexes down (SQLite): drop the index on sessions (expires_at).

DROP INDEX sessions_expires_at_idx;

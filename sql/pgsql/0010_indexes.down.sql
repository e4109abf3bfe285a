-- 0010_indexes down (PostgreSQL): drop the index on sessions (expires_at).

DROP INDEX sessions_expires_at_idx;

-- 0001_core down (SQLite): drop what the up created, in reverse order.

DROP INDEX audit_log_event_at_idx;

DROP INDEX audit_log_user_id_idx;

DROP TABLE audit_log;

DROP INDEX sessions_user_id_idx;

DROP TABLE sessions;

DROP INDEX users_username_lower_key;

DROP TABLE users;

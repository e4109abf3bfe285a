-- 0002_lifecycle down (SQLite): drop what the up created, in reverse order.

DROP INDEX password_history_user_id_idx;

DROP TABLE password_history;

DROP INDEX mail_outbox_due_idx;

DROP TABLE mail_outbox;

DROP INDEX tokens_expires_at_idx;

DROP INDEX tokens_user_id_idx;

DROP TABLE tokens;

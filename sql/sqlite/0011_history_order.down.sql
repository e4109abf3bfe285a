-- 0011_history_order down (SQLite): drop password_history's seq and its index.

DROP INDEX password_history_user_seq_idx;

ALTER TABLE password_history DROP COLUMN seq;

-- 0011_history_order: the order in which password_history rows were written (PostgreSQL).
-- AuthsvcPasswordHistory keeps a user's newest rows and checks a new password against
-- them. created_at is in whole seconds: two changes within one second tied, and either
-- row could be taken for the newer, so the trim could keep the older one. seq numbers a
-- user's rows from 1 up as they are written (rows written before this migration have
-- 0, and their created_at still orders them).

ALTER TABLE password_history ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;

CREATE INDEX password_history_user_seq_idx ON password_history (user_id, seq);

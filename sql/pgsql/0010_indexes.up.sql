-- 0010_indexes: an index on sessions (expires_at) (PostgreSQL).
-- Every statement of sign-in, the guard and refresh finds its rows through an index
-- (tools/dev/explain-check.py on a million accounts, make bench's scale section). This
-- one is for the sessions gauge of /metrics, which counts the live sessions: without
-- it the count reads every session ever made (ended ones stay in the table); with it,
-- only those not yet past their end.

CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

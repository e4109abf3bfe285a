-- 0006_audit_at: an index on audit_log (at) (PostgreSQL).
-- AuthsvcAuditRetention deletes the rows older than a time, in batches, every hour:
-- without an index on the time each batch scans the whole table.

CREATE INDEX audit_log_at_idx ON audit_log (at);

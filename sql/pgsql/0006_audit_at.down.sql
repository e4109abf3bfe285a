-- 0006_audit_at down (PostgreSQL): drop the index on audit_log (at).

DROP INDEX audit_log_at_idx;

/*
 * audit.h - the security audit trail: a row in audit_log and a key=value line in the
 * error log at info, for every security event. No secret is ever passed in here.
 */
#ifndef AUTHSVC_AUDIT_H
#define AUTHSVC_AUDIT_H

#include "authsvc.h"
#include "json.h"
#include "store.h"

/* Record `event` for user_id (may be NULL) with the login name as typed (may be NULL,
 * stored in the database only, never logged: people type passwords into login fields)
 * and an optional detail object. Uses the request's client IP, agent and UNIQUE_ID.
 * AuthsvcAuditLog says whether the row, the log line or both are written; a row that
 * could not be stored is logged anyway. Inside a transaction the line is written when
 * it commits, and dropped if it rolls back. Returns the database status (APR_SUCCESS
 * when no row is wanted) so that a caller inside a transaction can roll back. */
apr_status_t authsvc_audit(request_rec *r, authsvc_db_t *db, const char *event,
                           const char *user_id, const char *login, authsvc_json_t *detail);

/* The same for the event that erases an account (account_deleted): the row holds the
 * event, the time and the id only, and the line has no address or request id either,
 * so that the erasure stores no new personal data. */
apr_status_t authsvc_audit_erased(request_rec *r, authsvc_db_t *db, const char *event,
                                  const char *user_id);

#endif

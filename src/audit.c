/*
 * audit.c - audit rows and audit log lines.
 */
#include "audit.h"
#include "request.h"

apr_status_t authsvc_audit(request_rec *r, authsvc_db_t *db, const char *event,
                           const char *user_id, const char *login, authsvc_json_t *detail)
{
    const authsvc_client_t *c = authsvc_request_client(r);
    const char *d = detail ? authsvc_json_dump(r->pool, detail) : NULL;
    authsvc_audit_row_t row;
    apr_status_t rv = APR_EGENERAL;

    row.event = event;
    row.user_id = user_id;
    row.login = login;
    row.ip = c->ip;
    row.user_agent = c->user_agent;
    row.request_id = c->request_id;
    row.detail = d;
    if (db != NULL) {
        rv = authsvc_audit_insert(db, AUTHSVC_NOW(), &row);
    }
    /* Stable key=value form for log shippers; every value is ours or already cleaned. */
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "audit event=%s user=%s ip=%s request_id=%s detail=%s stored=%s", event,
                  user_id ? user_id : "-", c->ip ? c->ip : "-",
                  c->request_id ? c->request_id : "-", d ? d : "-",
                  rv == APR_SUCCESS ? "yes" : "no");
    return rv;
}

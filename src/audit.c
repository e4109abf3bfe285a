/*
 * audit.c - audit rows and audit log lines.
 */
#include "audit.h"
#include "config.h"
#include "request.h"

/* The outcome a log shipper filters on; every other event is a success. */
static const struct {
    const char *event;
    const char *result;
} outcomes[] = {
    {"login_failure", "failure"}, {"mfa_failure", "failure"},
    {"totp_replay", "failure"},   {"login_refused", "denied"},
    {"access_denied", "denied"},  {"refresh_reuse", "denied"},
    {"account_locked", "locked"}, {NULL, NULL}};

static const char *result_of(const char *event)
{
    int i;

    for (i = 0; outcomes[i].event != NULL; i++) {
        if (strcmp(outcomes[i].event, event) == 0) {
            return outcomes[i].result;
        }
    }
    return "success";
}

/* A log line waiting for its transaction (authsvc_store_after_commit). */
typedef struct {
    request_rec *r;
    const char *text;
} line_t;

static void write_line(void *baton)
{
    const line_t *l = baton;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, l->r, "%s", l->text);
}

/* The row (unless AuthsvcAuditLog says log only) and the line; with_client 0 leaves
 * the client's address, agent and request id out of both. */
static apr_status_t record(request_rec *r, authsvc_db_t *db, const char *event,
                           const char *user_id, const char *login, authsvc_json_t *detail,
                           int with_client)
{
    static const authsvc_client_t none = {NULL, NULL, NULL};
    const authsvc_client_t *c = with_client ? authsvc_request_client(r) : &none;
    const char *d = detail ? authsvc_json_dump(r->pool, detail) : NULL;
    authsvc_audit_row_t row;
    int to = authsvc_config_audit_to(authsvc_srv(r->server));
    apr_status_t rv = APR_EGENERAL;
    line_t *l;

    row.event = event;
    row.user_id = user_id;
    row.login = login;
    row.ip = c->ip;
    row.user_agent = c->user_agent;
    row.request_id = c->request_id;
    row.detail = d;
    if (!(to & AUTHSVC_AUDIT_TO_DB)) {
        rv = APR_SUCCESS; /* AuthsvcAuditLog log: the line below is the record */
    }
    else if (db != NULL) {
        rv = authsvc_audit_insert(db, AUTHSVC_NOW(), &row);
    }
    /* Stable key=value form for log shippers; every value is ours or already cleaned.
     * A row that could not be stored is logged whatever AuthsvcAuditLog says. Inside a
     * transaction the line waits for the commit: an action rolled back left no record
     * (its row went with it) and gets no line. */
    if ((to & AUTHSVC_AUDIT_TO_LOG) || rv != APR_SUCCESS) {
        l = apr_palloc(r->pool, sizeof(*l));
        l->r = r;
        l->text = apr_psprintf(
            r->pool,
            "audit event=%s user=%s ip=%s request_id=%s result=%s detail=%s stored=%s",
            event, user_id ? user_id : "-", c->ip ? c->ip : "-",
            c->request_id ? c->request_id : "-", result_of(event), d ? d : "-",
            !(to & AUTHSVC_AUDIT_TO_DB) ? "off" : rv == APR_SUCCESS ? "yes" : "no");
        if (db != NULL) {
            authsvc_store_after_commit(db, write_line, l,
                                       apr_pstrcat(r->pool, "audit line ", event, NULL));
        }
        else {
            write_line(l);
        }
    }
    return rv;
}

apr_status_t authsvc_audit(request_rec *r, authsvc_db_t *db, const char *event,
                           const char *user_id, const char *login, authsvc_json_t *detail)
{
    return record(r, db, event, user_id, login, detail, 1);
}

apr_status_t authsvc_audit_erased(request_rec *r, authsvc_db_t *db, const char *event,
                                  const char *user_id)
{
    return record(r, db, event, user_id, NULL, NULL, 0);
}

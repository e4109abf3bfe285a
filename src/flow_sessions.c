/*
 * flow_sessions.c - the signed-in user's sessions: list them, end one, end the others.
 */
#include "audit.h"
#include "flow.h"
#include "json.h"
#include "text.h"

const authsvc_fail_t *authsvc_flow_sessions(request_rec *r, authsvc_identity_t **me,
                                            apr_array_header_t **out)
{
    const authsvc_fail_t *fail;
    authsvc_db_t *db;

    if ((fail = authsvc_flow_whoami(r, me)) != NULL) {
        return fail;
    }
    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    if (authsvc_sessions_list(db, (*me)->user->id, AUTHSVC_NOW(), out) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the session database is unreachable");
    }
    return NULL;
}

typedef struct {
    request_rec *r;
    const authsvc_identity_t *me;
    const char *id; /* one session, or NULL for "all the others" */
    apr_array_header_t *hashes;
} revoke_tx_t;

static apr_status_t revoke_tx(authsvc_db_t *db, void *baton)
{
    revoke_tx_t *tx = baton;
    const char *uid = tx->me->user->id;
    authsvc_json_t *detail = authsvc_json_object(tx->r->pool);
    apr_status_t rv =
        tx->id ? authsvc_sessions_revoke_id(db, uid, tx->id, &tx->hashes)
               : authsvc_sessions_revoke_others(db, uid, tx->me->session->token_hash,
                                                &tx->hashes);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (tx->hashes->nelts == 0) {
        return tx->id ? APR_NOTFOUND : APR_SUCCESS;
    }
    authsvc_json_set_str(detail, "session", tx->id ? tx->id : "all others");
    authsvc_json_set_int(detail, "count", tx->hashes->nelts);
    return authsvc_audit(tx->r, db, "session_revoked", uid, NULL, detail);
}

const authsvc_fail_t *authsvc_flow_revoke_sessions(request_rec *r, const char *id)
{
    const authsvc_fail_t *fail;
    authsvc_identity_t *me = NULL;
    authsvc_db_t *db;
    revoke_tx_t tx;
    apr_status_t rv;

    if ((fail = authsvc_flow_whoami(r, &me)) != NULL) {
        return fail;
    }
    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    tx.r = r;
    tx.me = me;
    tx.id = id;
    tx.hashes = NULL;
    rv = authsvc_store_transaction(db, revoke_tx, &tx);
    if (rv == APR_NOTFOUND) {
        return authsvc_fail(r, "not_found", "you have no such session");
    }
    if (rv != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the sessions could not be ended; try again");
    }
    authsvc_flow_forget_all(r, tx.hashes);
    return NULL;
}

/* A positive decimal integer of at most 18 digits (no sign, no spaces), else -1. */
static apr_int64_t positive(const char *s)
{
    const char *rest;
    apr_int64_t v = authsvc_text_digits(s, '\0', &rest);

    return v > 0 ? v : -1;
}

const authsvc_fail_t *authsvc_flow_events(request_rec *r, const char *limit,
                                          const char *before, authsvc_events_out_t *out)
{
    apr_array_header_t *errs = NULL;
    authsvc_identity_t *me = NULL;
    const authsvc_fail_t *fail;
    apr_int64_t n = AUTHSVC_EVENTS_PAGE, cursor = APR_INT64_MAX;
    authsvc_db_t *db;

    if ((fail = authsvc_flow_whoami(r, &me)) != NULL) {
        return fail;
    }
    if (limit != NULL && ((n = positive(limit)) < 1 || n > AUTHSVC_EVENTS_MAX)) {
        authsvc_problem_field(r, &errs, "limit", "invalid",
                              "must be a whole number from 1 to "
                              APR_STRINGIFY(AUTHSVC_EVENTS_MAX));
    }
    if (before != NULL && (cursor = positive(before)) < 1) {
        authsvc_problem_field(r, &errs, "before", "invalid",
                              "must be an event id from a previous page");
    }
    if (errs != NULL) {
        return authsvc_fail_fields(r, errs);
    }
    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    /* One more than asked for: whether there is a next page. */
    if (authsvc_audit_list_user(db, me->user->id, cursor, (int)n + 1, &out->events) !=
        APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the audit trail is unreachable");
    }
    out->next = NULL;
    if (out->events->nelts > n) {
        out->events->nelts = (int)n;
        out->next = APR_ARRAY_IDX(out->events, n - 1, authsvc_event_t).id;
    }
    return NULL;
}

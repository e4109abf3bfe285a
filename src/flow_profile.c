/*
 * flow_profile.c - PUT/PATCH /users/me: the profile fields a user edits.
 */
#include "audit.h"
#include "flow.h"
#include "json.h"

/* The new value of one field: given (or cleared by null / by a PUT that leaves it
 * out), else the old value. Records the field name in `changed` when it differs. */
static const char *next_value(const authsvc_field_t *f, const char *old, int replace,
                              const char *name, authsvc_json_t *changed)
{
    const char *v;

    if (f->state == AUTHSVC_FIELD_ABSENT && !replace) {
        return old;
    }
    v = AUTHSVC_FIELD_VALUE(f);
    if ((v == NULL) != (old == NULL) || (v != NULL && strcmp(v, old) != 0)) {
        authsvc_json_append_str(changed, name);
    }
    return v;
}

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
    authsvc_json_t *detail;
    authsvc_insert_t outcome;
} profile_tx_t;

static apr_status_t profile_tx(authsvc_db_t *db, void *baton)
{
    profile_tx_t *tx = baton;
    apr_status_t rv = authsvc_users_update_profile(db, tx->u, &tx->outcome);

    if (rv == APR_SUCCESS && tx->outcome != AUTHSVC_INSERTED) {
        return APR_EEXIST;
    }
    if (rv == APR_SUCCESS) {
        rv = authsvc_audit(tx->r, db, "profile_update", tx->u->id, NULL, tx->detail);
    }
    return rv;
}

const authsvc_fail_t *authsvc_flow_update_profile(request_rec *r,
                                                  const authsvc_profile_in_t *in,
                                                  authsvc_user_t **out)
{
    const authsvc_fail_t *fail;
    authsvc_identity_t *id = NULL;
    apr_array_header_t *errs = NULL;
    authsvc_json_t *detail, *changed;
    authsvc_user_t *u;
    profile_tx_t tx;
    authsvc_db_t *db;
    apr_status_t rv;

    authsvc_flow_check_username(r, &in->username, &errs);
    authsvc_flow_check_name(r, "first_name", &in->first_name, &errs);
    authsvc_flow_check_name(r, "last_name", &in->last_name, &errs);
    if ((fail = authsvc_flow_me(r, &id, &db, &u)) != NULL) {
        return fail;
    }
    if (errs != NULL) {
        return authsvc_fail_fields(r, errs);
    }
    changed = authsvc_json_array(r->pool);
    u->username = next_value(&in->username, u->username, in->replace, "username", changed);
    u->first_name = next_value(&in->first_name, u->first_name, in->replace, "first_name",
                               changed);
    u->last_name = next_value(&in->last_name, u->last_name, in->replace, "last_name",
                              changed);
    u->updated_at = AUTHSVC_NOW();
    detail = authsvc_json_object(r->pool);
    authsvc_json_set(detail, "changed", changed);
    tx.r = r;
    tx.u = u;
    tx.detail = detail;
    tx.outcome = AUTHSVC_INSERTED;
    rv = authsvc_store_transaction(db, profile_tx, &tx);
    if (rv == APR_EEXIST) {
        return authsvc_fail(r, "username_taken", "this username is taken");
    }
    if (rv != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the profile could not be stored; try again");
    }
    authsvc_session_refresh_user(r, db, u->id);
    *out = u;
    return NULL;
}

/*
 * flow_account.c - POST /users/me/email (a new address, confirmed by a mailed link)
 * and DELETE /users/me.
 */
#include "audit.h"
#include "flow.h"
#include "text.h"

/* ---- change of address --------------------------------------------------------- */

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
    const char *email;
    const char *why;
} email_tx_t;

static apr_status_t email_tx(authsvc_db_t *db, void *baton)
{
    email_tx_t *tx = baton;
    apr_status_t rv = authsvc_flow_send_token(tx->r, db, tx->u, AUTHSVC_TOKEN_CHANGE,
                                              tx->email, &tx->why);

    if (rv == APR_SUCCESS) {
        rv = authsvc_audit(tx->r, db, "email_change_requested", tx->u->id, NULL, NULL);
    }
    return rv;
}

/* The new address: valid, not the current one, not another account's. */
static const authsvc_fail_t *check_new_email(request_rec *r, authsvc_db_t *db,
                                             const authsvc_user_t *u,
                                             const authsvc_field_t *f, const char **email)
{
    apr_array_header_t *errs = NULL;
    authsvc_user_t *other = NULL;
    const char *msg;

    if (f->state != AUTHSVC_FIELD_SET) {
        authsvc_problem_field(r, &errs, "new_email", "required", "is required");
    }
    else if ((msg = authsvc_text_email_normalize(r->pool, f->s, f->len, email)) != NULL) {
        authsvc_problem_field(r, &errs, "new_email", "invalid_email", msg);
    }
    else if (strcmp(*email, u->email) == 0) {
        authsvc_problem_field(r, &errs, "new_email", "unchanged",
                              "is already the address of this account");
    }
    if (errs != NULL) {
        return authsvc_fail_fields(r, errs);
    }
    if (authsvc_users_by_email(db, *email, &other) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    if (other != NULL) {
        return authsvc_fail(r, "email_taken", "an account with this email already exists");
    }
    return NULL;
}

const authsvc_fail_t *authsvc_flow_change_email(request_rec *r,
                                                const authsvc_field_t *new_email,
                                                const authsvc_field_t *password)
{
    authsvc_identity_t *id = NULL;
    const authsvc_fail_t *fail;
    authsvc_user_t *u = NULL;
    authsvc_db_t *db = NULL;
    email_tx_t tx;
    apr_status_t rv;

    static const char *const names[] = {"new_email", "password", NULL};
    const authsvc_field_t *fields[] = {new_email, password};

    memset(&tx, 0, sizeof(tx));
    if ((fail = authsvc_flow_me_fresh(r, &id, &db, &u)) != NULL ||
        (fail = authsvc_flow_require(r, names, fields)) != NULL ||
        (fail = authsvc_flow_reauthenticate(r, db, u, password, "password",
                                            "change_email")) != NULL ||
        (fail = check_new_email(r, db, u, new_email, &tx.email)) != NULL) {
        return fail;
    }
    tx.r = r;
    tx.u = u;
    rv = authsvc_store_transaction(db, email_tx, &tx);
    return rv == APR_SUCCESS ? NULL : authsvc_flow_mail_fail(r, rv, tx.why);
}

/* ---- deletion ------------------------------------------------------------------ */

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
    apr_array_header_t *ended;
} delete_tx_t;

/* Everything of the account goes, explicitly (SQLite does not enforce foreign keys on
 * mod_dbd's connections); the audit trail keeps its events without personal data. */
apr_status_t authsvc_flow_erase_account(request_rec *r, authsvc_db_t *db,
                                        const authsvc_user_t *u, apr_array_header_t **ended)
{
    const char *id = u->id;
    apr_status_t rv;

    if ((rv = authsvc_sessions_delete_user(db, id, ended)) != APR_SUCCESS ||
        (rv = authsvc_tokens_delete_user(db, id)) != APR_SUCCESS ||
        (rv = authsvc_refresh_delete_user(db, id)) != APR_SUCCESS ||
        (rv = authsvc_mfa_delete_user(db, id)) != APR_SUCCESS ||
        (rv = authsvc_emailcode_delete_user(db, id)) != APR_SUCCESS ||
        (rv = authsvc_history_record(db, id, NULL, 0)) != APR_SUCCESS || /* keep none */
        (rv = authsvc_users_delete(db, id)) != APR_SUCCESS ||
        (rv = authsvc_audit_scrub(db, id)) != APR_SUCCESS) {
        return rv;
    }
    return authsvc_flow_notify(r, db, u, "account_deleted", u->email, NULL);
}

static apr_status_t delete_tx(authsvc_db_t *db, void *baton)
{
    delete_tx_t *tx = baton;
    const char *id = tx->u->id;
    apr_status_t rv;

    if ((rv = authsvc_flow_erase_account(tx->r, db, tx->u, &tx->ended)) != APR_SUCCESS) {
        return rv;
    }
    /* Event, time and id only: the erasure stores no address of the client again. */
    return authsvc_audit_erased(tx->r, db, "account_deleted", id);
}

const authsvc_fail_t *authsvc_flow_delete_account(request_rec *r,
                                                  const authsvc_field_t *password)
{
    authsvc_identity_t *id = NULL;
    const authsvc_fail_t *fail;
    authsvc_user_t *u = NULL;
    authsvc_db_t *db = NULL;
    delete_tx_t tx;

    if ((fail = authsvc_flow_me_fresh(r, &id, &db, &u)) != NULL ||
        (fail = authsvc_flow_reauthenticate(r, db, u, password, "password",
                                            "delete_account")) != NULL) {
        return fail;
    }
    tx.r = r;
    tx.u = u;
    tx.ended = NULL;
    if (authsvc_store_transaction(db, delete_tx, &tx) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account could not be deleted; try again");
    }
    authsvc_flow_forget_all(r, tx.ended);
    return NULL;
}

/*
 * flow_verify.c - POST /auth/verify-email (an address verified, or a new address
 * confirmed) and POST /auth/verify-email/resend.
 */
#include "abuse.h"
#include "audit.h"
#include "config.h"
#include "flow.h"

typedef struct {
    request_rec *r;
    const char *hash;
    authsvc_token_t *t;
} verify_tx_t;

/* A new address: it must still be free, and the old address is told. */
static apr_status_t confirm_change(verify_tx_t *tx, authsvc_db_t *db)
{
    authsvc_user_t *u = NULL;
    apr_table_t *vars;
    int done = 0;
    apr_status_t rv = authsvc_users_by_id(db, tx->t->user_id, &u);

    if (rv != APR_SUCCESS || u == NULL) {
        return rv != APR_SUCCESS ? rv : APR_ENOENT;
    }
    if ((rv = authsvc_users_set_email(db, u->id, tx->t->email, &done)) != APR_SUCCESS) {
        return rv;
    }
    if (!done) {
        return APR_EEXIST;
    }
    vars = authsvc_flow_mail_vars(tx->r, u);
    apr_table_setn(vars, "old_email", u->email);
    apr_table_setn(vars, "new_email", tx->t->email);
    /* Links mailed to the old address stop working with it. */
    if ((rv = authsvc_tokens_invalidate(db, u->id, AUTHSVC_TOKEN_VERIFY)) != APR_SUCCESS ||
        (rv = authsvc_tokens_invalidate(db, u->id, AUTHSVC_TOKEN_RESET)) != APR_SUCCESS ||
        (rv = authsvc_flow_notify(tx->r, db, u, "email_changed", u->email, vars)) !=
            APR_SUCCESS) {
        return rv;
    }
    return authsvc_audit(tx->r, db, "email_changed", u->id, NULL, NULL);
}

static apr_status_t verify_tx(authsvc_db_t *db, void *baton)
{
    verify_tx_t *tx = baton;
    int done = 0;
    apr_status_t rv = authsvc_tokens_consume(db, tx->hash, AUTHSVC_TOKEN_VERIFY,
                                             AUTHSVC_TOKEN_CHANGE, &tx->t);

    if (rv != APR_SUCCESS || tx->t == NULL) {
        return rv != APR_SUCCESS ? rv : APR_ENOENT;
    }
    if (strcmp(tx->t->purpose, AUTHSVC_TOKEN_CHANGE) == 0) {
        return confirm_change(tx, db);
    }
    /* The address the token was sent to must still be the account's. */
    if ((rv = authsvc_users_verify(db, tx->t->user_id, tx->t->email, &done)) !=
        APR_SUCCESS) {
        return rv;
    }
    if (!done) {
        return APR_ENOENT;
    }
    return authsvc_audit(tx->r, db, "email_verified", tx->t->user_id, NULL, NULL);
}

/* After a failed change of address: does another account have the address now? */
static int taken_meanwhile(authsvc_db_t *db, const verify_tx_t *tx)
{
    authsvc_user_t *other = NULL;

    return tx->t != NULL && strcmp(tx->t->purpose, AUTHSVC_TOKEN_CHANGE) == 0 &&
           authsvc_users_by_email(db, tx->t->email, &other) == APR_SUCCESS &&
           other != NULL && strcmp(other->id, tx->t->user_id) != 0;
}

const authsvc_fail_t *authsvc_flow_verify_email(request_rec *r, const authsvc_field_t *token,
                                                authsvc_user_t **out)
{
    const authsvc_fail_t *fail;
    authsvc_db_t *db;
    verify_tx_t tx;
    apr_status_t rv;

    static const char *const names[] = {"token", NULL};
    const authsvc_field_t *fields[] = {token};

    memset(&tx, 0, sizeof(tx));
    tx.r = r;
    if ((fail = authsvc_flow_require(r, names, fields)) != NULL ||
        (fail = authsvc_abuse_limit(r, AUTHSVC_RL_VERIFY, 1, NULL, NULL, NULL)) != NULL) {
        return fail;
    }
    if ((tx.hash = authsvc_flow_token_hash(r, token)) == NULL) {
        return authsvc_flow_token_invalid(r);
    }
    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    rv = authsvc_store_transaction(db, verify_tx, &tx);
    if (rv == APR_ENOENT) {
        return authsvc_flow_token_invalid(r);
    }
    if (rv != APR_SUCCESS && rv != APR_EEXIST && taken_meanwhile(db, &tx)) {
        rv = APR_EEXIST; /* a concurrent confirmation won the unique index */
    }
    if (rv == APR_EEXIST) {
        return authsvc_fail(r, "email_taken", "another account has this email address now");
    }
    if (rv != APR_SUCCESS || authsvc_users_by_id(db, tx.t->user_id, out) != APR_SUCCESS ||
        *out == NULL) {
        return authsvc_fail(r, "unavailable", "the change could not be stored; try again");
    }
    /* Guards with "Require authsvc verified" see the change at once. */
    authsvc_session_refresh_user(r, db, (*out)->id);
    return NULL;
}

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
    const char *why;
} resend_tx_t;

static apr_status_t resend_tx(authsvc_db_t *db, void *baton)
{
    resend_tx_t *tx = baton;

    return authsvc_flow_send_token(tx->r, db, tx->u, AUTHSVC_TOKEN_VERIFY,
                                   tx->u->email, &tx->why);
}

const authsvc_fail_t *authsvc_flow_resend_verification(request_rec *r)
{
    authsvc_identity_t *id = NULL;
    const authsvc_fail_t *fail;
    authsvc_db_t *db;
    resend_tx_t tx;
    apr_status_t rv;

    if ((fail = authsvc_flow_whoami(r, &id)) != NULL ||
        (fail = authsvc_abuse_limit(r, AUTHSVC_RL_VERIFY, 1, id->user->id, id->user->id,
                                    NULL)) != NULL) {
        return fail;
    }
    if (id->user->email_verified_at != 0) {
        return NULL; /* nothing to verify; the same answer */
    }
    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    tx.r = r;
    tx.u = id->user;
    tx.why = NULL;
    rv = authsvc_store_transaction(db, resend_tx, &tx);
    return rv == APR_SUCCESS ? NULL : authsvc_flow_mail_fail(r, rv, tx.why);
}

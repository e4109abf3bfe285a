/*
 * flow_password.c - POST /auth/forgot-password, POST /auth/reset-password and
 * PUT /users/me/password.
 */
#include "abuse.h"
#include "audit.h"
#include "flow.h"
#include "metrics.h"
#include "text.h"

/* ---- forgot -------------------------------------------------------------------- */

typedef struct {
    request_rec *r;
    const authsvc_user_t *u; /* NULL: no such (active) account */
    const char *email;
    const char *why;
} forgot_tx_t;

/* Both outcomes write in one transaction (the audit row at least), so that a known and
 * an unknown address cost about the same; the mail itself goes out in the background. */
static apr_status_t forgot_tx(authsvc_db_t *db, void *baton)
{
    forgot_tx_t *tx = baton;
    authsvc_json_t *d = authsvc_json_object(tx->r->pool);
    apr_status_t rv;

    authsvc_json_set_bool(d, "account", tx->u != NULL);
    rv = authsvc_audit(tx->r, db, "password_reset_requested", tx->u ? tx->u->id : NULL,
                       tx->email, d);
    if (rv == APR_SUCCESS && tx->u != NULL) {
        rv = authsvc_flow_send_token(tx->r, db, tx->u, AUTHSVC_TOKEN_RESET,
                                     tx->u->email, &tx->why);
    }
    return rv;
}

/* Every answer about an address takes at least this long. A known address writes a
 * token and a message besides the audit row (measured: p50 3.7 ms against 1.2 ms on
 * SQLite), which a patient client could tell apart; padding both to a floor well above
 * either leaves nothing to measure but scheduling noise. */
#define FORGOT_FLOOR apr_time_from_msec(50)

static void pad_to_floor(apr_time_t start)
{
    apr_time_t left = start + FORGOT_FLOOR - apr_time_now();

    if (left > 0) {
        apr_sleep(left);
    }
}

const authsvc_fail_t *authsvc_flow_forgot_password(request_rec *r,
                                                   const authsvc_field_t *email,
                                                   int honeypot)
{
    apr_time_t start = apr_time_now();
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;
    authsvc_user_t *u = NULL;
    authsvc_db_t *db;
    forgot_tx_t tx;
    const char *msg;

    memset(&tx, 0, sizeof(tx));
    if (email->state != AUTHSVC_FIELD_SET) {
        authsvc_problem_field(r, &errs, "email", "required", "is required");
    }
    else if ((msg = authsvc_text_email_normalize(r->pool, email->s, email->len,
                                                 &tx.email)) != NULL) {
        authsvc_problem_field(r, &errs, "email", "invalid_email", msg);
    }
    if (errs != NULL) {
        return authsvc_fail_fields(r, errs);
    }
    /* Counted by the address typed: the same whether or not it has an account. */
    if ((fail = authsvc_abuse_limit(r, AUTHSVC_RL_FORGOT, 1,
                                    authsvc_abuse_name_key(r, tx.email, strlen(tx.email)),
                                    NULL, tx.email)) != NULL) {
        return fail;
    }
    if (honeypot) {
        authsvc_abuse_honeypot_audit(r, "forgot-password", tx.email);
        pad_to_floor(start);
        return NULL;
    }
    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    if (authsvc_users_by_email(db, tx.email, &u) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    tx.r = r;
    tx.u = u != NULL && strcmp(u->status, "active") == 0 ? u : NULL;
    if (authsvc_store_transaction(db, forgot_tx, &tx) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the request could not be stored; try again");
    }
    pad_to_floor(start);
    return NULL;
}

/* ---- reset --------------------------------------------------------------------- */

typedef struct {
    request_rec *r;
    const char *token_hash;
    const authsvc_user_t *u;
    const char *hash;               /* the new password's */
    apr_array_header_t *ended;      /* sessions ended */
} reset_tx_t;

static apr_status_t unlock(request_rec *r, authsvc_db_t *db, const char *user_id)
{
    int was_locked = 0;
    authsvc_json_t *d;
    apr_status_t rv = authsvc_lockout_unlock(db, user_id, AUTHSVC_NOW(), &was_locked);

    if (rv != APR_SUCCESS || !was_locked) {
        return rv;
    }
    d = authsvc_json_object(r->pool);
    authsvc_json_set_str(d, "reason", "password_reset");
    return authsvc_audit(r, db, "account_unlocked", user_id, NULL, d);
}

static apr_status_t reset_tx(authsvc_db_t *db, void *baton)
{
    reset_tx_t *tx = baton;
    authsvc_token_t *t = NULL;
    int verified = 0;
    apr_status_t rv = authsvc_tokens_consume(db, tx->token_hash, AUTHSVC_TOKEN_RESET,
                                             AUTHSVC_TOKEN_RESET, &t);

    if (rv != APR_SUCCESS || t == NULL || strcmp(t->user_id, tx->u->id) != 0) {
        return rv != APR_SUCCESS ? rv : APR_ENOENT;
    }
    if ((rv = authsvc_flow_set_password(tx->r, db, tx->u, tx->hash)) != APR_SUCCESS ||
        /* The link reached the mailbox: that address is proven. */
        (rv = authsvc_users_verify(db, tx->u->id, t->email, &verified)) != APR_SUCCESS ||
        (rv = authsvc_sessions_revoke_others(db, tx->u->id, "", &tx->ended)) !=
            APR_SUCCESS ||
        (rv = authsvc_flow_notify(tx->r, db, tx->u, "password_changed", tx->u->email,
                                  NULL)) != APR_SUCCESS ||
        /* Whoever was guessing the old password, the owner has a new one now. */
        (rv = unlock(tx->r, db, tx->u->id)) != APR_SUCCESS) {
        return rv;
    }
    return authsvc_audit(tx->r, db, "password_reset", tx->u->id, NULL, NULL);
}

const authsvc_fail_t *authsvc_flow_reset_password(request_rec *r,
                                                  const authsvc_field_t *token,
                                                  const authsvc_field_t *password)
{
    const authsvc_fail_t *fail;
    authsvc_token_t *t = NULL;
    authsvc_user_t *u = NULL;
    authsvc_db_t *db;
    reset_tx_t tx;
    apr_status_t rv;

    static const char *const names[] = {"token", "password", NULL};
    const authsvc_field_t *fields[] = {token, password};

    memset(&tx, 0, sizeof(tx));
    if ((fail = authsvc_flow_require(r, names, fields)) != NULL) {
        return fail;
    }
    if ((fail = authsvc_abuse_limit(r, AUTHSVC_RL_FORGOT, 1, NULL, NULL, NULL)) != NULL) {
        return fail;
    }
    if ((tx.token_hash = authsvc_flow_token_hash(r, token)) == NULL) {
        return authsvc_flow_token_invalid(r);
    }
    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    /* Look before consuming: a password the policy refuses leaves the link usable. */
    if (authsvc_tokens_peek(db, tx.token_hash, AUTHSVC_TOKEN_RESET, AUTHSVC_TOKEN_RESET,
                            &t) != APR_SUCCESS ||
        (t != NULL && authsvc_users_by_id(db, t->user_id, &u) != APR_SUCCESS)) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    if (t == NULL || u == NULL || strcmp(u->status, "active") != 0) {
        return authsvc_flow_token_invalid(r);
    }
    if ((fail = authsvc_flow_new_password(r, "reset_password", db, u, "password", password,
                                          &tx.hash))) {
        return fail;
    }
    tx.r = r;
    tx.u = u;
    rv = authsvc_store_transaction(db, reset_tx, &tx);
    if (rv == APR_ENOENT) {
        return authsvc_flow_token_invalid(r);
    }
    if (rv != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the password could not be stored; try again");
    }
    authsvc_metrics_inc(AUTHSVC_M_PASSWORD_RESETS);
    authsvc_flow_forget_all(r, tx.ended);
    authsvc_session_refresh_user(r, db, u->id);
    /* The owner proved the mailbox: no delay left from someone else's guesses. */
    authsvc_abuse_backoff_forget(r, authsvc_abuse_name_key(r, u->email, strlen(u->email)));
    if (u->username != NULL) {
        authsvc_abuse_backoff_forget(r, authsvc_abuse_name_key(r, u->username,
                                                               strlen(u->username)));
    }
    return NULL;
}

/* ---- change -------------------------------------------------------------------- */

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
    const char *hash;
    authsvc_authn_t how;
    authsvc_login_out_t *out;
    apr_array_header_t *ended;
} change_tx_t;

/* The current session is replaced by a new one (a new token), every other one ends. */
static apr_status_t change_tx(authsvc_db_t *db, void *baton)
{
    change_tx_t *tx = baton;
    apr_status_t rv;

    if ((rv = authsvc_flow_set_password(tx->r, db, tx->u, tx->hash)) != APR_SUCCESS ||
        (rv = authsvc_session_create(tx->r, db, tx->u, &tx->how, &tx->out->session,
                                     &tx->out->token)) != APR_SUCCESS ||
        (rv = authsvc_flow_tokens_start(tx->r, db, tx->u, tx->out)) != APR_SUCCESS ||
        (rv = authsvc_sessions_revoke_others(db, tx->u->id, tx->out->session->token_hash,
                                             &tx->ended)) != APR_SUCCESS ||
        (rv = authsvc_flow_notify(tx->r, db, tx->u, "password_changed", tx->u->email,
                                  NULL)) != APR_SUCCESS) {
        return rv;
    }
    return authsvc_audit(tx->r, db, "password_changed", tx->u->id, NULL, NULL);
}

const authsvc_fail_t *authsvc_flow_change_password(request_rec *r,
                                                   const authsvc_field_t *current,
                                                   const authsvc_field_t *new_password,
                                                   authsvc_login_out_t *out)
{
    authsvc_identity_t *id = NULL;
    const authsvc_fail_t *fail;
    authsvc_user_t *u = NULL;
    authsvc_db_t *db = NULL;
    change_tx_t tx;
    static const char *const names[] = {"current_password", "new_password", NULL};
    const authsvc_field_t *fields[] = {current, new_password};

    if ((fail = authsvc_flow_me_fresh(r, &id, &db, &u)) != NULL ||
        (fail = authsvc_flow_require(r, names, fields)) != NULL ||
        (fail = authsvc_flow_reauthenticate(r, db, u, current, "current_password",
                                            "change_password")) != NULL) {
        return fail;
    }
    if ((fail = authsvc_flow_new_password(r, "change_password", db, u, "new_password",
                                          new_password, &tx.hash)) != NULL) {
        return fail;
    }
    tx.r = r;
    tx.u = u;
    tx.out = out;
    tx.ended = NULL;
    /* The new session was authenticated as the old one was, the password just now. */
    tx.how.auth_at = AUTHSVC_NOW();
    tx.how.mfa_at = id->session->mfa_at;
    tx.how.amr = id->session->amr ? id->session->amr : "pwd";
    if (authsvc_store_transaction(db, change_tx, &tx) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the password could not be stored; try again");
    }
    authsvc_flow_forget_all(r, tx.ended);
    out->user = u;
    return NULL;
}

/*
 * flow_login.c - POST /auth/login, the signed-in identity, and logout.
 */
#include "audit.h"
#include "config.h"
#include "flow.h"
#include "json.h"
#include "text.h"

/* Longer than anything a password manager makes; refuses multi-megabyte "passwords"
 * before they reach the hash (Argon2 itself would cope, but why pay). */
#define LOGIN_PASSWORD_MAX_BYTES AUTHSVC_LOGIN_PASSWORD_MAX

static authsvc_json_t *reason(request_rec *r, const char *why)
{
    authsvc_json_t *d = authsvc_json_object(r->pool);
    authsvc_json_set_str(d, "reason", why);
    return d;
}

/* Find the account a login name names: an email when it has an '@', else a username. */
static apr_status_t find_account(request_rec *r, authsvc_db_t *db, const authsvc_field_t *login,
                                 authsvc_user_t **u)
{
    const char *email = NULL;

    *u = NULL;
    if (memchr(login->s, '@', login->len) != NULL) {
        if (authsvc_text_email_normalize(r->pool, login->s, login->len, &email) != NULL) {
            return APR_SUCCESS; /* not a valid email: no such account */
        }
        return authsvc_users_by_email(db, email, u);
    }
    if (memchr(login->s, '\0', login->len) != NULL) {
        return APR_SUCCESS;
    }
    return authsvc_users_by_username(db, login->s, u);
}

/* The login name as typed, for the audit row: at most 254 bytes, cut on a character
 * boundary (PostgreSQL refuses text that is not valid UTF-8, and the row would be lost). */
static const char *audit_login(request_rec *r, const authsvc_field_t *f)
{
    apr_size_t n = f->len;

    if (n > 254) {
        n = 254;
        while (n > 0 && ((unsigned char)f->s[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    return apr_pstrmemdup(r->pool, f->s, n);
}

static const authsvc_fail_t *failed_login(request_rec *r, authsvc_db_t *db,
                                          const char *user_id, const char *login,
                                          const char *why)
{
    authsvc_audit(r, db, "login_failure", user_id, login, reason(r, why));
    return authsvc_fail(r, "invalid_credentials", "the login or the password is wrong");
}

/* Verify the password against the account's hash, or against the dummy hash when there
 * is no account, so both paths cost one hash. */
static authsvc_pw_result_t check_password(request_rec *r, const authsvc_user_t *u,
                                          const authsvc_field_t *pw)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const char *stored = u ? u->password_hash : c->dummy_hash;
    authsvc_pw_result_t res;

    if (stored == NULL) {
        return AUTHSVC_PW_MISMATCH;
    }
    res = authsvc_password_verify(r->pool, pw->s, pw->len, stored, authsvc_config_argon2(c));
    if (res == AUTHSVC_PW_BADHASH && u != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "user %s has a password hash in no format this module reads", u->id);
    }
    return u ? res : AUTHSVC_PW_MISMATCH;
}

/* Upgrade an old or weaker hash now that we know the password. Best effort: a failure
 * is logged and the login goes on with the old hash. */
static void rehash(request_rec *r, authsvc_db_t *db, authsvc_user_t *u,
                   const authsvc_field_t *pw)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const char *h = NULL;

    if (authsvc_password_hash(r->pool, pw->s, pw->len, authsvc_config_argon2(c), &h) !=
            APR_SUCCESS ||
        authsvc_users_rehash(db, u->id, u->password_hash, h) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "could not rehash user %s", u->id);
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "rehashed the password of user %s", u->id);
    u->password_hash = h;
}

/* The right password for an unverified account under AuthsvcRequireVerifiedEmail. */
static const authsvc_fail_t *unverified(request_rec *r, authsvc_db_t *db,
                                        const authsvc_user_t *u, const char *login)
{
    if (authsvc_audit(r, db, "login_refused", u->id, login, reason(r, "unverified")) !=
        APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "could not audit the refused sign-in of user %s", u->id);
    }
    return authsvc_fail(r, "verification_required",
                        "verify your email address first: follow the link we mailed");
}

typedef struct {
    request_rec *r;
    authsvc_user_t *u;
    const char *login;
    authsvc_login_out_t *out;
} session_tx_t;

/* The session row and its audit row commit together. */
static apr_status_t session_tx(authsvc_db_t *db, void *baton)
{
    session_tx_t *tx = baton;
    apr_status_t rv = authsvc_session_create(tx->r, db, tx->u, &tx->out->session,
                                             &tx->out->token);

    if (rv == APR_SUCCESS) {
        rv = authsvc_audit(tx->r, db, "login_success", tx->u->id, tx->login, NULL);
    }
    return rv;
}

const authsvc_fail_t *authsvc_flow_login(request_rec *r, const authsvc_login_in_t *in,
                                         authsvc_login_out_t *out)
{
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;
    authsvc_user_t *u = NULL;
    authsvc_db_t *db;
    authsvc_pw_result_t res;
    session_tx_t tx;
    const char *login;

    if (in->login.state != AUTHSVC_FIELD_SET || in->login.len == 0) {
        authsvc_problem_field(r, &errs, "login", "required", "is required");
    }
    if (in->password.state != AUTHSVC_FIELD_SET || in->password.len == 0) {
        authsvc_problem_field(r, &errs, "password", "required", "is required");
    }
    if (errs != NULL) {
        return authsvc_fail_fields(r, errs);
    }
    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    login = audit_login(r, &in->login);
    if (find_account(r, db, &in->login, &u) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    if (in->password.len > LOGIN_PASSWORD_MAX_BYTES) {
        return failed_login(r, db, u ? u->id : NULL, login, "password_too_long");
    }
    res = check_password(r, u, &in->password);
    if (u == NULL) {
        return failed_login(r, db, NULL, login, "unknown_login");
    }
    if (res != AUTHSVC_PW_OK && res != AUTHSVC_PW_REHASH) {
        return failed_login(r, db, u->id, login, "bad_password");
    }
    if (strcmp(u->status, "active") != 0) {
        return failed_login(r, db, u->id, login, "disabled");
    }
    /* Only now: a guesser without the password learns nothing from this answer. */
    if (u->email_verified_at == 0 && authsvc_config_require_verified(authsvc_srv(r->server))) {
        return unverified(r, db, u, login);
    }
    if (res == AUTHSVC_PW_REHASH) {
        rehash(r, db, u, &in->password);
    }
    tx.r = r;
    tx.u = u;
    tx.login = login;
    tx.out = out;
    if (authsvc_store_transaction(db, session_tx, &tx) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the session could not be stored; try again");
    }
    out->user = u;
    return NULL;
}

const authsvc_fail_t *authsvc_flow_whoami(request_rec *r, authsvc_identity_t **out)
{
    if (authsvc_session_current(r, out) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the session database is unreachable");
    }
    if (*out == NULL) {
        return authsvc_fail(r, "unauthenticated", "sign in first");
    }
    return NULL;
}

typedef struct {
    request_rec *r;
    const authsvc_identity_t *id;
} logout_tx_t;

static apr_status_t logout_tx(authsvc_db_t *db, void *baton)
{
    logout_tx_t *tx = baton;
    apr_status_t rv = authsvc_session_revoke(tx->r, db, tx->id->session);

    if (rv == APR_SUCCESS) {
        rv = authsvc_audit(tx->r, db, "logout", tx->id->user->id, NULL, NULL);
    }
    return rv;
}

const authsvc_fail_t *authsvc_flow_logout(request_rec *r)
{
    authsvc_identity_t *id = NULL;
    const authsvc_fail_t *fail;
    authsvc_db_t *db;
    logout_tx_t tx;

    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    if (authsvc_session_current(r, &id) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the session database is unreachable");
    }
    if (id == NULL) {
        return NULL; /* nothing to end; the cookie is cleared all the same */
    }
    tx.r = r;
    tx.id = id;
    if (authsvc_store_transaction(db, logout_tx, &tx) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the session could not be ended; try again");
    }
    authsvc_session_forget(r, id->session->token_hash);
    return NULL;
}

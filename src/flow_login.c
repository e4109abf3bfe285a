/*
 * flow_login.c - POST /auth/login, the signed-in identity, and logout.
 */
#include "abuse.h"
#include "audit.h"
#include "hashcap.h"
#include "config.h"
#include "flow.h"
#include "json.h"
#include "metrics.h"
#include "text.h"
#include "token.h"

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

/* The one answer to a wrong login, a wrong password, an unknown account and a locked one
 * (unless AuthsvcLockoutReveal): nothing tells them apart. */
static const authsvc_fail_t *wrong(request_rec *r, const authsvc_pw_attempt_t *a)
{
    return authsvc_fail(r, "invalid_credentials",
                        a->action ? "the password is wrong"
                                  : "the login or the password is wrong");
}

static void audit_failure(request_rec *r, authsvc_db_t *db, const authsvc_pw_attempt_t *a,
                          const char *why)
{
    authsvc_json_t *d = reason(r, why);

    if (a->action != NULL) {
        authsvc_json_set_str(d, "action", a->action);
    }
    authsvc_audit(r, db, "login_failure", a->u ? a->u->id : NULL, a->login, d);
}

static const authsvc_fail_t *failed(request_rec *r, authsvc_db_t *db,
                                    const authsvc_pw_attempt_t *a, const char *why)
{
    if (a->honeypot) {
        /* The bot's own address slows down; the name it typed (a victim's?) does not. */
        authsvc_abuse_backoff_fail(r, NULL);
        authsvc_abuse_honeypot_audit(r, "login", a->login);
        return wrong(r, a);
    }
    authsvc_abuse_backoff_fail(r, a->account);
    audit_failure(r, db, a, why);
    return wrong(r, a);
}

/* Verify pw against the stored hash, or against the dummy hash when there is nothing to
 * check against (no account, or no attempt left), so that every path costs one hash. */
static authsvc_pw_result_t verify(request_rec *r, const char *stored,
                                  const authsvc_field_t *pw)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    authsvc_pw_result_t res;
    apr_time_t t0 = apr_time_now();

    if (stored == NULL) {
        if (c->dummy_hash != NULL) {
            authsvc_password_verify(r->pool, pw->s, pw->len, c->dummy_hash,
                                    authsvc_config_argon2(c));
            authsvc_metrics_hash_time(t0);
        }
        return AUTHSVC_PW_MISMATCH;
    }
    res = authsvc_password_verify(r->pool, pw->s, pw->len, stored, authsvc_config_argon2(c));
    authsvc_metrics_hash_time(t0);
    if (res == AUTHSVC_PW_BADHASH) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "a password hash in no format this module reads");
    }
    return res;
}

void authsvc_flow_lock(request_rec *r, authsvc_db_t *db, const char *uid,
                       const char *login, const authsvc_lockout_t *pol,
                       const authsvc_claim_t *claim, apr_int64_t now)
{
    apr_int64_t d = authsvc_ratelimit_lock_duration(pol, claim->lockouts);
    authsvc_json_t *detail;
    apr_status_t rv;

    if (!pol->threshold || claim->failures < pol->threshold) {
        return;
    }
    if ((rv = authsvc_lockout_lock(db, uid, now + d, pol->threshold)) != APR_SUCCESS) {
        if (APR_STATUS_IS_ENOENT(rv)) { /* the streak ended meanwhile: no lock, no event */
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "user %s: the streak ended before "
                          "the lock", uid);
            return;
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "could not lock user %s", uid);
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                  "user %s locked for %" APR_INT64_T_FMT "s after %d failed attempts",
                  uid, d, claim->failures);
    authsvc_metrics_inc(AUTHSVC_M_LOCKOUTS);
    detail = authsvc_json_object(r->pool);
    authsvc_json_set_int(detail, "failures", claim->failures);
    authsvc_json_set_int(detail, "until", now + d);
    authsvc_json_set_int(detail, "duration", d);
    authsvc_audit(r, db, "account_locked", uid, login, detail);
}

const authsvc_fail_t *authsvc_flow_locked(request_rec *r, authsvc_db_t *db, const char *uid,
                                          const authsvc_lockout_t *pol, apr_int64_t now)
{
    apr_int64_t secs = 1;

    if (!authsvc_config_lock_reveal(authsvc_srv(r->server))) {
        return NULL;
    }
    authsvc_lockout_retry_after(db, uid, now, pol, &secs);
    apr_table_setn(r->headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, secs));
    return authsvc_fail(r, "account_locked",
                        "too many failed sign-ins: the account is locked for now; try "
                        "later, or reset the password");
}

static const authsvc_fail_t *locked(request_rec *r, authsvc_db_t *db,
                                    const authsvc_pw_attempt_t *a,
                                    const authsvc_lockout_t *pol, apr_int64_t now)
{
    const authsvc_fail_t *fail;

    authsvc_abuse_backoff_fail(r, a->account);
    audit_failure(r, db, a, "locked");
    return (fail = authsvc_flow_locked(r, db, a->u->id, pol, now)) ? fail : wrong(r, a);
}

const authsvc_fail_t *authsvc_flow_password_attempt(request_rec *r, authsvc_db_t *db,
                                                    const authsvc_pw_attempt_t *a,
                                                    const authsvc_field_t *pw,
                                                    authsvc_pw_result_t *res)
{
    /* A honeypot hit is an unknown account, whatever it names. */
    const authsvc_user_t *u = a->honeypot ? NULL : a->u;
    const char *uid = u ? u->id : NULL;
    const authsvc_fail_t *fail;
    authsvc_lockout_t pol;
    authsvc_claim_t claim;
    apr_int64_t now;
    int slot, cleared = 0;

    *res = AUTHSVC_PW_MISMATCH;
    if ((fail = authsvc_abuse_limit(r, AUTHSVC_RL_LOGIN, 0, a->account, uid, a->login)) ||
        (fail = authsvc_abuse_backoff_check(r, a->account, uid, a->login))) {
        return fail;
    }
    if (pw->len > LOGIN_PASSWORD_MAX_BYTES) {
        return failed(r, db, a, "password_too_long");
    }
    /* A full queue refuses now: no lockout claim to write and hand back. */
    if ((fail = authsvc_abuse_hash_full(r, a->action ? a->action : "login")) != NULL) {
        return fail;
    }
    authsvc_config_lockout(authsvc_srv(r->server), &pol);
    now = AUTHSVC_NOW();
    /* An unknown account runs the same statement (matching nothing): same cost. */
    if (authsvc_lockout_claim(db, uid ? uid : "", now, &pol, &claim) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    /* The slot only around the hash: database waits must not hold it. */
    if ((fail = authsvc_abuse_hash_enter(r, a->action ? a->action : "login", &slot))) {
        if (u != NULL && claim.claimed && authsvc_lockout_refund(db, uid) != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "could not hand back an unused attempt of user %s", uid);
        }
        return fail;
    }
    *res = verify(r, u && claim.claimed ? u->password_hash : NULL, pw);
    authsvc_abuse_hash_leave(r, slot);
    if (u == NULL) {
        return failed(r, db, a, "unknown_login");
    }
    if (claim.ended_lock != 0 &&
        authsvc_lockout_forget_expired(db, uid, claim.ended_lock, &cleared) ==
            APR_SUCCESS &&
        cleared) {
        authsvc_json_t *d = reason(r, "expired");
        authsvc_audit(r, db, "account_unlocked", uid, a->login, d);
    }
    if (!claim.claimed) {
        return locked(r, db, a, &pol, now);
    }
    if (*res != AUTHSVC_PW_OK && *res != AUTHSVC_PW_REHASH) {
        authsvc_flow_lock(r, db, uid, a->login, &pol, &claim, now);
        return failed(r, db, a, "bad_password");
    }
    /* A disabled account stays a failure even with the right password, and nothing a
     * right password clears is cleared: its answers must not confirm a guess. */
    if (strcmp(u->status, "active") != 0) {
        return failed(r, db, a, "disabled");
    }
    /* An account with a second factor clears the count only once a code passed (else
     * the password alone would reset the count of wrong codes, again and again): the
     * right password only hands its own attempt back. */
    if ((u->mfa_enabled_at == 0 ? authsvc_lockout_success(db, uid)
                                : authsvc_lockout_refund(db, uid)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "could not reset the failed sign-ins of user %s", uid);
    }
    authsvc_abuse_backoff_success(r, a->account);
    return NULL;
}

/* Upgrade an old or weaker hash now that we know the password. Best effort: a failure
 * is logged and the login goes on with the old hash. */
static void rehash(request_rec *r, authsvc_db_t *db, authsvc_user_t *u,
                   const authsvc_field_t *pw)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const char *h = NULL;
    apr_time_t t0;
    apr_status_t rv;
    int slot;

    if (authsvc_hashcap_enter(r, &slot) != APR_SUCCESS) {
        return; /* busy: another sign-in will upgrade it */
    }
    t0 = apr_time_now();
    rv = authsvc_password_hash(r->pool, pw->s, pw->len, authsvc_config_argon2(c), &h);
    authsvc_metrics_hash_time(t0);
    authsvc_hashcap_leave(r, slot);
    if (rv != APR_SUCCESS ||
        authsvc_users_rehash(db, u->id, u->password_hash, h) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "could not rehash user %s", u->id);
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "rehashed the password of user %s", u->id);
    u->password_hash = h;
}

const authsvc_fail_t *authsvc_flow_unverified(request_rec *r, authsvc_db_t *db,
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

apr_status_t authsvc_flow_session_start(request_rec *r, authsvc_db_t *db,
                                        const authsvc_user_t *u, const authsvc_authn_t *how,
                                        const char *login, authsvc_login_out_t *out)
{
    apr_status_t rv = authsvc_session_create(r, db, u, how, &out->session, &out->token);

    if (rv == APR_SUCCESS) {
        rv = authsvc_flow_tokens_start(r, db, u, out);
    }
    if (rv == APR_SUCCESS) {
        authsvc_json_t *d = authsvc_flow_methods_detail(r, how->amr);
        authsvc_flow_remembered_detail(r, d);
        rv = authsvc_audit(r, db, "login_success", u->id, login, d);
    }
    if (rv == APR_SUCCESS) {
        rv = authsvc_flow_new_device(r, db, u, 1);
    }
    return rv;
}

typedef struct {
    request_rec *r;
    authsvc_user_t *u;
    const char *login;
    authsvc_authn_t how;
    authsvc_login_out_t *out;
} session_tx_t;

/* The session row and its audit row commit together. */
static apr_status_t session_tx(authsvc_db_t *db, void *baton)
{
    session_tx_t *tx = baton;

    return authsvc_flow_session_start(tx->r, db, tx->u, &tx->how, tx->login, tx->out);
}

static const authsvc_fail_t *sign_in(request_rec *r, const authsvc_login_in_t *in,
                                     authsvc_login_out_t *out)
{
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;
    authsvc_user_t *u = NULL;
    authsvc_db_t *db;
    authsvc_pw_result_t res;
    authsvc_pw_attempt_t a;
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
    login = audit_login(r, &in->login);
    /* Before anything costs: the address's count, and whether a hash could run at all
     * (under a flood most attempts end here, before any database work). */
    if ((fail = authsvc_abuse_limit(r, AUTHSVC_RL_LOGIN, 1, NULL, NULL, login)) != NULL ||
        (fail = authsvc_abuse_hash_full(r, "login")) != NULL) {
        return fail;
    }
    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    if (find_account(r, db, &in->login, &u) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    a.u = u;
    /* Keyed by the name as typed, known or not: a key by account would tell which
     * email and which username belong together (the lockout covers the account). */
    a.account = authsvc_abuse_name_key(r, in->login.s, in->login.len);
    a.login = login;
    a.action = NULL;
    a.honeypot = in->honeypot;
    if ((fail = authsvc_flow_password_attempt(r, db, &a, &in->password, &res)) != NULL) {
        return fail;
    }
    /* Only now: a guesser without the password learns nothing from this answer. */
    if (u->email_verified_at == 0 && authsvc_config_require_verified(authsvc_srv(r->server))) {
        return authsvc_flow_unverified(r, db, u, login);
    }
    if (res == AUTHSVC_PW_REHASH) {
        rehash(r, db, u, &in->password);
    }
    tx.how.auth_at = AUTHSVC_NOW();
    tx.how.mfa_at = 0;
    tx.how.amr = "pwd";
    /* A device the user had remembered stands in for the second step. */
    if (u->mfa_enabled_at != 0 && !authsvc_flow_remembered(r, db, u, &tx.how)) {
        return authsvc_flow_mfa_challenge(r, db, u, login, "pwd");
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

/* Every outcome is counted once, whichever front end signed in. */
const authsvc_fail_t *authsvc_flow_login(request_rec *r, const authsvc_login_in_t *in,
                                         authsvc_login_out_t *out)
{
    const authsvc_fail_t *fail = sign_in(r, in, out);

    authsvc_metrics_login(fail ? fail->code : NULL);
    return fail;
}

const authsvc_fail_t *authsvc_flow_whoami(request_rec *r, authsvc_identity_t **out)
{
    const char *bearer = authsvc_token_bearer(r);

    if (bearer != NULL) {
        return authsvc_flow_bearer_session(r, bearer, 0, out); /* the token decides */
    }
    if (authsvc_session_current(r, out) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the session database is unreachable");
    }
    if (*out == NULL) {
        return authsvc_fail(r, "unauthenticated", "sign in first");
    }
    return NULL;
}

const authsvc_fail_t *authsvc_flow_logout(request_rec *r)
{
    authsvc_identity_t *id = NULL;
    const authsvc_fail_t *fail;
    authsvc_db_t *db;
    const char *bearer = authsvc_token_bearer(r);

    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    /* Signing out is best effort: an access token ends its session even when it has
     * just expired (apps sign out when theirs has), one that is no good ends nothing,
     * and the cookie's session ends too when one is sent. */
    if (bearer != NULL && authsvc_flow_bearer_session(r, bearer, 1, &id) == NULL &&
        (fail = authsvc_flow_end_session(r, db, id, "bearer")) != NULL) {
        return fail;
    }
    if (authsvc_session_current(r, &id) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the session database is unreachable");
    }
    if (id == NULL) {
        return NULL; /* nothing to end; the cookie is cleared all the same */
    }
    return authsvc_flow_end_session(r, db, id, NULL);
}

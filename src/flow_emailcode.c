/*
 * flow_emailcode.c - signing in with a code sent by mail (AuthsvcEmailCodeLogin):
 * POST /auth/email-code asks for one, POST /auth/email-code/verify signs in with it.
 *
 * The code is short (6-8 digits), so everything else about it is strict: it lives at
 * most 10 minutes, is used once, dies after CODE_TRIES wrong tries, every wrong try
 * counts toward the account's lockout like a wrong password, and it only works together
 * with the code_token the request for it was answered with (a code read from a mail
 * alone is useless). Stored is SHA-256(code_token ":" account id ":" code) and the
 * SHA-256 of the code_token: the token (32 random bytes) is a per-code salt the
 * database never sees, so a copy of the table does not give the codes away.
 */
#include "apr_lib.h"

#include "abuse.h"
#include "audit.h"
#include "config.h"
#include "crypto.h"
#include "flow.h"
#include "json.h"
#include "metrics.h"
#include "text.h"

/* Wrong codes a code survives: after these it is dead (ask for a new one). */
#define CODE_TRIES 5

/* Every answer to a request for a code takes at least this long, whether or not the
 * address has an account (the same floor as the forgotten-password request). */
#define REQUEST_FLOOR apr_time_from_msec(50)

const authsvc_fail_t *authsvc_flow_email_code_off(request_rec *r)
{
    if (!authsvc_config_email_code_login(authsvc_srv(r->server))) {
        return authsvc_fail(r, "not_found", "sign-in codes by mail are not enabled here");
    }
    return NULL;
}

const char *authsvc_flow_email_code_cookie(request_rec *r)
{
    return apr_pstrcat(r->pool, authsvc_session_cookie_name(r), "-code", NULL);
}

void authsvc_email_code_cookie_set(request_rec *r, const char *token, apr_int64_t max_age)
{
    authsvc_cookie_set(r, authsvc_flow_email_code_cookie(r), token, max_age, "Strict", 0);
}

/* `digits` decimal digits, uniform: 32-bit random values above the largest multiple of
 * 10^digits are drawn again. NULL when there is no randomness. */
static const char *new_code(apr_pool_t *p, int digits)
{
    apr_uint64_t mod = 1, range;
    apr_uint32_t v;
    int i;

    for (i = 0; i < digits; i++) {
        mod *= 10;
    }
    range = (((apr_uint64_t)1 << 32) / mod) * mod;
    do {
        if (authsvc_crypto_random((unsigned char *)&v, sizeof(v)) != APR_SUCCESS) {
            return NULL;
        }
    } while ((apr_uint64_t)v >= range);
    return apr_psprintf(p, "%0*" APR_UINT64_T_FMT, digits, (apr_uint64_t)v % mod);
}

static const char *code_hash(apr_pool_t *p, const char *token, const char *uid,
                             const char *code)
{
    const char *s = apr_pstrcat(p, token, ":", uid, ":", code, NULL);

    return authsvc_crypto_sha256_hex(p, s, strlen(s));
}

/* The address typed, normalized, or a field error in *errs. */
static const char *read_email(request_rec *r, const authsvc_field_t *f,
                              apr_array_header_t **errs)
{
    const char *email = NULL, *msg;

    if (f->state != AUTHSVC_FIELD_SET) {
        authsvc_problem_field(r, errs, "email", "required", "is required");
    }
    else if ((msg = authsvc_text_email_normalize(r->pool, f->s, f->len, &email)) != NULL) {
        authsvc_problem_field(r, errs, "email", "invalid_email", msg);
    }
    return email;
}

/* ---- asking for a code ----------------------------------------------------------- */

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
    const char *token, *code;
    apr_int64_t now, ttl;
} request_tx_t;

/* The code, its audit row and its mail commit together. */
static apr_status_t request_tx(authsvc_db_t *db, void *baton)
{
    request_tx_t *tx = baton;
    const char *th = authsvc_crypto_sha256_hex(tx->r->pool, tx->token, strlen(tx->token));
    apr_table_t *vars;
    apr_status_t rv;

    if ((rv = authsvc_emailcode_put(db, tx->u->id, th,
                                    code_hash(tx->r->pool, tx->token, tx->u->id, tx->code),
                                    tx->now, tx->now + tx->ttl)) != APR_SUCCESS ||
        (rv = authsvc_audit(tx->r, db, "email_code_requested", tx->u->id, tx->u->email,
                            NULL)) != APR_SUCCESS) {
        return rv;
    }
    vars = authsvc_flow_mail_vars(tx->r, tx->u);
    apr_table_setn(vars, "code", tx->code);
    apr_table_setn(vars, "expires", authsvc_flow_duration_text(tx->r->pool, tx->ttl));
    return authsvc_flow_notify(tx->r, db, tx->u, "email_code", tx->u->email, vars);
}

const authsvc_fail_t *authsvc_flow_email_code_request(request_rec *r,
                                                      const authsvc_field_t *email,
                                                      authsvc_email_code_out_t *out)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    apr_time_t start = apr_time_now(), left;
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;
    authsvc_user_t *u = NULL;
    authsvc_db_t *db;
    request_tx_t tx;
    const char *addr;

    if ((fail = authsvc_flow_email_code_off(r)) != NULL) {
        return fail;
    }
    if ((addr = read_email(r, email, &errs)) == NULL || errs != NULL) {
        return authsvc_fail_fields(r, errs);
    }
    /* Counted by the address typed (the mail-sending class), known or not. */
    if ((fail = authsvc_abuse_limit(r, AUTHSVC_RL_FORGOT, 1,
                                    authsvc_abuse_name_key(r, addr, strlen(addr)), NULL,
                                    addr)) != NULL ||
        (fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    if (authsvc_users_by_email(db, addr, &u) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    memset(&tx, 0, sizeof(tx));
    tx.r = r;
    tx.ttl = authsvc_config_email_code_ttl(c);
    tx.now = AUTHSVC_NOW();
    /* Every answer carries a token; only a live, verified account gets a code. */
    if ((tx.token = authsvc_crypto_token(r->pool, AUTHSVC_TOKEN_BYTES)) == NULL) {
        return authsvc_fail(r, "unavailable", "no randomness for a sign-in code");
    }
    if (u != NULL && strcmp(u->status, "active") == 0 && u->email_verified_at != 0) {
        tx.u = u;
        if ((tx.code = new_code(r->pool, authsvc_config_email_code_length(c))) == NULL ||
            authsvc_store_transaction(db, request_tx, &tx) != APR_SUCCESS) {
            return authsvc_fail(r, "unavailable", "the code could not be stored; try again");
        }
    }
    if ((left = start + REQUEST_FLOOR - apr_time_now()) > 0) {
        apr_sleep(left);
    }
    out->code_token = tx.token;
    out->expires_in = tx.ttl;
    return NULL;
}

/* ---- signing in with it ---------------------------------------------------------- */

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
    const char *email;    /* as typed, normalized: the audit rows' login */
    const char *account;  /* throttle key */
} attempt_t;

/* The one answer to an unknown address, a wrong, expired or used code, a missing
 * code_token and (unless AuthsvcLockoutReveal) a locked account. */
static const authsvc_fail_t *failed(request_rec *r, authsvc_db_t *db, const attempt_t *a,
                                    const char *why)
{
    authsvc_json_t *d = authsvc_json_object(r->pool);

    authsvc_json_set_str(d, "reason", why);
    authsvc_json_set_str(d, "method", "email_code");
    authsvc_abuse_backoff_fail(r, a->account);
    authsvc_audit(r, db, "login_failure", a->u ? a->u->id : NULL, a->email, d);
    return authsvc_fail(r, "invalid_credentials",
                        "the email or the code is wrong, or the code has expired");
}

/* Does the code (with its token) match the account's live code? A wrong code asked for
 * with this token counts one try against it. */
static apr_status_t check_code(request_rec *r, authsvc_db_t *db, const authsvc_user_t *u,
                               const char *token, const authsvc_field_t *code,
                               apr_int64_t now, const char **hash)
{
    const char *th = NULL, *ch = NULL, *mine;
    apr_status_t rv = authsvc_emailcode_get(db, u->id, now, CODE_TRIES, &th, &ch);

    *hash = NULL;
    if (rv != APR_SUCCESS || th == NULL || token == NULL) {
        return rv;
    }
    mine = authsvc_crypto_sha256_hex(r->pool, token, strlen(token));
    if (!authsvc_crypto_streq(mine, th)) {
        return APR_SUCCESS;
    }
    if (authsvc_crypto_streq(code_hash(r->pool, token, u->id,
                                       apr_pstrmemdup(r->pool, code->s, code->len)),
                             ch)) {
        *hash = ch;
        return APR_SUCCESS;
    }
    return authsvc_emailcode_fail(db, u->id, th);
}

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
    const char *hash, *email;
    authsvc_authn_t how;
    authsvc_login_out_t *out; /* NULL: the account goes on to its second factor */
    int used;                 /* the code was used up meanwhile */
} verify_tx_t;

/* The code is used up, and (without a second factor) the session starts, together. */
static apr_status_t verify_tx(authsvc_db_t *db, void *baton)
{
    verify_tx_t *tx = baton;
    int done = 0;
    apr_status_t rv = authsvc_emailcode_use(db, tx->u->id, tx->hash, tx->how.auth_at,
                                            CODE_TRIES, &done);

    if (rv == APR_SUCCESS && !done) {
        tx->used = 1;
        return APR_EEXIST;
    }
    if (rv == APR_SUCCESS && tx->out != NULL) {
        rv = authsvc_flow_session_start(tx->r, db, tx->u, &tx->how, tx->email, tx->out);
    }
    return rv;
}

static const authsvc_fail_t *bad_input(request_rec *r, const authsvc_email_code_in_t *in,
                                       const char **email)
{
    apr_array_header_t *errs = NULL;
    apr_size_t i;

    *email = read_email(r, &in->email, &errs);
    if (in->code.state != AUTHSVC_FIELD_SET) {
        authsvc_problem_field(r, &errs, "code", "required", "is required");
    }
    else {
        for (i = 0; i < in->code.len && apr_isdigit(in->code.s[i]); i++) {
        }
        if (i != in->code.len || i < 6 || i > 8) {
            authsvc_problem_field(r, &errs, "code", "invalid_code", "must be 6 to 8 digits");
        }
    }
    if (in->code_token.state == AUTHSVC_FIELD_NULL) {
        authsvc_problem_field(r, &errs, "code_token", "wrong_type", "must be a string");
    }
    return errs ? authsvc_fail_fields(r, errs) : NULL;
}

/* The code_token: from the body, else from the cookie the request for the code set. */
static const char *code_token(request_rec *r, const authsvc_email_code_in_t *in)
{
    const char *t = in->code_token.state == AUTHSVC_FIELD_SET
                        ? in->code_token.s
                        : authsvc_cookie_get(r, authsvc_flow_email_code_cookie(r));
    apr_size_t n = t ? strlen(t) : 0;

    if (t == NULL || (in->code_token.state == AUTHSVC_FIELD_SET && n != in->code_token.len) ||
        !authsvc_crypto_token_plausible(t, n)) {
        return NULL;
    }
    return t;
}

static const authsvc_fail_t *sign_in(request_rec *r, const authsvc_email_code_in_t *in,
                                     authsvc_login_out_t *out)
{
    const authsvc_fail_t *fail;
    authsvc_user_t *u = NULL;
    authsvc_lockout_t pol;
    authsvc_claim_t claim;
    authsvc_db_t *db;
    verify_tx_t tx;
    attempt_t a;
    apr_int64_t now;
    const char *uid;
    int cleared = 0;

    if ((fail = authsvc_flow_email_code_off(r)) != NULL ||
        (fail = bad_input(r, in, &a.email)) != NULL ||
        (fail = authsvc_abuse_limit(r, AUTHSVC_RL_LOGIN, 1, NULL, NULL, a.email)) != NULL ||
        (fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    if (authsvc_users_by_email(db, a.email, &u) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    a.r = r;
    a.u = u;
    a.account = authsvc_abuse_name_key(r, a.email, strlen(a.email));
    uid = u ? u->id : NULL;
    if ((fail = authsvc_abuse_limit(r, AUTHSVC_RL_LOGIN, 0, a.account, uid, a.email)) ||
        (fail = authsvc_abuse_backoff_check(r, a.account, uid, a.email))) {
        return fail;
    }
    /* A code is an attempt on the account like a password: the same lockout claim. */
    authsvc_config_lockout(authsvc_srv(r->server), &pol);
    now = AUTHSVC_NOW();
    if (authsvc_lockout_claim(db, uid ? uid : "", now, &pol, &claim) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    if (u == NULL) {
        return failed(r, db, &a, "unknown_login");
    }
    if (claim.ended_lock != 0 &&
        authsvc_lockout_forget_expired(db, uid, claim.ended_lock, &cleared) ==
            APR_SUCCESS &&
        cleared) {
        authsvc_audit(r, db, "account_unlocked", uid, a.email, NULL);
    }
    if (!claim.claimed) {
        const authsvc_fail_t *wrong = failed(r, db, &a, "locked");
        return (fail = authsvc_flow_locked(r, db, uid, &pol, now)) ? fail : wrong;
    }
    memset(&tx, 0, sizeof(tx));
    if (check_code(r, db, u, code_token(r, in), &in->code, now, &tx.hash) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    if (tx.hash == NULL) {
        authsvc_flow_lock(r, db, uid, a.email, &pol, &claim, now);
        return failed(r, db, &a, "bad_code");
    }
    if (strcmp(u->status, "active") != 0) {
        return failed(r, db, &a, "disabled");
    }
    tx.r = r;
    tx.u = u;
    tx.email = a.email;
    tx.how.auth_at = now;
    tx.how.mfa_at = 0;
    tx.how.amr = AUTHSVC_AMR_EMAIL_CODE;
    /* Without a second factor, or on a device the user had remembered (which stands in
     * for it, as after a password), the session starts with the code. */
    tx.out = u->mfa_enabled_at == 0 || authsvc_flow_remembered(r, db, u, &tx.how) ? out
                                                                                  : NULL;
    if (authsvc_store_transaction(db, verify_tx, &tx) != APR_SUCCESS) {
        return tx.used ? failed(r, db, &a, "bad_code")
                       : authsvc_fail(r, "unavailable", "the session could not be stored");
    }
    /* As after a right password: a second factor still to pass keeps the count. */
    if ((u->mfa_enabled_at == 0 ? authsvc_lockout_success(db, uid)
                                : authsvc_lockout_refund(db, uid)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "could not reset the failed sign-ins of user %s", uid);
    }
    authsvc_abuse_backoff_success(r, a.account);
    if (tx.out == NULL) {
        return authsvc_flow_mfa_challenge(r, db, u, a.email, AUTHSVC_AMR_EMAIL_CODE);
    }
    out->user = u;
    return NULL;
}

const authsvc_fail_t *authsvc_flow_email_code_verify(request_rec *r,
                                                     const authsvc_email_code_in_t *in,
                                                     authsvc_login_out_t *out)
{
    const authsvc_fail_t *fail = sign_in(r, in, out);

    /* A disabled endpoint is no sign-in attempt. */
    if (fail == NULL || strcmp(fail->code, "not_found") != 0) {
        authsvc_metrics_login(fail ? fail->code : NULL);
    }
    return fail;
}

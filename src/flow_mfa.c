/*
 * flow_mfa.c - the second factor: TOTP enrollment and confirmation, recovery codes, the
 * second step of a sign-in, re-authentication, and the freshness rule for sensitive
 * changes.
 *
 * Every code check runs behind the same throttles as a password: the mfa rate limit
 * (per address and per account) and a claim on the account lockout taken before the
 * check, so that parallel guesses cannot overshoot. A TOTP code is accepted once: the
 * time step it matched is recorded with a conditional UPDATE that only one request wins.
 */
#include <openssl/crypto.h>

#include "abuse.h"
#include "audit.h"
#include "config.h"
#include "crypto.h"
#include "flow.h"
#include "json.h"
#include "metrics.h"
#include "qr.h"
#include "secretbox.h"
#include "totp.h"

/* ---- small pieces ------------------------------------------------------------------ */

authsvc_json_t *authsvc_flow_methods_detail(request_rec *r, const char *amr)
{
    authsvc_json_t *d = authsvc_json_object(r->pool);
    authsvc_json_t *list = authsvc_json_array(r->pool);
    char *copy = apr_pstrdup(r->pool, amr ? amr : "pwd"), *last = NULL, *m;

    for (m = apr_strtok(copy, " ", &last); m; m = apr_strtok(NULL, " ", &last)) {
        authsvc_json_append_str(list, m);
    }
    authsvc_json_set(d, "methods", list);
    return d;
}

static authsvc_json_t *reason(request_rec *r, const char *why, const char *action)
{
    authsvc_json_t *d = authsvc_json_object(r->pool);

    authsvc_json_set_str(d, "reason", why);
    if (action != NULL) {
        authsvc_json_set_str(d, "action", action);
    }
    return d;
}

/* The keys that seal second-factor secrets, or mfa_unavailable. */
static const authsvc_fail_t *keyring(request_rec *r, const authsvc_keyring_t **kr)
{
    *kr = authsvc_srv(r->server)->keyring;
    if (*kr == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "two-step sign-in needs AuthsvcSecretKeyFile, which this server "
                      "does not set");
        return authsvc_fail(r, "mfa_unavailable",
                            "two-step sign-in is not configured on this server");
    }
    return NULL;
}

/* The TOTP secret in clear (sealed with the user id as associated data), or NULL after
 * logging why: a missing key, or a row that is not ours. */
static unsigned char *open_secret(request_rec *r, const authsvc_keyring_t *kr,
                                  const char *uid, const char *sealed)
{
    unsigned char *pt = NULL;
    apr_size_t len = 0;

    if (kr == NULL || sealed == NULL ||
        authsvc_secretbox_open(r->pool, kr, sealed, uid, &pt, &len) != APR_SUCCESS ||
        len != AUTHSVC_TOTP_SECRET_BYTES) {
        if (pt != NULL) {
            OPENSSL_cleanse(pt, len);
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "cannot open the TOTP secret of user %s: is the key that sealed it "
                      "still listed in AuthsvcSecretKeyFile?", uid);
        return NULL;
    }
    return pt;
}

/* After a change to the account's second factor: every cached session of the user is
 * read again (mfa_enabled_at is part of the cached identity). */
static void refresh(request_rec *r, authsvc_db_t *db, const char *uid)
{
    if (authsvc_session_refresh_user(r, db, uid) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "could not drop the cached sessions of user %s", uid);
    }
}

/* Ten fresh recovery codes: the codes in *codes, their hashes in *hashes. */
static apr_status_t new_codes(request_rec *r, apr_array_header_t **codes,
                              apr_array_header_t **hashes)
{
    int i;

    *codes = apr_array_make(r->pool, AUTHSVC_RECOVERY_CODES, sizeof(const char *));
    *hashes = apr_array_make(r->pool, AUTHSVC_RECOVERY_CODES, sizeof(const char *));
    for (i = 0; i < AUTHSVC_RECOVERY_CODES; i++) {
        const char *c = authsvc_recovery_code_new(r->pool);
        const char *n = c ? authsvc_recovery_code_normalize(r->pool, c, strlen(c)) : NULL;
        if (n == NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "no randomness for recovery codes");
            return APR_EGENERAL;
        }
        APR_ARRAY_PUSH(*codes, const char *) = c;
        APR_ARRAY_PUSH(*hashes, const char *) = authsvc_crypto_sha256_hex(r->pool, n,
                                                                           strlen(n));
    }
    return APR_SUCCESS;
}

/* The code field alone (confirm, new recovery codes): required, a string. */
static const authsvc_fail_t *require_code(request_rec *r, const authsvc_field_t *code)
{
    apr_array_header_t *errs = NULL;

    if (code->state != AUTHSVC_FIELD_SET) {
        authsvc_problem_field(r, &errs, "code", "required", "is required");
        return authsvc_fail_fields(r, errs);
    }
    return NULL;
}

/* Exactly one of code and recovery_code (only code when !recovery). */
static const authsvc_fail_t *check_factor_fields(request_rec *r,
                                                 const authsvc_factor_in_t *in,
                                                 int recovery)
{
    apr_array_header_t *errs = NULL;
    int code = in->code.state == AUTHSVC_FIELD_SET;
    int rc = in->recovery_code.state == AUTHSVC_FIELD_SET;

    if (rc && !recovery) {
        authsvc_problem_field(r, &errs, "recovery_code", "not_allowed",
                              "a recovery code is not accepted here; send a code from the "
                              "authenticator app");
    }
    else if (code && rc) {
        authsvc_problem_field(r, &errs, "recovery_code", "conflict",
                              "send either code or recovery_code, not both");
    }
    else if (!code && !rc) {
        authsvc_problem_field(r, &errs, "code", "required", "is required");
    }
    return errs ? authsvc_fail_fields(r, errs) : NULL;
}

/* ---- one second-factor check ------------------------------------------------------- */

typedef struct {
    const authsvc_user_t *u;
    const char *login;  /* for audit rows (sign-in), or NULL */
    const char *action; /* the endpoint, for audit rows */
    const char *sealed; /* the secret to check TOTP codes against (sealed) */
    apr_int64_t after;  /* only time steps after this one are accepted */
    int record_step;    /* record the matched step (not for a pending secret) */
    int codes_left;     /* unused recovery codes before this check */
    int ip_counted;     /* the caller counted the client address in class mfa */
    apr_int64_t *step;  /* gets the TOTP time step matched, when not NULL */
} factor_t;

static const authsvc_fail_t *bad_code(request_rec *r, authsvc_db_t *db, const factor_t *f,
                                      const char *why)
{
    authsvc_metrics_inc(AUTHSVC_M_MFA_FAILURE);
    authsvc_audit(r, db, "mfa_failure", f->u->id, f->login, reason(r, why, f->action));
    return authsvc_fail(r, "invalid_mfa_code", "the code is wrong or was used already");
}

static const authsvc_fail_t *locked(request_rec *r, authsvc_db_t *db, const factor_t *f,
                                    const authsvc_lockout_t *pol, apr_int64_t now)
{
    const authsvc_fail_t *bad = bad_code(r, db, f, "locked");
    const authsvc_fail_t *fail = authsvc_flow_locked(r, db, f->u->id, pol, now);

    return fail ? fail : bad;
}

/* After AuthsvcSecretKeyFile gained a newer key: a secret sealed under an older one is
 * sealed again under the newest whenever it is used, so that old keys can go once no
 * row needs them. Best effort. */
static void reseal(request_rec *r, authsvc_db_t *db, const factor_t *f,
                   const unsigned char *secret)
{
    const authsvc_keyring_t *kr = authsvc_srv(r->server)->keyring;
    const char *kid = authsvc_keyring_kid(kr), *sealed;

    if (kid == NULL || strncmp(f->sealed, "v1.", 3) != 0 ||
        strncmp(f->sealed + 3, kid, strlen(kid)) == 0) {
        return;
    }
    sealed = authsvc_secretbox_seal(r->pool, kr, secret, AUTHSVC_TOTP_SECRET_BYTES,
                                    f->u->id);
    if (sealed == NULL || authsvc_mfa_reseal(db, f->u->id, f->sealed, sealed) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "could not seal the TOTP secret of user %s under the newest key",
                      f->u->id);
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "sealed the TOTP secret of user %s under the newest key", f->u->id);
}

/* A TOTP code: NULL when right (and recorded as used), else why it is not. */
static const char *check_totp(request_rec *r, authsvc_db_t *db, const factor_t *f,
                              const authsvc_field_t *code, apr_int64_t now,
                              apr_int64_t *step, int *unavailable)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const char *digits = authsvc_totp_normalize(r->pool, code->s, code->len);
    unsigned char *secret;
    int replay = 0, done = 0;

    *unavailable = 0;
    if (digits == NULL) {
        return "malformed_code";
    }
    if ((secret = open_secret(r, c->keyring, f->u->id, f->sealed)) == NULL) {
        *unavailable = 1;
        return "secret_unreadable";
    }
    *step = authsvc_totp_verify(secret, AUTHSVC_TOTP_SECRET_BYTES, now,
                                authsvc_config_totp_window(c), f->after, digits,
                                strlen(digits), &replay);
    if (*step >= 0 && f->record_step) {
        /* Of two requests with the same code, the one that records the step wins. */
        if (authsvc_mfa_use_step(db, f->u->id, *step, &done) != APR_SUCCESS) {
            *unavailable = 1;
        }
        else if (done) {
            reseal(r, db, f, secret);
        }
        replay = !done;
    }
    OPENSSL_cleanse(secret, AUTHSVC_TOTP_SECRET_BYTES);
    if (*unavailable) {
        return "database";
    }
    if (*step < 0 || replay) {
        return replay ? "replay" : "bad_code";
    }
    return NULL;
}

/* A recovery code: NULL when right (and used up), else why it is not. */
static const char *check_recovery(request_rec *r, authsvc_db_t *db, const factor_t *f,
                                  const authsvc_field_t *code, int *unavailable)
{
    const char *n = authsvc_recovery_code_normalize(r->pool, code->s, code->len);
    int done = 0;

    *unavailable = 0;
    if (n == NULL) {
        return "malformed_recovery_code";
    }
    if (authsvc_mfa_code_use(db, f->u->id, authsvc_crypto_sha256_hex(r->pool, n, strlen(n)),
                             &done) != APR_SUCCESS) {
        *unavailable = 1;
        return "database";
    }
    return done ? NULL : "bad_recovery_code";
}

/* Check the factor in `in` for f->u behind the throttles. NULL on success, with
 * *method "otp" or "rc". */
static const authsvc_fail_t *second_factor(request_rec *r, authsvc_db_t *db,
                                           const factor_t *f, const authsvc_factor_in_t *in,
                                           const char **method)
{
    const char *uid = f->u->id, *why;
    const authsvc_fail_t *fail;
    authsvc_lockout_t pol;
    authsvc_claim_t claim;
    apr_int64_t now = AUTHSVC_NOW(), step = 0;
    int rc = in->recovery_code.state == AUTHSVC_FIELD_SET, unavailable = 0;

    if ((fail = authsvc_abuse_limit(r, AUTHSVC_RL_MFA, !f->ip_counted, uid, uid,
                                    f->login)) != NULL) {
        return fail;
    }
    authsvc_config_lockout(authsvc_srv(r->server), &pol);
    if (authsvc_lockout_claim(db, uid, now, &pol, &claim) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    if (!claim.claimed) {
        return locked(r, db, f, &pol, now);
    }
    why = rc ? check_recovery(r, db, f, &in->recovery_code, &unavailable)
             : check_totp(r, db, f, &in->code, now, &step, &unavailable);
    if (unavailable) {
        /* Not the user's fault: the attempt is handed back. */
        if (authsvc_lockout_refund(db, uid) != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "could not hand back an unused attempt of user %s", uid);
        }
        return strcmp(why, "secret_unreadable") == 0
                   ? authsvc_fail(r, "mfa_unavailable",
                                  "the second factor cannot be checked right now")
                   : authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    if (why != NULL) {
        if (strcmp(why, "replay") == 0) {
            authsvc_audit(r, db, "totp_replay", uid, f->login,
                          reason(r, "replay", f->action));
        }
        authsvc_flow_lock(r, db, uid, f->login, &pol, &claim, now);
        return bad_code(r, db, f, why);
    }
    if (authsvc_lockout_success(db, uid) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "could not reset the failed attempts of user %s", uid);
    }
    if (rc) {
        authsvc_json_t *d = reason(r, "recovery_code", f->action);
        authsvc_json_set_int(d, "remaining", f->codes_left > 0 ? f->codes_left - 1 : 0);
        authsvc_audit(r, db, "recovery_code_used", uid, f->login, d);
    }
    authsvc_metrics_inc(AUTHSVC_M_MFA_SUCCESS);
    *method = rc ? "rc" : "otp";
    if (f->step != NULL) {
        *f->step = step;
    }
    return NULL;
}

/* The account's factor state; an enrollment left unconfirmed past
 * AUTHSVC_MFA_PENDING_TTL counts as none (m->pending NULL). NULL or unavailable. */
static const authsvc_fail_t *state(request_rec *r, authsvc_db_t *db, const char *uid,
                                   authsvc_mfa_t *m)
{
    if (authsvc_mfa_get(db, uid, m) != APR_SUCCESS || !m->found) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    if (m->pending != NULL && AUTHSVC_NOW() - m->pending_at > AUTHSVC_MFA_PENDING_TTL) {
        m->pending = NULL;
    }
    return NULL;
}

/* The enrolled account's factor state, or mfa_not_enabled / unavailable. */
static const authsvc_fail_t *enrolled(request_rec *r, authsvc_db_t *db,
                                      const authsvc_user_t *u, authsvc_mfa_t *m)
{
    const authsvc_fail_t *fail = state(r, db, u->id, m);

    if (fail != NULL) {
        return fail;
    }
    if (m->secret == NULL) {
        return authsvc_fail(r, "mfa_not_enabled", "two-step sign-in is not on");
    }
    return NULL;
}

static void factor_init(factor_t *f, const authsvc_user_t *u, const authsvc_mfa_t *m,
                        const char *login, const char *action)
{
    memset(f, 0, sizeof(*f));
    f->u = u;
    f->login = login;
    f->action = action;
    f->sealed = m->secret;
    f->after = m->last_step;
    f->record_step = 1;
    f->codes_left = m->codes_left;
}

/* The factor in `in` of an enrolled account (m), for `action`. */
static const authsvc_fail_t *check_factor(request_rec *r, authsvc_db_t *db,
                                          const authsvc_user_t *u, const authsvc_mfa_t *m,
                                          const authsvc_factor_in_t *in, const char *action,
                                          const char **method)
{
    factor_t f;

    factor_init(&f, u, m, NULL, action);
    return second_factor(r, db, &f, in, method);
}

/* The signed-in caller, fresh enough for a change of the factor, and the account's
 * factor state; or the failure (mfa_not_enabled when the account has none). */
static const authsvc_fail_t *enrolled_me(request_rec *r, authsvc_db_t **db,
                                         authsvc_user_t **u, authsvc_mfa_t *m)
{
    authsvc_identity_t *id = NULL;
    const authsvc_fail_t *fail = authsvc_flow_me_fresh(r, &id, db, u);

    return fail ? fail : enrolled(r, *db, *u, m);
}

/* ---- freshness -------------------------------------------------------------------- */

static const authsvc_fail_t *stale(request_rec *r, apr_int64_t max)
{
    authsvc_fail_t *f = (authsvc_fail_t *)authsvc_fail(
        r, "reauthentication_required",
        "this change needs a recent sign-in: confirm your password (and code) at "
        "/auth/reauthenticate, then try again");

    f->extra = authsvc_json_object(r->pool);
    authsvc_json_set_int(f->extra, "max_age", max);
    return f;
}

const authsvc_fail_t *authsvc_flow_require_fresh(request_rec *r,
                                                 const authsvc_identity_t *id)
{
    apr_int64_t max = authsvc_config_fresh_max_age(authsvc_srv(r->server));

    if (max == 0 || AUTHSVC_NOW() - authsvc_session_fresh_at(id) <= max) {
        return NULL;
    }
    return stale(r, max);
}

const authsvc_fail_t *authsvc_flow_me_fresh(request_rec *r, authsvc_identity_t **id,
                                            authsvc_db_t **db, authsvc_user_t **u)
{
    const authsvc_fail_t *fail = authsvc_flow_me(r, id, db, u);
    authsvc_identity_t now;

    if (fail != NULL) {
        return fail;
    }
    /* The stored account: a cached identity may predate a change of its factor. */
    now.session = (*id)->session;
    now.user = *u;
    return authsvc_flow_require_fresh(r, &now);
}

/* ---- sign-in, second step ---------------------------------------------------------- */

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
    const char *hash;
    const char *login;
    const char *first;
} challenge_tx_t;

static apr_status_t challenge_tx(authsvc_db_t *db, void *baton)
{
    challenge_tx_t *tx = baton;
    apr_int64_t now = AUTHSVC_NOW();
    apr_status_t rv = authsvc_mfa_challenge_insert(db, tx->hash, tx->u->id, now,
                                                   now + AUTHSVC_MFA_CHALLENGE_TTL, tx->first);

    return rv == APR_SUCCESS
               ? authsvc_audit(tx->r, db, "mfa_challenge", tx->u->id, tx->login, NULL)
               : rv;
}

const authsvc_fail_t *authsvc_flow_mfa_challenge(request_rec *r, authsvc_db_t *db,
                                                 const authsvc_user_t *u,
                                                 const char *login, const char *first)
{
    const char *token = authsvc_crypto_token(r->pool, AUTHSVC_TOKEN_BYTES);
    authsvc_json_t *methods = authsvc_json_array(r->pool);
    authsvc_fail_t *f;
    challenge_tx_t tx;

    if (token == NULL) {
        return authsvc_fail(r, "unavailable", "no randomness for a sign-in token");
    }
    tx.r = r;
    tx.u = u;
    tx.hash = authsvc_crypto_sha256_hex(r->pool, token, strlen(token));
    tx.login = login;
    tx.first = first;
    if (authsvc_store_transaction(db, challenge_tx, &tx) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the sign-in could not be stored; try again");
    }
    f = (authsvc_fail_t *)authsvc_fail(r, "mfa_required",
                                       "enter the code from your authenticator app (or a "
                                       "recovery code) at /auth/login/mfa");
    f->extra = authsvc_json_object(r->pool);
    authsvc_json_set_str(f->extra, "mfa_token", token);
    authsvc_json_set_int(f->extra, "expires_in", AUTHSVC_MFA_CHALLENGE_TTL);
    authsvc_json_append_str(methods, "totp");
    authsvc_json_append_str(methods, "recovery_code");
    authsvc_json_set(f->extra, "methods", methods);
    return f;
}

typedef struct {
    request_rec *r;
    authsvc_user_t *u;
    const char *hash;
    authsvc_authn_t how;
    authsvc_login_out_t *out;
    int remember; /* remember this browser (AuthsvcMFARememberDays) */
    int used; /* the challenge was used up meanwhile */
} login_mfa_tx_t;

static apr_status_t login_mfa_tx(authsvc_db_t *db, void *baton)
{
    login_mfa_tx_t *tx = baton;
    int done = 0;
    apr_status_t rv = authsvc_mfa_challenge_consume(db, tx->hash, tx->u->id,
                                                    AUTHSVC_NOW(), &done);

    if (rv == APR_SUCCESS && !done) {
        tx->used = 1;
        return APR_EEXIST;
    }
    if (rv == APR_SUCCESS) {
        rv = authsvc_flow_session_start(tx->r, db, tx->u, &tx->how, NULL, tx->out);
    }
    if (rv == APR_SUCCESS) {
        rv = authsvc_flow_remember_device(tx->r, db, tx->u, tx->remember,
                                          &tx->out->device_token);
    }
    return rv;
}

const authsvc_fail_t *authsvc_flow_login_mfa(request_rec *r, const authsvc_field_t *token,
                                             const authsvc_factor_in_t *in,
                                             authsvc_login_out_t *out)
{
    static const char *const names[] = {"mfa_token", NULL};
    const authsvc_field_t *fields[] = {token};
    const authsvc_fail_t *fail;
    const char *hash, *uid = NULL, *method = NULL, *first = "pwd";
    authsvc_user_t *u = NULL;
    authsvc_db_t *db;
    authsvc_mfa_t m;
    apr_int64_t created = 0, now;
    login_mfa_tx_t tx;
    factor_t f;

    out->device_token = NULL;
    if ((fail = authsvc_flow_require(r, names, fields)) != NULL ||
        (fail = check_factor_fields(r, in, 1)) != NULL) {
        return fail;
    }
    /* The address's count first: guessing tokens is guessing too. */
    if ((fail = authsvc_abuse_limit(r, AUTHSVC_RL_MFA, 1, NULL, NULL, NULL)) != NULL) {
        return fail;
    }
    if ((hash = authsvc_flow_token_hash(r, token)) == NULL) {
        return authsvc_flow_token_invalid(r);
    }
    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    now = AUTHSVC_NOW();
    if (authsvc_mfa_challenge_peek(db, hash, now, &uid, &created, &first) != APR_SUCCESS ||
        (uid != NULL && authsvc_users_by_id(db, uid, &u) != APR_SUCCESS)) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    if (u == NULL || strcmp(u->status, "active") != 0) {
        return authsvc_flow_token_invalid(r);
    }
    if ((fail = enrolled(r, db, u, &m)) != NULL) {
        /* MFA was turned off since the password step: start again. */
        return strcmp(fail->code, "mfa_not_enabled") == 0 ? authsvc_flow_token_invalid(r)
                                                          : fail;
    }
    factor_init(&f, u, &m, u->email, "login");
    f.ip_counted = 1;
    if ((fail = second_factor(r, db, &f, in, &method)) != NULL) {
        return fail;
    }
    memset(&tx, 0, sizeof(tx));
    tx.r = r;
    tx.u = u;
    tx.hash = hash;
    tx.how.auth_at = AUTHSVC_NOW();
    tx.how.mfa_at = tx.how.auth_at;
    tx.how.amr = apr_pstrcat(r->pool, first, " ", method, NULL);
    tx.out = out;
    tx.remember = in->remember_device;
    if (authsvc_store_transaction(db, login_mfa_tx, &tx) != APR_SUCCESS) {
        return tx.used ? authsvc_flow_token_invalid(r)
                       : authsvc_fail(r, "unavailable",
                                      "the session could not be stored; try again");
    }
    out->user = u;
    return NULL;
}

/* ---- enrollment ------------------------------------------------------------------- */

const authsvc_fail_t *authsvc_flow_mfa_status(request_rec *r, authsvc_mfa_t *out)
{
    authsvc_identity_t *id = NULL;
    authsvc_user_t *u = NULL;
    authsvc_db_t *db = NULL;
    const authsvc_fail_t *fail = authsvc_flow_me(r, &id, &db, &u);

    if (fail != NULL) {
        return fail;
    }
    return state(r, db, u->id, out);
}

/* Who may enroll: the signed-in user of a fresh session, on a server with a key; with
 * the account's second-factor state. */
static const authsvc_fail_t *enroller(request_rec *r, authsvc_db_t **db, authsvc_user_t **u,
                                      const authsvc_keyring_t **kr, authsvc_mfa_t *m)
{
    authsvc_identity_t *id = NULL;
    const authsvc_fail_t *fail;

    if ((fail = authsvc_flow_me_fresh(r, &id, db, u)) != NULL ||
        (fail = keyring(r, kr)) != NULL) {
        return fail;
    }
    return state(r, *db, (*u)->id, m);
}

/* The otpauth URI and QR code of the secret out->secret for u. */
static const authsvc_fail_t *enrollment(request_rec *r, const authsvc_user_t *u,
                                        authsvc_enroll_out_t *out)
{
    out->uri = authsvc_totp_uri(r->pool, authsvc_config_mfa_issuer(r->server), u->email,
                                out->secret);
    out->qr_svg = out->uri ? authsvc_qr_svg(r->pool, out->uri) : NULL;
    return out->qr_svg ? NULL
                       : authsvc_fail(r, "unavailable", "the QR code could not be made");
}

const authsvc_fail_t *authsvc_flow_mfa_begin(request_rec *r, authsvc_enroll_out_t *out)
{
    unsigned char secret[AUTHSVC_TOTP_SECRET_BYTES];
    const authsvc_keyring_t *kr;
    authsvc_user_t *u = NULL;
    authsvc_db_t *db = NULL;
    const authsvc_fail_t *fail;
    const char *sealed;
    authsvc_mfa_t m;
    int done = 0;

    if ((fail = enroller(r, &db, &u, &kr, &m)) != NULL) {
        return fail;
    }
    if (m.secret != NULL) {
        return authsvc_fail(r, "mfa_already_enabled",
                            "two-step sign-in is already on; turn it off first to change "
                            "the authenticator");
    }
    if (authsvc_crypto_random(secret, sizeof(secret)) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "no randomness for a secret");
    }
    sealed = authsvc_secretbox_seal(r->pool, kr, secret, sizeof(secret), u->id);
    out->secret = authsvc_totp_base32(r->pool, secret, sizeof(secret));
    OPENSSL_cleanse(secret, sizeof(secret));
    if (sealed == NULL || out->secret == NULL) {
        return authsvc_fail(r, "unavailable", "the secret could not be sealed");
    }
    if (authsvc_mfa_set_pending(db, u->id, sealed, AUTHSVC_NOW(), &done) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the enrollment could not be stored");
    }
    if (!done) {
        return authsvc_fail(r, "mfa_already_enabled", "two-step sign-in is already on");
    }
    if ((fail = enrollment(r, u, out)) != NULL) {
        return fail;
    }
    authsvc_audit(r, db, "mfa_enrollment_started", u->id, NULL, NULL);
    return NULL;
}

const authsvc_fail_t *authsvc_flow_mfa_pending(request_rec *r, authsvc_enroll_out_t *out)
{
    const authsvc_keyring_t *kr;
    authsvc_user_t *u = NULL;
    authsvc_db_t *db = NULL;
    const authsvc_fail_t *fail;
    unsigned char *secret;
    authsvc_mfa_t m;

    out->secret = NULL;
    if ((fail = enroller(r, &db, &u, &kr, &m)) != NULL) {
        return fail;
    }
    if (m.secret != NULL || m.pending == NULL) {
        return authsvc_fail(r, "mfa_not_pending", NULL);
    }
    if ((secret = open_secret(r, kr, u->id, m.pending)) == NULL) {
        return authsvc_fail(r, "unavailable", "the pending secret cannot be opened");
    }
    out->secret = authsvc_totp_base32(r->pool, secret, AUTHSVC_TOTP_SECRET_BYTES);
    OPENSSL_cleanse(secret, AUTHSVC_TOTP_SECRET_BYTES);
    return out->secret ? enrollment(r, u, out)
                       : authsvc_fail(r, "unavailable", "the secret could not be encoded");
}

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
    const authsvc_session_t *s;
    const char *pending;
    apr_int64_t step;
    apr_array_header_t *hashes;
    int gone; /* the pending secret changed meanwhile */
} confirm_tx_t;

static apr_status_t confirm_tx(authsvc_db_t *db, void *baton)
{
    confirm_tx_t *tx = baton;
    apr_int64_t now = AUTHSVC_NOW();
    int done = 0;
    apr_status_t rv = authsvc_mfa_confirm(db, tx->u->id, tx->pending, tx->step, now, &done);

    if (rv == APR_SUCCESS && !done) {
        tx->gone = 1;
        return APR_EEXIST;
    }
    /* This session just proved the factor: it counts as passed from now on (and no
     * other did: a factor turned off and on again starts from nothing). */
    if (rv != APR_SUCCESS ||
        (rv = authsvc_mfa_codes_replace(db, tx->u->id, tx->hashes)) != APR_SUCCESS ||
        (rv = authsvc_sessions_clear_mfa(db, tx->u->id)) != APR_SUCCESS ||
        (rv = authsvc_sessions_mfa_passed(db, tx->s->token_hash, now, "pwd otp")) !=
            APR_SUCCESS ||
        (rv = authsvc_flow_notify(tx->r, db, tx->u, "mfa_enabled", tx->u->email, NULL)) !=
            APR_SUCCESS) {
        return rv;
    }
    return authsvc_audit(tx->r, db, "mfa_enabled", tx->u->id, NULL, NULL);
}

const authsvc_fail_t *authsvc_flow_mfa_confirm(request_rec *r, const authsvc_field_t *code,
                                               apr_array_header_t **codes)
{
    const authsvc_keyring_t *kr;
    authsvc_identity_t *id = NULL;
    authsvc_user_t *u = NULL;
    authsvc_db_t *db = NULL;
    const authsvc_fail_t *fail;
    const char *method = NULL;
    authsvc_factor_in_t in;
    authsvc_mfa_t m;
    confirm_tx_t tx;
    factor_t f;
    apr_status_t rv;

    if ((fail = authsvc_flow_me(r, &id, &db, &u)) != NULL ||
        (fail = require_code(r, code)) != NULL || (fail = keyring(r, &kr)) != NULL) {
        return fail;
    }
    if ((fail = state(r, db, u->id, &m)) != NULL) {
        return fail;
    }
    if (m.pending == NULL) {
        return authsvc_fail(r, "mfa_not_pending",
                            "start the setup again with POST /users/me/mfa");
    }
    /* Checked like any code (rate limit, lockout), against the pending secret. */
    memset(&tx, 0, sizeof(tx));
    memset(&f, 0, sizeof(f));
    f.u = u;
    f.action = "mfa_confirm";
    f.sealed = m.pending;
    f.step = &tx.step;
    memset(&in, 0, sizeof(in));
    in.code = *code;
    if ((fail = second_factor(r, db, &f, &in, &method)) != NULL) {
        return fail;
    }
    tx.r = r;
    tx.u = u;
    tx.s = id->session;
    tx.pending = m.pending;
    if (new_codes(r, codes, &tx.hashes) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "no randomness for recovery codes");
    }
    rv = authsvc_store_transaction(db, confirm_tx, &tx);
    if (tx.gone) {
        return authsvc_fail(r, "mfa_not_pending",
                            "the setup changed meanwhile; start again with POST /users/me/mfa");
    }
    if (rv != APR_SUCCESS) {
        return authsvc_flow_mail_fail(r, rv, "the notification was refused");
    }
    refresh(r, db, u->id);
    return NULL;
}

/* ---- turning off, new recovery codes ---------------------------------------------- */

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
} disable_tx_t;

apr_status_t authsvc_flow_mfa_off(request_rec *r, authsvc_db_t *db, const authsvc_user_t *u)
{
    int done = 0;
    apr_status_t rv = authsvc_mfa_disable(db, u->id, &done);

    if (rv == APR_SUCCESS && !done) {
        return APR_EEXIST; /* turned off meanwhile: nothing to tell twice */
    }
    if (rv != APR_SUCCESS ||
        (rv = authsvc_mfa_codes_replace(db, u->id, NULL)) != APR_SUCCESS ||
        (rv = authsvc_sessions_clear_mfa(db, u->id)) != APR_SUCCESS ||
        (rv = authsvc_flow_devices_revoke(r, db, u->id, "mfa_disabled")) != APR_SUCCESS) {
        return rv;
    }
    return authsvc_flow_notify(r, db, u, "mfa_disabled", u->email, NULL);
}

static apr_status_t disable_tx(authsvc_db_t *db, void *baton)
{
    disable_tx_t *tx = baton;
    apr_status_t rv = authsvc_flow_mfa_off(tx->r, db, tx->u);

    return rv == APR_SUCCESS ? authsvc_audit(tx->r, db, "mfa_disabled", tx->u->id, NULL, NULL)
                             : rv;
}

const authsvc_fail_t *authsvc_flow_mfa_disable(request_rec *r,
                                               const authsvc_field_t *password,
                                               const authsvc_factor_in_t *in)
{
    static const char *const names[] = {"password", NULL};
    const authsvc_field_t *fields[] = {password};
    authsvc_user_t *u = NULL;
    authsvc_db_t *db = NULL;
    const authsvc_fail_t *fail;
    const char *method = NULL;
    authsvc_mfa_t m;
    disable_tx_t tx;
    apr_status_t rv;

    if ((fail = enrolled_me(r, &db, &u, &m)) != NULL ||
        (fail = authsvc_flow_require(r, names, fields)) != NULL ||
        (fail = check_factor_fields(r, in, 1)) != NULL ||
        (fail = authsvc_flow_reauthenticate(r, db, u, password, "password",
                                            "mfa_disable")) != NULL ||
        (fail = check_factor(r, db, u, &m, in, "mfa_disable", &method)) != NULL) {
        return fail;
    }
    tx.r = r;
    tx.u = u;
    rv = authsvc_store_transaction(db, disable_tx, &tx);
    if (rv != APR_SUCCESS && rv != APR_EEXIST) {
        return authsvc_flow_mail_fail(r, rv, "the notification was refused");
    }
    refresh(r, db, u->id);
    return NULL;
}

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
    apr_array_header_t *hashes;
} codes_tx_t;

static apr_status_t codes_tx(authsvc_db_t *db, void *baton)
{
    codes_tx_t *tx = baton;
    apr_status_t rv = authsvc_mfa_codes_replace(db, tx->u->id, tx->hashes);

    return rv == APR_SUCCESS ? authsvc_audit(tx->r, db, "recovery_codes_regenerated",
                                             tx->u->id, NULL, NULL)
                             : rv;
}

const authsvc_fail_t *authsvc_flow_mfa_new_codes(request_rec *r, const authsvc_field_t *code,
                                                 apr_array_header_t **codes)
{
    authsvc_user_t *u = NULL;
    authsvc_db_t *db = NULL;
    const authsvc_fail_t *fail;
    const char *method = NULL;
    authsvc_factor_in_t in;
    authsvc_mfa_t m;
    codes_tx_t tx;

    memset(&in, 0, sizeof(in));
    in.code = *code;
    if ((fail = enrolled_me(r, &db, &u, &m)) != NULL ||
        (fail = require_code(r, code)) != NULL ||
        (fail = check_factor(r, db, u, &m, &in, "recovery_codes", &method)) != NULL) {
        return fail;
    }
    tx.r = r;
    tx.u = u;
    if (new_codes(r, codes, &tx.hashes) != APR_SUCCESS ||
        authsvc_store_transaction(db, codes_tx, &tx) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the new codes could not be stored; try again");
    }
    return NULL;
}

/* ---- re-authentication ------------------------------------------------------------ */

const authsvc_fail_t *authsvc_flow_reauthenticate_session(request_rec *r,
                                                          const authsvc_field_t *password,
                                                          const authsvc_factor_in_t *in,
                                                          authsvc_session_t **session)
{
    static const char *const names[] = {"password", NULL};
    const authsvc_field_t *fields[] = {password};
    authsvc_identity_t *id = NULL;
    authsvc_user_t *u = NULL;
    authsvc_db_t *db = NULL;
    const authsvc_fail_t *fail;
    const char *method = NULL, *amr = "pwd";
    apr_int64_t now, mfa_at = 0;
    authsvc_mfa_t m;
    int done = 0, mfa;

    if ((fail = authsvc_flow_me(r, &id, &db, &u)) != NULL ||
        (fail = authsvc_flow_require(r, names, fields)) != NULL) {
        return fail;
    }
    mfa = u->mfa_enabled_at != 0;
    /* Everything the request lacks is said before a password is checked. */
    if (mfa && ((fail = enrolled(r, db, u, &m)) != NULL ||
                (fail = check_factor_fields(r, in, 1)) != NULL)) {
        return fail;
    }
    if ((fail = authsvc_flow_reauthenticate(r, db, u, password, "password",
                                            "reauthenticate")) != NULL) {
        return fail;
    }
    if (mfa) {
        if ((fail = check_factor(r, db, u, &m, in, "reauthenticate", &method)) != NULL) {
            return fail;
        }
        amr = apr_pstrcat(r->pool, "pwd ", method, NULL);
    }
    now = AUTHSVC_NOW();
    mfa_at = mfa ? now : 0;
    if (authsvc_sessions_reauth(db, id->session->token_hash, now, mfa_at, amr, &done) !=
            APR_SUCCESS ||
        !done) {
        return authsvc_fail(r, "unavailable", "the session could not be updated; try again");
    }
    authsvc_audit(r, db, "reauthenticated", u->id, NULL, authsvc_flow_methods_detail(r, amr));
    refresh(r, db, u->id);
    id->session->auth_at = now;
    if (mfa) {
        id->session->mfa_at = now;
    }
    id->session->amr = amr;
    *session = id->session;
    return NULL;
}

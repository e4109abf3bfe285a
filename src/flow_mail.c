/*
 * flow_mail.c - what the lifecycle flows share: mailed tokens, notifications, the
 * re-authentication with the current password, and the new-password rules.
 */
#include "apr_lib.h"

#include "abuse.h"
#include "audit.h"
#include "config.h"
#include "crypto.h"
#include "flow.h"
#include "metrics.h"
#include "outbox.h"
#include "policy.h"


/* "24 hours", "30 minutes", "90 seconds": how long a link works, for the mail. */
const char *authsvc_flow_duration_text(apr_pool_t *p, apr_int64_t secs)
{
    static const struct {
        apr_int64_t unit;
        const char *name;
    } units[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
    int i;

    for (i = 0; i < 3 && secs % units[i].unit != 0; i++) {
    }
    secs /= units[i].unit;
    return apr_psprintf(p, "%" APR_INT64_T_FMT " %s%s", secs, units[i].name,
                        secs == 1 ? "" : "s");
}

/* What a mail calls the user. */
static const char *display_name(const authsvc_user_t *u)
{
    if (u->first_name != NULL && *u->first_name) {
        return u->first_name;
    }
    return u->username ? u->username : u->email;
}

apr_table_t *authsvc_flow_mail_vars(request_rec *r, const authsvc_user_t *u)
{
    apr_table_t *vars = apr_table_make(r->pool, 12);

    apr_table_setn(vars, "name", display_name(u));
    return vars;
}

const authsvc_fail_t *authsvc_flow_require(request_rec *r, const char *const *names,
                                           const authsvc_field_t *const *fields)
{
    apr_array_header_t *errs = NULL;
    int i;

    for (i = 0; names[i] != NULL; i++) {
        if (fields[i]->state != AUTHSVC_FIELD_SET) {
            authsvc_problem_field(r, &errs, names[i], "required", "is required");
        }
    }
    return errs ? authsvc_fail_fields(r, errs) : NULL;
}

const authsvc_fail_t *authsvc_flow_token_invalid(request_rec *r)
{
    return authsvc_fail(r, "token_invalid", "the link or code is invalid or has expired");
}

const char *authsvc_flow_token_hash(request_rec *r, const authsvc_field_t *f)
{
    if (f->state != AUTHSVC_FIELD_SET || !authsvc_crypto_token_plausible(f->s, f->len)) {
        return NULL;
    }
    return authsvc_crypto_sha256_hex(r->pool, f->s, f->len);
}

/* The page a token's link opens (the HTML pages POST the token from there). */
static const char *link_page(const char *purpose)
{
    return strcmp(purpose, AUTHSVC_TOKEN_RESET) == 0 ? "/reset-password" : "/verify-email";
}

apr_status_t authsvc_flow_send_token(request_rec *r, authsvc_db_t *db,
                                     const authsvc_user_t *u, const char *purpose,
                                     const char *to, const char **why)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    apr_table_t *vars = authsvc_flow_mail_vars(r, u);
    const char *token = authsvc_crypto_token(r->pool, AUTHSVC_TOKEN_BYTES);
    apr_int64_t ttl = strcmp(purpose, AUTHSVC_TOKEN_RESET) == 0
                          ? authsvc_config_reset_ttl(c)
                          : authsvc_config_verify_ttl(c);
    authsvc_token_t t;
    apr_status_t rv;

    *why = NULL;
    if (token == NULL) {
        return APR_EGENERAL;
    }
    t.token_hash = authsvc_crypto_sha256_hex(r->pool, token, strlen(token));
    t.user_id = u->id;
    t.purpose = purpose;
    t.email = to;
    t.created_at = AUTHSVC_NOW();
    t.expires_at = t.created_at + ttl;
    /* One live token per purpose: a new request invalidates the older ones. */
    /* Concurrent requests for one account take turns, so "void the older tokens, then
     * add this one" leaves exactly one live token. */
    if ((rv = authsvc_users_lock(db, u->id)) != APR_SUCCESS ||
        (rv = authsvc_tokens_invalidate(db, u->id, purpose)) != APR_SUCCESS ||
        (rv = authsvc_tokens_insert(db, &t)) != APR_SUCCESS) {
        return rv;
    }
    apr_table_setn(vars, "code", token);
    apr_table_setn(vars, "expires", authsvc_flow_duration_text(r->pool, ttl));
    apr_table_setn(vars, "new_email", to);
    apr_table_setn(vars, "old_email", u->email);
    apr_table_setn(vars, "link", c->public_url ? apr_pstrcat(r->pool, c->public_url,
                                                             link_page(purpose), "?token=",
                                                             token, NULL)
                                               : "");
    return authsvc_outbox_queue(r, db, purpose, to, vars, why);
}

apr_status_t authsvc_flow_notify(request_rec *r, authsvc_db_t *db, const authsvc_user_t *u,
                                 const char *name, const char *to, apr_table_t *vars)
{
    const char *why = NULL;
    apr_status_t rv;

    if (vars == NULL) {
        vars = authsvc_flow_mail_vars(r, u);
    }
    rv = authsvc_outbox_queue(r, db, name, to, vars, &why);
    if (rv == APR_EINVAL) {
        /* Stored data cannot carry a line break (every input refuses one), so this is
         * a bug or a tampered row: the change goes on without its notice. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mail %s for user %s refused: %s", name,
                      u->id, why);
        return APR_SUCCESS;
    }
    return rv;
}

const authsvc_fail_t *authsvc_flow_mail_fail(request_rec *r, apr_status_t rv,
                                             const char *why)
{
    if (rv == APR_EINVAL) {
        return authsvc_fail(r, "validation_failed",
                            apr_pstrcat(r->pool, "the mail cannot be sent: ", why, NULL));
    }
    return authsvc_fail(r, "unavailable", "the change could not be stored; try again");
}

const authsvc_fail_t *authsvc_flow_reauthenticate(request_rec *r, authsvc_db_t *db,
                                                  const authsvc_user_t *u,
                                                  const authsvc_field_t *pw,
                                                  const char *field, const char *action)
{
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;
    authsvc_pw_result_t res;
    authsvc_pw_attempt_t a;

    if (pw->state != AUTHSVC_FIELD_SET) {
        authsvc_problem_field(r, &errs, field, "required", "is required");
        return authsvc_fail_fields(r, errs);
    }
    /* A wrong current password is a failed sign-in: the same throttles and lockout. */
    if ((fail = authsvc_abuse_limit(r, AUTHSVC_RL_LOGIN, 1, NULL, u->id, NULL)) != NULL) {
        return fail;
    }
    a.u = u;
    a.account = u->id;
    a.login = NULL;
    a.action = action;
    a.honeypot = 0;
    return authsvc_flow_password_attempt(r, db, &a, pw, &res);
}

/* Does pw match any of the stored hashes? (Each check costs one password hash.) */
static int matches_any(request_rec *r, const authsvc_field_t *pw,
                       const apr_array_header_t *hashes)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    int i;

    for (i = 0; i < hashes->nelts; i++) {
        const char *h = APR_ARRAY_IDX(hashes, i, const char *);
        apr_time_t t0 = apr_time_now();
        authsvc_pw_result_t res = authsvc_password_verify(r->pool, pw->s, pw->len, h,
                                                          authsvc_config_argon2(c));
        authsvc_metrics_hash_time(t0);
        if (res == AUTHSVC_PW_OK || res == AUTHSVC_PW_REHASH) {
            return 1;
        }
    }
    return 0;
}

/* AuthsvcPasswordHistory: pw must differ from the current and the remembered hashes.
 * Costs one password hash per remembered password: callers hold a hashing slot. */
static int history_ok(request_rec *r, authsvc_db_t *db, const authsvc_user_t *u,
                      const char *field, const authsvc_field_t *pw,
                      apr_array_header_t **errs)
{
    int history = authsvc_config_pw_history(authsvc_srv(r->server));
    apr_array_header_t *hashes = NULL;

    if (history == 0) {
        return 1;
    }
    if (authsvc_history_recent(db, u->id, history - 1, &hashes) != APR_SUCCESS) {
        hashes = apr_array_make(r->pool, 1, sizeof(const char *));
    }
    APR_ARRAY_PUSH(hashes, const char *) = u->password_hash;
    if (matches_any(r, pw, hashes)) {
        authsvc_problem_field(r, errs, field, "password_reused",
                              history == 1
                                  ? "must differ from the current password"
                                  : apr_psprintf(r->pool, "must differ from your last %d "
                                                 "passwords", history));
        return 0;
    }
    return 1;
}

int authsvc_flow_check_new_password(request_rec *r, const authsvc_user_t *u, const char *field,
                                    const authsvc_field_t *pw, apr_array_header_t **errs)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    authsvc_policy_t pol;
    authsvc_policy_ctx_t ctx;
    const char *msg, *code = NULL;

    if (pw->state != AUTHSVC_FIELD_SET) {
        authsvc_problem_field(r, errs, field, "required", "is required");
        return 0;
    }
    authsvc_config_policy(c, &pol);
    ctx.email = u->email;
    ctx.username = u->username;
    ctx.first_name = u->first_name;
    ctx.last_name = u->last_name;
    if ((msg = authsvc_policy_check(r->pool, &pol, pw->s, pw->len, &ctx, &code)) != NULL) {
        authsvc_problem_field(r, errs, field, code, msg);
        return 0;
    }
    return 1;
}

apr_status_t authsvc_flow_set_password(request_rec *r, authsvc_db_t *db,
                                       const authsvc_user_t *u, const char *hash)
{
    int keep = authsvc_config_pw_history(authsvc_srv(r->server)) - 1;
    apr_status_t rv = authsvc_users_set_password(db, u->id, hash);

    if (rv == APR_SUCCESS) {
        rv = authsvc_history_record(db, u->id, u->password_hash, keep);
    }
    if (rv == APR_SUCCESS) {
        /* Links mailed before the change must not undo it. */
        rv = authsvc_tokens_invalidate(db, u->id, AUTHSVC_TOKEN_RESET);
    }
    if (rv == APR_SUCCESS) {
        /* Nor a second sign-in step that the old password opened. */
        rv = authsvc_mfa_challenges_forget(db, u->id);
    }
    if (rv == APR_SUCCESS) {
        /* Nor a browser remembered under the old one. */
        rv = authsvc_flow_devices_revoke(r, db, u->id, "password_changed");
    }
    return rv;
}

void authsvc_flow_forget_all(request_rec *r, const apr_array_header_t *hashes)
{
    int i;

    for (i = 0; hashes != NULL && i < hashes->nelts; i++) {
        authsvc_session_forget(r, &APR_ARRAY_IDX(hashes, i, authsvc_session_t));
    }
}

static const authsvc_fail_t *hash(request_rec *r, const authsvc_field_t *pw,
                                  const char **out)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    apr_time_t t0 = apr_time_now();
    apr_status_t rv = authsvc_password_hash(r->pool, pw->s, pw->len, authsvc_config_argon2(c),
                                            out);

    authsvc_metrics_hash_time(t0);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "could not hash a new password");
        return authsvc_fail(r, "unavailable", "the password could not be processed");
    }
    return NULL;
}

const authsvc_fail_t *authsvc_flow_hash_password(request_rec *r, const char *endpoint,
                                                 const authsvc_field_t *pw,
                                                 const char **out)
{
    const authsvc_fail_t *fail;
    int slot;

    if ((fail = authsvc_abuse_hash_enter(r, endpoint, &slot)) != NULL) {
        return fail;
    }
    fail = hash(r, pw, out);
    authsvc_abuse_hash_leave(r, slot);
    return fail;
}

const authsvc_fail_t *authsvc_flow_new_password(request_rec *r, const char *endpoint,
                                                authsvc_db_t *db, const authsvc_user_t *u,
                                                const char *field, const authsvc_field_t *pw,
                                                const char **out)
{
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;
    int slot;

    if (!authsvc_flow_check_new_password(r, u, field, pw, &errs)) {
        return authsvc_fail_fields(r, errs);
    }
    /* One slot for the history checks and the new hash. */
    if ((fail = authsvc_abuse_hash_enter(r, endpoint, &slot)) != NULL) {
        return fail;
    }
    fail = history_ok(r, db, u, field, pw, &errs) ? hash(r, pw, out)
                                                  : authsvc_fail_fields(r, errs);
    authsvc_abuse_hash_leave(r, slot);
    return fail;
}

const authsvc_fail_t *authsvc_flow_me(request_rec *r, authsvc_identity_t **id,
                                      authsvc_db_t **db, authsvc_user_t **u)
{
    const authsvc_fail_t *fail;

    if ((fail = authsvc_flow_whoami(r, id)) != NULL ||
        (fail = authsvc_flow_db(r, db)) != NULL) {
        return fail;
    }
    /* The identity may come from the session cache: read the stored account. */
    if (authsvc_users_by_id(*db, (*id)->user->id, u) != APR_SUCCESS || *u == NULL) {
        return authsvc_fail(r, "unavailable", "the account could not be read; try again");
    }
    return NULL;
}

/*
 * flow_admin.c - the administration API: find accounts, read one, act on one (disable,
 * enable, unlock, delete, end its sessions, reset its second factor, roles), and read
 * the audit trail. Only for a signed-in, active account whose stored roles include
 * admin, whatever the configuration in front says (defence in depth).
 */
#include "apr_encode.h"
#include "apr_lib.h"

#include "account_limits.h"
#include "audit.h"
#include "config.h"
#include "crypto.h"
#include "flow.h"
#include "guard.h"
#include "session.h"
#include "text.h"

#define ID_MAX 64     /* user ids are UUIDs; anything longer is no id of ours */
#define QUERY_MAX 200 /* search text, in bytes */
#define EVENT_MAX 64

/* AuthsvcAdminRequireMFA: the caller's session (or access token, whose amr says so)
 * passed a second factor, by the rule of "Require authsvc mfa". NULL when it did or
 * need not; else the guard's step-up problem (mfa_enrollment_required for an account
 * without a second factor, reauthentication_required for a session without one). */
static const authsvc_fail_t *second_factor(request_rec *r, const authsvc_identity_t *id)
{
    authsvc_require_t *req = NULL;
    const char *prompt = NULL, *code;

    if (!authsvc_config_admin_mfa(authsvc_srv(r->server))) {
        return NULL;
    }
    if (authsvc_guard_parse(r->pool, "mfa", &req) != NULL) {
        return authsvc_fail(r, "internal_error", NULL); /* never passes unchecked */
    }
    if ((code = authsvc_guard_step_up(id, req, 0, AUTHSVC_NOW(), &prompt)) == NULL) {
        return NULL;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "admin API refused to user %s: no second factor in this session "
                  "(AuthsvcAdminRequireMFA)", id->user->id);
    return authsvc_fail(r, code,
                        strcmp(code, "mfa_enrollment_required") == 0
                            ? "the admin API needs two-step sign-in: set it up (POST "
                              "/users/me/mfa), then sign in with it"
                            : "the admin API needs a session that passed the second "
                              "factor: sign in again (or POST /auth/reauthenticate) "
                              "with your code");
}

/* The caller: an administrator, judged on the stored account (a cached identity may
 * predate a role change), with a second factor where AuthsvcAdminRequireMFA says so;
 * *me is that account. */
static const authsvc_fail_t *admin(request_rec *r, authsvc_db_t **db, authsvc_user_t **me)
{
    authsvc_identity_t *id = NULL, stored;
    const authsvc_fail_t *fail;

    if ((fail = authsvc_flow_me(r, &id, db, me)) != NULL) {
        return fail;
    }
    if (strcmp((*me)->status, "active") != 0 ||
        !authsvc_guard_has_role((*me)->roles, AUTHSVC_ADMIN_ROLE)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "admin API refused to user %s: not an administrator", (*me)->id);
        return authsvc_fail(r, "forbidden", "this needs the role " AUTHSVC_ADMIN_ROLE);
    }
    stored = *id; /* the second factor is judged with the stored account too */
    stored.user = *me;
    return second_factor(r, &stored);
}

/* 1 when s has 1 to max characters, each a letter, a digit or one of `extra`. */
static int word(const char *s, apr_size_t max, const char *extra)
{
    apr_size_t n = 0;

    for (; s[n] != '\0'; n++) {
        if (n >= max || !(apr_isalnum(s[n]) || strchr(extra, s[n]) != NULL)) {
            return 0;
        }
    }
    return n > 0;
}

/* The account with this id (not_found for a malformed or unknown one). */
static const authsvc_fail_t *target(request_rec *r, authsvc_db_t *db, const char *id,
                                    authsvc_user_admin_t **out)
{
    *out = NULL;
    if (id == NULL || !word(id, ID_MAX, "-_")) {
        return authsvc_fail(r, "not_found", "no such user");
    }
    if (authsvc_users_admin_get(db, id, out) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    return *out ? NULL : authsvc_fail(r, "not_found", "no such user");
}

/* ---- query parameters --------------------------------------------------------- */

/* A whole number from 1 to max written in plain digits, else 0. */
static int count_param(const char *s, int max)
{
    const char *rest;
    apr_int64_t v = s ? authsvc_text_digits(s, '\0', &rest) : -1;

    return v >= 1 && v <= max ? (int)v : 0;
}

/* limit: AUTHSVC_ADMIN_PAGE when absent (or empty); 0 after adding a field error. */
static int limit_param(request_rec *r, const char *s, apr_array_header_t **errs)
{
    int n = s == NULL ? AUTHSVC_ADMIN_PAGE : count_param(s, AUTHSVC_ADMIN_MAX);

    if (n == 0) {
        authsvc_problem_field(
            r, errs, "limit", "invalid",
            "must be a whole number from 1 to " APR_STRINGIFY(AUTHSVC_ADMIN_MAX));
    }
    return n;
}

/* Cursors are opaque to clients: base64url of our own text ("u<created_at>.<id>" for
 * accounts, "a<id>" for audit events). */
static const char *cursor_make(apr_pool_t *p, const char *text)
{
    return apr_pencode_base64(p, text, APR_ENCODE_STRING,
                              APR_ENCODE_BASE64URL | APR_ENCODE_NOPADDING, NULL);
}

/* The items of a query that asked for one more than `limit` (to learn whether there
 * is a next page), cut to limit: the last one kept when there is a next page, else
 * NULL. */
static const void *page_end(apr_array_header_t *items, int limit)
{
    if (items->nelts <= limit) {
        return NULL;
    }
    items->nelts = limit;
    return items->elts + (apr_size_t)(limit - 1) * (apr_size_t)items->elt_size;
}

/* The text of a cursor that starts with `kind`, without it; NULL when it is not one. */
static const char *cursor_open(request_rec *r, const char *c, char kind)
{
    apr_size_t n = 0;
    const unsigned char *b =
        c ? authsvc_crypto_b64url_decode(r->pool, c, strlen(c), &n) : NULL;

    if (b == NULL || n < 2 || n > 128 || b[0] != (unsigned char)kind ||
        memchr(b, '\0', n) != NULL) {
        return NULL;
    }
    return apr_pstrmemdup(r->pool, (const char *)b + 1, n - 1);
}

/* Exactly n digits at *s (advanced past them), else -1. */
static int fixed(const char **s, int n)
{
    int v = 0;

    for (; n > 0; n--, (*s)++) {
        if (!apr_isdigit(**s)) {
            return -1;
        }
        v = v * 10 + (**s - '0');
    }
    return v;
}

/* The days of month mon (0-11) of year (from 1900, as struct tm has it). */
static int month_days(int year, int mon)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = year + 1900;

    return mon == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : days[mon];
}

/* ISO 8601 in UTC or with an offset: 2026-11-21, 2026-11-21T08:00:00Z,
 * 2026-11-21T09:00:00.5+01:00. 1 with *out in Unix seconds. */
static int iso8601(const char *s, apr_int64_t *out)
{
    apr_time_exp_t tm;
    apr_time_t t;
    int off = 0, sign;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = fixed(&s, 4) - 1900;
    if (*s++ != '-' || (tm.tm_mon = fixed(&s, 2) - 1) < 0 || tm.tm_mon > 11 ||
        *s++ != '-' || (tm.tm_mday = fixed(&s, 2)) < 1 || tm.tm_year < 70 ||
        tm.tm_mday > month_days(tm.tm_year, tm.tm_mon)) {
        return 0;
    }
    if (*s == 'T' || *s == 't') {
        s++;
        if ((tm.tm_hour = fixed(&s, 2)) < 0 || tm.tm_hour > 23 || *s++ != ':' ||
            (tm.tm_min = fixed(&s, 2)) < 0 || tm.tm_min > 59 || *s++ != ':' ||
            (tm.tm_sec = fixed(&s, 2)) < 0 || tm.tm_sec > 60) {
            return 0;
        }
        if (*s == '.' && apr_isdigit(s[1])) {
            for (s++; apr_isdigit(*s); s++) {
            }
        }
        if (*s == 'Z' || *s == 'z') {
            s++;
        }
        else if (*s == '+' || *s == '-') {
            int h, m;
            sign = *s++ == '+' ? 1 : -1;
            if ((h = fixed(&s, 2)) < 0 || h > 23 || *s++ != ':' ||
                (m = fixed(&s, 2)) < 0 || m > 59) {
                return 0;
            }
            off = sign * (h * 3600 + m * 60);
        }
        else {
            return 0;
        }
    }
    if (*s != '\0' || apr_time_exp_gmt_get(&t, &tm) != APR_SUCCESS) {
        return 0;
    }
    *out = apr_time_sec(t) - off;
    return 1;
}

/* since/until: Unix seconds or ISO 8601; dflt when absent. */
static apr_int64_t time_param(request_rec *r, const char *name, const char *s,
                              apr_int64_t dflt, apr_array_header_t **errs)
{
    const char *rest;
    apr_int64_t v;

    if (s == NULL) {
        return dflt;
    }
    if ((v = authsvc_text_digits(s, '\0', &rest)) >= 0 || iso8601(s, &v)) {
        return v;
    }
    authsvc_problem_field(r, errs, name, "invalid",
                          "must be Unix seconds or an ISO 8601 time such as "
                          "2026-11-21T08:00:00Z");
    return dflt;
}

/* A query parameter's value: NULL when absent or empty (empty values count as
 * absent); NULL after adding a field error when it is not UTF-8 (the databases would
 * refuse it: PostgreSQL fails the whole statement). */
static const char *param(request_rec *r, const char *name, const char *s,
                         apr_array_header_t **errs)
{
    if (s == NULL || *s == '\0') {
        return NULL;
    }
    if (authsvc_text_utf8_length(s, strlen(s)) < 0) {
        authsvc_problem_field(r, errs, name, "invalid", "must be UTF-8 text");
        return NULL;
    }
    return s;
}

/* ---- GET /admin/users, GET /admin/users/{id} ----------------------------------- */

/* A LIKE pattern for "contains q", q's own %, _ and backslash escaped. */
static const char *contains(apr_pool_t *p, const char *q)
{
    char *out = apr_palloc(p, 2 * strlen(q) + 3), *o = out;

    *o++ = '%';
    for (; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\') {
            *o++ = '\\';
        }
        *o++ = *q;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

/* The page after the account named by a users cursor; 0 when it is not one. */
static int users_cursor(request_rec *r, const char *c, authsvc_user_search_t *q)
{
    const char *text = cursor_open(r, c, 'u'), *rest = NULL;

    if (text == NULL || (q->after_created = authsvc_text_digits(text, '.', &rest)) < 0 ||
        !word(rest + 1, ID_MAX, "-_")) {
        return 0;
    }
    q->after_id = rest + 1;
    return 1;
}

const authsvc_fail_t *authsvc_flow_admin_users(request_rec *r,
                                               const authsvc_admin_search_in_t *in,
                                               authsvc_admin_users_out_t *out)
{
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;
    const authsvc_user_admin_t *last;
    authsvc_user_search_t q;
    authsvc_user_t *me;
    authsvc_db_t *db;
    const char *text = param(r, "q", in->q, &errs), *cursor;
    const char *status = param(r, "status", in->status, &errs);

    if ((fail = admin(r, &db, &me)) != NULL) {
        return fail;
    }
    memset(&q, 0, sizeof(q));
    q.after_created = APR_INT64_MAX;
    if (text != NULL && strlen(text) > QUERY_MAX) {
        authsvc_problem_field(r, &errs, "q", "too_long",
                              "must be at most " APR_STRINGIFY(QUERY_MAX) " bytes");
    }
    if (status != NULL && strcmp(status, "active") != 0 &&
        strcmp(status, "disabled") != 0) {
        authsvc_problem_field(r, &errs, "status", "invalid",
                              "must be active or disabled");
    }
    q.limit = limit_param(r, param(r, "limit", in->limit, &errs), &errs);
    if ((cursor = param(r, "cursor", in->cursor, &errs)) != NULL &&
        !users_cursor(r, cursor, &q)) {
        authsvc_problem_field(r, &errs, "cursor", "invalid",
                              "must be the next cursor of a previous page");
    }
    if (errs != NULL) {
        return authsvc_fail_fields(r, errs);
    }
    q.pattern = contains(r->pool, text ? text : "");
    q.status = status;
    q.limit++; /* one more than asked for: whether there is a next page */
    if (authsvc_users_search(db, &q, &out->users) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    last = page_end(out->users, q.limit - 1);
    out->next =
        last ? cursor_make(r->pool, apr_psprintf(r->pool, "u%" APR_INT64_T_FMT ".%s",
                                                 last->user->created_at, last->user->id))
             : NULL;
    return NULL;
}

/* The account with its live session count. */
static const authsvc_fail_t *counted(request_rec *r, authsvc_db_t *db, const char *id,
                                     authsvc_user_admin_t **out)
{
    const authsvc_fail_t *fail = target(r, db, id, out);

    if (fail == NULL &&
        authsvc_sessions_count(db, id, AUTHSVC_NOW(), &(*out)->sessions) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the session database is unreachable");
    }
    return fail;
}

const authsvc_fail_t *authsvc_flow_admin_user(request_rec *r, const char *id,
                                              authsvc_user_admin_t **out)
{
    const authsvc_fail_t *fail;
    authsvc_user_t *me;
    authsvc_db_t *db;

    return (fail = admin(r, &db, &me)) != NULL ? fail : counted(r, db, id, out);
}

/* ---- actions ------------------------------------------------------------------- */

typedef struct {
    request_rec *r;
    authsvc_admin_action_t act;
    const authsvc_user_t *me;  /* the administrator */
    const authsvc_user_t *u;   /* the account acted on */
    const char *role;          /* role actions */
    const char *roles;         /* role actions: the account's roles afterwards */
    apr_array_header_t *ended; /* sessions ended, for the caches */
} act_tx_t;

/* Every session of the account ends, with the refresh tokens bound to them (what
 * signing out does to one session). */
static apr_status_t end_sessions(authsvc_db_t *db, act_tx_t *tx)
{
    apr_int64_t now = AUTHSVC_NOW();
    apr_status_t rv = authsvc_sessions_revoke_others(db, tx->u->id, "", &tx->ended);
    int i;

    for (i = 0; rv == APR_SUCCESS && i < tx->ended->nelts; i++) {
        rv = authsvc_refresh_revoke_session(
            db, APR_ARRAY_IDX(tx->ended, i, authsvc_session_t).token_hash, now);
    }
    return rv;
}

/* roles with `role` added or taken away (space-separated words); *changed 0 when that
 * changes nothing. */
static const char *roles_with(apr_pool_t *p, const char *roles, const char *role, int add,
                              int *changed)
{
    char *copy = apr_pstrdup(p, roles), *last = NULL, *w;
    const char *out = "";
    int had = 0;

    for (w = apr_strtok(copy, " ", &last); w != NULL; w = apr_strtok(NULL, " ", &last)) {
        if (strcmp(w, role) == 0) {
            had = 1;
            if (!add) {
                continue;
            }
        }
        out = *out ? apr_pstrcat(p, out, " ", w, NULL) : w;
    }
    *changed = add ? !had : had;
    if (add && !had) {
        out = *out ? apr_pstrcat(p, out, " ", role, NULL) : role;
    }
    return out;
}

/* The change itself; the event to audit in *event, and what to add to the detail. */
static apr_status_t change(authsvc_db_t *db, act_tx_t *tx, const char **event,
                           authsvc_json_t *d)
{
    const char *id = tx->u->id;
    int done = 0, add = tx->act == AUTHSVC_ADMIN_ROLE_ADD;
    apr_status_t rv;

    switch (tx->act) {
    case AUTHSVC_ADMIN_DISABLE:
        *event = "admin_user_disabled";
        if ((rv = authsvc_users_set_status(db, id, "disabled", &done)) != APR_SUCCESS) {
            return rv;
        }
        if (!done) {
            return APR_EEXIST;
        }
        rv = end_sessions(db, tx);
        authsvc_json_set_int(d, "sessions", tx->ended ? tx->ended->nelts : 0);
        return rv;
    case AUTHSVC_ADMIN_ENABLE:
        *event = "admin_user_enabled";
        rv = authsvc_users_set_status(db, id, "active", &done);
        return rv == APR_SUCCESS && !done ? APR_EEXIST : rv;
    case AUTHSVC_ADMIN_UNLOCK:
        *event = "account_unlocked";
        rv = authsvc_lockout_unlock(db, id, AUTHSVC_NOW(), &done);
        authsvc_json_set_str(d, "reason", "admin");
        authsvc_json_set_bool(d, "was_locked", done);
        return rv;
    case AUTHSVC_ADMIN_DELETE:
        *event = "admin_user_deleted";
        return authsvc_flow_erase_account(tx->r, db, tx->u, &tx->ended);
    case AUTHSVC_ADMIN_REVOKE_SESSIONS:
        *event = "admin_sessions_revoked";
        rv = end_sessions(db, tx);
        authsvc_json_set_int(d, "count", tx->ended ? tx->ended->nelts : 0);
        return rv;
    case AUTHSVC_ADMIN_RESET_MFA:
        *event = "mfa_disabled";
        authsvc_json_set_str(d, "reason", "admin");
        /* A sign-in waiting for its second step must not finish with the old factor. */
        rv = authsvc_flow_mfa_off(tx->r, db, tx->u);
        return rv == APR_SUCCESS ? authsvc_mfa_challenges_forget(db, id) : rv;
    case AUTHSVC_ADMIN_ROLE_ADD:
    case AUTHSVC_ADMIN_ROLE_REMOVE:
        *event = add ? "admin_role_added" : "admin_role_removed";
        authsvc_json_set_str(d, "role", tx->role);
        tx->roles = roles_with(tx->r->pool, tx->u->roles, tx->role, add, &done);
        if (!done) {
            return APR_EEXIST;
        }
        if (add && authsvc_roles_too_many(tx->roles)) {
            return APR_ENOSPC;
        }
        rv = authsvc_users_set_roles(db, id, tx->u->roles, tx->roles, &done);
        return rv == APR_SUCCESS && !done ? APR_EAGAIN : rv;
    }
    return APR_EINVAL;
}

/* The change and its audit row on the account, {"admin": id, ...}, commit together. */
static apr_status_t act_tx(authsvc_db_t *db, void *baton)
{
    act_tx_t *tx = baton;
    authsvc_json_t *d = authsvc_json_object(tx->r->pool);
    const char *event = NULL;
    apr_status_t rv;

    authsvc_json_set_str(d, "admin", tx->me->id);
    if ((rv = change(db, tx, &event, d)) != APR_SUCCESS) {
        return rv;
    }
    return authsvc_audit(tx->r, db, event, tx->u->id, NULL, d);
}

/* Refused before anything is written: an administrator locking themself out, a role
 * action without a valid role. */
static const authsvc_fail_t *refused(request_rec *r, act_tx_t *tx,
                                     const authsvc_field_t *role)
{
    int self = strcmp(tx->me->id, tx->u->id) == 0;
    apr_array_header_t *errs = NULL;

    if (tx->act == AUTHSVC_ADMIN_ROLE_ADD || tx->act == AUTHSVC_ADMIN_ROLE_REMOVE) {
        if (role == NULL || role->state != AUTHSVC_FIELD_SET) {
            authsvc_problem_field(r, &errs, "role", "required", "is required");
        }
        else if (strlen(role->s) != role->len || !word(role->s, AUTHSVC_ROLE_MAX, "_.:-")) {
            authsvc_problem_field(
                r, &errs, "role", "invalid",
                "must be 1 to 64 letters, digits, '_', '.', ':' or '-'");
        }
        if (errs != NULL) {
            return authsvc_fail_fields(r, errs);
        }
        tx->role = role->s;
    }
    /* Their own second factor too: DELETE /users/me/mfa asks for the password and a
     * code, which this route does not. */
    if (self && (tx->act == AUTHSVC_ADMIN_DISABLE || tx->act == AUTHSVC_ADMIN_DELETE ||
                 tx->act == AUTHSVC_ADMIN_RESET_MFA ||
                 (tx->act == AUTHSVC_ADMIN_ROLE_REMOVE &&
                  strcmp(tx->role, AUTHSVC_ADMIN_ROLE) == 0))) {
        return authsvc_fail(r, "admin_self_action",
                            "administrators cannot disable, delete or reset the second "
                            "factor of their own account, nor take their own admin role; "
                            "ask another administrator (or use DELETE /users/me/mfa)");
    }
    return NULL;
}

/* The answer to a transaction that did not go through; NULL when it did (APR_EEXIST:
 * it was so already). */
static const authsvc_fail_t *act_failed(request_rec *r, authsvc_admin_action_t act,
                                        apr_status_t rv)
{
    apr_array_header_t *errs = NULL;

    if (rv == APR_EEXIST && act == AUTHSVC_ADMIN_RESET_MFA) {
        return authsvc_fail(r, "mfa_not_enabled", "this account has no second factor");
    }
    if (rv == APR_EAGAIN) {
        return authsvc_fail(r, "unavailable", "the roles changed meanwhile; try again");
    }
    if (rv == APR_ENOENT) { /* deleted by a concurrent request */
        return authsvc_fail(r, "not_found", "no such user");
    }
    if (rv == APR_ENOSPC) {
        authsvc_problem_field(r, &errs, "role", "too_many",
                              "an account has at most " APR_STRINGIFY(AUTHSVC_ROLES_MAX)
                              " roles, " APR_STRINGIFY(AUTHSVC_ROLES_BYTES_MAX)
                              " bytes in all; remove one first");
        return authsvc_fail_fields(r, errs);
    }
    if (rv != APR_SUCCESS && rv != APR_EEXIST) {
        return authsvc_fail(r, "unavailable",
                            "the change could not be stored; try again");
    }
    return NULL;
}

const authsvc_fail_t *authsvc_flow_admin_act(request_rec *r, const char *id,
                                             authsvc_admin_action_t act,
                                             const authsvc_field_t *role,
                                             authsvc_user_admin_t **out)
{
    authsvc_user_admin_t *a = NULL;
    const authsvc_fail_t *fail;
    authsvc_user_t *me;
    authsvc_db_t *db;
    act_tx_t tx;
    apr_status_t rv;

    if (out != NULL) {
        *out = NULL;
    }
    if ((fail = admin(r, &db, &me)) != NULL || (fail = target(r, db, id, &a)) != NULL) {
        return fail;
    }
    memset(&tx, 0, sizeof(tx));
    tx.r = r;
    tx.act = act;
    tx.me = me;
    tx.u = a->user;
    if ((fail = refused(r, &tx, role)) != NULL) {
        return fail;
    }
    rv = authsvc_store_transaction(db, act_tx, &tx);
    if ((fail = act_failed(r, act, rv)) != NULL) {
        return fail;
    }
    authsvc_flow_forget_all(r, tx.ended);
    if (rv == APR_SUCCESS &&
        (act == AUTHSVC_ADMIN_RESET_MFA || act == AUTHSVC_ADMIN_ROLE_ADD ||
         act == AUTHSVC_ADMIN_ROLE_REMOVE) &&
        authsvc_session_refresh_user(r, db, id) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "could not drop the cached sessions of user %s", id);
    }
    if (out == NULL || act == AUTHSVC_ADMIN_DELETE) {
        return NULL;
    }
    return counted(r, db, id, out);
}

/* ---- GET /admin/audit ---------------------------------------------------------- */

/* The audit filter `user` is an account id, an email address (*s normalized here) or a
 * username: 1 when it can be one. */
static int audit_user_ok(request_rec *r, const char **s)
{
    if (strchr(*s, '@') != NULL) {
        return authsvc_text_email_normalize(r->pool, *s, strlen(*s), s) == NULL;
    }
    return word(*s, ID_MAX, "-_.");
}

/* The id of the account the filter names; else the text itself, as an id (a deleted
 * account's events keep its id). */
static const authsvc_fail_t *audit_user(request_rec *r, authsvc_db_t *db, const char **s)
{
    authsvc_user_t *u = NULL;
    apr_status_t rv;

    if (strchr(*s, '@') != NULL) {
        rv = authsvc_users_by_email(db, *s, &u);
    }
    else if ((rv = authsvc_users_by_id(db, *s, &u)) == APR_SUCCESS && u == NULL) {
        rv = authsvc_users_by_username(db, *s, &u);
    }
    if (rv != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    *s = u != NULL ? u->id : *s;
    return NULL;
}

/* The login of an event without an account is only what someone typed, maybe a
 * password in the wrong field: it stays in the table, and is not shown. */
static void hide_stray_logins(apr_array_header_t *events)
{
    int i;

    for (i = 0; i < events->nelts; i++) {
        authsvc_event_t *e = &APR_ARRAY_IDX(events, i, authsvc_event_t);
        if (e->user_id == NULL) {
            e->login = NULL;
        }
    }
}

const authsvc_fail_t *authsvc_flow_admin_audit(request_rec *r,
                                               const authsvc_admin_audit_in_t *in,
                                               authsvc_events_out_t *out)
{
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;
    const authsvc_event_t *last;
    authsvc_audit_query_t q;
    authsvc_user_t *me;
    authsvc_db_t *db;
    const char *c, *rest;

    if ((fail = admin(r, &db, &me)) != NULL) {
        return fail;
    }
    memset(&q, 0, sizeof(q));
    q.user_id = param(r, "user", in->user, &errs);
    q.event = param(r, "event", in->event, &errs);
    if (q.user_id != NULL && !audit_user_ok(r, &q.user_id)) {
        authsvc_problem_field(r, &errs, "user", "invalid",
                              "must be a user id, an email address or a username");
    }
    if (q.event != NULL && !word(q.event, EVENT_MAX, "_")) {
        authsvc_problem_field(r, &errs, "event", "invalid", "must be an event name");
    }
    q.since = time_param(r, "since", param(r, "since", in->since, &errs), 0, &errs);
    q.until =
        time_param(r, "until", param(r, "until", in->until, &errs), APR_INT64_MAX, &errs);
    q.limit = limit_param(r, param(r, "limit", in->limit, &errs), &errs);
    q.before = APR_INT64_MAX;
    if ((c = param(r, "cursor", in->cursor, &errs)) != NULL &&
        ((c = cursor_open(r, c, 'a')) == NULL ||
         (q.before = authsvc_text_digits(c, '\0', &rest)) < 1)) {
        authsvc_problem_field(r, &errs, "cursor", "invalid",
                              "must be the next cursor of a previous page");
    }
    if (errs != NULL) {
        return authsvc_fail_fields(r, errs);
    }
    if (q.user_id != NULL && (fail = audit_user(r, db, &q.user_id)) != NULL) {
        return fail;
    }
    q.limit++; /* one more than asked for: whether there is a next page */
    if (authsvc_audit_search(db, &q, &out->events) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the audit trail is unreachable");
    }
    last = page_end(out->events, q.limit - 1);
    out->next =
        last ? cursor_make(r->pool, apr_pstrcat(r->pool, "a", last->id, NULL)) : NULL;
    hide_stray_logins(out->events);
    return NULL;
}

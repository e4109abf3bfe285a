/*
 * flow_token.c - tokens for API clients: issuing them at sign-in, rotating refresh
 * tokens (and catching a used one presented again), signing out with a token, and
 * introspection.
 *
 * A refresh token belongs to a family, which belongs to one session: the family is the
 * chain of tokens one sign-in hands out, each used once. A used token presented again
 * means two parties hold the chain (one of them a thief): the family and its session
 * end at once (RFC 9700 4.14.2).
 */
#include "abuse.h"
#include "audit.h"
#include "config.h"
#include "crypto.h"
#include "flow.h"
#include "json.h"
#include "jwt.h"
#include "metrics.h"
#include "token.h"

#define FAMILY_BYTES 16

static const authsvc_fail_t *token_invalid(request_rec *r)
{
    return authsvc_fail(r, "access_token_invalid",
                        "the token is invalid, expired or revoked: sign in again");
}

/* In the caller's transaction: a new refresh token of `family` for session s of u, and
 * an access token, into *out (in r->pool). */
static apr_status_t issue(request_rec *r, authsvc_db_t *db, const char *family,
                          const authsvc_user_t *u, const authsvc_session_t *s,
                          authsvc_tokens_t **out)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    authsvc_tokens_t *t = apr_pcalloc(r->pool, sizeof(*t));
    authsvc_refresh_t row;
    apr_int64_t now = AUTHSVC_NOW();
    apr_status_t rv;

    memset(&row, 0, sizeof(row));
    t->refresh_token = authsvc_crypto_token(r->pool, AUTHSVC_TOKEN_BYTES);
    if (t->refresh_token == NULL || family == NULL) {
        return APR_EGENERAL;
    }
    row.token_hash = authsvc_crypto_sha256_hex(r->pool, t->refresh_token,
                                               strlen(t->refresh_token));
    row.family_id = family;
    row.session_hash = s->token_hash;
    row.user_id = u->id;
    row.created_at = now;
    row.expires_at = now + authsvc_config_refresh_ttl(c);
    if (row.expires_at > s->expires_at) {
        row.expires_at = s->expires_at; /* never beyond the session's absolute age */
    }
    if ((rv = authsvc_refresh_insert(db, &row)) != APR_SUCCESS) {
        return rv;
    }
    if ((t->access_token = authsvc_token_access(r, u, s)) == NULL) {
        return APR_EGENERAL;
    }
    t->expires_in = authsvc_config_access_ttl(c);
    t->refresh_expires_in = row.expires_at - now;
    *out = t;
    return APR_SUCCESS;
}

apr_status_t authsvc_flow_tokens_start(request_rec *r, authsvc_db_t *db,
                                       const authsvc_user_t *u, authsvc_login_out_t *out)
{
    out->tokens = NULL;
    if (!authsvc_token_enabled(r->server) ||
        apr_table_get(r->notes, AUTHSVC_NOTE_BROWSER) != NULL) {
        return APR_SUCCESS;
    }
    return issue(r, db, authsvc_crypto_token(r->pool, FAMILY_BYTES), u, out->session,
                 &out->tokens);
}

/* ---- refresh ---------------------------------------------------------------------- */

typedef struct {
    request_rec *r;
    const char *hash;
    apr_int64_t now;
    authsvc_refresh_t *row;   /* the token presented */
    authsvc_session_t *s;     /* its session */
    authsvc_tokens_t *out;
    int reused;               /* a used token again: family and session ended */
} refresh_tx_t;

/* A used token presented again: the family and the session end, in this transaction. */
static apr_status_t end_family(authsvc_db_t *db, refresh_tx_t *tx)
{
    authsvc_json_t *detail = authsvc_json_object(tx->r->pool);
    authsvc_user_t *u = NULL;
    apr_status_t rv;

    tx->reused = 1;
    authsvc_json_set_str(detail, "family", tx->row->family_id);
    authsvc_json_set_int(detail, "used_at", tx->row->rotated_at);
    if ((rv = authsvc_sessions_lookup_token(db, tx->row->session_hash, NULL, tx->now,
                                            &tx->s, &u)) != APR_SUCCESS ||
        (rv = authsvc_refresh_revoke_family(db, tx->row->family_id, tx->now)) !=
            APR_SUCCESS ||
        (rv = authsvc_sessions_revoke(db, tx->row->session_hash, tx->now)) != APR_SUCCESS) {
        return rv;
    }
    return authsvc_audit(tx->r, db, "refresh_reuse", tx->row->user_id, NULL, detail);
}

/* Is this token, used already, within AuthsvcRefreshReuseGrace of its use? (Two tabs
 * refreshing at once: the later one gets tokens of its own.) */
static int in_grace(const refresh_tx_t *tx)
{
    apr_int64_t grace = authsvc_config_reuse_grace(authsvc_srv(tx->r->server));

    return grace > 0 && tx->now - tx->row->rotated_at <= grace;
}

static apr_status_t refresh_tx(authsvc_db_t *db, void *baton)
{
    refresh_tx_t *tx = baton;
    authsvc_user_t *u = NULL;
    apr_status_t rv = authsvc_refresh_rotate(db, tx->hash, tx->now, &tx->row);

    if (rv == APR_SUCCESS && tx->row == NULL) {
        rv = authsvc_refresh_get(db, tx->hash, &tx->row);
        if (rv != APR_SUCCESS || tx->row == NULL || tx->row->revoked_at != 0 ||
            tx->row->expires_at <= tx->now) {
            return rv != APR_SUCCESS ? rv : APR_ENOENT;
        }
        if (!in_grace(tx)) {
            return end_family(db, tx);
        }
    }
    if (rv != APR_SUCCESS ||
        (rv = authsvc_sessions_lookup_token(db, tx->row->session_hash, NULL, tx->now,
                                            &tx->s, &u)) != APR_SUCCESS) {
        return rv;
    }
    if (tx->s == NULL) {
        return APR_ENOENT; /* the session ended: so did its tokens */
    }
    /* A token client's activity is its refreshes: they count as use of the session,
     * as requests with the cookie do (but never bring an idle cookie back to life). */
    if ((rv = authsvc_sessions_seen(db, tx->s->token_hash, tx->now,
                                    authsvc_session_idle_until(tx->r, tx->s, tx->now))) !=
        APR_SUCCESS) {
        return rv;
    }
    return issue(tx->r, db, tx->row->family_id, u, tx->s, &tx->out);
}

const authsvc_fail_t *authsvc_flow_refresh(request_rec *r, const authsvc_field_t *token,
                                           authsvc_tokens_t *out)
{
    static const char *const names[] = {"refresh_token", NULL};
    const authsvc_field_t *const fields[] = {token};
    const authsvc_fail_t *fail;
    authsvc_db_t *db;
    refresh_tx_t tx;
    apr_status_t rv;

    if ((fail = authsvc_flow_tokens_off(r, 0)) != NULL ||
        (fail = authsvc_flow_require(r, names, fields)) != NULL ||
        (fail = authsvc_abuse_limit(r, AUTHSVC_RL_REFRESH, 1, NULL, NULL, NULL)) != NULL ||
        (fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    memset(&tx, 0, sizeof(tx));
    tx.r = r;
    tx.now = AUTHSVC_NOW();
    if ((tx.hash = authsvc_flow_token_hash(r, token)) == NULL) {
        return token_invalid(r);
    }
    /* The account's limit, before anything is used up; only a token that could still
     * be used counts (a dead one in other hands must not lock its owner out). */
    if (authsvc_refresh_get(db, tx.hash, &tx.row) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the token database is unreachable");
    }
    if (tx.row == NULL || tx.row->revoked_at != 0 || tx.row->expires_at <= tx.now) {
        return token_invalid(r);
    }
    if ((fail = authsvc_abuse_limit(r, AUTHSVC_RL_REFRESH, 0, tx.row->user_id,
                                    tx.row->user_id, NULL)) != NULL) {
        return fail;
    }
    tx.row = NULL;
    rv = authsvc_store_transaction(db, refresh_tx, &tx);
    if (rv == APR_ENOENT) {
        return token_invalid(r);
    }
    if (rv != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the token could not be refreshed; try again");
    }
    if (tx.reused) {
        authsvc_metrics_inc(AUTHSVC_M_REFRESH_REUSE);
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "a used refresh token was presented "
                      "again: its family and session (user %s) are revoked",
                      tx.row->user_id);
        if (tx.s != NULL) {
            authsvc_session_forget(r, tx.s);
        }
        return token_invalid(r);
    }
    *out = *tx.out;
    return NULL;
}

/* ---- signed in with a token ------------------------------------------------------- */

const authsvc_fail_t *authsvc_flow_tokens_off(request_rec *r, int introspection)
{
    if (!authsvc_token_enabled(r->server)) {
        return authsvc_fail(r, "not_found", "this server issues no tokens "
                            "(AuthsvcTokenSigningKey)");
    }
    if (introspection && !authsvc_config_introspect(authsvc_dir(r))) {
        return authsvc_fail(r, "not_found", "token introspection is not enabled here "
                            "(AuthsvcIntrospect)");
    }
    return NULL;
}

const authsvc_fail_t *authsvc_flow_bearer_session(request_rec *r, const char *token,
                                                  int expired_ok, authsvc_identity_t **out)
{
    authsvc_json_t *claims;
    const char *why;
    authsvc_db_t *db;
    authsvc_identity_t *id = apr_pcalloc(r->pool, sizeof(*id));
    const authsvc_fail_t *fail;

    *out = NULL;
    if ((why = authsvc_token_verify(r, token, expired_ok, &claims)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "bearer token refused: %s", why);
        return token_invalid(r);
    }
    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    if (authsvc_sessions_lookup_token(db, NULL, authsvc_token_claim(claims, "sid"),
                                      AUTHSVC_NOW(), &id->session, &id->user) !=
        APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the session database is unreachable");
    }
    if (id->session == NULL ||
        strcmp(id->session->user_id, authsvc_token_claim(claims, "sub")) != 0) {
        return token_invalid(r);
    }
    *out = id;
    return NULL;
}

/* The row of refresh token `hash` (*row NULL: none) and, when there is one, its session
 * if live (id->session NULL: ended). NULL, or unavailable. */
static const authsvc_fail_t *refresh_session(request_rec *r, const char *hash,
                                             authsvc_db_t **db, authsvc_refresh_t **row,
                                             authsvc_identity_t *id)
{
    const authsvc_fail_t *fail;

    *row = NULL;
    memset(id, 0, sizeof(*id));
    if ((fail = authsvc_flow_db(r, db)) != NULL) {
        return fail;
    }
    if (authsvc_refresh_get(*db, hash, row) != APR_SUCCESS ||
        (*row != NULL && authsvc_sessions_lookup_token(*db, (*row)->session_hash, NULL,
                                                       AUTHSVC_NOW(), &id->session,
                                                       &id->user) != APR_SUCCESS)) {
        return authsvc_fail(r, "unavailable", "the session database is unreachable");
    }
    return NULL;
}

typedef struct {
    request_rec *r;
    const authsvc_identity_t *id;
    const char *via;
} end_tx_t;

static apr_status_t end_tx(authsvc_db_t *db, void *baton)
{
    end_tx_t *tx = baton;
    const authsvc_session_t *s = tx->id->session;
    authsvc_json_t *detail = NULL;
    apr_status_t rv;

    if (tx->via != NULL) {
        detail = authsvc_json_object(tx->r->pool);
        authsvc_json_set_str(detail, "via", tx->via);
    }
    if ((rv = authsvc_session_revoke(tx->r, db, s)) != APR_SUCCESS ||
        (rv = authsvc_refresh_revoke_session(db, s->token_hash, AUTHSVC_NOW())) !=
            APR_SUCCESS) {
        return rv;
    }
    return authsvc_audit(tx->r, db, "logout", tx->id->user->id, NULL, detail);
}

const authsvc_fail_t *authsvc_flow_end_session(request_rec *r, authsvc_db_t *db,
                                               const authsvc_identity_t *id,
                                               const char *via)
{
    end_tx_t tx;

    tx.r = r;
    tx.id = id;
    tx.via = via;
    if (authsvc_store_transaction(db, end_tx, &tx) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the session could not be ended; try again");
    }
    authsvc_session_forget(r, id->session);
    return NULL;
}

const authsvc_fail_t *authsvc_flow_logout_refresh(request_rec *r,
                                                  const authsvc_field_t *token)
{
    const char *hash = authsvc_flow_token_hash(r, token);
    authsvc_refresh_t *row = NULL;
    authsvc_identity_t id;
    const authsvc_fail_t *fail;
    authsvc_db_t *db = NULL;

    if (hash == NULL || !authsvc_token_enabled(r->server)) {
        return NULL;
    }
    if ((fail = refresh_session(r, hash, &db, &row, &id)) != NULL) {
        return fail;
    }
    if (row == NULL || row->revoked_at != 0 || id.session == NULL) {
        return NULL;
    }
    return authsvc_flow_end_session(r, db, &id, "refresh_token");
}

/* ---- introspection ---------------------------------------------------------------- */

/* A live refresh token's answer, or NULL. */
static const authsvc_fail_t *introspect_refresh(request_rec *r, const char *hash,
                                                authsvc_json_t *o)
{
    authsvc_refresh_t *row = NULL;
    authsvc_identity_t id;
    authsvc_db_t *db = NULL;
    const authsvc_fail_t *fail = refresh_session(r, hash, &db, &row, &id);
    apr_int64_t now = AUTHSVC_NOW();

    if (fail != NULL) {
        return fail;
    }
    if (row == NULL || id.session == NULL || row->revoked_at != 0 || row->rotated_at != 0 ||
        row->expires_at <= now) {
        return NULL;
    }
    authsvc_json_set_bool(o, "active", 1);
    authsvc_json_set_str(o, "token_type", "refresh_token");
    authsvc_json_set_str(o, "sub", row->user_id);
    authsvc_json_set_str(o, "sid", id.session->id);
    authsvc_json_set_int(o, "iat", row->created_at);
    authsvc_json_set_int(o, "exp", row->expires_at);
    return NULL;
}

/* A live access token's answer: its claims, or NULL. */
static const authsvc_fail_t *introspect_access(request_rec *r, const authsvc_field_t *t,
                                               authsvc_json_t *o)
{
    authsvc_json_t *claims;
    int live = 0;

    if (t->len > AUTHSVC_JWT_MAX || strlen(t->s) != t->len ||
        authsvc_token_verify(r, t->s, 0, &claims) != NULL) {
        return NULL;
    }
    if (authsvc_session_id_live(r, authsvc_token_claim(claims, "sid"),
                                authsvc_token_claim(claims, "sub"), &live) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the session database is unreachable");
    }
    if (live) {
        authsvc_json_update(o, claims);
        authsvc_json_set_bool(o, "active", 1);
        authsvc_json_set_str(o, "token_type", "access_token");
        authsvc_json_set_str(o, "username", authsvc_token_claim(claims, "email"));
    }
    return NULL;
}

const authsvc_fail_t *authsvc_flow_introspect(request_rec *r, const authsvc_field_t *token,
                                              authsvc_json_t **out)
{
    static const char *const names[] = {"token", NULL};
    const authsvc_field_t *const fields[] = {token};
    const authsvc_fail_t *fail;
    const char *hash;

    if ((fail = authsvc_flow_tokens_off(r, 1)) != NULL ||
        (fail = authsvc_flow_require(r, names, fields)) != NULL) {
        return fail;
    }
    *out = authsvc_json_object(r->pool);
    authsvc_json_set_bool(*out, "active", 0);
    hash = authsvc_flow_token_hash(r, token);
    return hash ? introspect_refresh(r, hash, *out) : introspect_access(r, token, *out);
}

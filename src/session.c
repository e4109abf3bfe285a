/*
 * session.c - session tokens, cookies and lookups.
 */
#include "apr_lib.h"
#include "http_ssl.h"
#include "util_cookies.h"

#include "config.h"
#include "crypto.h"
#include "request.h"
#include "session.h"

#define TOKEN_BYTES 32
#define TOKEN_CHARS 43 /* base64url of 32 bytes, unpadded */
#define PUBLIC_ID_BYTES 16

/* Secure when configured so, else when the request came over TLS. */
static int cookie_secure(request_rec *r, const authsvc_srv_cfg_t *c)
{
    if (c->cookie_secure != AUTHSVC_UNSET) {
        return c->cookie_secure;
    }
    return ap_ssl_conn_is_ssl(r->connection) || strcmp(ap_http_scheme(r), "https") == 0;
}

const char *authsvc_session_cookie_name(request_rec *r)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);

    if (c->cookie_name != NULL) {
        return c->cookie_name;
    }
    return cookie_secure(r, c) ? AUTHSVC_COOKIE_NAME_SECURE : AUTHSVC_COOKIE_NAME_PLAIN;
}

static const char *cookie_attrs(request_rec *r)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const char *samesite = "Lax";

    if (c->cookie_samesite == AUTHSVC_SAMESITE_STRICT) {
        samesite = "Strict";
    }
    else if (c->cookie_samesite == AUTHSVC_SAMESITE_NONE) {
        samesite = "None";
    }
    return apr_pstrcat(r->pool, "Path=/; HttpOnly; SameSite=", samesite,
                       cookie_secure(r, c) ? "; Secure" : "",
                       c->cookie_domain ? "; Domain=" : "",
                       c->cookie_domain ? c->cookie_domain : "", NULL);
}

/* Written here rather than with ap_cookie_write(), which logs the cookie value (our
 * token) at debug level. */
void authsvc_session_set_cookie(request_rec *r, const char *token)
{
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_pstrcat(r->pool, authsvc_session_cookie_name(r), "=", token, "; ",
                               cookie_attrs(r), NULL));
}

void authsvc_session_clear_cookie(request_rec *r)
{
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_pstrcat(r->pool, authsvc_session_cookie_name(r),
                               "=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; ",
                               cookie_attrs(r), NULL));
}

apr_status_t authsvc_session_create(request_rec *r, authsvc_db_t *db,
                                    const authsvc_user_t *u, authsvc_session_t **out,
                                    const char **token)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const authsvc_client_t *cl = authsvc_request_client(r);
    authsvc_session_t *s = apr_pcalloc(r->pool, sizeof(*s));
    apr_int64_t now = AUTHSVC_NOW();
    const char *t = authsvc_crypto_token(r->pool, TOKEN_BYTES);
    apr_status_t rv;

    s->id = authsvc_crypto_token(r->pool, PUBLIC_ID_BYTES);
    if (t == NULL || s->id == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "no randomness for a session token");
        return APR_EGENERAL;
    }
    s->token_hash = authsvc_crypto_sha256_hex(r->pool, t, strlen(t));
    s->user_id = u->id;
    s->created_at = now;
    s->last_seen_at = now;
    s->expires_at = now + authsvc_config_max_age(c);
    s->idle_expires_at = now + authsvc_config_idle_timeout(c);
    if (s->idle_expires_at > s->expires_at) {
        s->idle_expires_at = s->expires_at;
    }
    s->ip = cl->ip;
    s->user_agent = cl->user_agent;
    rv = authsvc_sessions_insert(db, s);
    if (rv == APR_SUCCESS) {
        *out = s;
        *token = t;
    }
    return rv;
}

/* A token we issued is exactly 43 base64url characters; anything else is not looked up. */
static int plausible_token(const char *v)
{
    apr_size_t i;

    for (i = 0; v[i] != '\0'; i++) {
        if (i >= TOKEN_CHARS || !(apr_isalnum(v[i]) || v[i] == '-' || v[i] == '_')) {
            return 0;
        }
    }
    return i == TOKEN_CHARS;
}

/* last_seen is written at most once a minute; with idle timeouts under two minutes, at
 * most every half timeout, so that activity still keeps a short session alive. */
static apr_int64_t touch_interval(const authsvc_srv_cfg_t *c)
{
    apr_int64_t idle = authsvc_config_idle_timeout(c);
    return idle < 120 ? idle / 2 : 60;
}

apr_status_t authsvc_session_current(request_rec *r, authsvc_db_t *db,
                                     authsvc_identity_t **out)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const char *val = NULL, *hash;
    authsvc_session_t *s;
    authsvc_user_t *u;
    apr_int64_t now = AUTHSVC_NOW(), idle;
    apr_status_t rv;

    *out = NULL;
    if (ap_cookie_read(r, authsvc_session_cookie_name(r), &val, 0) != APR_SUCCESS ||
        val == NULL || !plausible_token(val)) {
        return APR_SUCCESS;
    }
    hash = authsvc_crypto_sha256_hex(r->pool, val, strlen(val));
    rv = authsvc_sessions_lookup(db, hash, now, &s, &u);
    if (rv != APR_SUCCESS || s == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "session cookie names no live session");
        return rv;
    }
    if (now - s->last_seen_at >= touch_interval(c)) {
        idle = now + authsvc_config_idle_timeout(c);
        if (idle > s->expires_at) {
            idle = s->expires_at;
        }
        /* A failed touch costs the session a little idle time, not the request. */
        if (authsvc_sessions_touch(db, hash, now, idle, now - touch_interval(c)) ==
            APR_SUCCESS) {
            s->last_seen_at = now;
            s->idle_expires_at = idle;
        }
    }
    *out = apr_palloc(r->pool, sizeof(**out));
    (*out)->session = s;
    (*out)->user = u;
    return APR_SUCCESS;
}

apr_status_t authsvc_session_revoke(request_rec *r, authsvc_db_t *db,
                                    const authsvc_session_t *s)
{
    (void)r;
    return authsvc_sessions_revoke(db, s->token_hash, AUTHSVC_NOW());
}

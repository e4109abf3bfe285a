/*
 * csrf.c - synchronizer tokens for forms, the origin rule for JSON, CORS.
 */
#include "apr_strings.h"

#include "config.h"
#include "crypto.h"
#include "csrf.h"
#include "problem.h"
#include "request.h"
#include "returnto.h"
#include "session.h"
#include "token.h"

#define PRE_COOKIE_PLAIN  "authsvc-csrf"
#define PRE_COOKIE_SECURE "__Host-authsvc-csrf" /* Secure, Path=/, no Domain */
#define LABEL_SESSION     "authsvc csrf v1 session"
#define LABEL_PRE         "authsvc csrf v1 pre-session"
#define NOTE_TOKEN        "authsvc-csrf-token"

static const char *pre_name(request_rec *r)
{
    return authsvc_cookie_secure(r) ? PRE_COOKIE_SECURE : PRE_COOKIE_PLAIN;
}

static const char *mac(request_rec *r, const char *key, const char *label)
{
    return key != NULL && *key != '\0'
               ? authsvc_crypto_hmac_b64url(r->pool, key, strlen(key), label)
               : NULL;
}

/* The pre-session cookie: lives for the browser session; Lax so that a link from mail
 * still arrives with it. */
static const char *new_pre_cookie(request_rec *r)
{
    const char *v = authsvc_crypto_token(r->pool, AUTHSVC_TOKEN_BYTES);

    if (v != NULL) {
        authsvc_cookie_set(r, pre_name(r), v, -1, "Lax", 0);
    }
    return v;
}

const char *authsvc_csrf_token(request_rec *r)
{
    const char *t = apr_table_get(r->notes, NOTE_TOKEN);
    const char *session, *pre;

    if (t != NULL) {
        return t;
    }
    if ((session = authsvc_session_cookie_token(r)) != NULL) {
        t = mac(r, session, LABEL_SESSION);
    }
    else {
        pre = authsvc_cookie_get(r, pre_name(r));
        t = mac(r, pre != NULL ? pre : new_pre_cookie(r), LABEL_PRE);
    }
    if (t != NULL) {
        apr_table_setn(r->notes, NOTE_TOKEN, t);
    }
    return t;
}

static int same(const char *want, const char *sent, apr_size_t len)
{
    return want != NULL && strlen(sent) == len && authsvc_crypto_streq(want, sent);
}

int authsvc_csrf_form_ok(request_rec *r, const char *sent, apr_size_t len)
{
    const char *session = authsvc_session_cookie_token(r);

    if (sent == NULL || len == 0) {
        return 0;
    }
    /* With a session, only its token: a pre-session cookie can be planted by a sibling
     * subdomain where it is not __Host- (plain HTTP), and must not act for a session. */
    if (session != NULL) {
        return same(mac(r, session, LABEL_SESSION), sent, len);
    }
    return same(mac(r, authsvc_cookie_get(r, pre_name(r)), LABEL_PRE), sent, len);
}

static int in_list(const apr_array_header_t *a, const char *o)
{
    int i;

    for (i = 0; a != NULL && i < a->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(a, i, const char *), o) == 0) {
            return 1;
        }
    }
    return 0;
}

/* This site (as the request names it, or as AuthsvcPublicURL does), a trusted origin
 * or a CORS origin. */
static int trusted(request_rec *r, const char *origin)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const char *o = authsvc_return_to_origin(r->pool, origin), *self;

    if (o == NULL) {
        return 0; /* "null", garbage */
    }
    /* scheme://host[:port] of this request, as the browser named the host */
    self = authsvc_return_to_origin(r->pool, ap_construct_url(r->pool, "", r));
    return (self != NULL && strcmp(o, self) == 0) ||
           (c->public_origin != NULL && strcmp(o, c->public_origin) == 0) ||
           in_list(c->trusted_origins, o) || in_list(c->cors_origins, o);
}

const char *authsvc_csrf_json(request_rec *r)
{
    const char *origin, *site, *ct;

    if (r->method_number == M_GET || r->method_number == M_OPTIONS || r->header_only ||
        authsvc_session_cookie_token(r) == NULL || authsvc_token_bearer(r) != NULL) {
        return NULL;
    }
    if (authsvc_request_has_body(r)) {
        ct = apr_table_get(r->headers_in, "Content-Type");
        if (!authsvc_request_is_json(ct)) {
            return "a request signed in with the session cookie must send its body as "
                   "application/json";
        }
    }
    if ((origin = apr_table_get(r->headers_in, "Origin")) != NULL) {
        return trusted(r, origin) ? NULL
                                  : "the request's Origin is neither this site nor a "
                                    "trusted origin";
    }
    site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    if (site != NULL && strcmp(site, "same-origin") == 0) {
        return NULL;
    }
    return "a request signed in with the session cookie needs an Origin header of this "
           "site (or Sec-Fetch-Site: same-origin)";
}

int authsvc_csrf_cors(request_rec *r)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *o;
    int preflight = r->method_number == M_OPTIONS &&
                    apr_table_get(r->headers_in, "Access-Control-Request-Method") != NULL;
    apr_table_t *h = r->err_headers_out;

    if (c->cors_origins == NULL) {
        return 0;
    }
    /* Every answer depends on Origin where CORS is on, for caches too. */
    apr_table_mergen(h, "Vary", "Origin");
    if (origin == NULL) {
        return 0;
    }
    o = authsvc_return_to_origin(r->pool, origin);
    if (o == NULL || !in_list(c->cors_origins, o)) {
        if (preflight) {
            authsvc_problem_send(r, "csrf_failed", "this origin may not call the API");
            return 1;
        }
        return 0;
    }
    apr_table_setn(h, "Access-Control-Allow-Origin", origin);
    apr_table_setn(h, "Access-Control-Allow-Credentials", "true");
    if (!preflight) {
        apr_table_setn(h, "Access-Control-Expose-Headers",
                       "Retry-After, WWW-Authenticate, Location");
        return 0;
    }
    apr_table_setn(h, "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE");
    apr_table_setn(h, "Access-Control-Allow-Headers", "Content-Type, Authorization");
    apr_table_setn(h, "Access-Control-Max-Age", "600");
    r->status = HTTP_NO_CONTENT;
    return 1;
}

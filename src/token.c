/*
 * token.c - access tokens: claims, signing, Bearer headers, and the identity a token
 * carries.
 */
#include "apr_lib.h"

#include "cache.h"
#include "config.h"
#include "credparse.h"
#include "crypto.h"
#include "jwt.h"
#include "l1.h"
#include "token.h"

#define JTI_BYTES 16

int authsvc_token_enabled(server_rec *s)
{
    return authsvc_srv(s)->jwt_keys != NULL;
}

/* The methods (RFC 8176) of session s: "pwd", and when it passed a second factor the
 * factor ("otp", "rc") and "mfa". */
static authsvc_json_t *amr_of(apr_pool_t *p, const authsvc_session_t *s)
{
    authsvc_json_t *arr = authsvc_json_words(p, s->mfa_at > 0 && s->amr ? s->amr : "pwd");

    if (s->mfa_at > 0) {
        authsvc_json_append_str(arr, "mfa");
    }
    return arr;
}

const char *authsvc_token_access(request_rec *r, const authsvc_user_t *u,
                                 const authsvc_session_t *s)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const authsvc_jwt_key_t *k = authsvc_jwt_keyset_signer(c->jwt_keys);
    authsvc_json_t *cl = authsvc_json_object(r->pool);
    apr_int64_t now = AUTHSVC_NOW();
    const char *jti = authsvc_crypto_token(r->pool, JTI_BYTES), *payload, *t = NULL;
    authsvc_identity_t id = {(authsvc_session_t *)s, (authsvc_user_t *)u};
    apr_int64_t auth_time = authsvc_session_fresh_at(&id);

    if (k == NULL || jti == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "no signing key or no randomness for "
                      "an access token");
        return NULL;
    }
    authsvc_json_set_str(cl, "iss", authsvc_config_token_issuer(c));
    authsvc_json_set_str(cl, "aud", authsvc_config_token_audience(c));
    authsvc_json_set_str(cl, "sub", u->id);
    authsvc_json_set_str(cl, "sid", s->id);
    authsvc_json_set_str(cl, "jti", jti);
    authsvc_json_set_int(cl, "iat", now);
    authsvc_json_set_int(cl, "nbf", now);
    authsvc_json_set_int(cl, "exp", now + authsvc_config_access_ttl(c));
    /* As fresh as the cookie: a session of an account with a second factor that has not
     * passed it has no auth_time (and so never meets "Require authsvc fresh"). */
    if (auth_time > 0) {
        authsvc_json_set_int(cl, "auth_time", auth_time);
    }
    authsvc_json_set(cl, "amr", amr_of(r->pool, s));
    authsvc_json_set_str(cl, "email", u->email);
    authsvc_json_set_bool(cl, "email_verified", u->email_verified_at != 0);
    authsvc_json_set(cl, "roles", authsvc_json_words(r->pool, u->roles));
    if (u->username != NULL) {
        authsvc_json_set_str(cl, "preferred_username", u->username);
    }
    if (u->first_name != NULL) {
        authsvc_json_set_str(cl, "given_name", u->first_name);
    }
    if (u->last_name != NULL) {
        authsvc_json_set_str(cl, "family_name", u->last_name);
    }
    if ((payload = authsvc_json_dump(r->pool, cl)) == NULL ||
        (t = authsvc_jwt_sign(r->pool, k, payload, strlen(payload))) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "signing an access token failed");
    }
    return t;
}

const char *authsvc_token_bearer(request_rec *r)
{
    /* "Bearer" alone is a Bearer header with an empty (so invalid) token. */
    const char *h = apr_table_get(r->headers_in, "Authorization");
    const char *t = authsvc_credparse_bearer(h);

    if (t == NULL || !authsvc_config_bearer(authsvc_dir(r)) ||
        !authsvc_token_enabled(r->server)) {
        return NULL;
    }
    return t;
}

const char *authsvc_token_claim(authsvc_json_t *cl, const char *name)
{
    const char *v = NULL;
    apr_size_t n = 0;

    return authsvc_json_get_string(cl, name, &v, &n) == AUTHSVC_JSON_OK && n > 0 &&
                   strlen(v) == n
               ? v
               : NULL;
}

const char *authsvc_token_verify(request_rec *r, const char *token, int expired_ok,
                                 authsvc_json_t **claims)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const authsvc_jwt_key_t *k = NULL;
    const char *why = NULL;
    apr_size_t len = strlen(token);
    apr_int64_t now = AUTHSVC_NOW();
    long long exp = 0;

    *claims = NULL;
    if (c->jwt_keys == NULL) {
        return "no keys";
    }
    if (authsvc_jwt_verify(r->pool, c->jwt_keys, token, len, claims, &k, &why) ==
            APR_SUCCESS &&
        expired_ok && authsvc_json_get_int(*claims, "exp", &exp) == AUTHSVC_JSON_OK &&
        exp <= now) {
        now = exp - 1; /* checked as at its last second */
    }
    if (why != NULL ||
        authsvc_jwt_check_claims(*claims, authsvc_config_token_issuer(c),
                                 authsvc_config_token_audience(c), now,
                                 authsvc_config_clock_skew(c), &why) != APR_SUCCESS) {
        *claims = NULL;
        return why ? why : "invalid";
    }
    if (authsvc_token_claim(*claims, "sub") == NULL ||
        authsvc_token_claim(*claims, "sid") == NULL ||
        authsvc_token_claim(*claims, "email") == NULL) {
        *claims = NULL;
        return "sub, sid or email missing";
    }
    return NULL;
}

/* The identity of verified claims. */
static authsvc_identity_t *claims_identity(request_rec *r, authsvc_json_t *cl)
{
    authsvc_identity_t *id = apr_pcalloc(r->pool, sizeof(*id));
    authsvc_session_t *s = apr_pcalloc(r->pool, sizeof(*s));
    authsvc_user_t *u = apr_pcalloc(r->pool, sizeof(*u));
    apr_array_header_t *amr = NULL, *roles = NULL;
    long long exp = 0, auth_time = 0;
    int verified = 0, mfa = 0, i;

    authsvc_json_get_int(cl, "exp", &exp);
    authsvc_json_get_int(cl, "auth_time", &auth_time);
    authsvc_json_get_bool(cl, "email_verified", &verified);
    if (authsvc_json_get_strings(r->pool, cl, "amr", &amr) != AUTHSVC_JSON_OK) {
        amr = apr_array_make(r->pool, 1, sizeof(const char *));
    }
    if (authsvc_json_get_strings(r->pool, cl, "roles", &roles) != AUTHSVC_JSON_OK) {
        roles = apr_array_make(r->pool, 1, sizeof(const char *));
    }
    for (i = 0; i < amr->nelts; i++) {
        mfa |= strcmp(APR_ARRAY_IDX(amr, i, const char *), "mfa") == 0;
    }
    s->id = authsvc_token_claim(cl, "sid");
    s->user_id = u->id = authsvc_token_claim(cl, "sub");
    s->expires_at = s->idle_expires_at = exp;
    s->auth_at = auth_time;
    s->mfa_at = mfa ? auth_time : 0;
    s->amr = apr_array_pstrcat(r->pool, amr, ' ');
    u->email = authsvc_token_claim(cl, "email");
    u->username = authsvc_token_claim(cl, "preferred_username");
    u->first_name = authsvc_token_claim(cl, "given_name");
    u->last_name = authsvc_token_claim(cl, "family_name");
    u->roles = apr_array_pstrcat(r->pool, roles, ' ');
    u->status = "active";
    u->email_verified_at = verified ? 1 : 0;
    u->mfa_enabled_at = s->mfa_at;
    id->session = s;
    id->user = u;
    return id;
}

authsvc_token_result_t authsvc_token_identity(request_rec *r, const char *token,
                                              authsvc_identity_t **out)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    apr_uint32_t gen = authsvc_cache_generation(); /* read before any lookup */
    apr_int64_t now = AUTHSVC_NOW(), until;
    /* This process's copies of tokens are kept apart from its copies of session cookies
     * (owner &c->jwt_keys, not c): a cookie's value is never taken for a token. */
    unsigned char digest[32], buf[AUTHSVC_SESSION_ENTRY_MAX];
    unsigned int len = 0;
    authsvc_json_t *claims;
    const char *why;
    int live = 0;

    *out = NULL;
    if (strlen(token) > AUTHSVC_JWT_MAX || !authsvc_crypto_sha256(token, strlen(token), digest)) {
        return AUTHSVC_TOKEN_INVALID;
    }
    if (authsvc_l1_get(&c->jwt_keys, digest, now, gen, buf, &len) &&
        (*out = authsvc_session_decode(r, buf, len, NULL)) != NULL) {
        return AUTHSVC_TOKEN_OK;
    }
    if ((why = authsvc_token_verify(r, token, 0, &claims)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "bearer token refused: %s", why);
        return AUTHSVC_TOKEN_INVALID;
    }
    *out = claims_identity(r, claims);
    if (authsvc_session_id_live(r, (*out)->session->id, (*out)->user->id, &live) !=
        APR_SUCCESS) {
        *out = NULL;
        return AUTHSVC_TOKEN_UNAVAILABLE;
    }
    if (!live) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "bearer token refused: its session "
                      "is no longer live");
        *out = NULL;
        return AUTHSVC_TOKEN_INVALID;
    }
    until = authsvc_l1_until(now, authsvc_config_cache_ttl(c),
                             (*out)->session->expires_at + authsvc_config_clock_skew(c));
    if ((len = authsvc_session_encode(*out, buf)) > 0) {
        authsvc_l1_put(&c->jwt_keys, digest, buf, len, gen, until);
    }
    return AUTHSVC_TOKEN_OK;
}

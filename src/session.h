/*
 * session.h - signed-in sessions: the cookie, its token, and the row behind it.
 *
 * The cookie carries 32 random bytes (base64url); the database keeps only their SHA-256,
 * so a copy of the database signs nobody in. Every login makes a new token.
 */
#ifndef AUTHSVC_SESSION_H
#define AUTHSVC_SESSION_H

#include "authsvc.h"
#include "store.h"

/* A resolved session and the account it belongs to. */
typedef struct {
    authsvc_session_t *session;
    authsvc_user_t *user;
} authsvc_identity_t;

/* An identity as the bytes the caches keep (buf: AUTHSVC_SESSION_ENTRY_MAX bytes;
 * returns the length, 0 when it does not fit), and back in r->pool (NULL when
 * malformed; token_hash is set as given). */
#define AUTHSVC_SESSION_ENTRY_MAX 4096
unsigned int authsvc_session_encode(authsvc_identity_t *id, unsigned char *buf);
authsvc_identity_t *authsvc_session_decode(request_rec *r, const unsigned char *buf,
                                           unsigned int len, const char *token_hash);

/* child_init: this process's table of recently seen sessions. */
void authsvc_session_child_init(apr_pool_t *pchild);

/* The cookie name in force for this request (AuthsvcCookieName or the default, which
 * depends on whether the cookie is Secure). */
const char *authsvc_session_cookie_name(request_rec *r);
/* The remembered-device cookie's name: the session cookie's, then "_device". */
const char *authsvc_device_cookie_name(request_rec *r);

/* Whether our cookies are Secure: AuthsvcCookieSecure, else whether the request came
 * over TLS. */
int authsvc_cookie_secure(request_rec *r);

/* Add Set-Cookie name=value; Path=/; HttpOnly; SameSite=samesite, Secure when our cookies
 * are (authsvc_cookie_secure), the AuthsvcCookieDomain when domain is set. max_age: > 0
 * seconds, 0 clears the cookie, < 0 a browser-session cookie. In err_headers_out, so it
 * survives redirects and errors. */
void authsvc_cookie_set(request_rec *r, const char *name, const char *value,
                        apr_int64_t max_age, const char *samesite, int domain);

/* authsvc_cookie_set with Path=path (a cookie only one location's pages read). */
void authsvc_cookie_set_path(request_rec *r, const char *name, const char *value,
                             apr_int64_t max_age, const char *samesite, int domain,
                             const char *path);

/* The session cookie's SameSite value (AuthsvcCookieSameSite). */
const char *authsvc_cookie_samesite(request_rec *r);

/* The value of cookie `name` in r->pool, or NULL when absent or sent twice with
 * different values (a cookie-tossing attempt: neither is trusted). */
const char *authsvc_cookie_get(request_rec *r, const char *name);

/* The session token the session cookie carries (unchecked), or NULL. */
const char *authsvc_session_cookie_token(request_rec *r);

/* How a session's user authenticated: when (the last full authentication), when the
 * second factor last passed (0: never in this session), and with what (RFC 8176 method
 * names, space-separated: "pwd", "pwd otp"; "rc" for a recovery code). */
typedef struct {
    apr_int64_t auth_at;
    apr_int64_t mfa_at;
    const char *amr;
} authsvc_authn_t;

/* Start a session for u inside the caller's transaction: a new token, its hash stored
 * with the client's IP and agent and how the user authenticated. The Set-Cookie header
 * is added only by authsvc_session_set_cookie, once the transaction committed. */
apr_status_t authsvc_session_create(request_rec *r, authsvc_db_t *db,
                                    const authsvc_user_t *u, const authsvc_authn_t *how,
                                    authsvc_session_t **out, const char **token);

/* The idle expiry of session s after activity at now: AuthsvcSessionIdleTimeout later,
 * never past its absolute expiry. */
apr_int64_t authsvc_session_idle_until(request_rec *r, const authsvc_session_t *s,
                                       apr_int64_t now);

/* When the session's user last authenticated in full: the password, and the second
 * factor too when the account has one (0 when the session never passed it). */
apr_int64_t authsvc_session_fresh_at(const authsvc_identity_t *id);

/* Send the session cookie (in err_headers_out, so it survives any status). */
void authsvc_session_set_cookie(request_rec *r, const char *token);

/* Tell the browser to forget the session cookie. */
void authsvc_session_clear_cookie(request_rec *r);

/* The live session this request's cookie names: from the cache, else the database
 * (the result is cached either way, AuthsvcCacheTTL at most). *out is NULL when there is
 * no cookie or no live session for it; APR_EGENERAL only when the database was needed
 * and failed. Records activity at most once per touch interval. */
apr_status_t authsvc_session_current(request_rec *r, authsvc_identity_t **out);

/* After a revocation of s (token_hash and id are used) committed: every cache lookup
 * of its cookie and of its access tokens (sid) now says "dead" (a tombstone, so a
 * lookup racing the revocation cannot cache the session as live). */
void authsvc_session_forget(request_rec *r, const authsvc_session_t *s);

/* Is the session with public id sid (an access token's) live and user_id's (the
 * token's sub): not revoked, not past its absolute expiry, its account active? From the cache, else the database (the answer
 * is cached for AuthsvcCacheTTL; a revocation on this machine, or any machine sharing
 * the cache, writes "dead" at once). APR_EGENERAL only when the database was needed
 * and failed. */
apr_status_t authsvc_session_id_live(request_rec *r, const char *sid, const char *user_id,
                                     int *live);

/* After the account itself changed (names, roles): drop the cached copies of its live
 * sessions, so the next request reads the account again. */
apr_status_t authsvc_session_refresh_user(request_rec *r, authsvc_db_t *db,
                                          const char *user_id);

/* Revoke the session (server-side: the old cookie stops working at once). */
apr_status_t authsvc_session_revoke(request_rec *r, authsvc_db_t *db,
                                    const authsvc_session_t *s);

#endif

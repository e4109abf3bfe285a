/*
 * token.h - access tokens (JWT, signed with the AuthsvcTokenSigningKey keys): what they
 * say, issuing them, and reading "Authorization: Bearer" back into an identity.
 *
 * An access token names its session (sid): it is refused as soon as that session is
 * revoked on this machine (or any machine sharing the cache), and within
 * AuthsvcCacheTTL of a revocation made directly in the database. A token's other
 * claims (email, roles) are what they were when it was issued, for its lifetime.
 */
#ifndef AUTHSVC_TOKEN_H
#define AUTHSVC_TOKEN_H

#include "json.h"
#include "session.h"

/* 1 when server s issues and accepts tokens (it has an AuthsvcTokenSigningKey). */
int authsvc_token_enabled(server_rec *s);

/* A signed access token for session s of account u (claims: see docs/api.md), in
 * r->pool; NULL when signing failed (logged). */
const char *authsvc_token_access(request_rec *r, const authsvc_user_t *u,
                                 const authsvc_session_t *s);

/* The token of this request's "Authorization: Bearer" header, or NULL: no such header
 * (another scheme is someone else's), AuthsvcBearer Off here, or no keys. */
const char *authsvc_token_bearer(request_rec *r);

/* Check an access token: signature with the key its kid names (algorithm pinned to the
 * key), iss, aud, exp and nbf (AuthsvcClockSkew; an expired token passes when
 * expired_ok, for signing out), and sub, sid and email present. NULL with *claims set,
 * or the reason it was refused (for a debug log; never shown). The session is not
 * looked at. */
const char *authsvc_token_verify(request_rec *r, const char *token, int expired_ok,
                                 authsvc_json_t **claims);

/* A string claim of verified claims: NULL unless a non-empty string without NUL (sub,
 * sid and email always are, after authsvc_token_verify). */
const char *authsvc_token_claim(authsvc_json_t *claims, const char *name);

typedef enum {
    AUTHSVC_TOKEN_OK = 0,
    AUTHSVC_TOKEN_INVALID,     /* refused: 401 token_invalid */
    AUTHSVC_TOKEN_UNAVAILABLE  /* the database was needed and failed: 503 */
} authsvc_token_result_t;

/* The identity an access token carries (for the guard): authsvc_token_verify, then its
 * session must be live. No database round trip while the session's state is cached;
 * a token seen a moment ago in this process is not verified again (see l1.h). The
 * identity's session has no token_hash. */
authsvc_token_result_t authsvc_token_identity(request_rec *r, const char *token,
                                              authsvc_identity_t **out);

#endif

/*
 * guard.h - "Require authsvc" in front of anything Apache serves.
 *
 * The authn hook resolves the session cookie (through the cache) into r->user and an
 * identity the fixups hook hands to the backend as environment variables and, where
 * configured, request headers. The authz provider "authsvc" checks the requirement
 * forms below. Denials reach API clients as problem+json (through an error filter)
 * and browsers as a redirect to the login page.
 */
#ifndef AUTHSVC_GUARD_H
#define AUTHSVC_GUARD_H

#include "authsvc.h"
#include "session.h"

/* A parsed "Require authsvc ..." line (or /auth/check query). Every part given must
 * hold: plain = any live session; verified; one of roles; one of users. */
typedef struct {
    int verified;
    apr_array_header_t *roles; /* const char *, or NULL */
    apr_array_header_t *users; /* const char *, or NULL */
} authsvc_require_t;

/* Parse the words of a Require line: "", "verified", "role NAME...", "user LOGIN...".
 * NULL or an error message (the line is refused at start-up). */
const char *authsvc_guard_parse(apr_pool_t *p, const char *line, authsvc_require_t **out);

/* Does id meet req? */
int authsvc_guard_satisfies(const authsvc_identity_t *id, const authsvc_require_t *req);

/* Add the identity headers (prefix from AuthsvcHeaderPrefix) to table t. */
void authsvc_guard_identity_headers(request_rec *r, const authsvc_identity_t *id,
                                    apr_table_t *t);

/* Register the hooks, the authz provider and the error filter. */
void authsvc_guard_register(apr_pool_t *p);

#endif

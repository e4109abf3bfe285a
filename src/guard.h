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
 * hold: plain = any live session; verified; one of roles; one of users; a second
 * factor passed in the session (mfa); a full authentication at most `fresh` seconds
 * ago (fresh > 0). */
typedef struct {
    int verified;
    apr_array_header_t *roles; /* const char *, or NULL */
    apr_array_header_t *users; /* const char *, or NULL */
    int mfa;
    apr_int64_t fresh;         /* seconds, 0: no limit */
    int negated;               /* under "Require not" or <RequireNone>: a plain test */
} authsvc_require_t;

/* "fresh SECONDS" and /auth/check?fresh=: a whole number of seconds, 1 to a year.
 * 1 with *out set when w is one. */
#define AUTHSVC_FRESH_MAX (366 * 86400)
int authsvc_guard_fresh_seconds(const char *w, apr_int64_t *out);

/* Parse the words of a Require line: "", "verified", "role NAME...", "user LOGIN...",
 * "mfa", "fresh SECONDS". NULL or an error message (the line is refused at start-up). */
const char *authsvc_guard_parse(apr_pool_t *p, const char *line, authsvc_require_t **out);

/* Does id's account meet req (verified, roles, users)? */
int authsvc_guard_satisfies(const authsvc_identity_t *id, const authsvc_require_t *req);

/* What the session still lacks for req (and AuthsvcMFARequired when mfa_required):
 * NULL when nothing; else the problem code ("mfa_enrollment_required" for an account
 * without a second factor, "reauthentication_required" for a session that must sign in
 * again) and in *prompt what the login page should ask for ("mfa_enroll", "mfa",
 * "reauthenticate"). */
const char *authsvc_guard_step_up(const authsvc_identity_t *id, const authsvc_require_t *req,
                                  int mfa_required, apr_int64_t now, const char **prompt);

/* Add the identity headers (prefix from AuthsvcHeaderPrefix) to table t. */
void authsvc_guard_identity_headers(request_rec *r, const authsvc_identity_t *id,
                                    apr_table_t *t);

/* Register the hooks, the authz provider and the error filter. */
void authsvc_guard_register(apr_pool_t *p);

/* 1 when the space-separated list `roles` holds `role` as a whole word (a name with a
 * space in it names no role, and must not match two of them). */
int authsvc_guard_has_role(const char *roles, const char *role);

#endif

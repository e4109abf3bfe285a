/* policy.h - password policy: what a new password must look like.
 *
 * Pure unit: apr only. Lengths are counted in Unicode code points, so that
 * "12 characters" means what a user typing them would count.
 */
#ifndef AUTHSVC_POLICY_H
#define AUTHSVC_POLICY_H

#include <stddef.h>

#include <apr_pools.h>

typedef struct {
    int min_length;  /* code points */
    int max_length;  /* code points */
} authsvc_policy_t;

/* Stable machine codes returned in *code. */
#define AUTHSVC_POLICY_TOO_SHORT "password_too_short"
#define AUTHSVC_POLICY_TOO_LONG  "password_too_long"
#define AUTHSVC_POLICY_INVALID   "password_invalid"

/* Check a candidate password: valid UTF-8, no control characters (all printable
 * characters including spaces and emoji are allowed), min_length <= code points <=
 * max_length (longer is rejected, never truncated). Returns NULL if acceptable (and
 * sets *code to NULL), else sets *code to a stable machine code ("password_too_short",
 * "password_too_long", "password_invalid") and returns a clear human message in p
 * (e.g. "must be at least 12 characters"). code may be NULL. */
const char *authsvc_policy_check_password(apr_pool_t *p, const authsvc_policy_t *pol,
                                          const char *pw, size_t len, const char **code);

#endif /* AUTHSVC_POLICY_H */

/*
 * policy.c - password policy checks (length in code points, printable text only).
 *
 * NIST SP 800-63B section 5.1.1.2: any printable character, spaces and emoji included;
 * no composition rules; a maximum that is enforced, never silently truncated.
 */
#include "apr_strings.h"

#include "policy.h"
#include "text.h"

static const char *fail(const char **code, const char *what, const char *message)
{
    if (code != NULL) {
        *code = what;
    }
    return message;
}

/* Validity first (invalid UTF-8 has no length to report), then the two bounds. A
 * missing policy fails closed as "password_invalid" rather than accepting anything. */
const char *authsvc_policy_check_password(apr_pool_t *p, const authsvc_policy_t *pol,
                                          const char *pw, size_t len, const char **code)
{
    apr_ssize_t n;

    if (code != NULL) {
        *code = NULL;
    }
    if (pol == NULL || (pw == NULL && len != 0)) {
        return fail(code, AUTHSVC_POLICY_INVALID, "cannot be checked");
    }
    n = authsvc_text_utf8_length(pw, len);
    if (n < 0) {
        return fail(code, AUTHSVC_POLICY_INVALID, "must be valid UTF-8 text");
    }
    if (authsvc_text_has_control(pw, len)) {
        return fail(code, AUTHSVC_POLICY_INVALID,
                    "must not contain control characters");
    }
    if (n < pol->min_length) {
        return fail(code, AUTHSVC_POLICY_TOO_SHORT,
                    apr_psprintf(p, "must be at least %d character%s", pol->min_length,
                                 pol->min_length == 1 ? "" : "s"));
    }
    if (n > pol->max_length) {
        return fail(code, AUTHSVC_POLICY_TOO_LONG,
                    apr_psprintf(p, "must be at most %d character%s", pol->max_length,
                                 pol->max_length == 1 ? "" : "s"));
    }
    return NULL;
}

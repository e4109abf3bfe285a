/* test_policy.c - policy.c: lengths in code points, printable text only. */
#include <string.h>

#include "apr_general.h"
#include "apr_strings.h"

#include "policy.h"
#include "tap.h"

#define S(s) (s), (sizeof(s) - 1)

#define EMOJI "\xf0\x9f\x94\x91"   /* U+1F511 KEY: 4 octets, 1 code point */
#define EACUTE "\xc3\xa9"          /* U+00E9: 2 octets, 1 code point */

/* n copies of unit, in p. */
static const char *repeat(apr_pool_t *p, const char *unit, int n)
{
    size_t u = strlen(unit);
    char *s = apr_palloc(p, u * (size_t)n + 1);
    int i;

    for (i = 0; i < n; i++) {
        memcpy(s + u * (size_t)i, unit, u);
    }
    s[u * (size_t)n] = '\0';
    return s;
}

/* One check: expected code (NULL = accepted) and, if given, the exact message. */
static void check(apr_pool_t *p, const authsvc_policy_t *pol, const char *pw, size_t len,
                  const char *want_code, const char *want_msg, const char *what)
{
    const char *code = "unset";
    const char *msg = authsvc_policy_check_password(p, pol, pw, len, &code);

    if (want_code == NULL) {
        ok(msg == NULL && code == NULL, "policy: %s accepted", what);
        if (msg != NULL) {
            diag("message: %s (%s)", msg, code ? code : "NULL");
        }
        return;
    }
    is_str(code, want_code, "policy: %s -> %s", what, want_code);
    if (want_msg != NULL) {
        is_str(msg, want_msg, "policy: %s message", what);
    }
    else {
        ok(msg != NULL && *msg != '\0', "policy: %s has a message", what);
    }
}

int main(void)
{
    apr_pool_t *p;
    authsvc_policy_t pol = {12, 128}, one = {1, 1};
    const char *s, *msg;

    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        printf("Bail out! APR initialisation failed\n");
        return 2;
    }

    s = repeat(p, "a", 11);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_TOO_SHORT, "must be at least 12 characters",
          "11 ASCII");
    s = repeat(p, "a", 12);
    check(p, &pol, s, strlen(s), NULL, NULL, "12 ASCII");
    s = repeat(p, "a", 128);
    check(p, &pol, s, strlen(s), NULL, NULL, "128 ASCII");
    s = repeat(p, "a", 129);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_TOO_LONG, "must be at most 128 characters",
          "129 ASCII");

    /* Code points, not octets: 11 emoji are 44 octets and still too short. */
    s = repeat(p, EMOJI, 11);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_TOO_SHORT, "must be at least 12 characters",
          "11 emoji (44 octets)");
    s = repeat(p, EMOJI, 12);
    check(p, &pol, s, strlen(s), NULL, NULL, "12 emoji (48 octets)");
    s = repeat(p, EMOJI, 128);
    check(p, &pol, s, strlen(s), NULL, NULL, "128 emoji (512 octets)");
    s = repeat(p, EMOJI, 129);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_TOO_LONG, "must be at most 128 characters",
          "129 emoji");
    s = repeat(p, EACUTE, 11);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_TOO_SHORT, NULL,
          "11 e-acute (22 octets)");
    s = repeat(p, EACUTE, 128);
    check(p, &pol, s, strlen(s), NULL, NULL, "128 e-acute (256 octets)");
    s = repeat(p, EACUTE, 129);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_TOO_LONG, NULL, "129 e-acute");
    s = apr_pstrcat(p, repeat(p, "ab", 5), EACUTE, EMOJI, NULL);
    check(p, &pol, s, strlen(s), NULL, NULL, "mixed 1-, 2- and 4-octet, 12 code points");

    /* Spaces and other printable characters are allowed. */
    check(p, &pol, S("correct horse battery staple"), NULL, NULL, "spaces inside");
    check(p, &pol, S("  leading and trailing  "), NULL, NULL, "leading/trailing spaces");
    check(p, &pol, S("            "), NULL, NULL, "12 spaces");
    check(p, &pol, S("\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0"
                     "\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0"),
          NULL, NULL, "12 no-break spaces");
    check(p, &pol, S("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"), NULL, NULL,
          "ASCII punctuation");

    /* Control characters are not. */
    check(p, &pol, S("password\n1234"), AUTHSVC_POLICY_INVALID,
          "must not contain control characters", "newline");
    check(p, &pol, S("password\t1234"), AUTHSVC_POLICY_INVALID, NULL, "tab");
    check(p, &pol, S("password\0" "1234"), AUTHSVC_POLICY_INVALID, NULL, "NUL");
    check(p, &pol, S("password\x7f" "1234"), AUTHSVC_POLICY_INVALID, NULL, "DEL");
    check(p, &pol, S("password\xc2\x85" "1234"), AUTHSVC_POLICY_INVALID, NULL, "C1 NEL");

    /* Nor is invalid UTF-8, whatever its length. */
    check(p, &pol, S("password1234\xff"), AUTHSVC_POLICY_INVALID,
          "must be valid UTF-8 text", "0xFF octet");
    check(p, &pol, S("password1234\xc0\xaf"), AUTHSVC_POLICY_INVALID, NULL, "overlong /");
    check(p, &pol, S("password1234\xed\xa0\x80"), AUTHSVC_POLICY_INVALID, NULL,
          "surrogate U+D800");
    check(p, &pol, S("password1234\xf0\x9f\x94"), AUTHSVC_POLICY_INVALID, NULL,
          "truncated emoji");
    check(p, &pol, S("\xff"), AUTHSVC_POLICY_INVALID, NULL,
          "short and invalid reports invalid first");
    s = apr_pstrcat(p, repeat(p, "a", 200), "\x80", NULL);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_INVALID, NULL,
          "long and invalid reports invalid first");

    /* Edges of the API. */
    check(p, &pol, S(""), AUTHSVC_POLICY_TOO_SHORT, NULL, "empty");
    check(p, &one, S("x"), NULL, NULL, "min = max = 1");
    check(p, &one, S(""), AUTHSVC_POLICY_TOO_SHORT, "must be at least 1 character",
          "singular message");
    check(p, &one, S("xy"), AUTHSVC_POLICY_TOO_LONG, "must be at most 1 character",
          "singular message, too long");
    check(p, NULL, S("whatever it is"), AUTHSVC_POLICY_INVALID, NULL, "NULL policy");
    msg = authsvc_policy_check_password(p, &pol, S("short"), NULL);
    is_str(msg, "must be at least 12 characters", "policy: code pointer may be NULL");

    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}

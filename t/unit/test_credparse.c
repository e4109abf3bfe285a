/* test_credparse.c - credparse.c: our cookie in Cookie header lines (amid others, twice,
 * with a name that only ends or starts like ours, after RFC 2965 commas), the same line
 * without it (what a backend gets), and the token of an Authorization: Bearer header.
 */
#include <string.h>

#include "apr_general.h"
#include "apr_strings.h"

#include "credparse.h"
#include "tap_apr.h"

static apr_pool_t *pool;

/* The value of "authsvc" in line l1 (and l2 when not NULL), "CONFLICT" or NULL. */
static const char *find(const char *l1, const char *l2)
{
    authsvc_cookie_find_t f;

    memset(&f, 0, sizeof(f));
    authsvc_credparse_cookie_scan(l1, "authsvc", 7, &f);
    if (l2 != NULL) {
        authsvc_credparse_cookie_scan(l2, "authsvc", 7, &f);
    }
    if (f.conflict) {
        return "CONFLICT";
    }
    return f.found ? apr_pstrmemdup(pool, f.value, f.len) : NULL;
}

static void test_scan(void)
{
    is_str(find("authsvc=T1", NULL), "T1", "the cookie alone");
    is_str(find("theme=dark; authsvc=T1; lang=fr", NULL), "T1", "amid others");
    is_str(find("theme=dark;authsvc=T1", NULL), "T1", "no blank after ';'");
    is_str(find("a=1,authsvc=T1, b=2", NULL), "T1", "after an RFC 2965 comma");
    is_str(find("\t authsvc=T1", NULL), "T1", "leading tab and blank");
    is_str(find("authsvc=", NULL), "", "an empty value is found (and refused later)");
    is_str(find("xauthsvc=T1; authsvcx=T2; authsvc =T3", NULL), NULL,
           "names that only contain ours, and 'name =', are not ours");
    is_str(find("a=authsvc=T1", NULL), NULL, "ours inside another cookie's value");
    is_str(find("authsvc=T1; authsvc=T1", NULL), "T1", "twice with the same value");
    is_str(find("authsvc=T1; authsvc=T2", NULL), "CONFLICT", "twice with two values");
    is_str(find("authsvc=T1", "authsvc=T2"), "CONFLICT", "two values on two lines");
    is_str(find("authsvc=T1", "other=x"), "T1", "the first of two lines");
    is_str(find("authsvc=T1", "authsvc=T10"), "CONFLICT", "a value and a longer one");
    is_str(find("", NULL), NULL, "an empty line");
    is_str(find(";;, ,;", NULL), NULL, "separators only");
    is_str(find("authsvc", NULL), NULL, "the name without '='");
}

/* line without the "authsvc" cookie; "SAME" when the line itself came back. */
static const char *strip(const char *line)
{
    const char *r = authsvc_credparse_cookie_strip(pool, line, "authsvc", 7);

    return r == line ? "SAME" : r;
}

static void test_strip(void)
{
    is_str(strip("theme=dark; authsvc=T1; lang=fr"), "theme=dark; lang=fr", "amid others");
    is_str(strip("authsvc=T1"), "", "alone: nothing left");
    is_str(strip("authsvc=T1; a=1"), "a=1", "first");
    is_str(strip("a=1; authsvc=T1"), "a=1", "last");
    is_str(strip("authsvc=T1; theme=dark; authsvc=T2"), "theme=dark",
           "two different values: both go (the scan refuses both)");
    is_str(strip("authsvc=T1;authsvc=T1;;"), "", "twice, trailing separators");
    is_str(strip("a=1,authsvc=T1;b=2"), "a=1;b=2", "separators kept as sent");
    is_str(strip("a=1,2; authsvc=T1"), "a=1,2", "a comma in another value stays");
    is_str(strip("$Version=1; authsvc=T1; $Path=/; $Domain=x, o=1; $Path=/o"),
           "$Version=1, o=1; $Path=/o", "RFC 2965: our attributes go, others stay");
    is_str(strip("xauthsvc=1; authsvcx=2; authsvc =3; a=authsvc=4"), "SAME",
           "lookalikes are not ours: the line as it was");
    is_str(strip("theme=dark; lang=fr"), "SAME", "without ours: the line as it was");
    is_str(strip(""), "SAME", "an empty line");
    is_str(strip(" \t;authsvc=x , a=1 "), "a=1 ", "leading and trailing blanks");
}

static void test_bearer(void)
{
    is_str(authsvc_credparse_bearer("Bearer abc"), "abc", "Bearer TOKEN");
    is_str(authsvc_credparse_bearer("bearer \t abc"), "abc", "any case, blanks and tabs");
    is_str(authsvc_credparse_bearer("BEARER abc def"), "abc def", "the rest, as it is");
    is_str(authsvc_credparse_bearer("Bearer"), "", "Bearer alone: an empty token");
    is_str(authsvc_credparse_bearer("Bearer   "), "", "Bearer and blanks: an empty token");
    ok(authsvc_credparse_bearer("Bearerabc") == NULL, "Bearerabc: not the scheme");
    ok(authsvc_credparse_bearer("Basic dXNlcjpwdw==") == NULL, "Basic: not ours");
    ok(authsvc_credparse_bearer(" Bearer abc") == NULL, "a leading blank: not ours");
    ok(authsvc_credparse_bearer("Bear") == NULL, "shorter than the scheme");
    ok(authsvc_credparse_bearer("") == NULL, "empty");
    ok(authsvc_credparse_bearer(NULL) == NULL, "no header");
}

int main(void)
{
    pool = tap_apr_start();
    test_scan();
    test_strip();
    test_bearer();
    return tap_apr_end(pool);
}

/* fuzz_credparse.c - credentials in request headers (credparse.c): the input, cut at
 * its first LF into two Cookie header lines, is scanned for the session cookie's names
 * (the plain and the __Host- one), the first line stripped of them, and the input read
 * as an Authorization header. Checked: what the scan returns is inside the line, after
 * "name=", without a separator; the stripped line is shorter and has none left. */
#include "apr_lib.h"

#include "credparse.h"
#include "fuzz.h"

static const char *const names[] = {"authsvc", "__Host-authsvc", "a"};

/* The scan of one line for name. */
static authsvc_cookie_find_t scan1(const char *line, const char *name)
{
    authsvc_cookie_find_t f;

    memset(&f, 0, sizeof(f));
    authsvc_credparse_cookie_scan(line, name, strlen(name), &f);
    return f;
}

/* The line without name: the line itself exactly when the scan finds name there; no
 * longer; and the scan finds nothing in what is left (the backend never gets it). */
static void strip(apr_pool_t *p, const char *line, const char *name)
{
    const char *rest = authsvc_credparse_cookie_strip(p, line, name, strlen(name));

    if ((rest == line) != !scan1(line, name).found || strlen(rest) > strlen(line) ||
        scan1(rest, name).found) {
        abort();
    }
}

/* The scan of lines[0..1] for name, checked against what the result must be. */
static void scan(const char *const *lines, const size_t *lens, const char *name)
{
    authsvc_cookie_find_t f;
    size_t nlen = strlen(name);
    int i, in = 0;

    memset(&f, 0, sizeof(f));
    for (i = 0; i < 2; i++) {
        authsvc_credparse_cookie_scan(lines[i], name, nlen, &f);
    }
    if (!f.found) {
        return;
    }
    for (i = 0; i < 2; i++) {
        if (f.value >= lines[i] + nlen + 1 && f.value + f.len <= lines[i] + lens[i]) {
            in = 1;
        }
    }
    if (!in || memcmp(f.value - nlen - 1, name, nlen) != 0 || f.value[-1] != '=' ||
        memchr(f.value, ';', f.len) != NULL || memchr(f.value, ',', f.len) != NULL) {
        abort();
    }
}

FUZZ_PLAIN_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *lines[2], *whole, *t;
    size_t lens[2], i;

    apr_pool_create(&p, NULL);
    fuzz_split(p, data, size, '\n', 2, lines, lens);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        scan(lines, lens, names[i]);
        strip(p, lines[0], names[i]);
    }
    whole = apr_pstrmemdup(p, (const char *)data, size);
    t = authsvc_credparse_bearer(whole);
    if (t != NULL && (t < whole + 6 || t > whole + strlen(whole) || apr_isspace(*t))) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}

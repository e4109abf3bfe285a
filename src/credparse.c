/*
 * credparse.c - credentials in request headers (see credparse.h). This runs on every
 * guarded request: the scan walks the header text in place and copies nothing; the
 * strip writes the pairs it keeps into one string no longer than the line.
 */
#include <string.h>
#include <strings.h>

#include "apr_lib.h"
#include "apr_strings.h"

#include "credparse.h"

/* Separators and blanks skipped before a cookie pair. */
#define COOKIE_GAP " \t;,"
/* What ends a cookie pair. */
#define COOKIE_END ";,"

/* Does the pair at p name the cookie name? */
static int is_ours(const char *p, const char *name, apr_size_t nlen)
{
    return strncmp(p, name, nlen) == 0 && p[nlen] == '=';
}

void authsvc_credparse_cookie_scan(const char *line, const char *name, apr_size_t nlen,
                                   authsvc_cookie_find_t *f)
{
    const char *p = line;

    while (*p) {
        p += strspn(p, COOKIE_GAP);
        if (is_ours(p, name, nlen)) {
            const char *val = p + nlen + 1;
            apr_size_t len = strcspn(val, COOKIE_END);
            if (f->found && (len != f->len || strncmp(val, f->value, len) != 0)) {
                f->conflict = 1;
            }
            f->value = val;
            f->len = len;
            f->found = 1;
        }
        p += strcspn(p, COOKIE_END);
    }
}

const char *authsvc_credparse_cookie_strip(apr_pool_t *p, const char *line,
                                           const char *name, apr_size_t nlen)
{
    const char *gap = line, *s;
    char *out, *o;
    int eat = 0, dropped = 0;

    /* out never grows beyond line: pairs and gaps are copied at most once each */
    o = out = apr_palloc(p, strlen(line) + 1);
    while (*gap) {
        apr_size_t g = strspn(gap, COOKIE_GAP), n;
        s = gap + g;
        n = strcspn(s, COOKIE_END);
        if (*s == '\0') {
            break; /* trailing separators: nothing after them */
        }
        if (is_ours(s, name, nlen) || (eat && *s == '$')) {
            eat = dropped = 1;
        }
        else {
            eat = 0;
            if (o > out) { /* the separator that came before it, as sent */
                memcpy(o, gap, g);
                o += g;
            }
            memcpy(o, s, n);
            o += n;
        }
        gap = s + n;
    }
    if (!dropped) {
        return line;
    }
    *o = '\0';
    return out;
}

const char *authsvc_credparse_bearer(const char *h)
{
    if (h == NULL || strncasecmp(h, "Bearer", 6) != 0 || (h[6] && !apr_isspace(h[6]))) {
        return NULL;
    }
    for (h += 6; apr_isspace(*h); h++) {
    }
    return h;
}

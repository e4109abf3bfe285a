/*
 * returnto.c - validation of a return_to (see returnto.h). The rules are a whitelist:
 * browsers repair "/\host", "\\host", tabs and line breaks into other hosts, and
 * servers behind us may decode once more, so anything odd is refused rather than
 * cleaned up.
 */
#include <stdlib.h>
#include <string.h>

#include "apr_escape.h"
#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_uri.h"

#include "returnto.h"
#include "text.h"

#define DECODE_ROUNDS 3

/* No backslash or control character (browsers drop tabs and line breaks, and read
 * '\' as '/'); as sent (raw), no blank or non-ASCII octet either. */
static int plain(const char *s, int raw)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '\\' || (raw && (c == ' ' || c > 0x7f))) {
            return 0;
        }
    }
    return 1;
}

/* A path of this site: "/" and then not a second '/' (a scheme-relative URL). */
static int local_path(const char *s, int raw)
{
    return s[0] == '/' && s[1] != '/' && plain(s, raw);
}

/* s and each of its percent-decoded forms pass test. */
static int every_form(apr_pool_t *p, const char *s, int (*test)(const char *, int))
{
    int i;

    for (i = 0; i <= DECODE_ROUNDS; i++) {
        apr_size_t len = 0;
        apr_status_t rv;
        char *d;

        if (!test(s, i == 0)) {
            return 0;
        }
        if (strchr(s, '%') == NULL) {
            return 1;
        }
        /* A '%' without two hex digits (APR_EINVAL) is left as it is and the rest is
         * still decoded: a stray one must not spare the decoded form its check. */
        rv = apr_unescape_url(NULL, s, APR_ESCAPE_STRING, NULL, NULL, 0, &len);
        if (rv == APR_NOTFOUND) {
            return 1;
        }
        if (rv != APR_SUCCESS && rv != APR_EINVAL) {
            return 0; /* an encoded NUL */
        }
        d = apr_palloc(p, len + 1);
        apr_unescape_url(d, s, APR_ESCAPE_STRING, NULL, NULL, 0, NULL);
        if (strcmp(d, s) == 0) {
            return 1; /* only stray '%' signs: nothing more to decode */
        }
        s = d;
    }
    return 0; /* still encoded after every round: nobody writes that */
}

static int listed(const apr_uri_t *u, const apr_array_header_t *allow)
{
    int i;

    for (i = 0; allow != NULL && i < allow->nelts; i++) {
        const char *a = APR_ARRAY_IDX(allow, i, const char *);
        const char *colon = strchr(a, ':');
        apr_size_t hl = colon ? (apr_size_t)(colon - a) : strlen(a);

        if (strlen(u->hostname) != hl || strncasecmp(u->hostname, a, hl) != 0) {
            continue;
        }
        if (colon == NULL ||
            (u->port_str != NULL && strcmp(u->port_str, colon + 1) == 0) ||
            (u->port_str == NULL && (apr_port_t)atoi(colon + 1) == u->port)) {
            return 1;
        }
    }
    return 0;
}

static int any_url(const char *s, int raw)
{
    return plain(s, raw);
}

/* The text after "https://" or "http://" (any case), or NULL for another scheme. */
static const char *after_scheme(const char *v)
{
    if (strncasecmp(v, "https://", 8) == 0) {
        return v + 8;
    }
    if (strncasecmp(v, "http://", 7) == 0) {
        return v + 7;
    }
    return NULL;
}

/* An absolute http(s) URL to a listed host. */
static int allowed_url(apr_pool_t *p, const char *v, const apr_array_header_t *allow)
{
    apr_uri_t u;
    const char *rest = after_scheme(v);

    if (rest == NULL) {
        return 0;
    }
    if (strpbrk(rest, "@") != NULL && strcspn(rest, "@") < strcspn(rest, "/?#")) {
        return 0; /* userinfo: "https://good@evil" */
    }
    if (!every_form(p, v, any_url) || apr_uri_parse(p, v, &u) != APR_SUCCESS ||
        u.hostname == NULL || *u.hostname == '\0' || u.user != NULL ||
        u.password != NULL) {
        return 0;
    }
    if (u.port == 0) {
        u.port = apr_uri_port_of_scheme(u.scheme);
    }
    return listed(&u, allow);
}

const char *authsvc_return_to_check(apr_pool_t *p, const char *v,
                                    const apr_array_header_t *allow)
{
    if (v == NULL || *v == '\0' || strlen(v) > AUTHSVC_RETURN_TO_MAX) {
        return NULL;
    }
    if (v[0] == '/') {
        return every_form(p, v, local_path) ? v : NULL;
    }
    return allowed_url(p, v, allow) ? v : NULL;
}

/* s in lower case, in place (ASCII). */
static void lower(char *s)
{
    for (; *s; s++) {
        *s = (char)apr_tolower(*s);
    }
}

/* The host of an origin as written in one (host: apr_uri_parse's, in lower case; rest:
 * the text after "scheme://"): a DNS name or IPv4 address (letters, digits, '-', '.',
 * '_'), or an IPv6 literal, given in brackets (which apr_uri_parse takes off) followed
 * by the end or a port, of hex digits, ':' and '.'. NULL for anything else ("[a]",
 * "[[]", "[::1]x" ...): two different texts must never compare as one origin. */
static const char *origin_host(apr_pool_t *p, const char *rest, const char *host)
{
    apr_size_t n = strlen(host);

    if (*rest != '[') {
        n = strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789-._");
        return host[n] == '\0' ? host : NULL;
    }
    if (strchr(host, ':') == NULL || host[strspn(host, "0123456789abcdef:.")] != '\0' ||
        strncasecmp(rest + 1, host, n) != 0 || rest[n + 1] != ']' ||
        (rest[n + 2] != '\0' && rest[n + 2] != ':')) {
        return NULL;
    }
    return apr_pstrcat(p, "[", host, "]", NULL);
}

const char *authsvc_return_to_origin(apr_pool_t *p, const char *s)
{
    apr_uri_t u;
    const char *rest = after_scheme(s), *host, *end;
    apr_int64_t port;

    if (rest == NULL || *rest == '\0' || rest[strcspn(rest, "/?#@\\ \t\r\n")] != '\0' ||
        apr_uri_parse(p, s, &u) != APR_SUCCESS || u.hostname == NULL ||
        *u.hostname == '\0') {
        return NULL;
    }
    lower(u.scheme);
    lower(u.hostname);
    if ((host = origin_host(p, rest, u.hostname)) == NULL) {
        return NULL;
    }
    if (u.port_str != NULL && *u.port_str != '\0') {
        /* apr_uri_parse reads the port with strtol into 16 bits: ":+80", ":0080" and
         * ":65616" would all come out as port 80. A port is 1 to 5 digits up to 65535,
         * without a leading zero (so never 0). */
        port = authsvc_text_digits(u.port_str, '\0', &end);
        if (port < 1 || port > 65535 || u.port_str[0] == '0') {
            return NULL;
        }
        if (u.port != apr_uri_port_of_scheme(u.scheme)) {
            return apr_psprintf(p, "%s://%s:%u", u.scheme, host, (unsigned)u.port);
        }
    }
    return apr_pstrcat(p, u.scheme, "://", host, NULL);
}

/*
 * credparse.h - reading credentials out of request headers: our cookie in Cookie
 * header lines, the token of an "Authorization: Bearer" header.
 *
 * Pure unit: apr only (unit-tested and fuzzed without a server). session.c, token.c and
 * guard.c hand it the header lines of the request.
 */
#ifndef AUTHSVC_CREDPARSE_H
#define AUTHSVC_CREDPARSE_H

#include "apr_pools.h"

/* What scanning Cookie header lines for one cookie name has found so far. Zero it
 * before the first line. */
typedef struct {
    const char *value; /* points into the line it was found in: nothing is copied */
    apr_size_t len;
    int found;
    int conflict; /* the name came twice with different values */
} authsvc_cookie_find_t;

/* Scan one Cookie header line for the cookie name (nlen octets): "name=value" pairs
 * separated by ';' (',' too, from old RFC 2965 clients), blanks and tabs before a pair
 * ignored. Every occurrence counts; the same name with two different values (in this
 * line or an earlier one scanned into f) sets f->conflict. The value runs to the next
 * ';' or ','. Never fails; reads line up to its NUL. */
void authsvc_credparse_cookie_scan(const char *line, const char *name, apr_size_t nlen,
                                   authsvc_cookie_find_t *f);

/* The Cookie header line without the cookie name (nlen octets): every pair the scan
 * above would take for it is left out, and so are the RFC 2965 attributes ($Path, ...)
 * right after one. The other pairs stay as sent, each with the separator that came
 * before it (the first without). line itself when it has no such pair; "" when nothing
 * else is left; the new line is allocated from p. Never fails. */
const char *authsvc_credparse_cookie_strip(apr_pool_t *p, const char *line,
                                           const char *name, apr_size_t nlen);

/* The token of an Authorization header value h: "Bearer" (any case) alone or followed
 * by white space, then the rest after that white space ("" for "Bearer" alone: an
 * empty, so invalid, token). NULL when h is NULL or another scheme. */
const char *authsvc_credparse_bearer(const char *h);

#endif

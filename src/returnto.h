/*
 * returnto.h - where a browser may be sent after signing in (open-redirect defence).
 *
 * Pure unit: apr and apr-util only (unit-tested and fuzzed without a server).
 */
#ifndef AUTHSVC_RETURNTO_H
#define AUTHSVC_RETURNTO_H

#include "apr_pools.h"
#include "apr_tables.h"

/* Longest return_to taken, in octets. */
#define AUTHSVC_RETURN_TO_MAX 2048

/* v when it is an acceptable place to send a browser, else NULL:
 *  - a path on this site: one '/' then not '/' or '\'; no backslash, blank or control
 *    character, and the same holds for its percent-decoded forms (up to three rounds
 *    of decoding, so that double-encoded tricks are seen); at most
 *    AUTHSVC_RETURN_TO_MAX octets;
 *  - an absolute http(s) URL without userinfo whose host (any port) or host:port is an
 *    entry of allow (const char *, lower case; NULL: none), with the same character
 *    rules.
 * Everything else (scheme-relative "//host", "javascript:", "http:/x", encoded
 * variants ...) is refused. */
const char *authsvc_return_to_check(apr_pool_t *p, const char *v,
                                    const apr_array_header_t *allow);

/* An origin (scheme://host[:port]) as compared: lower case, without a default port or
 * a trailing slash; NULL when s is not one (a path, userinfo, another scheme ...).
 * Origin headers are client input: anything else is refused, nothing repaired. */
const char *authsvc_return_to_origin(apr_pool_t *p, const char *s);

#endif

/*
 * router.c - the route table and its dispatcher.
 */
#include "config.h"
#include "problem.h"
#include "router.h"
#include "schema.h"
#include "store.h"

#define MAX_PARAMS 4

typedef struct {
    int method;          /* M_GET, M_POST ... */
    const char *pattern; /* "/users/me", '*' matches one path segment */
    authsvc_route_fn fn;
} route_t;

/* Our own names: ap_method_name_of(M_GET) answers "HEAD" on some builds. */
static const char *method_name(int m)
{
    switch (m) {
    case M_GET: return "GET, HEAD";
    case M_POST: return "POST";
    case M_PUT: return "PUT";
    case M_PATCH: return "PATCH";
    case M_DELETE: return "DELETE";
    default: return "OPTIONS";
    }
}

static const route_t routes[] = {
    {M_POST, "/auth/register", authsvc_h_register},
    {M_POST, "/auth/login", authsvc_h_login},
    {M_POST, "/auth/logout", authsvc_h_logout},
    {M_GET, "/users/me", authsvc_h_me},
    {M_PUT, "/users/me", authsvc_h_me_update},
    {M_PATCH, "/users/me", authsvc_h_me_update},
    {M_GET, "/users/me/sessions", authsvc_h_sessions},
    {M_DELETE, "/users/me/sessions", authsvc_h_sessions_revoke_others},
    {M_DELETE, "/users/me/sessions/*", authsvc_h_session_revoke},
    {M_GET, "/auth/check", authsvc_h_check},
    {0, NULL, NULL}};

static int match(apr_pool_t *p, const char *pattern, const char *path, const char **params);

/* Does any route (whatever its method) match path? */
static int routed(apr_pool_t *p, const char *path)
{
    const char *params[MAX_PARAMS];
    const route_t *rt;

    for (rt = routes; rt->pattern != NULL; rt++) {
        if (match(p, rt->pattern, path, params)) {
            return 1;
        }
    }
    return 0;
}

/* The mount is the URL path of the <Location> that set the handler. The core's per-dir
 * record names the most specific section merged for this request, which is the mount
 * unless a nested <Location> (say, one adding a Require) or a <LocationMatch> is more
 * specific: so try it, then each shorter prefix of the URI at a '/', and take the
 * longest one under which a route matches. Without any, the core's section (or "")
 * stands, and the request gets a 404. */
const char *authsvc_router_mount(request_rec *r)
{
    const core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *d = core ? core->d : NULL;
    apr_size_t n = 0, i;

    if (d != NULL && d[0] == '/' && core->r == NULL) {
        n = strlen(d);
        while (n > 0 && d[n - 1] == '/') {
            n--;
        }
        if (strncmp(r->uri, d, n) != 0 || (r->uri[n] != '/' && r->uri[n] != '\0')) {
            n = 0;
        }
    }
    if (n > 0 && routed(r->pool, r->uri + n)) {
        return apr_pstrmemdup(r->pool, r->uri, n);
    }
    for (i = strlen(r->uri); i > 0; i--) {
        if (r->uri[i] == '/' && routed(r->pool, r->uri + i)) {
            return apr_pstrmemdup(r->pool, r->uri, i);
        }
    }
    return routed(r->pool, r->uri) ? "" : apr_pstrmemdup(r->pool, r->uri, n);
}

/* Match path against pattern segment by segment; '*' takes one non-empty segment. */
static int match(apr_pool_t *p, const char *pattern, const char *path, const char **params)
{
    int np = 0;

    while (*pattern && *path) {
        if (*pattern == '*') {
            const char *end = ap_strchr_c(path, '/');
            apr_size_t n = end ? (apr_size_t)(end - path) : strlen(path);
            if (n == 0 || np >= MAX_PARAMS) {
                return 0;
            }
            params[np++] = apr_pstrmemdup(p, path, n);
            path += n;
            pattern++;
        }
        else if (*pattern++ != *path++) {
            return 0;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

/* Every endpoint needs the database at this build's schema: else 503, sent here. */
static int ready(request_rec *r)
{
    authsvc_db_t *db = authsvc_store_db(r);

    if (db == NULL) {
        authsvc_problem_send(r, "unavailable", "the account database is unreachable");
        return 0;
    }
    if (!authsvc_schema_ready(r, db, NULL)) {
        authsvc_problem_send(r, "unavailable",
                             "the account database is not at this version's schema");
        return 0;
    }
    return 1;
}

int authsvc_router_dispatch(request_rec *r)
{
    const char *mount = authsvc_router_mount(r);
    apr_size_t mlen = strlen(mount);
    const char *path, *params[MAX_PARAMS] = {NULL};
    const route_t *rt;
    apr_int64_t allowed = 0;
    const char *allow = NULL;

    if (strncmp(r->uri, mount, mlen) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "%s is not under the mount %s",
                      r->uri, mount);
        return authsvc_problem_send(r, "not_found", "no such endpoint");
    }
    path = r->uri + mlen;
    for (rt = routes; rt->pattern != NULL; rt++) {
        if (!match(r->pool, rt->pattern, path, params)) {
            continue;
        }
        if (rt->method == r->method_number) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "route %s %s", r->method,
                          rt->pattern);
            return ready(r) ? rt->fn(r, params) : OK;
        }
        if (!(allowed & (AP_METHOD_BIT << rt->method))) {
            allowed |= AP_METHOD_BIT << rt->method;
            allow = apr_pstrcat(r->pool, allow ? allow : "", allow ? ", " : "",
                                method_name(rt->method), NULL);
        }
    }
    if (allow != NULL) {
        apr_table_setn(r->err_headers_out, "Allow", allow);
        return authsvc_problem_send(r, "method_not_allowed",
                                    apr_psprintf(r->pool, "%s is not allowed here; use %s",
                                                 r->method, allow));
    }
    return authsvc_problem_send(r, "not_found", "no such endpoint");
}

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

static const route_t routes[] = {
    {M_POST, "/auth/register", authsvc_h_register},
    {M_POST, "/auth/login", authsvc_h_login},
    {M_POST, "/auth/logout", authsvc_h_logout},
    {M_GET, "/users/me", authsvc_h_me},
    {M_PUT, "/users/me", authsvc_h_me_update},
    {M_PATCH, "/users/me", authsvc_h_me_update},
    {0, NULL, NULL}};

/* The mount is the path of the <Location> that set the handler: the core's per-dir
 * record names the most specific section merged for this request (sections without
 * our own directives get no record of ours, so the core's is the one to ask). */
const char *authsvc_router_mount(request_rec *r)
{
    const core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *m = core ? core->d : NULL;
    apr_size_t n;

    if (m == NULL || m[0] != '/' || core->r != NULL) {
        return "";
    }
    n = strlen(m);
    while (n > 0 && m[n - 1] == '/') {
        n--;
    }
    if (strncmp(r->uri, m, n) != 0) {
        return "";
    }
    return apr_pstrmemdup(r->pool, m, n);
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
                                ap_method_name_of(r->pool, rt->method),
                                rt->method == M_GET ? ", HEAD" : "", NULL);
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

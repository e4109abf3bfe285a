/*
 * router.c - the route table and its dispatcher.
 */
#include "config.h"
#include "problem.h"
#include "router.h"
#include "util_cfgtree.h"
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
    {M_POST, "/auth/login/mfa", authsvc_h_login_mfa},
    {M_POST, "/auth/reauthenticate", authsvc_h_reauthenticate},
    {M_POST, "/auth/logout", authsvc_h_logout},
    {M_POST, "/auth/refresh", authsvc_h_refresh},
    {M_POST, "/auth/introspect", authsvc_h_introspect},
    {M_GET, "/.well-known/jwks.json", authsvc_h_jwks},
    {M_GET, "/users/me", authsvc_h_me},
    {M_PUT, "/users/me", authsvc_h_me_update},
    {M_PATCH, "/users/me", authsvc_h_me_update},
    {M_DELETE, "/users/me", authsvc_h_delete_account},
    {M_PUT, "/users/me/password", authsvc_h_change_password},
    {M_POST, "/users/me/email", authsvc_h_change_email},
    {M_GET, "/users/me/sessions", authsvc_h_sessions},
    {M_GET, "/users/me/events", authsvc_h_events},
    {M_GET, "/users/me/mfa", authsvc_h_mfa_status},
    {M_POST, "/users/me/mfa", authsvc_h_mfa_begin},
    {M_DELETE, "/users/me/mfa", authsvc_h_mfa_disable},
    {M_POST, "/users/me/mfa/confirm", authsvc_h_mfa_confirm},
    {M_POST, "/users/me/mfa/recovery-codes", authsvc_h_mfa_codes},
    {M_DELETE, "/users/me/sessions", authsvc_h_sessions_revoke_others},
    {M_DELETE, "/users/me/sessions/*", authsvc_h_session_revoke},
    {M_GET, "/auth/check", authsvc_h_check},
    {M_POST, "/auth/verify-email", authsvc_h_verify_email},
    {M_POST, "/auth/verify-email/resend", authsvc_h_verify_resend},
    {M_POST, "/auth/forgot-password", authsvc_h_forgot_password},
    {M_POST, "/auth/reset-password", authsvc_h_reset_password},
    {0, NULL, NULL}};

/* URL paths of the <Location> sections whose SetHandler is authsvc, found in the
 * parsed configuration at start-up (see authsvc_router_find_mounts). */
static apr_array_header_t *mounts;

static int sets_our_handler(const ap_directive_t *d)
{
    for (; d != NULL; d = d->next) {
        if (strcasecmp(d->directive, "SetHandler") == 0 && d->args != NULL &&
            strcasecmp(d->args, AUTHSVC_HANDLER) == 0) {
            return 1;
        }
    }
    return 0;
}

static void find_in(apr_pool_t *p, const ap_directive_t *d)
{
    for (; d != NULL; d = d->next) {
        if (d->first_child == NULL) {
            continue;
        }
        if (strcasecmp(d->directive, "<Location") == 0 && d->args != NULL &&
            sets_our_handler(d->first_child)) {
            const char *args = d->args;
            char *path = ap_getword_conf(p, &args);
            apr_size_t n = strlen(path);
            if (n > 0 && path[n - 1] == '>') {
                path[--n] = '\0';
            }
            while (n > 1 && path[n - 1] == '/') {
                path[--n] = '\0';
            }
            if (path[0] == '/') {
                APR_ARRAY_PUSH(mounts, const char *) = strcmp(path, "/") ? path : "";
            }
        }
        find_in(p, d->first_child);
    }
}

void authsvc_router_find_mounts(apr_pool_t *pconf)
{
    mounts = apr_array_make(pconf, 4, sizeof(const char *));
    find_in(pconf, ap_conftree);
}

/* The mount is the path of the <Location> that set the handler: the longest one found
 * at start-up that is a prefix of the URI at a '/'. Without one (the handler set in a
 * <Directory>, an .htaccess or a <LocationMatch>), the most specific section merged for
 * the request, as the core recorded it. */
const char *authsvc_router_mount(request_rec *r)
{
    const core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *best = NULL, *d;
    apr_size_t n, bestn = 0;
    int i;

    for (i = 0; mounts != NULL && i < mounts->nelts; i++) {
        const char *m = APR_ARRAY_IDX(mounts, i, const char *);
        n = strlen(m);
        if ((best == NULL || n > bestn) && strncmp(r->uri, m, n) == 0 &&
            (r->uri[n] == '/' || r->uri[n] == '\0')) {
            best = m;
            bestn = n;
        }
    }
    if (best != NULL) {
        return best;
    }
    d = core ? core->d : NULL;
    if (d == NULL || d[0] != '/' || core->r != NULL) {
        return "";
    }
    n = strlen(d);
    while (n > 0 && d[n - 1] == '/') {
        n--;
    }
    return strncmp(r->uri, d, n) == 0 ? apr_pstrmemdup(r->pool, d, n) : "";
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

/*
 * router.c - the route table and its dispatcher.
 */
#include "config.h"
#include "csrf.h"
#include "metrics.h"
#include "page.h"
#include "problem.h"
#include "router.h"
#include "util_cfgtree.h"
#include "schema.h"
#include "store.h"
#include "text.h"

#define MAX_PARAMS 4

typedef struct {
    int method;          /* M_GET, M_POST ... */
    const char *pattern; /* "/users/me", '*' matches one path segment */
    authsvc_route_fn fn;
    int page;            /* an HTML page: its forms carry a CSRF token */
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
    {M_POST, "/auth/register", authsvc_h_register, 0},
    {M_POST, "/auth/login", authsvc_h_login, 0},
    {M_POST, "/auth/login/mfa", authsvc_h_login_mfa, 0},
    {M_POST, "/auth/email-code", authsvc_h_email_code, 0},
    {M_POST, "/auth/email-code/verify", authsvc_h_email_code_verify, 0},
    {M_POST, "/auth/reauthenticate", authsvc_h_reauthenticate, 0},
    {M_POST, "/auth/logout", authsvc_h_logout, 0},
    {M_POST, "/auth/refresh", authsvc_h_refresh, 0},
    {M_POST, "/auth/introspect", authsvc_h_introspect, 0},
    {M_GET, "/.well-known/jwks.json", authsvc_h_jwks, 0},
    {M_GET, "/users/me", authsvc_h_me, 0},
    {M_PUT, "/users/me", authsvc_h_me_update, 0},
    {M_PATCH, "/users/me", authsvc_h_me_update, 0},
    {M_DELETE, "/users/me", authsvc_h_delete_account, 0},
    {M_PUT, "/users/me/password", authsvc_h_change_password, 0},
    {M_POST, "/users/me/email", authsvc_h_change_email, 0},
    {M_GET, "/users/me/sessions", authsvc_h_sessions, 0},
    {M_GET, "/users/me/events", authsvc_h_events, 0},
    {M_GET, "/users/me/mfa", authsvc_h_mfa_status, 0},
    {M_POST, "/users/me/mfa", authsvc_h_mfa_begin, 0},
    {M_DELETE, "/users/me/mfa", authsvc_h_mfa_disable, 0},
    {M_POST, "/users/me/mfa/confirm", authsvc_h_mfa_confirm, 0},
    {M_POST, "/users/me/mfa/recovery-codes", authsvc_h_mfa_codes, 0},
    {M_DELETE, "/users/me/sessions", authsvc_h_sessions_revoke_others, 0},
    {M_DELETE, "/users/me/sessions/*", authsvc_h_session_revoke, 0},
    {M_GET, "/users/me/devices", authsvc_h_devices, 0},
    {M_DELETE, "/users/me/devices", authsvc_h_devices_forget, 0},
    {M_DELETE, "/users/me/devices/*", authsvc_h_device_forget, 0},
    {M_GET, "/auth/check", authsvc_h_check, 0},
    {M_POST, "/auth/verify-email", authsvc_h_verify_email, 0},
    {M_POST, "/auth/verify-email/resend", authsvc_h_verify_resend, 0},
    {M_POST, "/auth/forgot-password", authsvc_h_forgot_password, 0},
    {M_POST, "/auth/reset-password", authsvc_h_reset_password, 0},
    /* Passkeys (h_passkey.c; issue 11). */
    {M_POST, "/users/me/passkeys/options", authsvc_h_passkey_reg_options, 0},
    {M_POST, "/users/me/passkeys", authsvc_h_passkey_add, 0},
    {M_GET, "/users/me/passkeys", authsvc_h_passkeys, 0},
    {M_PATCH, "/users/me/passkeys/*", authsvc_h_passkey_rename, 0},
    {M_DELETE, "/users/me/passkeys/*", authsvc_h_passkey_remove, 0},
    {M_POST, "/auth/passkey/options", authsvc_h_passkey_login_options, 0},
    {M_POST, "/auth/passkey", authsvc_h_passkey_login, 0},
    /* The administration API (h_admin.c). */
    {M_GET, "/admin/users", authsvc_h_admin_users, 0},
    {M_GET, "/admin/users/*", authsvc_h_admin_user, 0},
    {M_DELETE, "/admin/users/*", authsvc_h_admin_delete, 0},
    {M_POST, "/admin/users/*/disable", authsvc_h_admin_disable, 0},
    {M_POST, "/admin/users/*/enable", authsvc_h_admin_enable, 0},
    {M_POST, "/admin/users/*/unlock", authsvc_h_admin_unlock, 0},
    {M_DELETE, "/admin/users/*/sessions", authsvc_h_admin_sessions_revoke, 0},
    {M_DELETE, "/admin/users/*/mfa", authsvc_h_admin_mfa_reset, 0},
    {M_POST, "/admin/users/*/roles", authsvc_h_admin_role_add, 0},
    {M_DELETE, "/admin/users/*/roles/*", authsvc_h_admin_role_remove, 0},
    {M_GET, "/admin/audit", authsvc_h_admin_audit, 0},
    /* The pages (h_pages.c). */
    {M_GET, "/login", authsvc_h_page_login, 1},
    {M_POST, "/login", authsvc_h_page_login_post, 1},
    {M_GET, "/mfa", authsvc_h_page_mfa, 1},
    {M_POST, "/mfa", authsvc_h_page_mfa_post, 1},
    {M_GET, "/register", authsvc_h_page_register, 1},
    {M_POST, "/register", authsvc_h_page_register_post, 1},
    {M_GET, "/logout", authsvc_h_page_logout, 1},
    {M_POST, "/logout", authsvc_h_page_logout_post, 1},
    {M_GET, "/forgot-password", authsvc_h_page_forgot, 1},
    {M_POST, "/forgot-password", authsvc_h_page_forgot_post, 1},
    {M_GET, "/email-code", authsvc_h_page_email_code, 1},
    {M_POST, "/email-code", authsvc_h_page_email_code_post, 1},
    {M_POST, "/email-code/verify", authsvc_h_page_email_code_verify, 1},
    {M_GET, "/reset-password", authsvc_h_page_reset, 1},
    {M_POST, "/reset-password", authsvc_h_page_reset_post, 1},
    {M_GET, "/verify-email", authsvc_h_page_verify, 1},
    {M_POST, "/verify-email", authsvc_h_page_verify_post, 1},
    {M_GET, "/account", authsvc_h_page_account, 1},
    {M_POST, "/account/*", authsvc_h_page_account_post, 1},
    {M_POST, "/account/*/*", authsvc_h_page_account_post, 1},
    {M_GET, "/assets/authsvc.css", authsvc_h_page_css, 1},
    {M_GET, "/assets/passkey.js", authsvc_h_page_passkey_js, 1},
    {M_POST, "/passkey", authsvc_h_page_passkey_login, 1}, /* h_passkey.c */
    {0, NULL, NULL, 0}};

/* URL paths of the <Location> sections whose SetHandler is authsvc, found in the
 * parsed configuration at start-up (see authsvc_router_find_mounts), in the order of
 * the configuration; the first entries are the paths alone (const char *). */
static apr_array_header_t *mounts;
/* ... and where each one is: the <VirtualHost> around it, or NULL (the main server). */
static apr_array_header_t *mount_hosts;

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

static void find_in(apr_pool_t *p, const ap_directive_t *d, const ap_directive_t *vhost)
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
                APR_ARRAY_PUSH(mount_hosts, const ap_directive_t *) = vhost;
            }
        }
        find_in(p, d->first_child,
                strcasecmp(d->directive, "<VirtualHost") == 0 ? d : vhost);
    }
}

void authsvc_router_find_mounts(apr_pool_t *pconf)
{
    mounts = apr_array_make(pconf, 4, sizeof(const char *));
    mount_hosts = apr_array_make(pconf, 4, sizeof(const ap_directive_t *));
    find_in(pconf, ap_conftree, NULL);
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

/* The virtual host a <VirtualHost> section made is the one defined at its line. */
static int defines(const ap_directive_t *vhost, const server_rec *s)
{
    return s->defn_name != NULL && vhost->filename != NULL &&
           strcmp(s->defn_name, vhost->filename) == 0 &&
           (int)s->defn_line_number == vhost->line_num;
}

/* The first mount of this request's virtual host, else of the main server (whose
 * <Location> sections every virtual host inherits). */
const char *authsvc_router_login_url(request_rec *r)
{
    const char *main_mount = NULL;
    int i;

    for (i = 0; mounts != NULL && i < mounts->nelts; i++) {
        const ap_directive_t *vh = APR_ARRAY_IDX(mount_hosts, i, const ap_directive_t *);
        const char *m = APR_ARRAY_IDX(mounts, i, const char *);
        if (vh != NULL && defines(vh, r->server)) {
            return apr_pstrcat(r->pool, m, "/login", NULL);
        }
        if (vh == NULL && main_mount == NULL) {
            main_mount = m;
        }
    }
    return main_mount ? apr_pstrcat(r->pool, main_mount, "/login", NULL) : NULL;
}

/* Match path against pattern segment by segment; '*' takes one non-empty segment. A
 * segment that is not UTF-8, or has a control character, names nothing (an id, a form):
 * no match, so 404, before it reaches a query (PostgreSQL refuses such text with an
 * error, which would be a 503). */
static int match(apr_pool_t *p, const char *pattern, const char *path, const char **params)
{
    int np = 0;

    while (*pattern && *path) {
        if (*pattern == '*') {
            const char *end = ap_strchr_c(path, '/');
            apr_size_t n = end ? (apr_size_t)(end - path) : strlen(path);
            if (n == 0 || np >= MAX_PARAMS || authsvc_text_utf8_length(path, n) < 0 ||
                authsvc_text_has_control(path, n)) {
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

/* Every endpoint needs the database at this build's schema: else 503, sent here (as a
 * page to a page's visitor). */
static int ready(request_rec *r, const route_t *rt)
{
    authsvc_db_t *db = authsvc_store_db(r);
    const char *why = NULL;

    if (db == NULL) {
        why = "the account database is unreachable";
    }
    else if (!authsvc_schema_ready(r, db, NULL)) {
        why = "the account database is not at this version's schema";
    }
    if (why != NULL) {
        if (rt->page) {
            authsvc_page_problem(r, "unavailable", "Please try again in a moment.");
        }
        else {
            authsvc_problem_send(r, "unavailable", why);
        }
    }
    return why == NULL;
}

/* A matched route: CSRF rules first (no database needed to refuse), then the
 * database, then the handler. The stylesheet needs neither. */
static int run(request_rec *r, const route_t *rt, const char *const *params)
{
    const char *why;

    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "route %s %s", r->method, rt->pattern);
    authsvc_metrics_route(r, (int)(rt - routes));
    if (!rt->page && (why = authsvc_csrf_json(r)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "csrf_failed: %s", why);
        return authsvc_problem_send(r, "csrf_failed", why);
    }
    if (rt->fn == authsvc_h_page_css || rt->fn == authsvc_h_page_passkey_js) {
        return rt->fn(r, params);
    }
    return ready(r, rt) ? rt->fn(r, params) : OK;
}

const char *authsvc_router_route(int i, int *page)
{
    if (i < 0 || i >= (int)(sizeof(routes) / sizeof(routes[0])) - 1) {
        return NULL;
    }
    *page = routes[i].page;
    return routes[i].pattern;
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
    if (authsvc_csrf_cors(r)) {
        return OK;
    }
    path = r->uri + mlen;
    for (rt = routes; rt->pattern != NULL; rt++) {
        memset(params, 0, sizeof(params)); /* nothing left from a route that failed */
        if (!match(r->pool, rt->pattern, path, params)) {
            continue;
        }
        if (rt->method == r->method_number) {
            return run(r, rt, params);
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

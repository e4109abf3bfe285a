/*
 * guard.c - the access side: session cookie -> identity -> r->user, environment and
 * headers; "Require authsvc ..."; what clients see when they are turned away.
 */
#include <errno.h>

#include "apr_escape.h"
#include "apr_lib.h"
#include "ap_provider.h"
#include "mod_auth.h"
#include "util_filter.h"

#include "audit.h"
#include "cache.h"
#include "config.h"
#include "credparse.h"
#include "guard.h"
#include "json.h"
#include "metrics.h"
#include "problem.h"
#include "request.h"
#include "router.h"
#include "token.h"

#define NOTE_PROBLEM   "authsvc-problem"   /* catalogue code of a guard denial */
#define NOTE_PROMPT    "authsvc-prompt"    /* what a step-up asks the login page for */
#define NOTE_MAX_AGE   "authsvc-max-age"   /* the seconds of a "fresh" step-up */
#define FILTER_PROBLEM "AUTHSVC_PROBLEM"
#define DENIALS_LOGGED 10                  /* access_denied audits per IP per minute */

/* ---- identity on the request ------------------------------------------------------ */

/* The identity this module resolved for r, or for the request r came from (a
 * sub-request or an internal redirect reuses the main request's identity; not one
 * that came from an access token where AuthsvcBearer is Off: an identity from a token
 * has no session token_hash). */
static authsvc_identity_t *identity_of(request_rec *r)
{
    int bearer = authsvc_config_bearer(authsvc_dir(r));

    for (; r != NULL; r = r->main ? r->main : r->prev) {
        authsvc_identity_t *id = ap_get_module_config(r->request_config, &authsvc_module);
        if (id != NULL) {
            return bearer || id->session->token_hash != NULL ? id : NULL;
        }
    }
    return NULL;
}

static const char *remote_user(request_rec *r, const authsvc_identity_t *id)
{
    switch (authsvc_config_remote_user(authsvc_dir(r))) {
    case AUTHSVC_REMOTE_USER_ID:
        return id->user->id;
    case AUTHSVC_REMOTE_USER_USERNAME:
        /* no username: the email stands in */
        return id->user->username ? id->user->username : id->user->email;
    default:
        return id->user->email;
    }
}

static void attach(request_rec *r, authsvc_identity_t *id)
{
    ap_set_module_config(r->request_config, &authsvc_module, id);
    r->user = (char *)remote_user(r, id);
    r->ap_auth_type = "authsvc";
}

/* ---- requirements ----------------------------------------------------------------- */

int authsvc_guard_fresh_seconds(const char *w, apr_int64_t *out)
{
    char *end = NULL;

    errno = 0;
    *out = w != NULL && apr_isdigit(*w) ? apr_strtoi64(w, &end, 10) : 0;
    return end != NULL && *end == '\0' && errno == 0 && *out >= 1 &&
           *out <= AUTHSVC_FRESH_MAX;
}

/* "fresh SECONDS", and nothing after it. */
static const char *parse_fresh(apr_pool_t *p, const char *line, authsvc_require_t *req)
{
    const char *w = ap_getword_conf(p, &line);
    apr_int64_t v;

    if (!authsvc_guard_fresh_seconds(w, &v)) {
        return apr_psprintf(p, "Require authsvc fresh: '%s' is not a number of seconds "
                            "(1 to %d)", w, AUTHSVC_FRESH_MAX);
    }
    if (*ap_getword_conf(p, &line) != '\0') {
        return "Require authsvc fresh takes one number of seconds";
    }
    req->fresh = v;
    return NULL;
}

const char *authsvc_guard_parse(apr_pool_t *p, const char *line, authsvc_require_t **out)
{
    authsvc_require_t *req = apr_pcalloc(p, sizeof(*req));
    const char *w = ap_getword_conf(p, &line), *kind;
    apr_array_header_t **list = NULL;

    *out = req;
    if (*w == '\0') {
        return NULL;
    }
    kind = w;
    if (strcasecmp(kind, "verified") == 0) {
        req->verified = 1;
    }
    else if (strcasecmp(kind, "role") == 0) {
        list = &req->roles;
    }
    else if (strcasecmp(kind, "user") == 0) {
        list = &req->users;
    }
    else if (strcasecmp(kind, "mfa") == 0) {
        req->mfa = 1;
    }
    else if (strcasecmp(kind, "fresh") == 0) {
        return parse_fresh(p, line, req);
    }
    else {
        return apr_psprintf(p, "Require authsvc: unknown form '%s' (use: Require authsvc "
                            "[verified | role NAME... | user LOGIN... | mfa | fresh "
                            "SECONDS])", kind);
    }
    while (*(w = ap_getword_conf(p, &line)) != '\0') {
        if (list == NULL) {
            return apr_psprintf(p, "Require authsvc %s takes no arguments", kind);
        }
        if (*list == NULL) {
            *list = apr_array_make(p, 4, sizeof(const char *));
        }
        APR_ARRAY_PUSH(*list, const char *) = w;
    }
    if (list != NULL && *list == NULL) {
        return apr_psprintf(p, "Require authsvc %s needs at least one name", kind);
    }
    return NULL;
}

int authsvc_guard_has_role(const char *roles, const char *role)
{
    apr_size_t n = strlen(role);
    const char *p = roles;

    if (n == 0 || strpbrk(role, " \t") != NULL) {
        return 0;
    }
    while ((p = strstr(p, role)) != NULL) {
        if ((p == roles || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
            return 1;
        }
        p += n;
    }
    return 0;
}

static int any_of(const apr_array_header_t *names, const authsvc_user_t *u, int roles)
{
    int i;

    for (i = 0; i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, const char *);
        if (roles ? authsvc_guard_has_role(u->roles, n)
                  : (strcasecmp(n, u->email) == 0 || strcasecmp(n, u->id) == 0 ||
                     (u->username != NULL && strcasecmp(n, u->username) == 0))) {
            return 1;
        }
    }
    return 0;
}

int authsvc_guard_satisfies(const authsvc_identity_t *id, const authsvc_require_t *req)
{
    const authsvc_user_t *u = id->user;

    return (!req->verified || u->email_verified_at != 0) &&
           (req->roles == NULL || any_of(req->roles, u, 1)) &&
           (req->users == NULL || any_of(req->users, u, 0));
}

const char *authsvc_guard_step_up(const authsvc_identity_t *id, const authsvc_require_t *req,
                                  int mfa_required, apr_int64_t now, const char **prompt)
{
    const authsvc_user_t *u = id->user;

    if (req->mfa || mfa_required) {
        /* A session that passed a second factor (a passkey with user verification)
         * needs no enrolled TOTP. */
        if (u->mfa_enabled_at == 0 && id->session->mfa_at == 0) {
            *prompt = "mfa_enroll";
            return "mfa_enrollment_required";
        }
        if (id->session->mfa_at == 0) {
            *prompt = "mfa";
            return "reauthentication_required";
        }
    }
    if (req->fresh > 0 && now - authsvc_session_fresh_at(id) > req->fresh) {
        *prompt = "reauthenticate";
        return "reauthentication_required";
    }
    return NULL;
}

/* ---- turning clients away --------------------------------------------------------- */

/* API clients get problem+json; browsers (navigations that accept HTML) get pages. */
static int api_client(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    const char *mode = apr_table_get(r->headers_in, "Sec-Fetch-Mode");

    return accept == NULL || ap_strcasestr(accept, "text/html") == NULL ||
           apr_table_get(r->headers_in, "X-Requested-With") != NULL ||
           (mode != NULL && strcasecmp(mode, "navigate") != 0);
}

/* Remember why the guard refused, for the error filter, and return the status. */
static int refuse(request_rec *r, const char *code)
{
    apr_table_setn(r->notes, NOTE_PROBLEM, code);
    if (authsvc_problem_status(code) == HTTP_UNAUTHORIZED) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       authsvc_problem_challenge(code));
    }
    else if (strcmp(code, "unavailable") == 0) {
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
    }
    return authsvc_problem_status(code);
}

/* The login page with the path and query asked for, and what to ask (or NULL). */
static void login_location(request_rec *r, const char *login_url, const char *prompt)
{
    const char *back = r->unparsed_uri ? r->unparsed_uri : r->uri;
    const char *sep = ap_strchr_c(login_url, '?') ? "&" : "?";

    apr_table_setn(r->err_headers_out, "Location",
                   apr_pstrcat(r->pool, login_url, sep, "return_to=",
                               apr_pescape_urlencoded(r->pool, back),
                               prompt ? "&prompt=" : "", prompt ? prompt : "", NULL));
}

/* AuthsvcLoginURL, else the login page of the first authsvc mount, else NULL. */
static const char *login_page_url(request_rec *r, const authsvc_dir_cfg_t *d)
{
    return d->login_url != NULL ? d->login_url : authsvc_router_login_url(r);
}

/* Browsers go to the login page with the path and query they asked for. */
static int to_login(request_rec *r, const char *login_url)
{
    login_location(r, login_url, NULL);
    apr_table_setn(r->notes, NOTE_PROBLEM, "unauthenticated");
    return HTTP_MOVED_TEMPORARILY;
}

static int unauthenticated(request_rec *r)
{
    const authsvc_dir_cfg_t *d = authsvc_dir(r);

    if (authsvc_config_unauth(d) == AUTHSVC_UNAUTH_REDIRECT && login_page_url(r, d) != NULL &&
        !api_client(r) && r->main == NULL) {
        return to_login(r, login_page_url(r, d));
    }
    return refuse(r, "unauthenticated");
}

/* ---- hooks ------------------------------------------------------------------------ */

/* AuthsvcMFARequired: wherever an identity from this module is needed at all (by any
 * Require line, ours or valid-user, negated or not), it must have passed the second
 * factor. OK, or the refusal's status with the step-up noted for the error filter. */
static int mfa_gate(request_rec *r, const authsvc_identity_t *id)
{
    authsvc_require_t none;
    const char *prompt = NULL, *code;

    if (!authsvc_config_mfa_required(authsvc_dir(r))) {
        return OK;
    }
    memset(&none, 0, sizeof(none));
    if ((code = authsvc_guard_step_up(id, &none, 1, AUTHSVC_NOW(), &prompt)) == NULL) {
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "guard: %s needs %s (AuthsvcMFARequired)",
                  id->user->id, prompt);
    apr_table_setn(r->notes, NOTE_PROMPT, prompt);
    return refuse(r, code);
}

/* The identity of this request's credentials: an access token when there is a Bearer
 * header for us (then it decides, whatever cookie came with it), else the session
 * cookie. NULL with *id (NULL when there are none), or the refusal's code. */
static const char *resolve(request_rec *r, authsvc_identity_t **id)
{
    const char *bearer = authsvc_token_bearer(r);

    *id = NULL;
    if (bearer != NULL) {
        switch (authsvc_token_identity(r, bearer, id)) {
        case AUTHSVC_TOKEN_OK:
            return NULL;
        case AUTHSVC_TOKEN_INVALID:
            return "access_token_invalid";
        default:
            return "unavailable";
        }
    }
    return authsvc_session_current(r, id) == APR_SUCCESS ? NULL : "unavailable";
}

/* check_authn: only where no other AuthType is configured, or AuthType authsvc. */
static int authn(request_rec *r)
{
    const char *type = ap_auth_type(r), *code;
    authsvc_identity_t *id;

    if (type != NULL && strcasecmp(type, "authsvc") != 0) {
        return DECLINED;
    }
    if ((id = identity_of(r)) != NULL) {
        attach(r, id);
        return mfa_gate(r, id);
    }
    if ((code = resolve(r, &id)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "guard: %s", code);
        return refuse(r, code);
    }
    if (id == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "guard: no live session for %s",
                      r->uri);
        return unauthenticated(r);
    }
    attach(r, id);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "guard: user %s for %s", id->user->id,
                  r->uri);
    return mfa_gate(r, id);
}

static authz_status authz_check(request_rec *r, const char *require_line,
                                const void *parsed)
{
    const authsvc_require_t *req = parsed;
    authsvc_identity_t *id = identity_of(r);
    int plain = !req->verified && req->roles == NULL && req->users == NULL && !req->mfa &&
                req->fresh == 0;
    const char *prompt = NULL;

    (void)require_line;
    if (r->user == NULL) {
        if (!plain || req->negated ||
            authsvc_config_unauth(authsvc_dir(r)) != AUTHSVC_UNAUTH_PASS) {
            return AUTHZ_DENIED_NO_USER;
        }
        /* AuthsvcUnauthAction pass: with a session, its identity; without, anonymous.
         * A session AuthsvcMFARequired would refuse passes as anonymous too. */
        if (id == NULL && resolve(r, &id) == NULL && id != NULL &&
            authsvc_guard_step_up(id, req, authsvc_config_mfa_required(authsvc_dir(r)),
                                  AUTHSVC_NOW(), &prompt) == NULL) {
            attach(r, id);
        }
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "guard: pass (%s)",
                      r->user ? id->user->id : "anonymous");
        return AUTHZ_GRANTED;
    }
    if (id == NULL) {
        return AUTHZ_DENIED; /* someone else authenticated this request */
    }
    /* Negated, a line is a plain test: a step-up refusal there would turn into
     * "neutral" and let through the very accounts the line is meant to keep out. */
    if (req->negated) {
        return authsvc_guard_satisfies(id, req) &&
                       authsvc_guard_step_up(id, req, 0, AUTHSVC_NOW(), &prompt) == NULL
                   ? AUTHZ_GRANTED
                   : AUTHZ_DENIED;
    }
    if (authsvc_guard_satisfies(id, req)) {
        const char *code = authsvc_guard_step_up(
            id, req, authsvc_config_mfa_required(authsvc_dir(r)), AUTHSVC_NOW(), &prompt);
        if (code != NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "guard: %s needs %s for "
                          "'authsvc %s'", id->user->id, prompt, require_line);
            apr_table_setn(r->notes, NOTE_PROBLEM, code);
            apr_table_setn(r->notes, NOTE_PROMPT, prompt);
            if (strcmp(prompt, "reauthenticate") == 0) {
                apr_table_setn(r->notes, NOTE_MAX_AGE,
                               apr_psprintf(r->pool, "%" APR_INT64_T_FMT, req->fresh));
            }
            return AUTHZ_DENIED;
        }
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "guard: %s meets 'authsvc %s'",
                      id->user->id, require_line);
        return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "guard: %s fails 'authsvc %s'",
                  id->user->id, require_line);
    /* Under RequireAny, a step-up another line asked for may still open the door. */
    if (apr_table_get(r->notes, NOTE_PROMPT) == NULL) {
        apr_table_setn(r->notes, NOTE_PROBLEM, "forbidden");
    }
    return AUTHZ_DENIED;
}

/* Is this Require line negated: "Require not ...", or inside an odd number of
 * <RequireNone> sections (each turns its children's answers around)? */
static int negated(const cmd_parms *cmd)
{
    const ap_directive_t *d = cmd->directive;
    int neg = 0;

    if (d == NULL) {
        return 0;
    }
    if (d->args != NULL && strncasecmp(d->args, "not", 3) == 0 &&
        apr_isspace(d->args[3])) {
        neg = 1;
    }
    for (d = d->parent; d != NULL; d = d->parent) {
        if (d->directive != NULL && strcasecmp(d->directive, "<RequireNone") == 0) {
            neg = !neg;
        }
    }
    return neg;
}

static const char *authz_parse(cmd_parms *cmd, const char *require_line,
                               const void **parsed)
{
    authsvc_require_t *req;
    const char *err = authsvc_guard_parse(cmd->pool, require_line, &req);

    req->negated = negated(cmd);
    *parsed = req;
    return err;
}

static const authz_provider authz = {authz_check, authz_parse};

/* With AuthType authsvc, httpd answers a failed requirement with 401 and asks the auth
 * type to say how to authenticate (RFC 9110 11.6.1). */
static int note_auth_failure(request_rec *r, const char *auth_type)
{
    if (auth_type == NULL || strcasecmp(auth_type, "authsvc") != 0) {
        return DECLINED;
    }
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Authsvc");
    if (apr_table_get(r->notes, NOTE_PROMPT) == NULL) {
        apr_table_setn(r->notes, NOTE_PROBLEM, "unauthenticated");
    }
    return OK;
}

/* "First Last", either alone, or "" when the account has neither. */
static const char *display_name(request_rec *r, const authsvc_user_t *u)
{
    return apr_pstrcat(r->pool, u->first_name ? u->first_name : "",
                       u->first_name && u->last_name ? " " : "",
                       u->last_name ? u->last_name : "", NULL);
}

void authsvc_guard_identity_headers(request_rec *r, const authsvc_identity_t *id,
                                    apr_table_t *t)
{
    const char *prefix = authsvc_config_header_prefix(authsvc_dir(r));
    const authsvc_user_t *u = id->user;
    char *groups = apr_pstrdup(r->pool, u->roles), *c;

    for (c = groups; *c; c++) {
        if (*c == ' ') {
            *c = ',';
        }
    }
    apr_table_setn(t, apr_pstrcat(r->pool, prefix, "User", NULL), remote_user(r, id));
    apr_table_setn(t, apr_pstrcat(r->pool, prefix, "Email", NULL), u->email);
    apr_table_setn(t, apr_pstrcat(r->pool, prefix, "Name", NULL), display_name(r, u));
    apr_table_setn(t, apr_pstrcat(r->pool, prefix, "Groups", NULL), groups);
}

/* Is header name `h` one of ours, written with '_' or '-' in any case? Backends that
 * turn headers into HTTP_* variables cannot tell Remote_User from Remote-User. */
static int is_identity_header(const char *h, const char *prefix)
{
    static const char *const names[] = {"User", "Email", "Name", "Groups", NULL};
    apr_size_t np = strlen(prefix), i;
    int k;

    for (i = 0; i < np; i++) {
        char a = h[i] == '_' ? '-' : h[i], b = prefix[i] == '_' ? '-' : prefix[i];
        if (a == '\0' || apr_tolower(a) != apr_tolower(b)) {
            return 0;
        }
    }
    for (k = 0; names[k] != NULL; k++) {
        if (strcasecmp(h + np, names[k]) == 0) {
            return 1;
        }
    }
    return 0;
}

typedef struct {
    const char *prefix;
    apr_array_header_t *found;
} scrub_t;

static int collect_identity_header(void *baton, const char *key, const char *value)
{
    scrub_t *sc = baton;

    (void)value;
    if (is_identity_header(key, sc->prefix)) {
        APR_ARRAY_PUSH(sc->found, const char *) = key;
    }
    return 1;
}

static void scrub_headers(request_rec *r)
{
    scrub_t sc;
    int i;

    sc.prefix = authsvc_config_header_prefix(authsvc_dir(r));
    sc.found = apr_array_make(r->pool, 4, sizeof(const char *));
    apr_table_do(collect_identity_header, &sc, r->headers_in, NULL);
    for (i = 0; i < sc.found->nelts; i++) {
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(sc.found, i, const char *));
    }
}

static void set_env(request_rec *r, const authsvc_identity_t *id)
{
    const authsvc_user_t *u = id->user;
    apr_table_t *e = r->subprocess_env;

    apr_table_setn(e, "AUTHSVC_USER_ID", u->id);
    apr_table_setn(e, "AUTHSVC_EMAIL", u->email);
    apr_table_setn(e, "AUTHSVC_USERNAME", u->username ? u->username : "");
    apr_table_setn(e, "AUTHSVC_NAME", display_name(r, u));
    apr_table_setn(e, "AUTHSVC_ROLES", u->roles);
    apr_table_setn(e, "AUTHSVC_SESSION_EXPIRES",
                   authsvc_request_iso8601(r->pool, id->session->expires_at));
}

/* Does something other than the static file handler or this module see the request
 * (a proxy, CGI, PHP, SSI ...)? Only then is there a backend to hide the cookie from.
 * At fixups, a static file has no handler yet. */
static int has_backend(const request_rec *r)
{
    if (r->proxyreq != PROXYREQ_NONE) {
        return 1;
    }
    return r->handler != NULL && strcmp(r->handler, AUTHSVC_HANDLER) != 0 &&
           strcmp(r->handler, AUTHSVC_HANDLER_HEALTH) != 0 &&
           strcmp(r->handler, "default-handler") != 0;
}

#define N_STRIPPED 2 /* the session cookie, the remembered device's */

/* The header's lines without our session and remembered-device cookies, in
 * strip_cookie. */
typedef struct {
    apr_pool_t *pool;
    const char *names[N_STRIPPED];
    apr_table_t *kept; /* the lines as they will be */
    int changed;
} strip_t;

static int strip_line(void *baton, const char *key, const char *line)
{
    strip_t *st = baton;
    const char *rest = line;
    int i;

    for (i = 0; i < N_STRIPPED && *rest != '\0'; i++) {
        rest = authsvc_credparse_cookie_strip(st->pool, rest, st->names[i],
                                              strlen(st->names[i]));
    }

    if (rest != line) {
        st->changed = 1;
    }
    if (*rest != '\0') {
        apr_table_addn(st->kept, key, rest);
    }
    return 1;
}

/* Take our session cookie (and the remembered-device cookie, which stands in for a
 * second factor) out of the request's Cookie header(s), keeping the rest, and the
 * access token we accepted: the backend gets the identity, not the credential.
 * Every copy of the cookie goes, even two different ones (which the guard ignores as a
 * conflict; httpd's ap_cookie_read refuses to remove those); a line left empty goes. */
static void strip_cookie(request_rec *r)
{
    static const char *const headers[] = {"Cookie", "Cookie2"};
    strip_t st;
    int i;

    if (authsvc_token_bearer(r) != NULL) {
        apr_table_unset(r->headers_in, "Authorization");
    }
    st.pool = r->pool;
    st.names[0] = authsvc_session_cookie_name(r);
    st.names[1] = authsvc_device_cookie_name(r);
    for (i = 0; i < (int)(sizeof(headers) / sizeof(headers[0])); i++) {
        st.kept = apr_table_make(r->pool, 1);
        st.changed = 0;
        apr_table_do(strip_line, &st, r->headers_in, headers[i], NULL);
        if (st.changed) {
            const apr_array_header_t *a = apr_table_elts(st.kept);
            const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
            int j;
            apr_table_unset(r->headers_in, headers[i]);
            for (j = 0; j < a->nelts; j++) {
                apr_table_addn(r->headers_in, headers[i], e[j].val);
            }
        }
    }
}

/* fixups: hand the identity to whatever serves the request; take away what the client
 * must not be able to forge or the backend must not see. */
static int fixups(request_rec *r)
{
    const authsvc_dir_cfg_t *d = authsvc_dir(r);
    authsvc_identity_t *id = identity_of(r);

    /* Access was granted: whatever a provider noted on the way is not a refusal. */
    apr_table_unset(r->notes, NOTE_PROBLEM);
    apr_table_unset(r->notes, NOTE_PROMPT);
    apr_table_unset(r->notes, NOTE_MAX_AGE);
    if (authsvc_config_pass_headers(d)) {
        scrub_headers(r);
    }
    if (id != NULL) {
        authsvc_metrics_guard(r, NULL);
        if (r->user == NULL) {
            attach(r, id);
        }
        /* Only CGI, SSI, PHP and proxies read the environment; a static file served
         * to a signed-in user should cost as little as one served to anyone. */
        if (has_backend(r)) {
            set_env(r, id);
        }
        if (authsvc_config_pass_headers(d)) {
            authsvc_guard_identity_headers(r, id, r->headers_in);
        }
    }
    if (authsvc_config_strip_cookie(d) && has_backend(r)) {
        strip_cookie(r);
    }
    return DECLINED;
}

/* insert_filter (last): SSI can run as an output filter (AddOutputFilter INCLUDES)
 * on a request the static handler serves; then it is a backend too. */
static void insert_filter(request_rec *r)
{
    authsvc_identity_t *id = identity_of(r);
    ap_filter_t *f;

    if (has_backend(r)) {
        return; /* fixups did it */
    }
    for (f = r->output_filters; f != NULL; f = f->next) {
        if (f->frec != NULL && f->frec->name != NULL &&
            strcasecmp(f->frec->name, "includes") == 0) {
            if (id != NULL) {
                set_env(r, id);
            }
            if (authsvc_config_strip_cookie(authsvc_dir(r))) {
                strip_cookie(r);
            }
            return;
        }
    }
}

/* ---- error responses -------------------------------------------------------------- */

typedef struct {
    const char *code;
    int redirect; /* a step-up sent to the login page: no body */
} problem_ctx_t;

/* Replaces httpd's HTML error body with the problem+json one. */
static apr_status_t problem_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    problem_ctx_t *ctx = f->ctx;
    apr_bucket *e;
    authsvc_json_t *body;
    const char *s, *max_age;

    for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb);
         e = APR_BUCKET_NEXT(e)) {
        if (APR_BUCKET_IS_EOS(e)) {
            break;
        }
    }
    if (e == APR_BRIGADE_SENTINEL(bb)) {
        apr_brigade_cleanup(bb); /* all of it HTML we are replacing */
        return APR_SUCCESS;
    }
    if (ctx->redirect) {
        apr_brigade_cleanup(bb);
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }
    body = authsvc_problem_body(r, ctx->code,
                                strcmp(ctx->code, "unauthenticated") == 0
                                    ? "sign in to see this resource"
                                : strcmp(ctx->code, "forbidden") == 0
                                    ? "your account may not see this resource"
                                : strcmp(ctx->code, "reauthentication_required") == 0
                                    ? "confirm it is you (POST /auth/reauthenticate, with "
                                      "your second factor if you have one) to see this "
                                      "resource"
                                : strcmp(ctx->code, "mfa_enrollment_required") == 0
                                    ? "set up two-step sign-in (POST /users/me/mfa) to "
                                      "see this resource"
                                : strcmp(ctx->code, "access_token_invalid") == 0
                                    ? "the access token is invalid, expired or revoked: "
                                      "refresh it or sign in again"
                                    : NULL,
                                NULL);
    if ((max_age = apr_table_get(r->notes, NOTE_MAX_AGE)) != NULL) {
        authsvc_json_set_int(body, "max_age", apr_atoi64(max_age));
    }
    s = authsvc_json_dump(r->pool, body);
    apr_brigade_cleanup(bb);
    ap_set_content_type(r, "application/problem+json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(s, strlen(s), r->pool,
                                                       f->c->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

/* Audit a refusal, at most DENIALS_LOGGED per client IP per minute so that a crawler
 * cannot flood the audit trail or the log. */
static void audit_denial(request_rec *r, const char *code)
{
    const char *ip = r->useragent_ip ? r->useragent_ip : "-";
    authsvc_identity_t *id = identity_of(r);
    authsvc_json_t *detail;
    apr_uint32_t n = authsvc_cache_count(r, apr_pstrcat(r->pool, "d:", ip, NULL), 60);

    authsvc_metrics_guard(r, code);
    if (n > DENIALS_LOGGED || strcmp(code, "unavailable") == 0) {
        return;
    }
    detail = authsvc_json_object(r->pool);
    authsvc_json_set_str(detail, "reason", authsvc_problem_code(code));
    authsvc_json_set_str(detail, "uri", r->uri);
    authsvc_json_set_int(detail, "status", r->status);
    authsvc_audit(r, authsvc_store_db(r), "access_denied", id ? id->user->id : NULL, NULL,
                  detail);
}

/* A step-up refusal: httpd answered 403 (or 401 with AuthType authsvc) for a denied
 * requirement; the answer is 401 or 403 with the step-up code for API clients, and a
 * redirect to the login page with a prompt for browsers. The status is changed here,
 * before any header is sent. */
static void step_up(request_rec *r, const char *code)
{
    const authsvc_dir_cfg_t *d = authsvc_dir(r);
    problem_ctx_t *ctx = apr_pcalloc(r->pool, sizeof(*ctx));

    ctx->code = code;
    if (authsvc_config_unauth(d) == AUTHSVC_UNAUTH_REDIRECT && login_page_url(r, d) != NULL &&
        !api_client(r)) {
        login_location(r, login_page_url(r, d), apr_table_get(r->notes, NOTE_PROMPT));
        apr_table_unset(r->err_headers_out, "WWW-Authenticate");
        ctx->redirect = 1;
        r->status = HTTP_MOVED_TEMPORARILY;
    }
    else {
        r->status = authsvc_problem_status(code);
        if (r->status == HTTP_UNAUTHORIZED) {
            apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Authsvc");
        }
        else {
            apr_table_unset(r->err_headers_out, "WWW-Authenticate");
        }
    }
    r->status_line = NULL;
    ap_add_output_filter(FILTER_PROBLEM, ctx, r, r->connection);
}

static void insert_error_filter(request_rec *r)
{
    const char *code = apr_table_get(r->notes, NOTE_PROBLEM);
    problem_ctx_t *ctx;

    if (code == NULL || r->main != NULL) {
        return;
    }
    if (apr_table_get(r->notes, NOTE_PROMPT) != NULL) {
        if (r->status == HTTP_FORBIDDEN || r->status == HTTP_UNAUTHORIZED) {
            step_up(r, code);
            audit_denial(r, code);
        }
        return;
    }
    if (r->status != authsvc_problem_status(code) &&
        !(r->status == HTTP_MOVED_TEMPORARILY && strcmp(code, "unauthenticated") == 0)) {
        return; /* some later error, not our refusal */
    }
    audit_denial(r, code);
    if (r->status != authsvc_problem_status(code) || !api_client(r)) {
        return;
    }
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->code = code;
    ap_add_output_filter(FILTER_PROBLEM, ctx, r, r->connection);
}

void authsvc_guard_register(apr_pool_t *p)
{
    ap_hook_check_authn(authn, NULL, NULL, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "authsvc", AUTHZ_PROVIDER_VERSION,
                              &authz, AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_fixups(fixups, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_note_auth_failure(note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_filter(insert_filter, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_insert_error_filter(insert_error_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_output_filter(FILTER_PROBLEM, problem_filter, NULL, AP_FTYPE_CONTENT_SET);
}

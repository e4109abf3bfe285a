/*
 * guard.c - the access side: session cookie -> r->user, and "Require authsvc".
 */
#include "ap_provider.h"
#include "mod_auth.h"

#include "guard.h"
#include "session.h"
#include "store.h"

/* Set on a request (and copied to its sub-requests) once we authenticated it. */
#define NOTE_USER_ID "authsvc-user-id"

static void set_identity(request_rec *r, const char *user, const char *user_id)
{
    r->user = apr_pstrdup(r->pool, user);
    r->ap_auth_type = "authsvc";
    apr_table_setn(r->notes, NOTE_USER_ID, apr_pstrdup(r->pool, user_id));
}

/* Sub-requests and internal redirects reuse the identity the main request resolved. */
static int inherit_identity(request_rec *r)
{
    request_rec *o = r->main ? r->main : r->prev;
    const char *id;

    for (; o != NULL; o = o->main ? o->main : o->prev) {
        id = apr_table_get(o->notes, NOTE_USER_ID);
        if (id != NULL && o->user != NULL) {
            set_identity(r, o->user, id);
            return 1;
        }
    }
    return 0;
}

/* check_authn: only where no other AuthType is configured, or AuthType authsvc. */
static int authn(request_rec *r)
{
    const char *type = ap_auth_type(r);
    authsvc_identity_t *id = NULL;

    if (type != NULL && strcasecmp(type, "authsvc") != 0) {
        return DECLINED;
    }
    if (inherit_identity(r)) {
        return OK;
    }
    if (authsvc_session_current(r, &id) != APR_SUCCESS) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (id == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "guard: no live session for %s",
                      r->uri);
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Authsvc");
        return HTTP_UNAUTHORIZED;
    }
    set_identity(r, id->user->email, id->user->id);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "guard: user %s for %s", id->user->id,
                  r->uri);
    return OK;
}

static authz_status authz_check(request_rec *r, const char *require_line,
                                const void *parsed)
{
    (void)require_line;
    (void)parsed;
    if (r->user == NULL) {
        return AUTHZ_DENIED_NO_USER;
    }
    return apr_table_get(r->notes, NOTE_USER_ID) ? AUTHZ_GRANTED : AUTHZ_DENIED;
}

/* Arguments are rejected here, at start-up, until their forms exist. */
static const char *authz_parse(cmd_parms *cmd, const char *require_line,
                               const void **parsed)
{
    (void)parsed;
    if (require_line != NULL && *require_line != '\0') {
        return apr_psprintf(cmd->pool, "Require authsvc: unknown argument '%s'",
                            require_line);
    }
    return NULL;
}

static const authz_provider authz = {authz_check, authz_parse};

void authsvc_guard_register(apr_pool_t *p)
{
    ap_hook_check_authn(authn, NULL, NULL, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "authsvc", AUTHZ_PROVIDER_VERSION,
                              &authz, AP_AUTH_INTERNAL_PER_CONF);
}

/*
 * h_check.c - GET /auth/check: forward authentication for fronts other than Apache
 * (nginx auth_request, Traefik forwardAuth). 200 with the identity headers when the
 * session is live and meets the requirement in the query; 401 or 403 otherwise.
 */
#include "guard.h"
#include "h_common.h"
#include "router.h"

/* ?role=a,b&role=c&user=x&verified&mfa&fresh=300: the same forms as "Require authsvc". Unknown
 * parameters are refused rather than ignored: a typo must not widen access. */
static const char *parse_query(request_rec *r, authsvc_require_t *req)
{
    char *q = r->args ? apr_pstrdup(r->pool, r->args) : NULL, *last = NULL, *pair;

    for (pair = q ? apr_strtok(q, "&", &last) : NULL; pair;
         pair = apr_strtok(NULL, "&", &last)) {
        char *val = strchr(pair, '='), *v, *vlast = NULL;
        apr_array_header_t **list;

        if (val != NULL) {
            *val++ = '\0';
        }
        if (ap_unescape_urlencoded(pair) != OK ||
            (val != NULL && ap_unescape_urlencoded(val) != OK)) {
            return "the query is not valid URL encoding";
        }
        if (strcmp(pair, "verified") == 0 || strcmp(pair, "mfa") == 0) {
            *(pair[0] == 'v' ? &req->verified : &req->mfa) = 1;
            continue;
        }
        if (strcmp(pair, "fresh") == 0) {
            if (!authsvc_guard_fresh_seconds(val, &req->fresh)) {
                return "parameter 'fresh' must be a number of seconds (1 to 31622400)";
            }
            continue;
        }
        list = strcmp(pair, "role") == 0 ? &req->roles
               : strcmp(pair, "user") == 0 ? &req->users : NULL;
        if (list == NULL || val == NULL || *val == '\0') {
            return apr_psprintf(r->pool, "unknown or empty parameter '%s' (use role=, "
                                "user=, verified, mfa, fresh=)", pair);
        }
        if (*list == NULL) {
            *list = apr_array_make(r->pool, 4, sizeof(const char *));
        }
        for (v = apr_strtok(val, ",", &vlast); v; v = apr_strtok(NULL, ",", &vlast)) {
            APR_ARRAY_PUSH(*list, const char *) = v;
        }
        if ((*list)->nelts == 0) { /* "role=," names nobody: refuse, never widen */
            return apr_psprintf(r->pool, "parameter '%s' names nothing", pair);
        }
    }
    return NULL;
}

int authsvc_h_check(request_rec *r, const char *const *params)
{
    authsvc_require_t req;
    authsvc_identity_t *id = NULL;
    const authsvc_fail_t *fail;
    const char *err, *step, *prompt = NULL;
    authsvc_json_t *out;

    (void)params;
    memset(&req, 0, sizeof(req));
    if ((err = parse_query(r, &req)) != NULL) {
        return authsvc_problem_send(r, "validation_failed", err);
    }
    if ((fail = authsvc_flow_whoami(r, &id)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    if (!authsvc_guard_satisfies(id, &req)) {
        return authsvc_problem_send(r, "forbidden", "your account does not meet the "
                                    "requirement");
    }
    if ((step = authsvc_guard_step_up(id, &req, 0, AUTHSVC_NOW(), &prompt)) != NULL) {
        return authsvc_problem_send(r, step, apr_pstrcat(r->pool, "the session must "
                                    "pass a step-up first: ", prompt, NULL));
    }
    authsvc_guard_identity_headers(r, id, r->headers_out);
    out = authsvc_json_object(r->pool);
    authsvc_json_set(out, "user", authsvc_h_user(r, id->user));
    return authsvc_request_send_json(r, HTTP_OK, out);
}

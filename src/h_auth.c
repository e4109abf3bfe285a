/*
 * h_auth.c - JSON adapters for /auth/register, /auth/login, /auth/logout.
 */
#include "abuse.h"
#include "h_common.h"
#include "router.h"

int authsvc_h_register(request_rec *r, const char *const *params)
{
    authsvc_json_t *body;
    authsvc_register_in_t in;
    apr_array_header_t *errs = NULL;
    authsvc_user_t *u = NULL;
    const authsvc_fail_t *fail;
    authsvc_json_t *out;

    (void)params;
    if (!authsvc_h_read(r, &body)) {
        return OK;
    }
    authsvc_h_field(r, body, "email", &in.email, &errs);
    authsvc_h_field(r, body, "password", &in.password, &errs);
    authsvc_h_field(r, body, "username", &in.username, &errs);
    authsvc_h_field(r, body, "first_name", &in.first_name, &errs);
    authsvc_h_field(r, body, "last_name", &in.last_name, &errs);
    in.honeypot = authsvc_abuse_honeypot(r, body);
    if (errs != NULL) {
        return authsvc_h_fail(r, authsvc_fail_fields(r, errs));
    }
    if ((fail = authsvc_flow_register(r, &in, &u)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    out = authsvc_json_object(r->pool);
    authsvc_json_set(out, "user", authsvc_h_user(r, u));
    apr_table_setn(r->headers_out, "Location",
                   ap_construct_url(r->pool, apr_pstrcat(r->pool, authsvc_router_mount(r),
                                                         "/users/me", NULL), r));
    return authsvc_request_send_json(r, HTTP_CREATED, out);
}

int authsvc_h_login(request_rec *r, const char *const *params)
{
    authsvc_json_t *body;
    authsvc_login_in_t in;
    authsvc_login_out_t res;
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;

    (void)params;
    if (!authsvc_h_read(r, &body)) {
        return OK;
    }
    authsvc_h_field(r, body, "login", &in.login, &errs);
    authsvc_h_field(r, body, "password", &in.password, &errs);
    in.honeypot = authsvc_abuse_honeypot(r, body);
    if (errs != NULL) {
        return authsvc_h_fail(r, authsvc_fail_fields(r, errs));
    }
    if ((fail = authsvc_flow_login(r, &in, &res)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    authsvc_session_set_cookie(r, res.token);
    return authsvc_h_session_response(r, &res);
}

int authsvc_h_logout(request_rec *r, const char *const *params)
{
    const authsvc_fail_t *fail;
    authsvc_json_t *body;
    authsvc_field_t token;
    apr_array_header_t *errs = NULL;

    (void)params;
    /* A token client signs out with its refresh token in the body. */
    if (authsvc_request_has_body(r)) {
        if (!authsvc_h_read(r, &body)) {
            return OK;
        }
        authsvc_h_field(r, body, "refresh_token", &token, &errs);
        if (token.state == AUTHSVC_FIELD_NULL) {
            authsvc_problem_field(r, &errs, "refresh_token", "wrong_type",
                                  "must be a string");
        }
        if (errs != NULL) {
            return authsvc_h_fail(r, authsvc_fail_fields(r, errs));
        }
        if ((fail = authsvc_flow_logout_refresh(r, &token)) != NULL) {
            return authsvc_h_fail(r, fail);
        }
    }
    if ((fail = authsvc_flow_logout(r)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    authsvc_session_clear_cookie(r);
    return authsvc_request_send_empty(r, HTTP_NO_CONTENT);
}

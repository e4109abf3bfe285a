/*
 * h_emailcode.c - JSON adapters for POST /auth/email-code and
 * POST /auth/email-code/verify.
 */
#include "h_common.h"
#include "router.h"

int authsvc_h_email_code(request_rec *r, const char *const *params)
{
    authsvc_email_code_out_t res;
    const authsvc_fail_t *fail;
    apr_array_header_t *errs = NULL;
    authsvc_json_t *body, *out;
    authsvc_field_t email;

    (void)params;
    if ((fail = authsvc_flow_email_code_off(r)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    if (!authsvc_h_read(r, &body)) {
        return OK;
    }
    authsvc_h_field(r, body, "email", &email, &errs);
    if (errs != NULL) {
        return authsvc_h_fail(r, authsvc_fail_fields(r, errs));
    }
    if ((fail = authsvc_flow_email_code_request(r, &email, &res)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    authsvc_email_code_cookie_set(r, res.code_token, res.expires_in);
    out = authsvc_json_object(r->pool);
    authsvc_json_set_str(out, "code_token", res.code_token);
    authsvc_json_set_int(out, "expires_in", res.expires_in);
    return authsvc_request_send_json(r, HTTP_ACCEPTED, out);
}

int authsvc_h_email_code_verify(request_rec *r, const char *const *params)
{
    authsvc_email_code_in_t in;
    authsvc_login_out_t res;
    const authsvc_fail_t *fail;
    apr_array_header_t *errs = NULL;
    authsvc_json_t *body;

    (void)params;
    if ((fail = authsvc_flow_email_code_off(r)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    if (!authsvc_h_read(r, &body)) {
        return OK;
    }
    authsvc_h_field(r, body, "email", &in.email, &errs);
    authsvc_h_field(r, body, "code", &in.code, &errs);
    authsvc_h_field(r, body, "code_token", &in.code_token, &errs);
    if (errs != NULL) {
        return authsvc_h_fail(r, authsvc_fail_fields(r, errs));
    }
    if ((fail = authsvc_flow_email_code_verify(r, &in, &res)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    authsvc_email_code_cookie_set(r, "", 0);
    authsvc_session_set_cookie(r, res.token);
    return authsvc_h_session_response(r, &res);
}

/*
 * h_mfa.c - JSON adapters for the second factor: /users/me/mfa (status, enrollment,
 * confirmation, turning off, new recovery codes), /auth/login/mfa and
 * /auth/reauthenticate.
 */
#include "h_common.h"
#include "router.h"

/* Read the body: the string field `name` into *f (when name is not NULL) and, when in
 * is not NULL, code and recovery_code. 0 when a response was already sent. */
static int read_body(request_rec *r, const char *name, authsvc_field_t *f,
                     authsvc_factor_in_t *in)
{
    authsvc_json_t *body;
    apr_array_header_t *errs = NULL;

    if (!authsvc_h_read(r, &body)) {
        return 0;
    }
    if (name != NULL) {
        authsvc_h_field(r, body, name, f, &errs);
    }
    if (in != NULL) {
        authsvc_h_factor(r, body, in, &errs);
        /* The sign-in step's "remember this device" (ignored elsewhere). */
        in->remember_device = 0;
        if (authsvc_json_get_bool(body, "remember_device", &in->remember_device) ==
            AUTHSVC_JSON_WRONG_TYPE) {
            authsvc_problem_field(r, &errs, "remember_device", "wrong_type",
                                  "must be true or false");
        }
    }
    if (errs != NULL) {
        authsvc_h_fail(r, authsvc_fail_fields(r, errs));
        return 0;
    }
    return 1;
}

static int codes_response(request_rec *r, const apr_array_header_t *codes)
{
    authsvc_json_t *out = authsvc_json_object(r->pool);
    authsvc_json_t *arr = authsvc_json_array(r->pool);
    int i;

    for (i = 0; i < codes->nelts; i++) {
        authsvc_json_append_str(arr, APR_ARRAY_IDX(codes, i, const char *));
    }
    authsvc_json_set(out, "recovery_codes", arr);
    return authsvc_request_send_json(r, HTTP_OK, out);
}

int authsvc_h_login_mfa(request_rec *r, const char *const *params)
{
    authsvc_field_t token;
    authsvc_factor_in_t in;
    authsvc_login_out_t res;
    const authsvc_fail_t *fail;

    (void)params;
    if (!read_body(r, "mfa_token", &token, &in)) {
        return OK;
    }
    if ((fail = authsvc_flow_login_mfa(r, &token, &in, &res)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    authsvc_session_set_cookie(r, res.token);
    authsvc_flow_remember_cookie(r, res.device_token);
    return authsvc_h_session_response(r, &res);
}

int authsvc_h_reauthenticate(request_rec *r, const char *const *params)
{
    authsvc_field_t password;
    authsvc_factor_in_t in;
    authsvc_session_t *s = NULL;
    const authsvc_fail_t *fail;
    authsvc_json_t *out;

    (void)params;
    if (!read_body(r, "password", &password, &in)) {
        return OK;
    }
    if ((fail = authsvc_flow_reauthenticate_session(r, &password, &in, &s)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    out = authsvc_json_object(r->pool);
    authsvc_h_authn(r, out, s);
    return authsvc_request_send_json(r, HTTP_OK, out);
}

authsvc_json_t *authsvc_h_mfa_json(request_rec *r, const authsvc_mfa_t *m)
{
    authsvc_json_t *out = authsvc_json_object(r->pool);

    authsvc_json_set_bool(out, "enabled", m->secret != NULL);
    authsvc_json_set_str(out, "enabled_at",
                         m->secret ? authsvc_request_iso8601(r->pool, m->enabled_at) : NULL);
    authsvc_json_set_bool(out, "pending", m->secret == NULL && m->pending != NULL);
    authsvc_json_set_int(out, "recovery_codes_remaining", m->secret ? m->codes_left : 0);
    return out;
}

int authsvc_h_mfa_status(request_rec *r, const char *const *params)
{
    authsvc_mfa_t m;
    const authsvc_fail_t *fail;

    (void)params;
    if ((fail = authsvc_flow_mfa_status(r, &m)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return authsvc_request_send_json(r, HTTP_OK, authsvc_h_mfa_json(r, &m));
}

/* No body is read: the request carries nothing but the session. */
int authsvc_h_mfa_begin(request_rec *r, const char *const *params)
{
    authsvc_enroll_out_t e;
    const authsvc_fail_t *fail;
    authsvc_json_t *out;

    (void)params;
    if ((fail = authsvc_flow_mfa_begin(r, &e)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    out = authsvc_json_object(r->pool);
    authsvc_json_set_str(out, "secret", e.secret);
    authsvc_json_set_str(out, "otpauth_uri", e.uri);
    authsvc_json_set_str(out, "qr_svg", e.qr_svg);
    authsvc_json_set_int(out, "expires_in", AUTHSVC_MFA_PENDING_TTL);
    return authsvc_request_send_json(r, HTTP_OK, out);
}

int authsvc_h_mfa_confirm(request_rec *r, const char *const *params)
{
    authsvc_field_t code;
    apr_array_header_t *codes = NULL;
    const authsvc_fail_t *fail;

    (void)params;
    if (!read_body(r, "code", &code, NULL)) {
        return OK;
    }
    if ((fail = authsvc_flow_mfa_confirm(r, &code, &codes)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return codes_response(r, codes);
}

int authsvc_h_mfa_disable(request_rec *r, const char *const *params)
{
    authsvc_field_t password;
    authsvc_factor_in_t in;
    const authsvc_fail_t *fail;

    (void)params;
    if (!read_body(r, "password", &password, &in)) {
        return OK;
    }
    if ((fail = authsvc_flow_mfa_disable(r, &password, &in)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return authsvc_request_send_empty(r, HTTP_NO_CONTENT);
}

int authsvc_h_mfa_codes(request_rec *r, const char *const *params)
{
    authsvc_field_t code;
    apr_array_header_t *codes = NULL;
    const authsvc_fail_t *fail;

    (void)params;
    if (!read_body(r, "code", &code, NULL)) {
        return OK;
    }
    if ((fail = authsvc_flow_mfa_new_codes(r, &code, &codes)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return codes_response(r, codes);
}

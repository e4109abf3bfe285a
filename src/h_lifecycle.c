/*
 * h_lifecycle.c - JSON adapters for the account lifecycle: email verification, password
 * reset and change, change of address, account deletion.
 */
#include "abuse.h"
#include "h_common.h"

/* The body of every 202: the request was taken; mail follows. */
static int accepted(request_rec *r, const char *detail)
{
    authsvc_json_t *out = authsvc_json_object(r->pool);

    authsvc_json_set_str(out, "status", "accepted");
    if (detail != NULL) {
        authsvc_json_set_str(out, "detail", detail);
    }
    return authsvc_request_send_json(r, HTTP_ACCEPTED, out);
}

/* Read the body and the named string fields (NULL-terminated list) into f[], and
 * whether the honeypot field is filled in (when honeypot is not NULL). 0 when a
 * response was already sent. */
static int read_fields(request_rec *r, const char *const *names, authsvc_field_t *f,
                       int *honeypot)
{
    authsvc_json_t *body;
    apr_array_header_t *errs = NULL;
    int i;

    if (!authsvc_h_read(r, &body)) {
        return 0;
    }
    for (i = 0; names[i] != NULL; i++) {
        authsvc_h_field(r, body, names[i], &f[i], &errs);
    }
    if (errs != NULL) {
        authsvc_h_fail(r, authsvc_fail_fields(r, errs));
        return 0;
    }
    if (honeypot != NULL) {
        *honeypot = authsvc_abuse_honeypot(r, body);
    }
    return 1;
}

static int user_response(request_rec *r, int status, const authsvc_user_t *u)
{
    authsvc_json_t *out = authsvc_json_object(r->pool);

    authsvc_json_set(out, "user", authsvc_h_user(r, u));
    return authsvc_request_send_json(r, status, out);
}

int authsvc_h_verify_email(request_rec *r, const char *const *params)
{
    static const char *const names[] = {"token", NULL};
    authsvc_field_t f[1];
    authsvc_user_t *u = NULL;
    const authsvc_fail_t *fail;

    (void)params;
    if (!read_fields(r, names, f, NULL)) {
        return OK;
    }
    if ((fail = authsvc_flow_verify_email(r, &f[0], &u)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return user_response(r, HTTP_OK, u);
}

int authsvc_h_verify_resend(request_rec *r, const char *const *params)
{
    const authsvc_fail_t *fail = authsvc_flow_resend_verification(r);

    (void)params;
    return fail ? authsvc_h_fail(r, fail) : accepted(r, NULL);
}

int authsvc_h_forgot_password(request_rec *r, const char *const *params)
{
    static const char *const names[] = {"email", NULL};
    authsvc_field_t f[1];
    const authsvc_fail_t *fail;
    int honeypot = 0;

    (void)params;
    if (!read_fields(r, names, f, &honeypot)) {
        return OK;
    }
    if ((fail = authsvc_flow_forgot_password(r, &f[0], honeypot)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return accepted(r, "If an account with this email exists, a message with a reset "
                       "link is on its way.");
}

int authsvc_h_reset_password(request_rec *r, const char *const *params)
{
    static const char *const names[] = {"token", "password", NULL};
    authsvc_field_t f[2];
    const authsvc_fail_t *fail;
    authsvc_json_t *out;

    (void)params;
    if (!read_fields(r, names, f, NULL)) {
        return OK;
    }
    if ((fail = authsvc_flow_reset_password(r, &f[0], &f[1])) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    out = authsvc_json_object(r->pool);
    authsvc_json_set_str(out, "status", "password_changed");
    return authsvc_request_send_json(r, HTTP_OK, out);
}

int authsvc_h_change_password(request_rec *r, const char *const *params)
{
    static const char *const names[] = {"current_password", "new_password", NULL};
    authsvc_field_t f[2];
    authsvc_login_out_t res;
    const authsvc_fail_t *fail;

    (void)params;
    if (!read_fields(r, names, f, NULL)) {
        return OK;
    }
    if ((fail = authsvc_flow_change_password(r, &f[0], &f[1], &res)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    authsvc_session_set_cookie(r, res.token);
    return authsvc_h_session_response(r, &res);
}

int authsvc_h_change_email(request_rec *r, const char *const *params)
{
    static const char *const names[] = {"new_email", "password", NULL};
    authsvc_field_t f[2];
    const authsvc_fail_t *fail;

    (void)params;
    if (!read_fields(r, names, f, NULL)) {
        return OK;
    }
    if ((fail = authsvc_flow_change_email(r, &f[0], &f[1])) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return accepted(r, NULL);
}

int authsvc_h_delete_account(request_rec *r, const char *const *params)
{
    static const char *const names[] = {"password", NULL};
    authsvc_field_t f[1];
    const authsvc_fail_t *fail;

    (void)params;
    if (!read_fields(r, names, f, NULL)) {
        return OK;
    }
    if ((fail = authsvc_flow_delete_account(r, &f[0])) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    authsvc_session_clear_cookie(r);
    return authsvc_request_send_empty(r, HTTP_NO_CONTENT);
}

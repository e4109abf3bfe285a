/*
 * h_account.c - JSON adapters for /users/me.
 */
#include "h_common.h"
#include "router.h"

int authsvc_h_me(request_rec *r, const char *const *params)
{
    authsvc_identity_t *id = NULL;
    const authsvc_fail_t *fail;

    (void)params;
    if ((fail = authsvc_flow_whoami(r, &id)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return authsvc_request_send_json(r, HTTP_OK, authsvc_h_user(r, id->user));
}

int authsvc_h_me_update(request_rec *r, const char *const *params)
{
    authsvc_json_t *body, *out;
    authsvc_profile_in_t in;
    apr_array_header_t *errs = NULL;
    authsvc_user_t *u = NULL;
    const authsvc_fail_t *fail;

    (void)params;
    if (!authsvc_h_read(r, &body)) {
        return OK;
    }
    authsvc_h_field(r, body, "username", &in.username, &errs);
    authsvc_h_field(r, body, "first_name", &in.first_name, &errs);
    authsvc_h_field(r, body, "last_name", &in.last_name, &errs);
    if (errs != NULL) {
        return authsvc_h_fail(r, authsvc_fail_fields(r, errs));
    }
    in.replace = r->method_number == M_PUT;
    if ((fail = authsvc_flow_update_profile(r, &in, &u)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    out = authsvc_json_object(r->pool);
    authsvc_json_set(out, "user", authsvc_h_user(r, u));
    return authsvc_request_send_json(r, HTTP_OK, out);
}

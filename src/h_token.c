/*
 * h_token.c - JSON adapters for /auth/refresh, /auth/introspect and
 * /.well-known/jwks.json.
 */
#include "config.h"
#include "h_common.h"
#include "jwt.h"
#include "router.h"
#include "token.h"

#define JWKS_MAX_AGE "300"

int authsvc_h_refresh(request_rec *r, const char *const *params)
{
    authsvc_json_t *body;
    authsvc_field_t token;
    authsvc_tokens_t out;
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;

    (void)params;
    if ((fail = authsvc_flow_tokens_off(r, 0)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    if (!authsvc_h_read(r, &body)) {
        return OK;
    }
    authsvc_h_field(r, body, "refresh_token", &token, &errs);
    if (errs != NULL) {
        return authsvc_h_fail(r, authsvc_fail_fields(r, errs));
    }
    if ((fail = authsvc_flow_refresh(r, &token, &out)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return authsvc_request_send_json(r, HTTP_OK, authsvc_h_tokens(r, NULL, &out));
}

int authsvc_h_introspect(request_rec *r, const char *const *params)
{
    authsvc_json_t *body, *out = NULL;
    authsvc_field_t token;
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;
    const char *code, *detail = NULL;

    (void)params;
    if ((fail = authsvc_flow_tokens_off(r, 1)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    code = authsvc_request_fields(r, authsvc_config_max_body(authsvc_dir(r)), &body,
                                  &detail);
    if (code != NULL) {
        return authsvc_problem_send(r, code, detail);
    }
    authsvc_h_field(r, body, "token", &token, &errs);
    if (errs != NULL) {
        return authsvc_h_fail(r, authsvc_fail_fields(r, errs));
    }
    if ((fail = authsvc_flow_introspect(r, &token, &out)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return authsvc_request_send_json(r, HTTP_OK, out);
}

int authsvc_h_jwks(request_rec *r, const char *const *params)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const authsvc_fail_t *fail;

    (void)params;
    if ((fail = authsvc_flow_tokens_off(r, 0)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    authsvc_request_send(r, HTTP_OK, "application/json",
                         authsvc_jwt_jwks(r->pool, c->jwt_keys));
    /* Public keys: caches may keep them a while (replacing send's no-store before the
     * headers go out with the buffered body). */
    apr_table_setn(r->err_headers_out, "Cache-Control", "public, max-age=" JWKS_MAX_AGE);
    return OK;
}

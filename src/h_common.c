/*
 * h_common.c - shared pieces of the JSON adapters.
 */
#include "config.h"
#include "h_common.h"
#include "metrics.h"

int authsvc_h_read(request_rec *r, authsvc_json_t **body)
{
    const char *detail = NULL;
    const char *code = authsvc_request_json(r, authsvc_config_max_body(authsvc_dir(r)), body,
                                            &detail);

    if (code != NULL) {
        authsvc_problem_send(r, code, detail);
        return 0;
    }
    return 1;
}

void authsvc_h_field(request_rec *r, authsvc_json_t *body, const char *name,
                     authsvc_field_t *f, apr_array_header_t **errs)
{
    memset(f, 0, sizeof(*f));
    switch (authsvc_json_get_string(body, name, &f->s, &f->len)) {
    case AUTHSVC_JSON_OK:
        f->state = AUTHSVC_FIELD_SET;
        break;
    case AUTHSVC_JSON_NULL:
        f->state = AUTHSVC_FIELD_NULL;
        break;
    case AUTHSVC_JSON_WRONG_TYPE:
        authsvc_problem_field(r, errs, name, "wrong_type", "must be a string");
        break;
    case AUTHSVC_JSON_MISSING:
        break;
    }
}

int authsvc_h_fail(request_rec *r, const authsvc_fail_t *fail)
{
    return authsvc_problem_send_extra(r, fail->code, fail->detail, fail->errors,
                                      fail->extra);
}

authsvc_json_t *authsvc_h_user(request_rec *r, const authsvc_user_t *u)
{
    authsvc_json_t *o = authsvc_json_object(r->pool);
    authsvc_json_t *roles = authsvc_json_words(r->pool, u->roles);
    authsvc_json_set_str(o, "id", u->id);
    authsvc_json_set_str(o, "email", u->email);
    authsvc_json_set_str(o, "username", u->username);
    authsvc_json_set_str(o, "first_name", u->first_name);
    authsvc_json_set_str(o, "last_name", u->last_name);
    authsvc_json_set_bool(o, "email_verified", u->email_verified_at != 0);
    authsvc_json_set_bool(o, "mfa_enabled", u->mfa_enabled_at != 0);
    authsvc_json_set(o, "roles", roles);
    authsvc_json_set_str(o, "created_at", authsvc_request_iso8601(r->pool, u->created_at));
    return o;
}

void authsvc_h_authn(request_rec *r, authsvc_json_t *o, const authsvc_session_t *s)
{
    authsvc_json_t *d = authsvc_flow_methods_detail(r, s->amr);

    authsvc_json_set_str(o, "authenticated_at",
                         authsvc_request_iso8601(r->pool, s->auth_at ? s->auth_at
                                                                     : s->created_at));
    authsvc_json_update(o, d);
    authsvc_json_set_bool(o, "mfa", s->mfa_at != 0);
}

void authsvc_h_factor(request_rec *r, authsvc_json_t *body, authsvc_factor_in_t *in,
                      apr_array_header_t **errs)
{
    authsvc_h_field(r, body, "code", &in->code, errs);
    authsvc_h_field(r, body, "recovery_code", &in->recovery_code, errs);
}

int authsvc_h_session_response(request_rec *r, const authsvc_login_out_t *res)
{
    authsvc_json_t *out = authsvc_json_object(r->pool);
    authsvc_json_t *sess = authsvc_json_object(r->pool);

    authsvc_json_set_str(sess, "expires_at",
                         authsvc_request_iso8601(r->pool, res->session->expires_at));
    authsvc_json_set_str(sess, "idle_expires_at",
                         authsvc_request_iso8601(r->pool, res->session->idle_expires_at));
    authsvc_json_set(out, "user", authsvc_h_user(r, res->user));
    authsvc_json_set(out, "session", sess);
    return authsvc_request_send_json(r, HTTP_OK, authsvc_h_tokens(r, out, res->tokens));
}

authsvc_json_t *authsvc_h_tokens(request_rec *r, authsvc_json_t *o,
                                 const authsvc_tokens_t *t)
{
    if (o == NULL) {
        o = authsvc_json_object(r->pool);
    }
    if (t != NULL) {
        authsvc_metrics_inc(AUTHSVC_M_TOKENS_ACCESS);
        authsvc_metrics_inc(AUTHSVC_M_TOKENS_REFRESH);
        authsvc_json_set_str(o, "access_token", t->access_token);
        authsvc_json_set_str(o, "token_type", "Bearer");
        authsvc_json_set_int(o, "expires_in", t->expires_in);
        authsvc_json_set_str(o, "refresh_token", t->refresh_token);
        authsvc_json_set_int(o, "refresh_expires_in", t->refresh_expires_in);
    }
    return o;
}

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

authsvc_json_t *authsvc_h_session_json(request_rec *r, const authsvc_session_t *s,
                                      int current)
{
    authsvc_json_t *o = authsvc_json_object(r->pool);

    authsvc_json_set_str(o, "id", s->id);
    authsvc_json_set_str(o, "created_at", authsvc_request_iso8601(r->pool, s->created_at));
    authsvc_json_set_str(o, "last_seen_at",
                         authsvc_request_iso8601(r->pool, s->last_seen_at));
    authsvc_json_set_str(o, "expires_at", authsvc_request_iso8601(r->pool, s->expires_at));
    authsvc_json_set_str(o, "idle_expires_at",
                         authsvc_request_iso8601(r->pool, s->idle_expires_at));
    authsvc_json_set_str(o, "ip", s->ip);
    authsvc_json_set_str(o, "user_agent", s->user_agent);
    authsvc_json_set_bool(o, "current", current);
    authsvc_h_authn(r, o, s);
    return o;
}

int authsvc_h_sessions(request_rec *r, const char *const *params)
{
    authsvc_identity_t *me = NULL;
    apr_array_header_t *list = NULL;
    const authsvc_fail_t *fail;
    authsvc_json_t *out, *arr;
    int i;

    (void)params;
    if ((fail = authsvc_flow_sessions(r, &me, &list)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    arr = authsvc_json_array(r->pool);
    for (i = 0; i < list->nelts; i++) {
        const authsvc_session_t *s = &APR_ARRAY_IDX(list, i, authsvc_session_t);
        authsvc_json_append(arr, authsvc_h_session_json(r, s,
                                              strcmp(s->token_hash,
                                                     me->session->token_hash) == 0));
    }
    out = authsvc_json_object(r->pool);
    authsvc_json_set(out, "sessions", arr);
    return authsvc_request_send_json(r, HTTP_OK, out);
}

authsvc_json_t *authsvc_h_event_json(request_rec *r, const authsvc_event_t *e)
{
    authsvc_json_t *o = authsvc_json_object(r->pool);
    authsvc_json_t *detail = NULL;
    const char *err = NULL;

    authsvc_json_set_str(o, "id", e->id);
    authsvc_json_set_str(o, "event", e->event);
    authsvc_json_set_str(o, "at", authsvc_request_iso8601(r->pool, e->at));
    authsvc_json_set_str(o, "ip", e->ip);
    authsvc_json_set_str(o, "user_agent", e->user_agent);
    authsvc_json_set_str(o, "login", e->login);
    if (e->detail != NULL) {
        detail = authsvc_json_parse(r->pool, e->detail, strlen(e->detail), &err);
    }
    if (detail != NULL) {
        authsvc_json_set(o, "detail", detail);
    }
    else {
        authsvc_json_set_str(o, "detail", NULL);
    }
    return o;
}

/* GET /users/me/events?limit=N&before=ID */
int authsvc_h_events(request_rec *r, const char *const *params)
{
    authsvc_events_out_t res;
    const authsvc_fail_t *fail;
    authsvc_json_t *out, *arr;
    int i;

    (void)params;
    fail = authsvc_flow_events(r, authsvc_request_query(r, "limit"),
                               authsvc_request_query(r, "before"), &res);
    if (fail != NULL) {
        return authsvc_h_fail(r, fail);
    }
    arr = authsvc_json_array(r->pool);
    for (i = 0; i < res.events->nelts; i++) {
        authsvc_json_append(arr, authsvc_h_event_json(r, &APR_ARRAY_IDX(res.events, i,
                                                              authsvc_event_t)));
    }
    out = authsvc_json_object(r->pool);
    authsvc_json_set(out, "events", arr);
    authsvc_json_set_str(out, "next", res.next);
    return authsvc_request_send_json(r, HTTP_OK, out);
}

/* DELETE /users/me/sessions/{id} */
int authsvc_h_session_revoke(request_rec *r, const char *const *params)
{
    const authsvc_fail_t *fail = authsvc_flow_revoke_sessions(r, params[0]);

    return fail ? authsvc_h_fail(r, fail) : authsvc_request_send_empty(r, HTTP_NO_CONTENT);
}

/* DELETE /users/me/sessions: every session but the current one. */
int authsvc_h_sessions_revoke_others(request_rec *r, const char *const *params)
{
    const authsvc_fail_t *fail;

    (void)params;
    fail = authsvc_flow_revoke_sessions(r, NULL);
    return fail ? authsvc_h_fail(r, fail) : authsvc_request_send_empty(r, HTTP_NO_CONTENT);
}

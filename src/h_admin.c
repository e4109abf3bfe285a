/*
 * h_admin.c - JSON adapters for /admin/...: read the query or body, call flow_admin.c,
 * render accounts and events.
 */
#include "h_common.h"
#include "router.h"

/* The public form of an account (as GET /users/me) plus what an administrator sees;
 * detail: the live session count and the lock's end too. */
static authsvc_json_t *admin_user(request_rec *r, const authsvc_user_admin_t *a,
                                  int detail)
{
    authsvc_json_t *o = authsvc_h_user(r, a->user);
    int locked = a->locked_until > AUTHSVC_NOW();

    authsvc_json_set_str(o, "status", a->user->status);
    authsvc_json_set_bool(o, "locked", locked);
    authsvc_json_set_bool(o, "mfa", a->user->mfa_enabled_at != 0);
    if (detail) {
        authsvc_json_set_int(o, "sessions", a->sessions);
        authsvc_json_set_str(o, "locked_until",
                             locked ? authsvc_request_iso8601(r->pool, a->locked_until)
                                    : NULL);
    }
    return o;
}

/* 200 {"<name>": [...], "next": cursor or null}: a page of a list. */
static int page(request_rec *r, const char *name, authsvc_json_t *items, const char *next)
{
    authsvc_json_t *out = authsvc_json_object(r->pool);

    authsvc_json_set(out, name, items);
    authsvc_json_set_str(out, "next", next);
    return authsvc_request_send_json(r, HTTP_OK, out);
}

/* GET /admin/users?q=&status=&limit=&cursor= */
int authsvc_h_admin_users(request_rec *r, const char *const *params)
{
    authsvc_admin_search_in_t in;
    authsvc_admin_users_out_t res;
    const authsvc_fail_t *fail;
    authsvc_json_t *arr;
    int i;

    (void)params;
    in.q = authsvc_request_query(r, "q");
    in.status = authsvc_request_query(r, "status");
    in.limit = authsvc_request_query(r, "limit");
    in.cursor = authsvc_request_query(r, "cursor");
    if ((fail = authsvc_flow_admin_users(r, &in, &res)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    arr = authsvc_json_array(r->pool);
    for (i = 0; i < res.users->nelts; i++) {
        authsvc_json_append(
            arr, admin_user(r, &APR_ARRAY_IDX(res.users, i, authsvc_user_admin_t), 0));
    }
    return page(r, "users", arr, res.next);
}

/* 200 {"user": ...} */
static int user_response(request_rec *r, const authsvc_user_admin_t *a)
{
    authsvc_json_t *out = authsvc_json_object(r->pool);

    authsvc_json_set(out, "user", admin_user(r, a, 1));
    return authsvc_request_send_json(r, HTTP_OK, out);
}

/* GET /admin/users/{id} */
int authsvc_h_admin_user(request_rec *r, const char *const *params)
{
    authsvc_user_admin_t *a = NULL;
    const authsvc_fail_t *fail = authsvc_flow_admin_user(r, params[0], &a);

    return fail ? authsvc_h_fail(r, fail) : user_response(r, a);
}

/* An action on account params[0]: 200 with the account, or 204 (deleted, or nothing to
 * show) when with_user is 0. */
static int act(request_rec *r, const char *const *params, authsvc_admin_action_t what,
               const authsvc_field_t *role, int with_user)
{
    authsvc_user_admin_t *a = NULL;
    const authsvc_fail_t *fail =
        authsvc_flow_admin_act(r, params[0], what, role, with_user ? &a : NULL);

    if (fail != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return with_user ? user_response(r, a)
                     : authsvc_request_send_empty(r, HTTP_NO_CONTENT);
}

int authsvc_h_admin_disable(request_rec *r, const char *const *params)
{
    return act(r, params, AUTHSVC_ADMIN_DISABLE, NULL, 1);
}

int authsvc_h_admin_enable(request_rec *r, const char *const *params)
{
    return act(r, params, AUTHSVC_ADMIN_ENABLE, NULL, 1);
}

int authsvc_h_admin_unlock(request_rec *r, const char *const *params)
{
    return act(r, params, AUTHSVC_ADMIN_UNLOCK, NULL, 1);
}

int authsvc_h_admin_delete(request_rec *r, const char *const *params)
{
    return act(r, params, AUTHSVC_ADMIN_DELETE, NULL, 0);
}

int authsvc_h_admin_sessions_revoke(request_rec *r, const char *const *params)
{
    return act(r, params, AUTHSVC_ADMIN_REVOKE_SESSIONS, NULL, 0);
}

int authsvc_h_admin_mfa_reset(request_rec *r, const char *const *params)
{
    return act(r, params, AUTHSVC_ADMIN_RESET_MFA, NULL, 0);
}

/* POST /admin/users/{id}/roles {"role": "editor"} */
int authsvc_h_admin_role_add(request_rec *r, const char *const *params)
{
    apr_array_header_t *errs = NULL;
    authsvc_json_t *body;
    authsvc_field_t role;

    if (!authsvc_h_read(r, &body)) {
        return OK;
    }
    authsvc_h_field(r, body, "role", &role, &errs);
    if (errs != NULL) {
        return authsvc_h_fail(r, authsvc_fail_fields(r, errs));
    }
    return act(r, params, AUTHSVC_ADMIN_ROLE_ADD, &role, 1);
}

/* DELETE /admin/users/{id}/roles/{role} */
int authsvc_h_admin_role_remove(request_rec *r, const char *const *params)
{
    authsvc_field_t role;

    role.state = AUTHSVC_FIELD_SET;
    role.s = params[1];
    role.len = strlen(params[1]);
    return act(r, params, AUTHSVC_ADMIN_ROLE_REMOVE, &role, 1);
}

/* GET /admin/audit?user=&event=&since=&until=&limit=&cursor= */
int authsvc_h_admin_audit(request_rec *r, const char *const *params)
{
    authsvc_admin_audit_in_t in;
    authsvc_events_out_t res;
    const authsvc_fail_t *fail;
    authsvc_json_t *arr;
    int i;

    (void)params;
    in.user = authsvc_request_query(r, "user");
    in.event = authsvc_request_query(r, "event");
    in.since = authsvc_request_query(r, "since");
    in.until = authsvc_request_query(r, "until");
    in.limit = authsvc_request_query(r, "limit");
    in.cursor = authsvc_request_query(r, "cursor");
    if ((fail = authsvc_flow_admin_audit(r, &in, &res)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    arr = authsvc_json_array(r->pool);
    for (i = 0; i < res.events->nelts; i++) {
        const authsvc_event_t *e = &APR_ARRAY_IDX(res.events, i, authsvc_event_t);
        authsvc_json_t *o = authsvc_h_event_json(r, e);
        authsvc_json_set_str(o, "user_id", e->user_id);
        authsvc_json_append(arr, o);
    }
    return page(r, "events", arr, res.next);
}

/*
 * h_devices.c - JSON adapters for the remembered devices: GET /users/me/devices,
 * DELETE /users/me/devices/{id} and DELETE /users/me/devices (flow_remember.c).
 */
#include "h_common.h"
#include "router.h"

authsvc_json_t *authsvc_h_device_json(request_rec *r, const authsvc_device_t *d,
                                      int current)
{
    authsvc_json_t *o = authsvc_json_object(r->pool);

    authsvc_json_set_str(o, "id", d->id);
    authsvc_json_set_str(o, "name", d->name);
    authsvc_json_set_str(o, "user_agent", d->user_agent);
    authsvc_json_set_str(o, "ip", d->ip);
    authsvc_json_set_str(o, "created_at", authsvc_request_iso8601(r->pool, d->created_at));
    authsvc_json_set_str(o, "last_used_at",
                         d->last_used_at ? authsvc_request_iso8601(r->pool, d->last_used_at)
                                         : NULL);
    authsvc_json_set_str(o, "expires_at", authsvc_request_iso8601(r->pool, d->expires_at));
    authsvc_json_set_bool(o, "current", current);
    return o;
}

authsvc_json_t *authsvc_h_devices_json(request_rec *r, const apr_array_header_t *list,
                                       const char *current)
{
    authsvc_json_t *arr = authsvc_json_array(r->pool);
    int i;

    for (i = 0; i < list->nelts; i++) {
        const authsvc_device_t *d = &APR_ARRAY_IDX(list, i, authsvc_device_t);
        int mine = current != NULL && strcmp(current, d->id) == 0;
        authsvc_json_append(arr, authsvc_h_device_json(r, d, mine));
    }
    return arr;
}

/* GET /users/me/devices */
int authsvc_h_devices(request_rec *r, const char *const *params)
{
    apr_array_header_t *list = NULL;
    const char *current = NULL;
    const authsvc_fail_t *fail;
    authsvc_json_t *out;

    (void)params;
    if ((fail = authsvc_flow_devices(r, &list, &current)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    out = authsvc_json_object(r->pool);
    authsvc_json_set(out, "devices", authsvc_h_devices_json(r, list, current));
    return authsvc_request_send_json(r, HTTP_OK, out);
}

/* DELETE /users/me/devices/{id} */
int authsvc_h_device_forget(request_rec *r, const char *const *params)
{
    const authsvc_fail_t *fail = authsvc_flow_forget_devices(r, params[0]);

    return fail ? authsvc_h_fail(r, fail) : authsvc_request_send_empty(r, HTTP_NO_CONTENT);
}

/* DELETE /users/me/devices: all of them. */
int authsvc_h_devices_forget(request_rec *r, const char *const *params)
{
    const authsvc_fail_t *fail;

    (void)params;
    fail = authsvc_flow_forget_devices(r, NULL);
    return fail ? authsvc_h_fail(r, fail) : authsvc_request_send_empty(r, HTTP_NO_CONTENT);
}

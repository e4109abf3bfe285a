/*
 * h_passkey.c - JSON adapters for passkeys: /users/me/passkeys (options, add, list,
 * rename, remove) and /auth/passkey (options, sign-in); and POST /passkey, the login
 * page's sign-in (the same JSON, a browser's answer: a session cookie, never tokens).
 */
#include "csrf.h"
#include "h_common.h"
#include "router.h"

/* {id, name, created_at, last_used_at, backed_up, transports} */
authsvc_json_t *authsvc_h_passkey_json(request_rec *r, const authsvc_passkey_t *k)
{
    authsvc_json_t *o = authsvc_json_object(r->pool);

    authsvc_json_set_str(o, "id", k->id);
    authsvc_json_set_str(o, "name", k->name);
    authsvc_json_set_str(o, "created_at",
                         authsvc_request_iso8601(r->pool, k->created_at));
    authsvc_json_set_str(
        o, "last_used_at",
        k->last_used_at ? authsvc_request_iso8601(r->pool, k->last_used_at) : NULL);
    authsvc_json_set_bool(o, "backed_up", k->backed_up);
    authsvc_json_set(o, "transports", authsvc_json_words(r->pool, k->transports));
    return o;
}

/* Member `name` of obj as an object, or NULL with a field error (absent: required). */
static authsvc_json_t *object(request_rec *r, authsvc_json_t *obj, const char *name,
                              apr_array_header_t **errs)
{
    authsvc_json_t *v = obj ? authsvc_json_member(obj, name) : NULL;

    if (v == NULL) {
        authsvc_problem_field(r, errs, name, "required", "is required");
        return NULL;
    }
    if (authsvc_json_kind(v) != AUTHSVC_JSON_KIND_OBJECT) {
        authsvc_problem_field(r, errs, name, "wrong_type", "must be an object");
        return NULL;
    }
    return v;
}

/* The body's `credential` (a PublicKeyCredential as JSON) into *in. */
static void credential(request_rec *r, authsvc_json_t *body, int registration,
                       authsvc_passkey_in_t *in, apr_array_header_t **errs)
{
    authsvc_json_t *cred = object(r, body, "credential", errs);
    authsvc_json_t *resp = cred ? object(r, cred, "response", errs) : NULL;
    apr_array_header_t *tr = NULL;
    int i;

    memset(in, 0, sizeof(*in));
    if (cred == NULL || resp == NULL) {
        return;
    }
    authsvc_h_field(r, cred, "id", &in->id, errs);
    authsvc_h_field(r, cred, "rawId", &in->raw_id, errs);
    authsvc_h_field(r, cred, "type", &in->type, errs);
    authsvc_h_field(r, resp, "clientDataJSON", &in->client_data, errs);
    if (registration) {
        authsvc_h_field(r, resp, "attestationObject", &in->attestation, errs);
        switch (authsvc_json_get_strings(r->pool, resp, "transports", &tr)) {
        case AUTHSVC_JSON_OK:
            for (i = 0; i < tr->nelts && i < 8; i++) {
                const char *t = APR_ARRAY_IDX(tr, i, const char *);
                /* Known transports are short lower-case words; others are dropped. */
                if (strlen(t) <= 16 &&
                    strspn(t, "abcdefghijklmnopqrstuvwxyz-") == strlen(t)) {
                    in->transports =
                        apr_pstrcat(r->pool, in->transports ? in->transports : "",
                                    in->transports ? " " : "", t, NULL);
                }
            }
            break;
        case AUTHSVC_JSON_MISSING:
        case AUTHSVC_JSON_NULL:
            break;
        default:
            authsvc_problem_field(r, errs, "transports", "wrong_type",
                                  "must be an array of strings");
        }
    }
    else {
        authsvc_h_field(r, resp, "authenticatorData", &in->authenticator_data, errs);
        authsvc_h_field(r, resp, "signature", &in->signature, errs);
        authsvc_h_field(r, resp, "userHandle", &in->user_handle, errs);
    }
}

/* No body is read: the request carries nothing but the session. */
int authsvc_h_passkey_reg_options(request_rec *r, const char *const *params)
{
    authsvc_json_t *out = NULL;
    const authsvc_fail_t *fail;

    (void)params;
    if ((fail = authsvc_flow_passkey_reg_options(r, &out)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return authsvc_request_send_json(r, HTTP_OK, out);
}

int authsvc_h_passkey_add(request_rec *r, const char *const *params)
{
    authsvc_json_t *body;
    authsvc_field_t name;
    authsvc_passkey_in_t in;
    authsvc_passkey_t *k = NULL;
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;

    (void)params;
    if (!authsvc_h_read(r, &body)) {
        return OK;
    }
    authsvc_h_field(r, body, "name", &name, &errs);
    credential(r, body, 1, &in, &errs);
    if (errs != NULL) {
        return authsvc_h_fail(r, authsvc_fail_fields(r, errs));
    }
    if ((fail = authsvc_flow_passkey_add(r, &name, &in, &k)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return authsvc_request_send_json(r, HTTP_CREATED, authsvc_h_passkey_json(r, k));
}

int authsvc_h_passkeys(request_rec *r, const char *const *params)
{
    apr_array_header_t *list = NULL;
    const authsvc_fail_t *fail;
    authsvc_json_t *out, *arr;
    int i;

    (void)params;
    if ((fail = authsvc_flow_passkey_list(r, &list)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    arr = authsvc_json_array(r->pool);
    for (i = 0; i < list->nelts; i++) {
        authsvc_json_append(
            arr, authsvc_h_passkey_json(r, APR_ARRAY_IDX(list, i, authsvc_passkey_t *)));
    }
    out = authsvc_json_object(r->pool);
    authsvc_json_set(out, "passkeys", arr);
    return authsvc_request_send_json(r, HTTP_OK, out);
}

int authsvc_h_passkey_rename(request_rec *r, const char *const *params)
{
    authsvc_json_t *body;
    authsvc_field_t name;
    authsvc_passkey_t *k = NULL;
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;

    if (!authsvc_h_read(r, &body)) {
        return OK;
    }
    authsvc_h_field(r, body, "name", &name, &errs);
    if (errs != NULL) {
        return authsvc_h_fail(r, authsvc_fail_fields(r, errs));
    }
    if ((fail = authsvc_flow_passkey_rename(r, params[0], &name, &k)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return authsvc_request_send_json(r, HTTP_OK, authsvc_h_passkey_json(r, k));
}

int authsvc_h_passkey_remove(request_rec *r, const char *const *params)
{
    const authsvc_fail_t *fail = authsvc_flow_passkey_remove(r, params[0]);

    return fail ? authsvc_h_fail(r, fail)
                : authsvc_request_send_empty(r, HTTP_NO_CONTENT);
}

/* The body is read (it must be JSON) but not looked at: a `login` member is accepted
 * and ignored, since only discoverable credentials are offered. */
int authsvc_h_passkey_login_options(request_rec *r, const char *const *params)
{
    authsvc_json_t *body, *out = NULL;
    const authsvc_fail_t *fail;

    (void)params;
    if (!authsvc_h_read(r, &body)) {
        return OK;
    }
    if ((fail = authsvc_flow_passkey_login_options(r, &out)) != NULL) {
        return authsvc_h_fail(r, fail);
    }
    return authsvc_request_send_json(r, HTTP_OK, out);
}

/* The sign-in of both routes; page: the login page's script (the pages' CSRF token in
 * the body's csrf_token, and no tokens whatever AuthsvcTokenSigningKey says). */
static int login(request_rec *r, int page)
{
    authsvc_json_t *body;
    authsvc_passkey_in_t in;
    authsvc_login_out_t res;
    apr_array_header_t *errs = NULL;
    const authsvc_fail_t *fail;
    const char *tok = NULL;
    apr_size_t len = 0;

    if (!authsvc_h_read(r, &body)) {
        return OK;
    }
    if (page) {
        if (authsvc_json_get_string(body, AUTHSVC_CSRF_FIELD, &tok, &len) !=
                AUTHSVC_JSON_OK ||
            !authsvc_csrf_form_ok(r, tok, len)) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "csrf_failed: a passkey sign-in without a valid %s",
                          AUTHSVC_CSRF_FIELD);
            return authsvc_h_fail(
                r, authsvc_fail(r, "csrf_failed",
                                "the sign-in did not come from this site's login page; "
                                "reload it and try again"));
        }
        apr_table_setn(r->notes, AUTHSVC_NOTE_BROWSER, "1");
    }
    credential(r, body, 0, &in, &errs);
    if (errs != NULL) {
        return authsvc_h_fail(r, authsvc_fail_fields(r, errs));
    }
    if ((fail = authsvc_flow_passkey_login(r, &in, &res)) != NULL) {
        /* The login page's script goes on to the second step's page, which finds the
         * sign-in's token in its cookie (HttpOnly), as after a password: the token is
         * not also in the body, where the page's scripts could read it. */
        if (page) {
            authsvc_h_page_mfa_handoff(r, fail);
        }
        return authsvc_h_fail(r, fail);
    }
    authsvc_session_set_cookie(r, res.token);
    return authsvc_h_session_response(r, &res);
}

int authsvc_h_passkey_login(request_rec *r, const char *const *params)
{
    (void)params;
    return login(r, 0);
}

int authsvc_h_page_passkey_login(request_rec *r, const char *const *params)
{
    (void)params;
    return login(r, 1);
}

/*
 * h_pages.c - the HTML front end: a form for every flow, posted back here.
 *
 * Each handler reads a form (or a query), checks its CSRF token, calls the same flow
 * the JSON API calls, and renders a template or redirects (303, so that a reload
 * never posts again). A failure shows the form again with the catalogue's message,
 * under the catalogue's status. Browsers get a session cookie, never tokens.
 */
#include "apr_escape.h"

#include "abuse.h"
#include "config.h"
#include "crypto.h"
#include "csrf.h"
#include "h_common.h"
#include "page.h"
#include "returnto.h"
#include "router.h"

#define MFA_COOKIE "authsvc-mfa"
#define ACCOUNT_EVENTS "10"

/* ---- plumbing -------------------------------------------------------------------- */

static const char *mount_path(request_rec *r, const char *path)
{
    return apr_pstrcat(r->pool, authsvc_router_mount(r), path, NULL);
}

/* A string field of a form, empty when absent. */
static const char *form_str(authsvc_json_t *body, const char *name)
{
    const char *v = NULL;
    apr_size_t len = 0;

    return authsvc_json_get_string(body, name, &v, &len) == AUTHSVC_JSON_OK ? v : "";
}

/* A form field for a flow: an empty field counts as not given (a form sends every
 * field): a required one is then "required", an optional one none. */
static void field(request_rec *r, authsvc_json_t *body, const char *name,
                  authsvc_field_t *f)
{
    apr_array_header_t *errs = NULL;

    authsvc_h_field(r, body, name, f, &errs);
    if (errs != NULL || (f->state == AUTHSVC_FIELD_SET && f->len == 0)) {
        f->state = AUTHSVC_FIELD_ABSENT;
    }
}

/* Read the posted form and check its CSRF token. 0 when a page was sent instead. */
static int read_form(request_rec *r, authsvc_json_t **body)
{
    const char *detail = NULL, *code, *tok = NULL;
    apr_size_t len = 0;

    code = authsvc_request_fields(r, authsvc_config_max_body(authsvc_dir(r)), body, &detail);
    if (code != NULL) {
        authsvc_page_problem(r, code, strcmp(code, "unsupported_media_type") == 0
                                          ? "send the form as application/x-www-form-urlencoded"
                                          : detail);
        return 0;
    }
    if (authsvc_json_get_string(*body, AUTHSVC_CSRF_FIELD, &tok, &len) != AUTHSVC_JSON_OK ||
        !authsvc_csrf_form_ok(r, tok, len)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "csrf_failed: a form without a valid %s",
                      AUTHSVC_CSRF_FIELD);
        authsvc_page_message(r, HTTP_FORBIDDEN, "csrf_failed", "This form has expired",
                             "The form was not sent from this site's own page, or it is "
                             "too old. Go back, reload the page and try again.",
                             mount_path(r, "/login"), "Back to sign-in");
        return 0;
    }
    return 1;
}

/* The request's return_to when it is acceptable, else "". */
static const char *return_to(request_rec *r, const char *v)
{
    const char *ok = v ? authsvc_return_to_check(r->pool, v,
                                                 authsvc_srv(r->server)->return_to_allow)
                       : NULL;

    return ok ? ok : "";
}

/* Where a sign-in lands: return_to, else AuthsvcLoginSuccessURL, else the account. */
static int land(request_rec *r, const char *rt)
{
    const char *dflt = authsvc_srv(r->server)->login_success_url;

    return authsvc_page_redirect(r, *rt ? rt : dflt ? dflt : mount_path(r, "/account"));
}

/* PATH?return_to=RT (when RT is set) under the mount. */
static const char *with_return(request_rec *r, const char *path, const char *rt)
{
    const char *sep = strchr(path, '?') ? "&" : "?";

    return *rt ? apr_pstrcat(r->pool, mount_path(r, path), sep, "return_to=",
                             apr_pescape_urlencoded(r->pool, rt), NULL)
               : mount_path(r, path);
}

/* The signed-in identity (cookie), or NULL. */
static authsvc_identity_t *who(request_rec *r)
{
    authsvc_identity_t *id = NULL;

    return authsvc_flow_whoami(r, &id) == NULL ? id : NULL;
}

static authsvc_json_t *data_for(request_rec *r, const authsvc_identity_t *id,
                                const char *rt)
{
    authsvc_json_t *d = authsvc_json_object(r->pool);

    authsvc_json_set_bool(d, "signed_in", id != NULL);
    authsvc_json_set_str(d, "user_email", id ? id->user->email : "");
    authsvc_json_set_str(d, "return_to", rt);
    /* the same, for a link's query string ('&', '#' and '?' in it escaped) */
    authsvc_json_set_str(d, "return_to_q", rt ? ap_escape_urlencoded(r->pool, rt) : NULL);
    authsvc_json_set_int(d, "password_min", authsvc_config_pw_min(authsvc_srv(r->server)));
    authsvc_json_set_bool(d, "passkeys_available", authsvc_flow_passkeys_on(r)); /* issue 11 */
    return d;
}

/* A failure into the page's data: error, err_<field>; returns its status. */
static int failed(request_rec *r, authsvc_json_t *d, const authsvc_fail_t *fail)
{
    int i;

    authsvc_json_set_str(d, "error",
                         fail->detail ? fail->detail : authsvc_problem_title(fail->code));
    for (i = 0; fail->errors != NULL && i < fail->errors->nelts; i++) {
        const authsvc_field_error_t *e =
            &APR_ARRAY_IDX(fail->errors, i, authsvc_field_error_t);
        authsvc_json_set_str(d, apr_pstrcat(r->pool, "err_", e->field, NULL), e->message);
    }
    if (fail->errors != NULL && fail->errors->nelts > 0 && fail->detail == NULL) {
        authsvc_json_set_str(d, "error", "Please correct the fields marked below.");
    }
    return authsvc_problem_status(fail->code);
}

/* A failure that is no form's: the message page (unavailable, busy ...). */
static int page_fail(request_rec *r, const authsvc_fail_t *fail)
{
    return authsvc_page_problem(r, fail->code, fail->detail);
}

void authsvc_h_page_mfa_cookie(request_rec *r, const char *value)
{
    const char *path = *authsvc_router_mount(r) ? authsvc_router_mount(r) : "/";

    authsvc_cookie_set_path(r, MFA_COOKIE, value, value ? AUTHSVC_MFA_CHALLENGE_TTL : 0,
                            "Strict", 0, path);
}

int authsvc_h_page_mfa_handoff(request_rec *r, const authsvc_fail_t *fail)
{
    const char *mfa = NULL;
    apr_size_t len = 0;

    if (fail->extra == NULL || authsvc_json_get_string(fail->extra, "mfa_token", &mfa,
                                                       &len) != AUTHSVC_JSON_OK) {
        return 0;
    }
    authsvc_h_page_mfa_cookie(r, mfa);
    authsvc_json_remove(fail->extra, "mfa_token"); /* frees mfa: the cookie has a copy */
    return 1;
}

/* ---- sign-in ---------------------------------------------------------------------- */

/* A sign-in succeeded: the new session's cookie; the session this browser had before
 * (another account's, say) ends rather than living on unseen; no second step is
 * pending any more. */
static void signed_in(request_rec *r, const authsvc_identity_t *before, const char *token)
{
    if (before != NULL && authsvc_flow_logout(r) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "the session this browser had before signing in could not be ended");
    }
    if (authsvc_cookie_get(r, MFA_COOKIE) != NULL) {
        authsvc_h_page_mfa_cookie(r, NULL);
    }
    authsvc_session_set_cookie(r, token);
}

/* The first step of a sign-in succeeded (fail NULL: signed in; the landing place) or
 * asks for the second factor (mfa_required: its cookie, then /mfa). */
static int first_step_done(request_rec *r, const authsvc_fail_t *fail,
                           const authsvc_identity_t *before, const char *token,
                           const char *rt)
{
    if (fail == NULL) {
        signed_in(r, before, token);
        return land(r, rt);
    }
    if (authsvc_h_page_mfa_handoff(r, fail)) {
        return authsvc_page_redirect(r, with_return(r, "/mfa", rt));
    }
    return page_fail(r, fail);
}

static int login_page(request_rec *r, int status, authsvc_json_t *d, const char *prompt,
                      const authsvc_identity_t *id)
{
    int reauth = id != NULL && prompt != NULL &&
                 (strcmp(prompt, "reauthenticate") == 0 || strcmp(prompt, "mfa") == 0);

    authsvc_json_set_bool(d, "registration", authsvc_config_registration(authsvc_dir(r)));
    authsvc_json_set_bool(d, "reauthenticate", reauth);
    authsvc_json_set_bool(d, "ask_code", reauth && (strcmp(prompt, "mfa") == 0 ||
                                                    id->user->mfa_enabled_at != 0));
    authsvc_json_set_str(d, "prompt", reauth ? prompt : "");
    authsvc_json_set_bool(d, "email_code", /* issue 11: email code */
                          authsvc_config_email_code_login(authsvc_srv(r->server)));
    return authsvc_page_send(r, status, "login",
                             reauth ? "Confirm it is you" : "Sign in", d);
}

int authsvc_h_page_login(request_rec *r, const char *const *params)
{
    const char *rt = return_to(r, authsvc_request_query(r, "return_to"));
    const char *prompt = authsvc_request_query(r, "prompt");
    authsvc_identity_t *id = who(r);
    authsvc_json_t *d;

    (void)params;
    if (prompt != NULL && strcmp(prompt, "mfa_enroll") == 0) {
        return authsvc_page_redirect(r, mount_path(r, "/account?prompt=mfa_enroll"));
    }
    if (id != NULL && prompt == NULL) {
        return land(r, rt);
    }
    d = data_for(r, id, rt);
    authsvc_json_set_bool(d, "logged_out", authsvc_request_query(r, "logged_out") != NULL);
    return login_page(r, HTTP_OK, d, prompt, id);
}

/* Re-authentication of the signed-in user (prompt=reauthenticate or mfa). */
static int reauthenticate(request_rec *r, authsvc_json_t *body, authsvc_identity_t *id,
                          const char *rt, const char *prompt)
{
    authsvc_field_t pw;
    authsvc_factor_in_t in;
    authsvc_session_t *s = NULL;
    const authsvc_fail_t *fail;
    authsvc_json_t *d;

    field(r, body, "password", &pw);
    field(r, body, "code", &in.code);
    field(r, body, "recovery_code", &in.recovery_code);
    if ((fail = authsvc_flow_reauthenticate_session(r, &pw, &in, &s)) == NULL) {
        return land(r, rt);
    }
    d = data_for(r, id, rt);
    return login_page(r, failed(r, d, fail), d, prompt, id);
}

int authsvc_h_page_login_post(request_rec *r, const char *const *params)
{
    authsvc_json_t *body, *d;
    authsvc_login_in_t in;
    authsvc_login_out_t res = {0};
    const authsvc_fail_t *fail;
    const char *rt, *prompt;
    authsvc_identity_t *id;

    (void)params;
    if (!read_form(r, &body)) {
        return OK;
    }
    rt = return_to(r, form_str(body, "return_to"));
    prompt = form_str(body, "prompt");
    id = who(r);
    if (id != NULL && (strcmp(prompt, "reauthenticate") == 0 || strcmp(prompt, "mfa") == 0)) {
        return reauthenticate(r, body, id, rt, prompt);
    }
    field(r, body, "login", &in.login);
    field(r, body, "password", &in.password);
    in.honeypot = authsvc_abuse_honeypot(r, body);
    apr_table_setn(r->notes, AUTHSVC_NOTE_BROWSER, "1");
    if ((fail = authsvc_flow_login(r, &in, &res)) == NULL ||
        strcmp(fail->code, "mfa_required") == 0) {
        return first_step_done(r, fail, id, res.token, rt);
    }
    d = data_for(r, NULL, rt);
    authsvc_json_set_str(d, "login", form_str(body, "login"));
    return login_page(r, failed(r, d, fail), d, NULL, NULL);
}

/* The second step's page data: the "remember this device" box when it is on. */
static authsvc_json_t *mfa_data(request_rec *r, const char *rt)
{
    authsvc_json_t *d = data_for(r, NULL, rt);
    int days = authsvc_config_remember_days(authsvc_srv(r->server));

    if (days > 0) {
        authsvc_json_set_int(d, "remember_days", days);
    }
    return d;
}

int authsvc_h_page_mfa(request_rec *r, const char *const *params)
{
    const char *rt = return_to(r, authsvc_request_query(r, "return_to"));

    (void)params;
    if (authsvc_cookie_get(r, MFA_COOKIE) == NULL) {
        return authsvc_page_redirect(r, with_return(r, "/login", rt));
    }
    return authsvc_page_send(r, HTTP_OK, "mfa", "Two-step sign-in", mfa_data(r, rt));
}

int authsvc_h_page_mfa_post(request_rec *r, const char *const *params)
{
    authsvc_json_t *body, *d;
    authsvc_field_t token;
    authsvc_factor_in_t in;
    authsvc_login_out_t res = {0};
    const authsvc_fail_t *fail;
    const char *rt, *mfa = authsvc_cookie_get(r, MFA_COOKIE);

    (void)params;
    if (!read_form(r, &body)) {
        return OK;
    }
    rt = return_to(r, form_str(body, "return_to"));
    token.state = mfa ? AUTHSVC_FIELD_SET : AUTHSVC_FIELD_ABSENT;
    token.s = mfa;
    token.len = mfa ? strlen(mfa) : 0;
    field(r, body, "code", &in.code);
    field(r, body, "recovery_code", &in.recovery_code);
    in.remember_device = *form_str(body, "remember_device") != '\0';
    apr_table_setn(r->notes, AUTHSVC_NOTE_BROWSER, "1");
    if ((fail = authsvc_flow_login_mfa(r, &token, &in, &res)) == NULL) {
        signed_in(r, who(r), res.token);
        authsvc_flow_remember_cookie(r, res.device_token);
        return land(r, rt);
    }
    d = mfa_data(r, rt);
    if (strcmp(fail->code, "token_invalid") == 0 ||
        (strcmp(fail->code, "validation_failed") == 0 && token.state != AUTHSVC_FIELD_SET)) {
        /* The challenge is over (too slow, too many codes): sign in again. */
        authsvc_h_page_mfa_cookie(r, NULL);
        authsvc_json_set_str(d, "error", "This sign-in has expired. Please sign in again.");
        return login_page(r, authsvc_problem_status(fail->code), d, NULL, NULL);
    }
    return authsvc_page_send(r, failed(r, d, fail), "mfa", "Two-step sign-in", d);
}

/* ---- registration, sign-out -------------------------------------------------------- */

int authsvc_h_page_register(request_rec *r, const char *const *params)
{
    (void)params;
    if (!authsvc_config_registration(authsvc_dir(r))) {
        return authsvc_page_problem(r, "registration_closed", NULL);
    }
    return authsvc_page_send(r, HTTP_OK, "register", "Create an account",
                             data_for(r, NULL,
                                      return_to(r, authsvc_request_query(r, "return_to"))));
}

int authsvc_h_page_register_post(request_rec *r, const char *const *params)
{
    static const char *const keep[] = {"email", "username", "first_name", "last_name", NULL};
    authsvc_json_t *body, *d;
    authsvc_register_in_t in;
    authsvc_user_t *u = NULL;
    const authsvc_fail_t *fail;
    const char *rt;
    int i;

    (void)params;
    if (!read_form(r, &body)) {
        return OK;
    }
    rt = return_to(r, form_str(body, "return_to"));
    field(r, body, "email", &in.email);
    field(r, body, "password", &in.password);
    field(r, body, "username", &in.username);
    field(r, body, "first_name", &in.first_name);
    field(r, body, "last_name", &in.last_name);
    in.honeypot = authsvc_abuse_honeypot(r, body);
    if ((fail = authsvc_flow_register(r, &in, &u)) == NULL) {
        return authsvc_page_message(
            r, HTTP_CREATED, NULL, "Check your email",
            apr_pstrcat(r->pool, "Your account is created. We sent a link to ",
                        form_str(body, "email"),
                        " to confirm the address; then sign in.", NULL),
            with_return(r, "/login", rt), "Sign in");
    }
    if (strcmp(fail->code, "registration_closed") == 0) {
        return page_fail(r, fail);
    }
    d = data_for(r, NULL, rt);
    for (i = 0; keep[i] != NULL; i++) {
        authsvc_json_set_str(d, keep[i], form_str(body, keep[i]));
    }
    return authsvc_page_send(r, failed(r, d, fail), "register", "Create an account", d);
}

int authsvc_h_page_logout(request_rec *r, const char *const *params)
{
    (void)params;
    return authsvc_page_send(r, HTTP_OK, "logout", "Sign out", data_for(r, who(r), ""));
}

int authsvc_h_page_logout_post(request_rec *r, const char *const *params)
{
    authsvc_json_t *body;
    const authsvc_fail_t *fail;

    (void)params;
    if (!read_form(r, &body)) {
        return OK;
    }
    /* The browser forgets the session even when the server could not end it (a shared
     * computer must not stay signed in). Not "cookies" in Clear-Site-Data: that clears
     * every cookie of the registrable domain, signing the user out of sibling sites;
     * ours are expired here. */
    fail = authsvc_flow_logout(r);
    authsvc_session_clear_cookie(r);
    authsvc_h_page_mfa_cookie(r, NULL);
    apr_table_setn(r->err_headers_out, "Clear-Site-Data", "\"cache\", \"storage\"");
    if (fail != NULL) {
        return page_fail(r, fail);
    }
    return authsvc_page_redirect(r, mount_path(r, "/login?logged_out=1"));
}

/* ---- mailed links ----------------------------------------------------------------- */

int authsvc_h_page_forgot(request_rec *r, const char *const *params)
{
    (void)params;
    return authsvc_page_send(r, HTTP_OK, "forgot_password", "Forgot your password",
                             data_for(r, NULL, ""));
}

int authsvc_h_page_forgot_post(request_rec *r, const char *const *params)
{
    authsvc_json_t *body, *d;
    authsvc_field_t email;
    const authsvc_fail_t *fail;
    int status = HTTP_OK;

    (void)params;
    if (!read_form(r, &body)) {
        return OK;
    }
    field(r, body, "email", &email);
    d = data_for(r, NULL, "");
    fail = authsvc_flow_forgot_password(r, &email, authsvc_abuse_honeypot(r, body));
    if (fail != NULL) {
        authsvc_json_set_str(d, "email", form_str(body, "email"));
        status = failed(r, d, fail);
    }
    authsvc_json_set_bool(d, "sent", fail == NULL);
    return authsvc_page_send(r, status, "forgot_password", "Forgot your password", d);
}

/* ---- issue 11: sign-in with a code sent by mail ------------------------------------- */

#define EMAIL_CODE_TITLE "Sign in with a code"

/* GET /email-code: the address form (404 when AuthsvcEmailCodeLogin is off). */
int authsvc_h_page_email_code(request_rec *r, const char *const *params)
{
    const authsvc_fail_t *fail = authsvc_flow_email_code_off(r);

    (void)params;
    if (fail != NULL) {
        return page_fail(r, fail);
    }
    return authsvc_page_send(r, HTTP_OK, "email_code", EMAIL_CODE_TITLE,
                             data_for(r, NULL, return_to(r, authsvc_request_query(
                                                                r, "return_to"))));
}

/* POST /email-code: the code is on its way (whoever asked); the code form, with the
 * code_token in its cookie. */
int authsvc_h_page_email_code_post(request_rec *r, const char *const *params)
{
    const authsvc_fail_t *fail = authsvc_flow_email_code_off(r);
    authsvc_email_code_out_t res;
    authsvc_json_t *body, *d;
    authsvc_field_t email;
    int status = HTTP_OK;

    (void)params;
    if (fail != NULL) {
        return page_fail(r, fail);
    }
    if (!read_form(r, &body)) {
        return OK;
    }
    field(r, body, "email", &email);
    d = data_for(r, NULL, return_to(r, form_str(body, "return_to")));
    authsvc_json_set_str(d, "email", form_str(body, "email"));
    if ((fail = authsvc_flow_email_code_request(r, &email, &res)) != NULL) {
        status = failed(r, d, fail);
    }
    else {
        authsvc_email_code_cookie_set(r, res.code_token, res.expires_in);
    }
    authsvc_json_set_bool(d, "sent", fail == NULL);
    return authsvc_page_send(r, status, "email_code", EMAIL_CODE_TITLE, d);
}

/* POST /email-code/verify: signed in (or on to the second factor), else the code form
 * again. */
int authsvc_h_page_email_code_verify(request_rec *r, const char *const *params)
{
    const authsvc_fail_t *fail = authsvc_flow_email_code_off(r);
    authsvc_email_code_in_t in;
    authsvc_login_out_t res = {0};
    authsvc_json_t *body, *d;
    const char *rt;

    (void)params;
    if (fail != NULL) {
        return page_fail(r, fail);
    }
    if (!read_form(r, &body)) {
        return OK;
    }
    rt = return_to(r, form_str(body, "return_to"));
    field(r, body, "email", &in.email);
    field(r, body, "code", &in.code);
    in.code_token.state = AUTHSVC_FIELD_ABSENT; /* the cookie's */
    apr_table_setn(r->notes, AUTHSVC_NOTE_BROWSER, "1");
    fail = authsvc_flow_email_code_verify(r, &in, &res);
    if (fail == NULL || strcmp(fail->code, "mfa_required") == 0) {
        authsvc_email_code_cookie_set(r, "", 0);
        return first_step_done(r, fail, who(r), res.token, rt);
    }
    d = data_for(r, NULL, rt);
    authsvc_json_set_str(d, "email", form_str(body, "email"));
    authsvc_json_set_bool(d, "sent", 1);
    return authsvc_page_send(r, failed(r, d, fail), "email_code", EMAIL_CODE_TITLE, d);
}

/* ---- /issue 11 ----------------------------------------------------------------------- */

/* The token pages: GET shows a button (a mail scanner's GET consumes nothing). */
static int token_page(request_rec *r, const char *page, const char *title)
{
    const char *t = authsvc_request_query(r, "token");
    authsvc_json_t *d = data_for(r, NULL, "");

    authsvc_json_set_str(d, "token", t && authsvc_crypto_is_b64url(t, strlen(t)) ? t : "");
    return authsvc_page_send(r, HTTP_OK, page, title, d);
}

/* A token page's failure: a dead link is not offered again. */
static int token_failed(request_rec *r, authsvc_json_t *d, authsvc_json_t *body,
                        const authsvc_fail_t *fail)
{
    int dead = strcmp(fail->code, "token_invalid") == 0;

    authsvc_json_set_str(d, "token", dead ? "" : form_str(body, "token"));
    return failed(r, d, fail);
}

int authsvc_h_page_reset(request_rec *r, const char *const *params)
{
    (void)params;
    return token_page(r, "reset_password", "Choose a new password");
}

int authsvc_h_page_verify(request_rec *r, const char *const *params)
{
    (void)params;
    return token_page(r, "verify_email", "Verify your email address");
}

/* A mailed token's flow: the token, and a new password where the page asks for one. */
typedef const authsvc_fail_t *(*token_fn)(request_rec *r, const authsvc_field_t *token,
                                          const authsvc_field_t *password);

static const authsvc_fail_t *verify(request_rec *r, const authsvc_field_t *token,
                                    const authsvc_field_t *password)
{
    authsvc_user_t *u = NULL;

    (void)password;
    return authsvc_flow_verify_email(r, token, &u);
}

/* POST of a token page: the flow, then the page again (done, or the error). */
static int token_post(request_rec *r, const char *page, const char *title, token_fn fn)
{
    authsvc_json_t *body, *d;
    authsvc_field_t token, pw;
    const authsvc_fail_t *fail;
    int status = HTTP_OK;

    if (!read_form(r, &body)) {
        return OK;
    }
    field(r, body, "token", &token);
    field(r, body, "password", &pw);
    d = data_for(r, NULL, "");
    if ((fail = fn(r, &token, &pw)) != NULL) {
        status = token_failed(r, d, body, fail);
    }
    authsvc_json_set_bool(d, "done", fail == NULL);
    return authsvc_page_send(r, status, page, title, d);
}

int authsvc_h_page_reset_post(request_rec *r, const char *const *params)
{
    (void)params;
    return token_post(r, "reset_password", "Choose a new password",
                      authsvc_flow_reset_password);
}

int authsvc_h_page_verify_post(request_rec *r, const char *const *params)
{
    (void)params;
    return token_post(r, "verify_email", "Verify your email address", verify);
}

/* ---- the account page ------------------------------------------------------------- */

static const struct {
    const char *done, *notice;
} notices[] = {
    {"profile", "Your profile is saved."},
    {"password", "Your password is changed. Your other sessions are signed out."},
    {"email", "We sent a link to your new address. The change is made when you open it."},
    {"verify", "We sent you a new verification link."},
    {"revoke", "That session is signed out."},
    {"revoke_others", "Every other session is signed out."},
    {"mfa_disabled", "Two-step sign-in is off."},
    {"device_forgotten", "That device will be asked for a code again."},
    {"devices_forgotten", "Every remembered device will be asked for a code again."},
    /* issue 11: passkeys */
    {"passkey_added", "Your passkey is added."},
    {"passkey_renamed", "The passkey is renamed."},
    {"passkey_removed", "The passkey is removed."},
    {NULL, NULL}};

/* The remembered devices, when there are any or remembering is on. */
static const authsvc_fail_t *remembered_devices(request_rec *r, authsvc_json_t *d)
{
    apr_array_header_t *list = NULL;
    const char *current = NULL;
    const authsvc_fail_t *fail = authsvc_flow_devices(r, &list, &current);

    if (fail != NULL) {
        return fail;
    }
    if (list->nelts > 0 || authsvc_config_remember_days(authsvc_srv(r->server)) > 0) {
        authsvc_json_set_bool(d, "devices_shown", 1);
        authsvc_json_set_bool(d, "devices_any", list->nelts > 0);
        authsvc_json_set(d, "devices", authsvc_h_devices_json(r, list, current));
    }
    return NULL;
}

/* issue 11: the account's passkeys (when passkeys work here), added to d. */
static const authsvc_fail_t *passkeys_data(request_rec *r, authsvc_json_t *d)
{
    apr_array_header_t *keys = NULL;
    const authsvc_fail_t *fail;
    authsvc_json_t *arr;
    int i;

    if (!authsvc_flow_passkeys_on(r)) {
        return NULL;
    }
    if ((fail = authsvc_flow_passkey_list(r, &keys)) != NULL) {
        return fail;
    }
    arr = authsvc_json_array(r->pool);
    for (i = 0; i < keys->nelts; i++) {
        authsvc_json_append(arr, authsvc_h_passkey_json(
                                     r, APR_ARRAY_IDX(keys, i, authsvc_passkey_t *)));
    }
    authsvc_json_set(d, "passkeys", arr);
    return NULL;
}

/* Everything the account page shows, added to d. */
static const authsvc_fail_t *account_data(request_rec *r, authsvc_json_t *d,
                                          authsvc_identity_t *id)
{
    apr_array_header_t *list = NULL;
    authsvc_identity_t *me = NULL;
    authsvc_events_out_t ev;
    authsvc_json_t *arr;
    authsvc_mfa_t m;
    const authsvc_fail_t *fail;
    int i;

    authsvc_json_set(d, "user", authsvc_h_user(r, id->user));
    if ((fail = authsvc_flow_sessions(r, &me, &list)) != NULL ||
        (fail = authsvc_flow_events(r, ACCOUNT_EVENTS, NULL, &ev)) != NULL) {
        return fail;
    }
    arr = authsvc_json_array(r->pool);
    for (i = 0; i < list->nelts; i++) {
        const authsvc_session_t *s = &APR_ARRAY_IDX(list, i, authsvc_session_t);
        authsvc_json_append(arr, authsvc_h_session_json(
                                     r, s, strcmp(s->token_hash, me->session->token_hash) == 0));
    }
    authsvc_json_set(d, "sessions", arr);
    arr = authsvc_json_array(r->pool);
    for (i = 0; i < ev.events->nelts; i++) {
        authsvc_json_append(arr, authsvc_h_event_json(r, &APR_ARRAY_IDX(ev.events, i,
                                                                        authsvc_event_t)));
    }
    authsvc_json_set(d, "events", arr);
    if ((fail = remembered_devices(r, d)) != NULL) {
        return fail;
    }
    /* Without AuthsvcSecretKeyFile no enrollment can start: the section is left out. */
    if (authsvc_srv(r->server)->keyring != NULL &&
        authsvc_flow_mfa_status(r, &m) == NULL) {
        authsvc_json_set_bool(d, "mfa_available", 1);
        authsvc_json_set(d, "mfa", authsvc_h_mfa_json(r, &m));
    }
    return passkeys_data(r, d); /* issue 11 */
}

static int account_page(request_rec *r, int status, authsvc_json_t *d,
                        authsvc_identity_t *id)
{
    const authsvc_fail_t *fail = account_data(r, d, id);

    if (fail != NULL) {
        return page_fail(r, fail);
    }
    return authsvc_page_send(r, status, "account", "Your account", d);
}

static int to_login(request_rec *r, const char *prompt)
{
    const char *back = mount_path(r, "/account");

    return authsvc_page_redirect(
        r, apr_pstrcat(r->pool, mount_path(r, "/login?"), prompt ? "prompt=" : "",
                       prompt ? prompt : "", prompt ? "&" : "", "return_to=",
                       apr_pescape_urlencoded(r->pool, back), NULL));
}

int authsvc_h_page_account(request_rec *r, const char *const *params)
{
    authsvc_identity_t *id = who(r);
    const char *done = authsvc_request_query(r, "done");
    const char *prompt = authsvc_request_query(r, "prompt");
    authsvc_json_t *d;
    int i;

    (void)params;
    if (id == NULL) {
        return to_login(r, NULL);
    }
    d = data_for(r, id, "");
    for (i = 0; done != NULL && notices[i].done != NULL; i++) {
        if (strcmp(done, notices[i].done) == 0) {
            authsvc_json_set_str(d, "notice", notices[i].notice);
            authsvc_json_set_str(d, "done", done);
        }
    }
    authsvc_json_set_bool(d, "prompt_mfa_enroll",
                          prompt != NULL && strcmp(prompt, "mfa_enroll") == 0);
    return account_page(r, HTTP_OK, d, id);
}

/* One account action: a flow on the form; on success either a `done` to redirect
 * with, or members to show once (set in d); NULL or the failure. */
typedef const authsvc_fail_t *(*action_fn)(request_rec *r, authsvc_json_t *body,
                                           authsvc_json_t *d, const char **done);

static const authsvc_fail_t *act_profile(request_rec *r, authsvc_json_t *body,
                                         authsvc_json_t *d, const char **done)
{
    authsvc_profile_in_t in;
    authsvc_user_t *u = NULL;

    (void)d;
    field(r, body, "username", &in.username);
    field(r, body, "first_name", &in.first_name);
    field(r, body, "last_name", &in.last_name);
    /* An empty field clears the value: the form always sends all three. */
    in.replace = 1;
    *done = "profile";
    return authsvc_flow_update_profile(r, &in, &u);
}

static const authsvc_fail_t *act_password(request_rec *r, authsvc_json_t *body,
                                          authsvc_json_t *d, const char **done)
{
    authsvc_field_t cur, pw;
    authsvc_login_out_t out;
    const authsvc_fail_t *fail;

    (void)d;
    field(r, body, "current_password", &cur);
    field(r, body, "new_password", &pw);
    apr_table_setn(r->notes, AUTHSVC_NOTE_BROWSER, "1");
    if ((fail = authsvc_flow_change_password(r, &cur, &pw, &out)) == NULL) {
        authsvc_session_set_cookie(r, out.token);
        *done = "password";
    }
    return fail;
}

static const authsvc_fail_t *act_email(request_rec *r, authsvc_json_t *body,
                                       authsvc_json_t *d, const char **done)
{
    authsvc_field_t email, pw;

    (void)d;
    field(r, body, "new_email", &email);
    field(r, body, "password", &pw);
    *done = "email";
    return authsvc_flow_change_email(r, &email, &pw);
}

static const authsvc_fail_t *act_verify(request_rec *r, authsvc_json_t *body,
                                        authsvc_json_t *d, const char **done)
{
    (void)body;
    (void)d;
    *done = "verify";
    return authsvc_flow_resend_verification(r);
}

/* The form's `id` (the row an action names) in *id; a "required" failure on field
 * `err` when it is empty. */
static const authsvc_fail_t *row_id(request_rec *r, authsvc_json_t *body, const char *err,
                                    const char **id)
{
    apr_array_header_t *errs = NULL;

    if (*(*id = form_str(body, "id")) != '\0') {
        return NULL;
    }
    authsvc_problem_field(r, &errs, err, "required", "is required");
    return authsvc_fail_fields(r, errs);
}

static const authsvc_fail_t *act_revoke(request_rec *r, authsvc_json_t *body,
                                        authsvc_json_t *d, const char **done)
{
    const authsvc_fail_t *fail;
    const char *sid;

    (void)d;
    *done = "revoke";
    return (fail = row_id(r, body, "id", &sid)) ? fail
                                                : authsvc_flow_revoke_sessions(r, sid);
}

static const authsvc_fail_t *act_revoke_others(request_rec *r, authsvc_json_t *body,
                                               authsvc_json_t *d, const char **done)
{
    (void)body;
    (void)d;
    *done = "revoke_others";
    return authsvc_flow_revoke_sessions(r, NULL);
}

static const authsvc_fail_t *act_device_forget(request_rec *r, authsvc_json_t *body,
                                               authsvc_json_t *d, const char **done)
{
    const authsvc_fail_t *fail;
    const char *id;

    (void)d;
    *done = "device_forgotten";
    return (fail = row_id(r, body, "device", &id)) ? fail
                                                   : authsvc_flow_forget_devices(r, id);
}

static const authsvc_fail_t *act_devices_forget(request_rec *r, authsvc_json_t *body,
                                                authsvc_json_t *d, const char **done)
{
    (void)body;
    (void)d;
    *done = "devices_forgotten";
    return authsvc_flow_forget_devices(r, NULL);
}

static void show_enrollment(request_rec *r, authsvc_json_t *d, const authsvc_enroll_out_t *e)
{
    authsvc_json_t *o = authsvc_json_object(r->pool);

    authsvc_json_set_str(o, "secret", e->secret);
    authsvc_json_set_str(o, "uri", e->uri);
    authsvc_json_set_str(o, "qr_svg", e->qr_svg);
    authsvc_json_set(d, "enroll", o);
}

static void enroll_again(request_rec *r, authsvc_json_t *d)
{
    authsvc_enroll_out_t e;

    if (authsvc_flow_mfa_pending(r, &e) == NULL) {
        show_enrollment(r, d, &e);
    }
}

static const authsvc_fail_t *act_mfa_begin(request_rec *r, authsvc_json_t *body,
                                           authsvc_json_t *d, const char **done)
{
    authsvc_enroll_out_t e;
    const authsvc_fail_t *fail;

    (void)body;
    (void)done;
    if ((fail = authsvc_flow_mfa_begin(r, &e)) == NULL) {
        show_enrollment(r, d, &e);
    }
    return fail;
}

/* A TOTP code in, a new set of recovery codes out (shown once). */
typedef const authsvc_fail_t *(*codes_fn)(request_rec *r, const authsvc_field_t *code,
                                          apr_array_header_t **codes);

static const authsvc_fail_t *new_codes(request_rec *r, authsvc_json_t *body,
                                       authsvc_json_t *d, codes_fn fn, const char *notice)
{
    authsvc_field_t code;
    apr_array_header_t *codes = NULL;
    const authsvc_fail_t *fail;
    authsvc_json_t *arr;
    int i;

    field(r, body, "code", &code);
    if ((fail = fn(r, &code, &codes)) != NULL) {
        return fail;
    }
    arr = authsvc_json_array(r->pool);
    for (i = 0; i < codes->nelts; i++) {
        authsvc_json_append_str(arr, APR_ARRAY_IDX(codes, i, const char *));
    }
    authsvc_json_set(d, "recovery_codes", arr);
    authsvc_json_set_bool(d, "new_recovery_codes", 1);
    authsvc_json_set_str(d, "notice", notice);
    return NULL;
}

static const authsvc_fail_t *act_mfa_confirm(request_rec *r, authsvc_json_t *body,
                                             authsvc_json_t *d, const char **done)
{
    const authsvc_fail_t *fail;

    (void)done;
    fail = new_codes(r, body, d, authsvc_flow_mfa_confirm, "Two-step sign-in is on.");
    if (fail != NULL) {
        enroll_again(r, d); /* a mistyped code: the same QR code, not a new start */
    }
    return fail;
}

static const authsvc_fail_t *act_mfa_codes(request_rec *r, authsvc_json_t *body,
                                           authsvc_json_t *d, const char **done)
{
    (void)done;
    return new_codes(r, body, d, authsvc_flow_mfa_new_codes,
                     "Here are your new recovery codes.");
}

static const authsvc_fail_t *act_mfa_disable(request_rec *r, authsvc_json_t *body,
                                             authsvc_json_t *d, const char **done)
{
    authsvc_field_t pw;
    authsvc_factor_in_t in;

    (void)d;
    field(r, body, "password", &pw);
    field(r, body, "code", &in.code);
    field(r, body, "recovery_code", &in.recovery_code);
    *done = "mfa_disabled";
    return authsvc_flow_mfa_disable(r, &pw, &in);
}

/* issue 11: rename or remove the passkey the form's id names. */
static const authsvc_fail_t *act_passkey(request_rec *r, authsvc_json_t *body,
                                         authsvc_json_t *d, const char **done, int remove)
{
    const char *pid = NULL;
    authsvc_field_t name;
    authsvc_passkey_t *k = NULL;
    const authsvc_fail_t *fail;

    (void)d;
    if ((fail = row_id(r, body, "id", &pid)) != NULL) {
        return fail;
    }
    field(r, body, "name", &name);
    *done = remove ? "passkey_removed" : "passkey_renamed";
    return remove ? authsvc_flow_passkey_remove(r, pid)
                  : authsvc_flow_passkey_rename(r, pid, &name, &k);
}

static const authsvc_fail_t *act_passkey_rename(request_rec *r, authsvc_json_t *body,
                                                authsvc_json_t *d, const char **done)
{
    return act_passkey(r, body, d, done, 0);
}

static const authsvc_fail_t *act_passkey_delete(request_rec *r, authsvc_json_t *body,
                                                authsvc_json_t *d, const char **done)
{
    return act_passkey(r, body, d, done, 1);
}

/* Each action's path under M/account/, and the name that tells the template which
 * form was posted (forms share field names: password, code). */
static const struct {
    const char *path;
    action_fn fn;
    const char *form;
} actions[] = {
    {"profile", act_profile, "form_profile"},
    {"password", act_password, "form_password"},
    {"email", act_email, "form_email"},
    {"verify", act_verify, "form_verify"},
    {"sessions/revoke", act_revoke, "form_revoke"},
    {"sessions/revoke-others", act_revoke_others, "form_revoke"},
    {"mfa", act_mfa_begin, "form_begin"},
    {"mfa/confirm", act_mfa_confirm, "form_confirm"},
    {"mfa/recovery-codes", act_mfa_codes, "form_codes"},
    {"mfa/disable", act_mfa_disable, "form_disable"},
    {"devices/forget", act_device_forget, "form_devices"},
    {"devices/forget-all", act_devices_forget, "form_devices"},
    {"passkeys/rename", act_passkey_rename, "form_passkey"}, /* issue 11 */
    {"passkeys/delete", act_passkey_delete, "form_passkey"},
    {NULL, NULL, NULL}};

int authsvc_h_page_account_post(request_rec *r, const char *const *params)
{
    const char *path = params[1] ? apr_pstrcat(r->pool, params[0], "/", params[1], NULL)
                                 : params[0];
    const char *done = NULL;
    authsvc_identity_t *id;
    authsvc_json_t *body, *d;
    const authsvc_fail_t *fail;
    int i;

    for (i = 0; actions[i].path != NULL && strcmp(actions[i].path, path) != 0; i++) {
    }
    if (actions[i].path == NULL) {
        return authsvc_page_problem(r, "not_found", "There is no such page.");
    }
    if ((id = who(r)) == NULL) {
        return to_login(r, NULL);
    }
    if (!read_form(r, &body)) {
        return OK;
    }
    d = data_for(r, id, "");
    authsvc_json_set_bool(d, actions[i].form, 1);
    fail = actions[i].fn(r, body, d, &done);
    if (fail != NULL && strcmp(fail->code, "reauthentication_required") == 0) {
        return to_login(r, "reauthenticate");
    }
    if (fail != NULL && strcmp(fail->code, "unauthenticated") == 0) {
        return to_login(r, NULL);
    }
    if (fail == NULL && done != NULL) {
        return authsvc_page_redirect(
            r, apr_pstrcat(r->pool, mount_path(r, "/account?done="), done, NULL));
    }
    if (fail != NULL && (id = who(r)) == NULL) {
        return to_login(r, NULL); /* the action ended this session */
    }
    return account_page(r, fail ? failed(r, d, fail) : HTTP_OK, d, id);
}

/* issue 11: GET M/assets/passkey.js */
int authsvc_h_page_passkey_js(request_rec *r, const char *const *params)
{
    (void)params;
    return authsvc_page_script(r);
}

int authsvc_h_page_css(request_rec *r, const char *const *params)
{
    (void)params;
    return authsvc_page_css(r);
}

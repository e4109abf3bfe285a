/*
 * problem.c - the catalogue of client-visible errors and the one function that sends them.
 */
#include "problem.h"
#include "json.h"
#include "request.h"

typedef struct {
    const char *code;
    int status;
    const char *title;
    const char *sends; /* the code clients see, when not `code` itself */
} problem_def_t;

/* The contract with clients: codes never change meaning once shipped. */
static const problem_def_t catalogue[] = {
    {"invalid_json", 400, "The request body is not valid JSON", NULL},
    {"token_invalid", 400, "The link or code is invalid or has expired", NULL},
    {"invalid_credentials", 401, "Invalid login or password", NULL},
    /* An access or refresh token that is not (or no longer) good: the same code as a
     * bad link, but 401, as RFC 6750 asks of a bad Bearer token. */
    {"access_token_invalid", 401, "The token is invalid, expired or revoked",
     "token_invalid"},
    {"unauthenticated", 401, "Authentication required", NULL},
    {"mfa_required", 401, "A second factor is required", NULL},
    {"invalid_mfa_code", 401, "The code is wrong or was used already", NULL},
    {"reauthentication_required", 401, "Confirm it is you: sign in again", NULL},
    {"registration_closed", 403, "Registration is closed", NULL},
    {"forbidden", 403, "Forbidden", NULL},
    {"csrf_failed", 403, "The request did not come from this site's own pages", NULL},
    {"verification_required", 403, "Verify your email address first", NULL},
    {"mfa_enrollment_required", 403, "Set up two-step sign-in first", NULL},
    {"not_found", 404, "Not found", NULL},
    {"method_not_allowed", 405, "Method not allowed", NULL},
    {"email_taken", 409, "An account with this email already exists", NULL},
    {"username_taken", 409, "This username is taken", NULL},
    {"mfa_already_enabled", 409, "Two-step sign-in is already on", NULL},
    {"mfa_not_enabled", 409, "Two-step sign-in is not on", NULL},
    {"mfa_not_pending", 409, "No two-step sign-in setup is in progress", NULL},
    {"admin_self_action", 409, "Administrators cannot do this to their own account", NULL},
    {"payload_too_large", 413, "The request body is too large", NULL},
    {"unsupported_media_type", 415, "The request body must be application/json", NULL},
    {"validation_failed", 422, "The request has invalid fields", NULL},
    {"password_breached", 422, "This password is too common", NULL},
    {"password_policy", 422, "This password does not meet the password policy", NULL},
    {"password_reused", 422, "This password was used before", NULL},
    {"account_locked", 423, "The account is locked", NULL},
    {"rate_limited", 429, "Too many requests", NULL},
    {"internal_error", 500, "Internal error", NULL},
    {"unavailable", 503, "The service is temporarily unavailable", NULL},
    {"busy", 503, "The server is busy; try again", NULL},
    /* issue 11: passkeys */
    {"passkey_invalid", 400, "The passkey could not be verified", NULL},
    {"passkey_failed", 401, "Sign-in with this passkey failed", NULL},
    {"passkey_exists", 409, "This passkey is registered already", NULL},
    {"mfa_unavailable", 503, "Two-step sign-in is not available on this server", NULL},
    {NULL, 0, NULL, NULL}};

static const problem_def_t *lookup(const char *code)
{
    const problem_def_t *d;

    for (d = catalogue; d->code != NULL; d++) {
        if (strcmp(d->code, code) == 0) {
            return d;
        }
    }
    return NULL;
}

const char *authsvc_problem_code(const char *code)
{
    const problem_def_t *d = lookup(code);

    return d && d->sends ? d->sends : code;
}

const char *authsvc_problem_challenge(const char *code)
{
    return strcmp(code, "access_token_invalid") == 0
               ? "Bearer realm=\"authsvc\", error=\"invalid_token\""
               : "Authsvc";
}

int authsvc_problem_known(const char *code)
{
    return code != NULL && lookup(code) != NULL;
}

const char *authsvc_problem_title(const char *code)
{
    const problem_def_t *d = lookup(code);

    return d != NULL ? d->title : lookup("internal_error")->title;
}

int authsvc_problem_status(const char *code)
{
    const problem_def_t *d = lookup(code);
    return d ? d->status : HTTP_INTERNAL_SERVER_ERROR;
}

void authsvc_problem_field(request_rec *r, apr_array_header_t **errs, const char *field,
                           const char *code, const char *message)
{
    authsvc_field_error_t *e;

    if (*errs == NULL) {
        *errs = apr_array_make(r->pool, 4, sizeof(authsvc_field_error_t));
    }
    e = apr_array_push(*errs);
    e->field = field;
    e->code = code;
    e->message = message;
}

authsvc_json_t *authsvc_problem_body(request_rec *r, const char *code, const char *detail,
                                     const apr_array_header_t *errors)
{
    const problem_def_t *d = lookup(code);
    authsvc_json_t *body = authsvc_json_object(r->pool);
    int i;

    if (d == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "unknown problem code %s", code);
        d = lookup("internal_error");
    }
    code = d->sends ? d->sends : d->code;
    authsvc_json_set_str(body, "type", apr_pstrcat(r->pool, "urn:authsvc:problem:",
                                                   code, NULL));
    authsvc_json_set_str(body, "title", d->title);
    authsvc_json_set_int(body, "status", d->status);
    authsvc_json_set_str(body, "detail", detail ? detail : d->title);
    authsvc_json_set_str(body, "code", code);
    if (errors != NULL && errors->nelts > 0) {
        authsvc_json_t *arr = authsvc_json_array(r->pool);
        for (i = 0; i < errors->nelts; i++) {
            const authsvc_field_error_t *e = &APR_ARRAY_IDX(errors, i,
                                                            authsvc_field_error_t);
            authsvc_json_t *item = authsvc_json_object(r->pool);
            authsvc_json_set_str(item, "field", e->field);
            authsvc_json_set_str(item, "code", e->code);
            authsvc_json_set_str(item, "message", e->message);
            authsvc_json_append(arr, item);
        }
        authsvc_json_set(body, "errors", arr);
    }
    return body;
}

int authsvc_problem_send_fields(request_rec *r, const char *code, const char *detail,
                                const apr_array_header_t *errors)
{
    return authsvc_problem_send_extra(r, code, detail, errors, NULL);
}

int authsvc_problem_send_extra(request_rec *r, const char *code, const char *detail,
                               const apr_array_header_t *errors, authsvc_json_t *extra)
{
    int status = authsvc_problem_status(code);
    authsvc_json_t *body;

    /* A throttle may have said when to come back (abuse.c); else 503 means 5 s. */
    if (status == HTTP_SERVICE_UNAVAILABLE &&
        apr_table_get(r->headers_out, "Retry-After") == NULL &&
        apr_table_get(r->err_headers_out, "Retry-After") == NULL) {
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
    }
    /* Every 401 says how to authenticate (RFC 9110 15.5.2); a bad token, how it was
     * bad (RFC 6750 3.1). */
    if (status == HTTP_UNAUTHORIZED) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       authsvc_problem_challenge(code));
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "problem %s (%d): %s", code, status,
                  detail ? detail : "-");
    body = authsvc_problem_body(r, code, detail, errors);
    if (extra != NULL) {
        authsvc_json_update(body, extra);
    }
    return authsvc_request_send(r, status, "application/problem+json", body);
}

int authsvc_problem_send(request_rec *r, const char *code, const char *detail)
{
    return authsvc_problem_send_fields(r, code, detail, NULL);
}

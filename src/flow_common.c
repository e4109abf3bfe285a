/*
 * flow_common.c - failures and the field rules shared by several flows.
 */
#include "apr_lib.h"

#include "flow.h"
#include "text.h"

#define USERNAME_MIN 3
#define USERNAME_MAX 32
#define NAME_MAX_CP  100

const authsvc_fail_t *authsvc_fail(request_rec *r, const char *code, const char *detail)
{
    authsvc_fail_t *f = apr_pcalloc(r->pool, sizeof(*f));

    f->code = code;
    f->detail = detail;
    return f;
}

const authsvc_fail_t *authsvc_fail_fields(request_rec *r, apr_array_header_t *errors)
{
    authsvc_fail_t *f = apr_pcalloc(r->pool, sizeof(*f));

    f->code = "validation_failed";
    f->detail = "one or more fields are invalid; see errors";
    f->errors = errors;
    /* A lone error with a code of its own in the catalogue (password_breached ...) is
     * the problem itself: clients can switch on the top-level code. */
    if (errors != NULL && errors->nelts == 1) {
        const authsvc_field_error_t *e = &APR_ARRAY_IDX(errors, 0, authsvc_field_error_t);
        if (authsvc_problem_known(e->code)) {
            f->code = e->code;
            f->detail = apr_pstrcat(r->pool, e->field, " ", e->message, NULL);
        }
    }
    return f;
}

const authsvc_fail_t *authsvc_flow_db(request_rec *r, authsvc_db_t **db)
{
    if ((*db = authsvc_store_db(r)) == NULL) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    return NULL;
}

/* Usernames: 3-32 ASCII letters, digits, '.', '_' or '-', starting with a letter or
 * digit. No '@', so a login name is unambiguously an email or a username. */
int authsvc_flow_check_username(request_rec *r, const authsvc_field_t *f,
                                apr_array_header_t **errs)
{
    apr_size_t i;

    if (f->state != AUTHSVC_FIELD_SET) {
        return 1;
    }
    if (f->len < USERNAME_MIN || f->len > USERNAME_MAX) {
        authsvc_problem_field(r, errs, "username", "invalid_length",
                              "must be 3 to 32 characters");
        return 0;
    }
    for (i = 0; i < f->len; i++) {
        unsigned char ch = (unsigned char)f->s[i];
        if (!(apr_isalnum(ch) || (i > 0 && (ch == '.' || ch == '_' || ch == '-'))) ||
            ch > 0x7f) {
            authsvc_problem_field(r, errs, "username", "invalid_format",
                                  "may contain only letters, digits, '.', '_' and '-', "
                                  "and must start with a letter or digit");
            return 0;
        }
    }
    return 1;
}

int authsvc_flow_check_name(request_rec *r, const char *field, const authsvc_field_t *f,
                            apr_array_header_t **errs)
{
    const char *msg;

    if (f->state != AUTHSVC_FIELD_SET) {
        return 1;
    }
    msg = authsvc_text_check_name(r->pool, f->s, f->len, NAME_MAX_CP);
    if (msg != NULL) {
        authsvc_problem_field(r, errs, field, "invalid", msg);
        return 0;
    }
    return 1;
}

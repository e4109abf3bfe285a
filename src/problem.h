/*
 * problem.h - every error a client sees: one catalogue, one function (RFC 9457).
 *
 * A handler that fails calls authsvc_problem_send() and returns its result (OK): the
 * body is application/problem+json {type, title, status, detail, code, errors?}, the
 * status comes from the catalogue, and httpd's own HTML error page is never used.
 */
#ifndef AUTHSVC_PROBLEM_H
#define AUTHSVC_PROBLEM_H

#include "authsvc.h"

/* One per-field complaint inside a validation_failed problem. */
typedef struct {
    const char *field;
    const char *code;
    const char *message;
} authsvc_field_error_t;

/* HTTP status of a catalogue code (500 for an unknown code, which is a bug). */
int authsvc_problem_status(const char *code);

/* The catalogue title of code (the internal_error title for an unknown one). */
const char *authsvc_problem_title(const char *code);

/* 1 when code is in the catalogue (a top-level problem code). */
int authsvc_problem_known(const char *code);

/* The code clients see for a catalogue key (the same, but for variants such as
 * access_token_invalid, which is token_invalid with another status). */
const char *authsvc_problem_code(const char *code);

/* The WWW-Authenticate challenge of a 401 with this code: Bearer with
 * error="invalid_token" for a bad token, else "Authsvc". */
const char *authsvc_problem_challenge(const char *code);

/* Send problem `code` with a human `detail` (NULL: the catalogue title). Adds
 * Retry-After for `unavailable`. Returns OK, for the handler to return. */
int authsvc_problem_send(request_rec *r, const char *code, const char *detail);

/* As above, with `errors` (array of authsvc_field_error_t, may be NULL or empty). */
int authsvc_problem_send_fields(request_rec *r, const char *code, const char *detail,
                                const apr_array_header_t *errors);

struct json_t;

/* As above, with members `extra` (a JSON object, may be NULL) added to the body. */
int authsvc_problem_send_extra(request_rec *r, const char *code, const char *detail,
                               const apr_array_header_t *errors, struct json_t *extra);

/* The problem+json body for code (for senders other than the handler, such as the
 * guard's error filter). */
struct json_t *authsvc_problem_body(request_rec *r, const char *code, const char *detail,
                                    const apr_array_header_t *errors);

/* Append a field error to *errs (created in r->pool when NULL). */
void authsvc_problem_field(request_rec *r, apr_array_header_t **errs, const char *field,
                           const char *code, const char *message);

#endif

/*
 * flow.h - the use cases. Each takes plain input, applies every rule once, and returns
 * NULL on success or the failure to show, whichever front end (JSON or HTML) called.
 */
#ifndef AUTHSVC_FLOW_H
#define AUTHSVC_FLOW_H

#include "authsvc.h"
#include "problem.h"
#include "session.h"
#include "store.h"

/* A failure: a catalogue code, a detail, and optional per-field errors. */
typedef struct {
    const char *code;
    const char *detail;
    apr_array_header_t *errors; /* authsvc_field_error_t, or NULL */
} authsvc_fail_t;

/* A string field as the client sent it. */
typedef enum {
    AUTHSVC_FIELD_ABSENT = 0,
    AUTHSVC_FIELD_NULL,
    AUTHSVC_FIELD_SET
} authsvc_field_state_t;

typedef struct {
    authsvc_field_state_t state;
    const char *s;  /* when SET: UTF-8 (may contain NUL; len is the truth) */
    apr_size_t len;
} authsvc_field_t;

/* The request's database connection in *db, or the "unavailable" failure to return. */
const authsvc_fail_t *authsvc_flow_db(request_rec *r, authsvc_db_t **db);

/* Build a failure (in r->pool). */
const authsvc_fail_t *authsvc_fail(request_rec *r, const char *code, const char *detail);
const authsvc_fail_t *authsvc_fail_fields(request_rec *r, apr_array_header_t *errors);

/* POST /auth/register */
typedef struct {
    authsvc_field_t email, password, username, first_name, last_name;
} authsvc_register_in_t;
const authsvc_fail_t *authsvc_flow_register(request_rec *r, const authsvc_register_in_t *in,
                                            authsvc_user_t **out);

/* POST /auth/login. On success *token is the new session token for the cookie. */
typedef struct {
    authsvc_field_t login, password;
} authsvc_login_in_t;
typedef struct {
    authsvc_user_t *user;
    authsvc_session_t *session;
    const char *token;
} authsvc_login_out_t;
const authsvc_fail_t *authsvc_flow_login(request_rec *r, const authsvc_login_in_t *in,
                                         authsvc_login_out_t *out);

/* The signed-in identity of this request; unauthenticated when there is none. */
const authsvc_fail_t *authsvc_flow_whoami(request_rec *r, authsvc_identity_t **out);

/* POST /auth/logout: revoke the current session if there is one (idempotent). */
const authsvc_fail_t *authsvc_flow_logout(request_rec *r);

/* PUT/PATCH /users/me. replace: fields absent are cleared (PUT); else kept (PATCH). */
typedef struct {
    authsvc_field_t username, first_name, last_name;
    int replace;
} authsvc_profile_in_t;
const authsvc_fail_t *authsvc_flow_update_profile(request_rec *r,
                                                  const authsvc_profile_in_t *in,
                                                  authsvc_user_t **out);

/* GET /users/me/sessions: *me is the caller, *out their live sessions. */
const authsvc_fail_t *authsvc_flow_sessions(request_rec *r, authsvc_identity_t **me,
                                            apr_array_header_t **out);

/* DELETE /users/me/sessions/{id} (id given: not_found unless it is the caller's live
 * session) and DELETE /users/me/sessions (id NULL: every session but this one). */
const authsvc_fail_t *authsvc_flow_revoke_sessions(request_rec *r, const char *id);

/* Shared validators (flow_common.c): each appends to *errs and returns 0 when invalid. */
int authsvc_flow_check_username(request_rec *r, const authsvc_field_t *f,
                                apr_array_header_t **errs);
int authsvc_flow_check_name(request_rec *r, const char *field, const authsvc_field_t *f,
                            apr_array_header_t **errs);

/* The value of an optional field: NULL when absent or null. */
#define AUTHSVC_FIELD_VALUE(f) ((f)->state == AUTHSVC_FIELD_SET ? (f)->s : NULL)

#endif

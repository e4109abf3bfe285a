/*
 * h_common.h - what the JSON adapters (h_*.c) share: body and field extraction,
 * rendering of users, and turning a flow's failure into a problem response.
 */
#ifndef AUTHSVC_H_COMMON_H
#define AUTHSVC_H_COMMON_H

#include "flow.h"
#include "json.h"
#include "request.h"

/* Read the JSON body. Returns 1 with *body set, or 0 after sending the problem. */
int authsvc_h_read(request_rec *r, authsvc_json_t **body);

/* Extract string field `name` into *f; a value of another type adds a field error. */
void authsvc_h_field(request_rec *r, authsvc_json_t *body, const char *name,
                     authsvc_field_t *f, apr_array_header_t **errs);

/* Send a flow's failure as problem+json. Returns OK. */
int authsvc_h_fail(request_rec *r, const authsvc_fail_t *fail);

/* The public JSON form of an account. */
authsvc_json_t *authsvc_h_user(request_rec *r, const authsvc_user_t *u);

/* Members authenticated_at, methods and mfa of session s, added to object o. */
void authsvc_h_authn(request_rec *r, authsvc_json_t *o, const authsvc_session_t *s);

/* Fields code and recovery_code of body. */
void authsvc_h_factor(request_rec *r, authsvc_json_t *body, authsvc_factor_in_t *in,
                      apr_array_header_t **errs);

/* 200 {user, session: {expires_at, idle_expires_at}} after a new session was made. */
/* Add the tokens (when t is not NULL) to o (NULL: a new object), and return it. */
authsvc_json_t *authsvc_h_tokens(request_rec *r, authsvc_json_t *o,
                                 const authsvc_tokens_t *t);

/* The public JSON form of a session (current: the caller's own) and of an event. */
authsvc_json_t *authsvc_h_session_json(request_rec *r, const authsvc_session_t *s,
                                       int current);
authsvc_json_t *authsvc_h_event_json(request_rec *r, const authsvc_event_t *e);

/* {enabled, enabled_at, pending, recovery_codes_remaining} of a second-factor state. */
authsvc_json_t *authsvc_h_mfa_json(request_rec *r, const authsvc_mfa_t *m);

int authsvc_h_session_response(request_rec *r, const authsvc_login_out_t *res);
/* Set (value) or clear (NULL) the cookie that carries a sign-in's mfa_token from its
 * first step to the second step's page (h_pages.c). */
void authsvc_h_page_mfa_cookie(request_rec *r, const char *value);
/* A first step that asks for the second (fail carries an mfa_token): the token goes
 * into that cookie and out of fail's body, where the page's scripts could read it; 1.
 * Otherwise 0, and nothing is set. */
int authsvc_h_page_mfa_handoff(request_rec *r, const authsvc_fail_t *fail);

/* The public JSON form of a passkey (h_passkey.c; issue 11). */
authsvc_json_t *authsvc_h_passkey_json(request_rec *r, const authsvc_passkey_t *k);

/* The public JSON form of a remembered device, and of a list of them (h_devices.c;
 * current: the id of this browser's own, or NULL). */
authsvc_json_t *authsvc_h_device_json(request_rec *r, const authsvc_device_t *d,
                                      int current);
authsvc_json_t *authsvc_h_devices_json(request_rec *r, const apr_array_header_t *list,
                                       const char *current);

#endif

/*
 * csrf.h - cross-site request forgery defences and CORS.
 *
 * Pages: a synchronizer token in every form, an HMAC keyed by the session cookie's
 * token (signed in) or by a pre-session cookie (signing in, registering), so that no
 * state is stored and any node can check it. JSON: a request that rides on the
 * session cookie must come from this site (Origin, or Sec-Fetch-Site) with a JSON
 * body, which a cross-site form cannot send. Bearer requests carry no ambient
 * authority and are exempt.
 */
#ifndef AUTHSVC_CSRF_H
#define AUTHSVC_CSRF_H

#include "authsvc.h"

#define AUTHSVC_CSRF_FIELD "csrf_token"

/* The token for this response's forms. Sets the pre-session cookie when the request
 * has neither it nor a session cookie. NULL only when there is no randomness. */
const char *authsvc_csrf_token(request_rec *r);

/* 1 when sent[0..len) is the token of the request's session cookie or of its
 * pre-session cookie (constant-time). */
int authsvc_csrf_form_ok(request_rec *r, const char *sent, apr_size_t len);

/* For the JSON routes: NULL when the request may go on, else why it is refused
 * (csrf_failed). */
const char *authsvc_csrf_json(request_rec *r);

/* AuthsvcCORS: the CORS headers for an Origin it lists; a preflight (OPTIONS with
 * Access-Control-Request-Method) is answered here (204, or 403 csrf_failed for an
 * origin not listed) and 1 returned; else 0. */
int authsvc_csrf_cors(request_rec *r);

#endif

/*
 * request.h - what handlers need from a request: its JSON body (capped), the client's
 * identity for audit, and one way to write a JSON response.
 */
#ifndef AUTHSVC_REQUEST_H
#define AUTHSVC_REQUEST_H

#include "authsvc.h"
#include "json.h"

/* Who is asking, as recorded in audit rows and sessions. */
typedef struct {
    const char *ip;         /* r->useragent_ip: mod_remoteip-aware */
    const char *user_agent; /* printable ASCII, at most 256 bytes, or NULL */
    const char *request_id; /* mod_unique_id's UNIQUE_ID, or NULL */
} authsvc_client_t;

/* 1 when the request has a body: a declared length above 0, or chunked. */
int authsvc_request_has_body(request_rec *r);

/* 1 when the Content-Type ct is JSON: application/json or application/...+json, with
 * or without parameters. */
int authsvc_request_is_json(const char *ct);

/* Read the request body as one JSON object of at most max_body bytes. Returns NULL and
 * sets *out on success; otherwise returns the problem code to send
 * (payload_too_large, unsupported_media_type, invalid_json) and sets *detail. */
const char *authsvc_request_json(request_rec *r, apr_size_t max_body, authsvc_json_t **out,
                                 const char **detail);

/* The same, also accepting application/x-www-form-urlencoded (RFC 7662 clients send
 * that): each name=value becomes a string member; a name sent twice is refused. */
const char *authsvc_request_fields(request_rec *r, apr_size_t max_body, authsvc_json_t **out,
                                   const char **detail);

/* The client's identity for this request, in r->pool. */
const authsvc_client_t *authsvc_request_client(request_rec *r);

/* The value of query parameter `name` (decoded; the last if repeated, as
 * ap_args_to_table keeps it), or NULL. */
const char *authsvc_request_query(request_rec *r, const char *name);

/* Write status + body (an object, serialised) with the given content type. Sets
 * Cache-Control: no-store. Returns OK, for the handler to return. */
int authsvc_request_send(request_rec *r, int status, const char *content_type,
                         authsvc_json_t *body);

/* Convenience: application/json. */
int authsvc_request_send_json(request_rec *r, int status, authsvc_json_t *body);

/* An empty response (204 and friends). Returns OK. */
int authsvc_request_send_empty(request_rec *r, int status);

/* An ISO 8601 UTC rendering ("2026-11-21T05:00:00Z") of epoch seconds, in p. */
const char *authsvc_request_iso8601(apr_pool_t *p, apr_int64_t secs);

#endif

/* mail_transport.h - delivery of a composed message (AuthsvcMailTransport).
 *
 * No httpd header (apr, apr-util and libcurl only), so that it is unit-tested
 * without a server. It runs in the background delivery (a mod_watchdog callback in
 * an httpd child), never in a request: every way out is bounded in time.
 *
 * The caller's duties, once per process: curl_global_init(CURL_GLOBAL_DEFAULT)
 * before any thread starts (post_config or child_init), and SIGPIPE ignored (httpd
 * does), since a sendmail that exits early closes the pipe we write to.
 */
#ifndef AUTHSVC_MAIL_TRANSPORT_H
#define AUTHSVC_MAIL_TRANSPORT_H

#include "apr_errno.h"
#include "apr_pools.h"

typedef struct authsvc_mail_transport authsvc_mail_transport_t;

/* Limits on one delivery. */
#define AUTHSVC_MAIL_SEND_TIMEOUT 30    /* seconds: the whole attempt */
#define AUTHSVC_MAIL_CONNECT_TIMEOUT 10 /* seconds: SMTP connection */

/* Parse AuthsvcMailTransport SPEC [AUTHFILE] into *out (allocated in p):
 *   sendmail:CMD ARGS  CMD an absolute path, arguments split like a shell would
 *                      (apr_tokenize_to_argv); the message goes to its stdin
 *   smtp://HOST[:PORT] STARTTLS when the server offers it; required with AUTHFILE
 *   smtps://HOST[:PORT] TLS from the start
 *   file:DIR           DIR absolute; one DIR/<unique>.eml per message
 * authfile (NULL: none), only with smtp/smtps, is read now: one line user:password.
 * Returns NULL, or an error message for the admin (without the directive's name). */
const char *authsvc_mail_transport_parse(apr_pool_t *p, const char *spec,
                                         const char *authfile,
                                         authsvc_mail_transport_t **out);

/* A short description for logs ("smtp://mail.example.com:587 as alice, STARTTLS
 * required"); never the password. */
const char *authsvc_mail_transport_describe(const authsvc_mail_transport_t *t);

/* Deliver one message composed by authsvc_mail_compose (CRLF line ends); the
 * envelope addresses are bare addresses (sendmail takes the recipients from the
 * header, as with -t). Returns APR_SUCCESS, or an error status with *error set to a
 * short reason for the log and the outbox (never the message, never a password).
 * Gives up after AUTHSVC_MAIL_SEND_TIMEOUT seconds (sendmail is killed then). */
apr_status_t authsvc_mail_transport_send(apr_pool_t *p, const authsvc_mail_transport_t *t,
                                         const char *envelope_from,
                                         const char *envelope_to, const char *message,
                                         const char **error);

#endif /* AUTHSVC_MAIL_TRANSPORT_H */

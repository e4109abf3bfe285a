/*
 * outbox.h - mail that is never lost: queued in the database in the same transaction as
 * what it tells, delivered in the background by a mod_watchdog callback with retries.
 * No request ever waits for a mail server.
 */
#ifndef AUTHSVC_OUTBOX_H
#define AUTHSVC_OUTBOX_H

#include "authsvc.h"
#include "store.h"

/* Render template `name` for `to` with vars (the caller's; site, email, time and ip
 * are added) and queue it inside the caller's transaction. APR_EINVAL with *why set when
 * a value is refused (a line break: header injection), APR_EGENERAL on a database
 * failure (logged). */
apr_status_t authsvc_outbox_queue(request_rec *r, authsvc_db_t *db, const char *name,
                                  const char *to, apr_table_t *vars, const char **why);

/* post_config: one background deliverer per database, registered with mod_watchdog
 * (singleton: one child process at a time delivers). NULL or an error for the admin. */
const char *authsvc_outbox_post_config(apr_pool_t *pconf, server_rec *s);

#endif

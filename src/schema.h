/*
 * schema.h - is the database at the schema this build needs?
 *
 * At start-up (post_config, in the parent) the module opens its own connection with
 * mod_dbd's DBDriver/DBDParams, reads the schema version, applies pending migrations
 * when AuthsvcAutoMigrate is On, and otherwise logs one line naming the versions and
 * the fix. Requests then ask authsvc_schema_ready(): while the schema is behind (or
 * was never seen), every endpoint answers 503.
 */
#ifndef AUTHSVC_SCHEMA_H
#define AUTHSVC_SCHEMA_H

#include "authsvc.h"
#include "store.h"

/* Start-up check (and migration) for every distinct database of s and its vhosts.
 * Returns an error message only for a misconfiguration that must stop httpd. */
const char *authsvc_schema_startup(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

/* check_config: refuse DBDInitSQL statements that break apr-util's sqlite3 driver, and
 * warn about those that stall threaded MPMs. NULL or an error message. */
const char *authsvc_schema_check_config(apr_pool_t *p, server_rec *s);

/* 1 when the database behind db is at this build's version (checked on the request's
 * connection until it has been seen current once per process), else 0 with the
 * reason logged. */
int authsvc_schema_ready(request_rec *r, authsvc_db_t *db, int *version);

#endif

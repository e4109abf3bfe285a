/*
 * store_audit.c - the audit_log table, and the schema version probe.
 */
#include <stdlib.h>

#include "store.h"

const authsvc_stmt_t authsvc_store_audit_stmts[] = {
    {"authsvc_audit_insert",
     "INSERT INTO audit_log (at, event, user_id, login, ip, user_agent, request_id, "
     "detail) VALUES (%lld, %s, %s, %s, %s, %s, %s, %s)"},
    /* A deleted account: its events stay (with the id), its personal data goes. */
    {"authsvc_audit_scrub",
     "UPDATE audit_log SET login = NULL, ip = NULL, user_agent = NULL, detail = NULL "
     "WHERE user_id = %s"},
    /* GET /users/me/events: a page by id, newest first (index user_id, id). */
    {"authsvc_audit_list_user",
     "SELECT id, at, event, login, ip, user_agent, detail FROM audit_log "
     "WHERE user_id = %s AND id < %lld AND event <> 'access_denied' "
     "ORDER BY id DESC LIMIT %d"},
    /* AuthsvcAuditRetention: a batch at a time, so that SQLite's write lock is held
     * briefly; the subquery form is the one both databases accept. */
    {"authsvc_audit_prune",
     "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < %lld "
     "ORDER BY id LIMIT %d)"},
    {NULL, NULL}};

const authsvc_stmt_t authsvc_store_schema_stmts[] = {
    {"authsvc_schema_version", "SELECT MAX(version) FROM schema_migrations"},
    {NULL, NULL}};

apr_status_t authsvc_audit_insert(authsvc_db_t *db, apr_int64_t at,
                                  const authsvc_audit_row_t *row)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[8] = {authsvc_store_int(p, at), row->event,      row->user_id,
                           row->login,               row->ip,         row->user_agent,
                           row->request_id,          row->detail};

    return authsvc_store_exec(db, "authsvc_audit_insert", NULL, 8, args);
}

apr_status_t authsvc_audit_scrub(authsvc_db_t *db, const char *user_id)
{
    const char *args[1] = {user_id};

    return authsvc_store_exec(db, "authsvc_audit_scrub", NULL, 1, args);
}

apr_status_t authsvc_schema_version(authsvc_db_t *db, int *version)
{
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_schema_version", 0, NULL, &rows);

    *version = rv == APR_SUCCESS ? (int)authsvc_store_cell_int(&rows, 0, 0, 0) : 0;
    return rv;
}

apr_status_t authsvc_audit_list_user(authsvc_db_t *db, const char *user_id,
                                     apr_int64_t before, int limit,
                                     apr_array_header_t **out)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[3] = {user_id, authsvc_store_int(p, before),
                           authsvc_store_int(p, limit)};
    authsvc_rows_t rows = {0, 0, NULL};
    apr_status_t rv = authsvc_store_select(db, "authsvc_audit_list_user", 3, args, &rows);
    int i;

    *out = apr_array_make(p, rows.nrows > 0 ? rows.nrows : 1, sizeof(authsvc_event_t));
    for (i = 0; rv == APR_SUCCESS && i < rows.nrows; i++) {
        authsvc_event_t *e = apr_array_push(*out);
        e->id = authsvc_store_cell(&rows, i, 0);
        e->at = authsvc_store_cell_int(&rows, i, 1, 0);
        e->event = authsvc_store_cell(&rows, i, 2);
        e->login = authsvc_store_cell(&rows, i, 3);
        e->ip = authsvc_store_cell(&rows, i, 4);
        e->user_agent = authsvc_store_cell(&rows, i, 5);
        e->detail = authsvc_store_cell(&rows, i, 6);
    }
    return rv;
}

apr_status_t authsvc_audit_prune(authsvc_db_t *db, apr_int64_t before, int batch,
                                 int *deleted)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[2] = {authsvc_store_int(p, before), authsvc_store_int(p, batch)};

    return authsvc_store_exec(db, "authsvc_audit_prune", deleted, 2, args);
}

/*
 * store_audit.c - the audit_log table, and the schema version probe.
 */
#include <stdlib.h>

#include "audit_sql.h"
#include "store.h"

const authsvc_stmt_t authsvc_store_audit_stmts[] = {
    {"authsvc_audit_insert",
     "INSERT INTO audit_log (at, event, user_id, login, ip, user_agent, request_id, "
     "detail) VALUES (%lld, %s, %s, %s, %s, %s, %s, %s)"},
    /* A deleted account (the rule is in audit_sql.h, shared with authsvc-admin). */
    {"authsvc_audit_scrub", AUTHSVC_SQL_AUDIT_SCRUB},
    /* GET /users/me/events: a page by id, newest first (index user_id, id). */
    {"authsvc_audit_list_user",
     "SELECT id, at, event, login, ip, user_agent, detail FROM audit_log "
     "WHERE user_id = %s AND id < %lld AND event <> 'access_denied' "
     "ORDER BY id DESC LIMIT %d"},
    /* AuthsvcAuditRetention: a batch at a time, so that SQLite's write lock is held
     * briefly; the subquery form is the one both databases accept. Oldest first by
     * time, so that both walk the index on at (0006) and stop at the first young row;
     * by id, SQLite scanned the whole table whenever nothing was old enough. */
    {"authsvc_audit_prune",
     "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < %lld "
     "ORDER BY at LIMIT %d)"},
    /* GET /admin/audit: every event, filtered by event when given (an empty filter is
     * none), newest first by id (the primary key). */
    {"authsvc_audit_search",
     "SELECT id, at, event, login, ip, user_agent, detail, user_id FROM audit_log "
     "WHERE (CAST(%s AS TEXT) = '' OR event = %s) "
     "AND at >= %lld AND at <= %lld AND id < %lld ORDER BY id DESC LIMIT %d"},
    /* ... and of one user: a statement of its own, so that both planners walk the index
     * (user_id, id) ("? = '' OR user_id = ?" makes them scan). */
    {"authsvc_audit_search_user",
     "SELECT id, at, event, login, ip, user_agent, detail, user_id FROM audit_log "
     "WHERE user_id = %s AND (CAST(%s AS TEXT) = '' OR event = %s) "
     "AND at >= %lld AND at <= %lld AND id < %lld ORDER BY id DESC LIMIT %d"},
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

/* The events of a list or search result (columns id, at, event, login, ip, user_agent,
 * detail, and user_id when there is an eighth); rows NULL: none. */
static apr_array_header_t *events(apr_pool_t *p, const authsvc_rows_t *rows)
{
    int n = rows ? rows->nrows : 0, i;
    apr_array_header_t *out = apr_array_make(p, n > 0 ? n : 1, sizeof(authsvc_event_t));

    for (i = 0; i < n; i++) {
        authsvc_event_t *e = apr_array_push(out);
        e->id = authsvc_store_cell(rows, i, 0);
        e->at = authsvc_store_cell_int(rows, i, 1, 0);
        e->event = authsvc_store_cell(rows, i, 2);
        e->login = authsvc_store_cell(rows, i, 3);
        e->ip = authsvc_store_cell(rows, i, 4);
        e->user_agent = authsvc_store_cell(rows, i, 5);
        e->detail = authsvc_store_cell(rows, i, 6);
        e->user_id = authsvc_store_cell(rows, i, 7);
    }
    return out;
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

    *out = events(p, rv == APR_SUCCESS ? &rows : NULL);
    return rv;
}

apr_status_t authsvc_audit_search(authsvc_db_t *db, const authsvc_audit_query_t *q,
                                  apr_array_header_t **out)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *event = q->event ? q->event : "";
    const char *args[7] = {q->user_id, event, event, authsvc_store_int(p, q->since),
                           authsvc_store_int(p, q->until), authsvc_store_int(p, q->before),
                           authsvc_store_int(p, q->limit)};
    authsvc_rows_t rows = {0, 0, NULL};
    int by_user = q->user_id != NULL;
    apr_status_t rv = authsvc_store_select(
        db, by_user ? "authsvc_audit_search_user" : "authsvc_audit_search", 6 + by_user,
        by_user ? args : args + 1, &rows);

    *out = events(p, rv == APR_SUCCESS ? &rows : NULL);
    return rv;
}

apr_status_t authsvc_audit_prune(authsvc_db_t *db, apr_int64_t before, int batch,
                                 int *deleted)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[2] = {authsvc_store_int(p, before), authsvc_store_int(p, batch)};

    return authsvc_store_exec(db, "authsvc_audit_prune", deleted, 2, args);
}

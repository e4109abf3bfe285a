/*
 * store_metrics.c - the database gauges of SetHandler authsvc-metrics.
 */
#include "metrics.h"

const authsvc_stmt_t authsvc_store_metrics_stmts[] = {
    /* Every live session (three "now" parameters). */
    {"authsvc_metrics_sessions",
     "SELECT count(*) FROM sessions WHERE " AUTHSVC_SESSION_LIVE},
    {NULL, NULL}};

apr_status_t authsvc_gauges_read(authsvc_db_t *db, apr_int64_t now,
                                 apr_int64_t *sessions, apr_int64_t *queued)
{
    const char *nows = authsvc_store_int(authsvc_store_pool(db), now);
    const char *args[3] = {nows, nows, nows};
    apr_int64_t oldest = 0;
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_metrics_sessions", 3, args, &rows);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    *sessions = authsvc_store_cell_int(&rows, 0, 0, 0);
    /* The outbox's backlog, as the health check counts it. */
    return authsvc_outbox_backlog(db, queued, &oldest);
}

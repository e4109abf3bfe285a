/*
 * store_outbox.c - the mail outbox: queued in a request's transaction, delivered by
 * the background watchdog (outbox.c).
 */
#include "store.h"


const authsvc_stmt_t authsvc_store_outbox_stmts[] = {
    {"authsvc_outbox_insert",
     "INSERT INTO mail_outbox (created_at, template, transport, sender, recipient, "
     "message, status, attempts, next_attempt_at) "
     "VALUES (%lld, %s, %s, %s, %s, %s, 'queued', 0, %lld)"},
    {"authsvc_outbox_due",
     "SELECT id, transport, sender, recipient, message, attempts, created_at "
     "FROM mail_outbox WHERE status = 'queued' AND next_attempt_at <= %lld "
     "AND (locked_until IS NULL OR locked_until <= %lld) ORDER BY id LIMIT " APR_STRINGIFY(AUTHSVC_OUTBOX_BATCH)},
    /* Exactly one deliverer (of any child or node) wins a message for a while.
     * attempts counts finished attempts: it moves with the outcome. */
    {"authsvc_outbox_claim",
     "UPDATE mail_outbox SET locked_until = %lld "
     "WHERE id = %lld AND status = 'queued' "
     "AND (locked_until IS NULL OR locked_until <= %lld)"},
    {"authsvc_outbox_sent",
     "UPDATE mail_outbox SET status = 'sent', sent_at = %lld, attempts = attempts + 1, "
     "recipient = NULL, "
     "message = NULL, locked_until = NULL, last_error = NULL WHERE id = %lld"},
    {"authsvc_outbox_retry",
     "UPDATE mail_outbox SET next_attempt_at = %lld, locked_until = NULL, "
     "attempts = attempts + 1, last_error = %s WHERE id = %lld"},
    {"authsvc_outbox_fail",
     "UPDATE mail_outbox SET status = 'failed', attempts = attempts + 1, recipient = NULL, "
     "message = NULL, locked_until = NULL, last_error = %s WHERE id = %lld"},
    /* The health check: how many wait, and since when. */
    {"authsvc_outbox_backlog",
     "SELECT COUNT(*), MIN(created_at) FROM mail_outbox WHERE status = 'queued'"},
    {"authsvc_outbox_prune",
     "DELETE FROM mail_outbox WHERE status <> 'queued' AND created_at < %lld"},
    {NULL, NULL}};

apr_status_t authsvc_outbox_insert(authsvc_db_t *db, const authsvc_outbox_t *m)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[7] = {authsvc_store_int(p, m->created_at), m->template_name,
                           m->transport, m->sender, m->recipient, m->message,
                           authsvc_store_int(p, m->created_at)};

    return authsvc_store_exec(db, "authsvc_outbox_insert", NULL, 7, args);
}

apr_status_t authsvc_outbox_due(authsvc_db_t *db, apr_int64_t now,
                                apr_array_header_t **out)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *nows = authsvc_store_int(p, now);
    const char *args[2] = {nows, nows};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_outbox_due", 2, args, &rows);
    int i;

    *out = apr_array_make(p, rows.nrows > 0 ? rows.nrows : 1, sizeof(authsvc_outbox_t));
    for (i = 0; rv == APR_SUCCESS && i < rows.nrows; i++) {
        authsvc_outbox_t *m = apr_array_push(*out);
        m->id = authsvc_store_cell(&rows, i, 0);
        m->transport = authsvc_store_cell(&rows, i, 1);
        m->sender = authsvc_store_cell(&rows, i, 2);
        m->recipient = authsvc_store_cell(&rows, i, 3);
        m->message = authsvc_store_cell(&rows, i, 4);
        m->attempts = (int)authsvc_store_cell_int(&rows, i, 5, 0);
        m->created_at = authsvc_store_cell_int(&rows, i, 6, 0);
    }
    return rv;
}

apr_status_t authsvc_outbox_claim(authsvc_db_t *db, const char *id, apr_int64_t until,
                                  int *claimed)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[3] = {authsvc_store_int(p, until), id,
                           authsvc_store_int(p, AUTHSVC_NOW())};
    int n = 0;
    apr_status_t rv = authsvc_store_exec(db, "authsvc_outbox_claim", &n, 3, args);

    *claimed = rv == APR_SUCCESS && n == 1;
    return rv;
}

apr_status_t authsvc_outbox_sent(authsvc_db_t *db, const char *id)
{
    const char *args[2] = {authsvc_store_int(authsvc_store_pool(db), AUTHSVC_NOW()), id};

    return authsvc_store_exec(db, "authsvc_outbox_sent", NULL, 2, args);
}

apr_status_t authsvc_outbox_retry(authsvc_db_t *db, const char *id, apr_int64_t at,
                                  const char *error)
{
    const char *args[3] = {authsvc_store_int(authsvc_store_pool(db), at), error, id};

    return authsvc_store_exec(db, "authsvc_outbox_retry", NULL, 3, args);
}

apr_status_t authsvc_outbox_fail(authsvc_db_t *db, const char *id, const char *error)
{
    const char *args[2] = {error, id};

    return authsvc_store_exec(db, "authsvc_outbox_fail", NULL, 2, args);
}

apr_status_t authsvc_outbox_prune(authsvc_db_t *db, apr_int64_t before)
{
    const char *args[1] = {authsvc_store_int(authsvc_store_pool(db), before)};

    return authsvc_store_exec(db, "authsvc_outbox_prune", NULL, 1, args);
}

apr_status_t authsvc_outbox_backlog(authsvc_db_t *db, apr_int64_t *queued,
                                    apr_int64_t *oldest)
{
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_outbox_backlog", 0, NULL, &rows);

    *queued = rv == APR_SUCCESS ? authsvc_store_cell_int(&rows, 0, 0, 0) : 0;
    *oldest = rv == APR_SUCCESS ? authsvc_store_cell_int(&rows, 0, 1, 0) : 0;
    return rv;
}

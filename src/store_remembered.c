/*
 * store_remembered.c - every statement on the remembered_devices table: the browsers
 * where a user ticked "remember this device" after a second step (flow_remember.c).
 *
 * Only the SHA-256 of a device token is stored. Every statement names the user as
 * well as the device: a token or an id of another user's device matches nothing.
 */
#include "store.h"

#define DEVICE_COLS "id, token_hash, user_id, created_at, expires_at, last_used_at, ip, " \
                    "user_agent, name"

const authsvc_stmt_t authsvc_store_remembered_stmts[] = {
    {"authsvc_remembered_insert",
     "INSERT INTO remembered_devices (" DEVICE_COLS ") "
     "VALUES (%s, %s, %s, %lld, %lld, NULL, %s, %s, %s)"},
    /* One statement finds and marks the device: the token, its user, not expired, and
     * remembered under the user's present second factor. */
    {"authsvc_remembered_use",
     "UPDATE remembered_devices SET last_used_at = %lld WHERE token_hash = %s "
     "AND user_id = %s AND expires_at > %lld AND created_at >= %lld RETURNING id"},
    {"authsvc_remembered_list",
     "SELECT " DEVICE_COLS " FROM remembered_devices WHERE user_id = %s "
     "AND expires_at > %lld ORDER BY COALESCE(last_used_at, created_at) DESC, id"},
    {"authsvc_remembered_delete_id",
     "DELETE FROM remembered_devices WHERE user_id = %s AND id = %s RETURNING id"},
    {"authsvc_remembered_delete_user",
     "DELETE FROM remembered_devices WHERE user_id = %s RETURNING id"},
    {"authsvc_remembered_prune_user",
     "DELETE FROM remembered_devices WHERE user_id = %s AND expires_at <= %lld"},
    {"authsvc_remembered_prune",
     "DELETE FROM remembered_devices WHERE expires_at <= %lld"},
    {NULL, NULL}};

apr_status_t authsvc_remembered_insert(authsvc_db_t *db, const authsvc_device_t *d)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[8] = {d->id, d->token_hash, d->user_id,
                           authsvc_store_int(p, d->created_at),
                           authsvc_store_int(p, d->expires_at), d->ip, d->user_agent,
                           d->name};

    return authsvc_store_exec(db, "authsvc_remembered_insert", NULL, 8, args);
}

apr_status_t authsvc_remembered_use(authsvc_db_t *db, const char *token_hash,
                                    const char *user_id, apr_int64_t not_before,
                                    apr_int64_t now, const char **id)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *t = authsvc_store_int(p, now);
    const char *args[5] = {t, token_hash, user_id, t, authsvc_store_int(p, not_before)};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_remembered_use", 5, args, &rows);

    *id = rv == APR_SUCCESS && rows.nrows > 0 ? authsvc_store_cell(&rows, 0, 0) : NULL;
    return rv;
}

apr_status_t authsvc_remembered_list(authsvc_db_t *db, const char *user_id,
                                     apr_int64_t now, apr_array_header_t **out)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[2] = {user_id, authsvc_store_int(p, now)};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_remembered_list", 2, args, &rows);
    int i;

    *out = apr_array_make(p, rows.nrows > 0 ? rows.nrows : 1, sizeof(authsvc_device_t));
    for (i = 0; rv == APR_SUCCESS && i < rows.nrows; i++) {
        authsvc_device_t *d = apr_array_push(*out);
        d->id = authsvc_store_cell(&rows, i, 0);
        d->token_hash = authsvc_store_cell(&rows, i, 1);
        d->user_id = authsvc_store_cell(&rows, i, 2);
        d->created_at = authsvc_store_cell_int(&rows, i, 3, 0);
        d->expires_at = authsvc_store_cell_int(&rows, i, 4, 0);
        d->last_used_at = authsvc_store_cell_int(&rows, i, 5, 0);
        d->ip = authsvc_store_cell(&rows, i, 6);
        d->user_agent = authsvc_store_cell(&rows, i, 7);
        d->name = authsvc_store_cell(&rows, i, 8);
    }
    return rv;
}

apr_status_t authsvc_remembered_delete(authsvc_db_t *db, const char *user_id,
                                       const char *id, int *count)
{
    const char *args[2] = {user_id, id};
    authsvc_rows_t rows;
    apr_status_t rv = id ? authsvc_store_select(db, "authsvc_remembered_delete_id", 2, args,
                                                &rows)
                         : authsvc_store_select(db, "authsvc_remembered_delete_user", 1,
                                                args, &rows);

    *count = rv == APR_SUCCESS ? rows.nrows : 0;
    return rv;
}

apr_status_t authsvc_remembered_prune_user(authsvc_db_t *db, const char *user_id,
                                           apr_int64_t now)
{
    const char *args[2] = {user_id, authsvc_store_int(authsvc_store_pool(db), now)};

    return authsvc_store_exec(db, "authsvc_remembered_prune_user", NULL, 2, args);
}

apr_status_t authsvc_remembered_prune(authsvc_db_t *db, apr_int64_t now)
{
    const char *args[1] = {authsvc_store_int(authsvc_store_pool(db), now)};

    return authsvc_store_exec(db, "authsvc_remembered_prune", NULL, 1, args);
}

/*
 * store_emailcode.c - the sign-in codes sent by mail, and the devices accounts signed
 * in from (the new-device alerts).
 */
#include "store.h"

const authsvc_stmt_t authsvc_store_emailcode_stmts[] = {
    /* One live code per account: a new request replaces the older one (and its count
     * of wrong tries). */
    {"authsvc_emailcode_put",
     "INSERT INTO email_codes (user_id, token_hash, code_hash, created_at, expires_at, "
     "failures) VALUES (%s, %s, %s, %lld, %lld, 0) ON CONFLICT (user_id) DO UPDATE SET "
     "token_hash = excluded.token_hash, code_hash = excluded.code_hash, "
     "created_at = excluded.created_at, expires_at = excluded.expires_at, failures = 0"},
    {"authsvc_emailcode_get",
     "SELECT token_hash, code_hash FROM email_codes WHERE user_id = %s "
     "AND expires_at > %lld AND failures < %lld"},
    /* Single use: the one statement that finds the code live uses it up. */
    {"authsvc_emailcode_use",
     "DELETE FROM email_codes WHERE user_id = %s AND code_hash = %s AND expires_at > %lld "
     "AND failures < %lld RETURNING user_id"},
    {"authsvc_emailcode_fail",
     "UPDATE email_codes SET failures = failures + 1 WHERE user_id = %s AND token_hash = %s"},
    {"authsvc_emailcode_delete_user", "DELETE FROM email_codes WHERE user_id = %s"},
    {"authsvc_devices_delete_user", "DELETE FROM devices_seen WHERE user_id = %s"},
    {"authsvc_emailcode_prune", "DELETE FROM email_codes WHERE expires_at < %lld"},
    {"authsvc_devices_prune", "DELETE FROM devices_seen WHERE expires_at < %lld"},
    /* How many of the keys (up to two) the account has seen since `since`, and whether
     * it has any row at all. */
    {"authsvc_devices_seen",
     "SELECT COUNT(CASE WHEN device_key IN (%s, %s) AND last_seen >= %lld THEN 1 END), "
     "COUNT(*) FROM devices_seen WHERE user_id = %s"},
    {"authsvc_devices_put",
     "INSERT INTO devices_seen (user_id, device_key, first_seen, last_seen, expires_at) "
     "VALUES (%s, %s, %lld, %lld, %lld) ON CONFLICT (user_id, device_key) DO UPDATE SET "
     "last_seen = excluded.last_seen, expires_at = excluded.expires_at"},
    {NULL, NULL}};

apr_status_t authsvc_emailcode_put(authsvc_db_t *db, const char *user_id,
                                   const char *token_hash, const char *code_hash,
                                   apr_int64_t now, apr_int64_t expires_at)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[5] = {user_id, token_hash, code_hash, authsvc_store_int(p, now),
                           authsvc_store_int(p, expires_at)};

    return authsvc_store_exec(db, "authsvc_emailcode_put", NULL, 5, args);
}

apr_status_t authsvc_emailcode_get(authsvc_db_t *db, const char *user_id, apr_int64_t now,
                                   int max_failures, const char **token_hash,
                                   const char **code_hash)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[3] = {user_id, authsvc_store_int(p, now),
                           authsvc_store_int(p, max_failures)};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_emailcode_get", 3, args, &rows);

    *token_hash = *code_hash = NULL;
    if (rv == APR_SUCCESS && rows.nrows > 0) {
        *token_hash = authsvc_store_cell(&rows, 0, 0);
        *code_hash = authsvc_store_cell(&rows, 0, 1);
    }
    return rv;
}

apr_status_t authsvc_emailcode_use(authsvc_db_t *db, const char *user_id,
                                   const char *code_hash, apr_int64_t now,
                                   int max_failures, int *done)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[4] = {user_id, code_hash, authsvc_store_int(p, now),
                           authsvc_store_int(p, max_failures)};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_emailcode_use", 4, args, &rows);

    *done = rv == APR_SUCCESS && rows.nrows > 0;
    return rv;
}

apr_status_t authsvc_emailcode_fail(authsvc_db_t *db, const char *user_id,
                                    const char *token_hash)
{
    const char *args[2] = {user_id, token_hash};

    return authsvc_store_exec(db, "authsvc_emailcode_fail", NULL, 2, args);
}

apr_status_t authsvc_emailcode_delete_user(authsvc_db_t *db, const char *user_id)
{
    const char *args[1] = {user_id};
    apr_status_t rv = authsvc_store_exec(db, "authsvc_emailcode_delete_user", NULL, 1, args);

    return rv == APR_SUCCESS
               ? authsvc_store_exec(db, "authsvc_devices_delete_user", NULL, 1, args)
               : rv;
}

apr_status_t authsvc_emailcode_prune(authsvc_db_t *db, apr_int64_t now)
{
    const char *args[1] = {authsvc_store_int(authsvc_store_pool(db), now)};
    apr_status_t rv = authsvc_store_exec(db, "authsvc_emailcode_prune", NULL, 1, args);

    return rv == APR_SUCCESS ? authsvc_store_exec(db, "authsvc_devices_prune", NULL, 1, args)
                             : rv;
}

apr_status_t authsvc_devices_seen(authsvc_db_t *db, const char *user_id, const char *key1,
                                  const char *key2, apr_int64_t since, int *seen,
                                  int *known)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[4] = {key1, key2 ? key2 : key1, authsvc_store_int(p, since), user_id};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_devices_seen", 4, args, &rows);

    *seen = rv == APR_SUCCESS && authsvc_store_cell_int(&rows, 0, 0, 0) > 0;
    *known = rv == APR_SUCCESS && authsvc_store_cell_int(&rows, 0, 1, 0) > 0;
    return rv;
}

apr_status_t authsvc_devices_put(authsvc_db_t *db, const char *user_id, const char *key,
                                 apr_int64_t now, apr_int64_t expires_at)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *n = authsvc_store_int(p, now);
    const char *args[5] = {user_id, key, n, n, authsvc_store_int(p, expires_at)};

    return authsvc_store_exec(db, "authsvc_devices_put", NULL, 5, args);
}

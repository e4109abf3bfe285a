/*
 * store_refresh.c - every statement on the refresh_tokens table.
 */
#include "store.h"

#define REFRESH_COLS \
    "token_hash, family_id, session_hash, user_id, created_at, expires_at, rotated_at, " \
    "revoked_at"

const authsvc_stmt_t authsvc_store_refresh_stmts[] = {
    {"authsvc_refresh_insert",
     "INSERT INTO refresh_tokens (token_hash, family_id, session_hash, user_id, "
     "created_at, expires_at) VALUES (%s, %s, %s, %s, %lld, %lld)"},
    /* One statement decides which of two concurrent uses of a token wins. */
    {"authsvc_refresh_rotate",
     "UPDATE refresh_tokens SET rotated_at = %lld WHERE token_hash = %s "
     "AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > %lld "
     "RETURNING " REFRESH_COLS},
    {"authsvc_refresh_get",
     "SELECT " REFRESH_COLS " FROM refresh_tokens WHERE token_hash = %s"},
    {"authsvc_refresh_revoke_family",
     "UPDATE refresh_tokens SET revoked_at = %lld WHERE family_id = %s "
     "AND revoked_at IS NULL"},
    {"authsvc_refresh_revoke_session",
     "UPDATE refresh_tokens SET revoked_at = %lld WHERE session_hash = %s "
     "AND revoked_at IS NULL"},
    {"authsvc_refresh_delete_user", "DELETE FROM refresh_tokens WHERE user_id = %s"},
    {"authsvc_refresh_prune", "DELETE FROM refresh_tokens WHERE expires_at < %lld"},
    {NULL, NULL}};

apr_status_t authsvc_refresh_insert(authsvc_db_t *db, const authsvc_refresh_t *t)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[6] = {t->token_hash,
                           t->family_id,
                           t->session_hash,
                           t->user_id,
                           authsvc_store_int(p, t->created_at),
                           authsvc_store_int(p, t->expires_at)};

    return authsvc_store_exec(db, "authsvc_refresh_insert", NULL, 6, args);
}

/* The first row of a REFRESH_COLS result, or NULL. */
static authsvc_refresh_t *from_rows(apr_pool_t *p, const authsvc_rows_t *rows)
{
    authsvc_refresh_t *t;

    if (rows->nrows == 0) {
        return NULL;
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->token_hash = authsvc_store_cell(rows, 0, 0);
    t->family_id = authsvc_store_cell(rows, 0, 1);
    t->session_hash = authsvc_store_cell(rows, 0, 2);
    t->user_id = authsvc_store_cell(rows, 0, 3);
    t->created_at = authsvc_store_cell_int(rows, 0, 4, 0);
    t->expires_at = authsvc_store_cell_int(rows, 0, 5, 0);
    t->rotated_at = authsvc_store_cell_int(rows, 0, 6, 0);
    t->revoked_at = authsvc_store_cell_int(rows, 0, 7, 0);
    return t;
}

apr_status_t authsvc_refresh_rotate(authsvc_db_t *db, const char *token_hash,
                                    apr_int64_t now, authsvc_refresh_t **t)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *nows = authsvc_store_int(p, now);
    const char *args[3] = {nows, token_hash, nows};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_refresh_rotate", 3, args, &rows);

    *t = rv == APR_SUCCESS ? from_rows(p, &rows) : NULL;
    return rv;
}

apr_status_t authsvc_refresh_get(authsvc_db_t *db, const char *token_hash,
                                 authsvc_refresh_t **t)
{
    const char *args[1] = {token_hash};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_refresh_get", 1, args, &rows);

    *t = rv == APR_SUCCESS ? from_rows(authsvc_store_pool(db), &rows) : NULL;
    return rv;
}

/* UPDATE ... SET revoked_at = now WHERE <key> = ... */
static apr_status_t revoke_by(authsvc_db_t *db, const char *label, const char *key,
                              apr_int64_t now)
{
    const char *args[2] = {authsvc_store_int(authsvc_store_pool(db), now), key};

    return authsvc_store_exec(db, label, NULL, 2, args);
}

apr_status_t authsvc_refresh_revoke_family(authsvc_db_t *db, const char *family_id,
                                           apr_int64_t now)
{
    return revoke_by(db, "authsvc_refresh_revoke_family", family_id, now);
}

apr_status_t authsvc_refresh_revoke_session(authsvc_db_t *db, const char *session_hash,
                                            apr_int64_t now)
{
    return revoke_by(db, "authsvc_refresh_revoke_session", session_hash, now);
}

apr_status_t authsvc_refresh_delete_user(authsvc_db_t *db, const char *user_id)
{
    const char *args[1] = {user_id};

    return authsvc_store_exec(db, "authsvc_refresh_delete_user", NULL, 1, args);
}

apr_status_t authsvc_refresh_prune(authsvc_db_t *db, apr_int64_t before)
{
    const char *args[1] = {authsvc_store_int(authsvc_store_pool(db), before)};

    return authsvc_store_exec(db, "authsvc_refresh_prune", NULL, 1, args);
}

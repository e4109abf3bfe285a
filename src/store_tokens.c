/*
 * store_tokens.c - the tokens mailed to users, and the password history.
 */
#include "store.h"

const authsvc_stmt_t authsvc_store_tokens_stmts[] = {
    {"authsvc_tokens_insert",
     "INSERT INTO tokens (token_hash, user_id, purpose, email, created_at, expires_at) "
     "VALUES (%s, %s, %s, %s, %lld, %lld)"},
    /* A live token of one of two purposes (the same purpose twice for one). */
    {"authsvc_tokens_peek",
     "SELECT user_id, purpose, email FROM tokens WHERE token_hash = %s "
     "AND purpose IN (%s, %s) AND used_at IS NULL AND expires_at > %lld"},
    /* Single use: the row is marked used by the one statement that finds it live, so
     * two concurrent requests with the same token cannot both succeed. */
    {"authsvc_tokens_consume",
     "UPDATE tokens SET used_at = %lld WHERE token_hash = %s AND purpose IN (%s, %s) "
     "AND used_at IS NULL AND expires_at > %lld RETURNING user_id, purpose, email"},
    {"authsvc_tokens_invalidate",
     "UPDATE tokens SET used_at = %lld WHERE user_id = %s AND purpose = %s "
     "AND used_at IS NULL"},
    {"authsvc_tokens_delete_user", "DELETE FROM tokens WHERE user_id = %s"},
    {"authsvc_tokens_prune", "DELETE FROM tokens WHERE expires_at < %lld"},
    /* seq: the user's rows numbered as written (created_at, in seconds, ties). */
    {"authsvc_history_insert",
     "INSERT INTO password_history (user_id, password_hash, created_at, seq) "
     "VALUES (%s, %s, %lld, (SELECT COALESCE(MAX(seq), 0) + 1 FROM password_history "
     "WHERE user_id = %s))"},
    {"authsvc_history_recent",
     "SELECT password_hash FROM password_history WHERE user_id = %s "
     "ORDER BY seq DESC, created_at DESC LIMIT %lld"},
    /* Keep the newest `keep` rows of the user (0: none). */
    {"authsvc_history_trim",
     "DELETE FROM password_history WHERE user_id = %s AND password_hash NOT IN "
     "(SELECT password_hash FROM password_history WHERE user_id = %s "
     "ORDER BY seq DESC, created_at DESC LIMIT %lld)"},
    {NULL, NULL}};

apr_status_t authsvc_tokens_insert(authsvc_db_t *db, const authsvc_token_t *t)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[6] = {t->token_hash, t->user_id, t->purpose, t->email,
                           authsvc_store_int(p, t->created_at),
                           authsvc_store_int(p, t->expires_at)};

    return authsvc_store_exec(db, "authsvc_tokens_insert", NULL, 6, args);
}

/* Row 0 of a (user_id, purpose, email) result as a token, or NULL. */
static authsvc_token_t *token_from_rows(apr_pool_t *p, const authsvc_rows_t *rows,
                                        const char *hash)
{
    authsvc_token_t *t;

    if (rows->nrows == 0) {
        return NULL;
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->token_hash = hash;
    t->user_id = authsvc_store_cell(rows, 0, 0);
    t->purpose = authsvc_store_cell(rows, 0, 1);
    t->email = authsvc_store_cell(rows, 0, 2);
    return t;
}

apr_status_t authsvc_tokens_peek(authsvc_db_t *db, const char *hash, const char *purpose1,
                                 const char *purpose2, authsvc_token_t **out)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[4] = {hash, purpose1, purpose2, authsvc_store_int(p, AUTHSVC_NOW())};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_tokens_peek", 4, args, &rows);

    *out = rv == APR_SUCCESS ? token_from_rows(p, &rows, hash) : NULL;
    return rv;
}

apr_status_t authsvc_tokens_consume(authsvc_db_t *db, const char *hash,
                                    const char *purpose1, const char *purpose2,
                                    authsvc_token_t **out)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *now = authsvc_store_int(p, AUTHSVC_NOW());
    const char *args[5] = {now, hash, purpose1, purpose2, now};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_tokens_consume", 5, args, &rows);

    *out = rv == APR_SUCCESS ? token_from_rows(p, &rows, hash) : NULL;
    return rv;
}

apr_status_t authsvc_tokens_invalidate(authsvc_db_t *db, const char *user_id,
                                       const char *purpose)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[3] = {authsvc_store_int(p, AUTHSVC_NOW()), user_id, purpose};

    return authsvc_store_exec(db, "authsvc_tokens_invalidate", NULL, 3, args);
}

apr_status_t authsvc_tokens_delete_user(authsvc_db_t *db, const char *user_id)
{
    const char *args[1] = {user_id};

    return authsvc_store_exec(db, "authsvc_tokens_delete_user", NULL, 1, args);
}

apr_status_t authsvc_tokens_prune(authsvc_db_t *db, apr_int64_t before)
{
    const char *args[1] = {authsvc_store_int(authsvc_store_pool(db), before)};

    return authsvc_store_exec(db, "authsvc_tokens_prune", NULL, 1, args);
}

apr_status_t authsvc_history_recent(authsvc_db_t *db, const char *user_id, int n,
                                    apr_array_header_t **hashes)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[2] = {user_id, authsvc_store_int(p, n)};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_history_recent", 2, args, &rows);
    int i;

    *hashes = apr_array_make(p, n > 0 ? n : 1, sizeof(const char *));
    for (i = 0; rv == APR_SUCCESS && i < rows.nrows; i++) {
        APR_ARRAY_PUSH(*hashes, const char *) = authsvc_store_cell(&rows, i, 0);
    }
    return rv;
}

apr_status_t authsvc_history_record(authsvc_db_t *db, const char *user_id,
                                    const char *old_hash, int keep)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *ins[4] = {user_id, old_hash, authsvc_store_int(p, AUTHSVC_NOW()),
                          user_id};
    const char *trim[3] = {user_id, user_id, authsvc_store_int(p, keep > 0 ? keep : 0)};
    apr_status_t rv = APR_SUCCESS;

    if (keep > 0) {
        rv = authsvc_store_exec(db, "authsvc_history_insert", NULL, 4, ins);
    }
    if (rv == APR_SUCCESS) {
        rv = authsvc_store_exec(db, "authsvc_history_trim", NULL, 3, trim);
    }
    return rv;
}

/*
 * store_passkeys.c - every statement on passkeys (WebAuthn credentials) and on the
 * challenges of their ceremonies.
 */
#include "store.h"

#define PASSKEY_COLS                                                                     \
    "id, user_id, credential_id, user_handle, public_key, alg, sign_count, name, "       \
    "transports, backup_eligible, backed_up, created_at, last_used_at"

const authsvc_stmt_t authsvc_store_passkeys_stmts[] = {
    {"authsvc_passkeys_list",
     "SELECT " PASSKEY_COLS " FROM passkeys WHERE user_id = %s ORDER BY created_at, id"},
    {"authsvc_passkeys_by_cred",
     "SELECT " PASSKEY_COLS " FROM passkeys WHERE credential_id = %s"},
    {"authsvc_passkeys_insert",
     "INSERT INTO passkeys (id, user_id, credential_id, user_handle, public_key, alg, "
     "sign_count, name, transports, backup_eligible, backed_up, created_at) "
     "VALUES (%s, %s, %s, %s, %s, %lld, %lld, %s, %s, %lld, %lld, %lld) "
     "ON CONFLICT (credential_id) DO NOTHING"},
    /* Only from the counter the assertion was checked against: of two sign-ins with
     * the same counter, one wins. */
    {"authsvc_passkeys_use",
     "UPDATE passkeys SET sign_count = %lld, backed_up = %lld, last_used_at = %lld "
     "WHERE id = %s AND sign_count = %lld"},
    {"authsvc_passkeys_rename",
     "UPDATE passkeys SET name = %s WHERE id = %s AND user_id = %s"},
    {"authsvc_passkeys_delete", "DELETE FROM passkeys WHERE id = %s AND user_id = %s"},
    {"authsvc_passkeys_delete_user", "DELETE FROM passkeys WHERE user_id = %s"},
    {"authsvc_webauthn_challenge_insert",
     "INSERT INTO webauthn_challenges (challenge_hash, purpose, user_id, user_handle, "
     "created_at, expires_at) VALUES (%s, %s, %s, %s, %lld, %lld)"},
    /* Single use: of two requests with the same challenge, one gets the row. */
    {"authsvc_webauthn_challenge_take",
     "DELETE FROM webauthn_challenges WHERE challenge_hash = %s AND purpose = %s "
     "AND expires_at > %lld RETURNING user_id, user_handle"},
    {"authsvc_webauthn_challenge_delete_user",
     "DELETE FROM webauthn_challenges WHERE user_id = %s"},
    {"authsvc_webauthn_challenge_prune",
     "DELETE FROM webauthn_challenges WHERE expires_at < %lld"},
    {NULL, NULL}};

static authsvc_passkey_t *from_row(apr_pool_t *p, const authsvc_rows_t *rows, int i)
{
    authsvc_passkey_t *k = apr_pcalloc(p, sizeof(*k));

    k->id = authsvc_store_cell(rows, i, 0);
    k->user_id = authsvc_store_cell(rows, i, 1);
    k->credential_id = authsvc_store_cell(rows, i, 2);
    k->user_handle = authsvc_store_cell(rows, i, 3);
    k->public_key = authsvc_store_cell(rows, i, 4);
    k->alg = (int)authsvc_store_cell_int(rows, i, 5, 0);
    k->sign_count = authsvc_store_cell_int(rows, i, 6, 0);
    k->name = authsvc_store_cell(rows, i, 7);
    k->transports = authsvc_store_cell(rows, i, 8);
    k->backup_eligible = (int)authsvc_store_cell_int(rows, i, 9, 0);
    k->backed_up = (int)authsvc_store_cell_int(rows, i, 10, 0);
    k->created_at = authsvc_store_cell_int(rows, i, 11, 0);
    k->last_used_at = authsvc_store_cell_int(rows, i, 12, 0);
    return k;
}

apr_status_t authsvc_passkeys_list(authsvc_db_t *db, const char *user_id,
                                   apr_array_header_t **out)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[1] = {user_id};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_passkeys_list", 1, args, &rows);
    int i;

    *out = apr_array_make(p, rv == APR_SUCCESS && rows.nrows ? rows.nrows : 1,
                          sizeof(authsvc_passkey_t *));
    for (i = 0; rv == APR_SUCCESS && i < rows.nrows; i++) {
        APR_ARRAY_PUSH(*out, authsvc_passkey_t *) = from_row(p, &rows, i);
    }
    return rv;
}

apr_status_t authsvc_passkeys_by_cred(authsvc_db_t *db, const char *credential_id,
                                      authsvc_passkey_t **out)
{
    const char *args[1] = {credential_id};
    authsvc_rows_t rows;
    apr_status_t rv =
        authsvc_store_select(db, "authsvc_passkeys_by_cred", 1, args, &rows);

    *out = rv == APR_SUCCESS && rows.nrows > 0
               ? from_row(authsvc_store_pool(db), &rows, 0)
               : NULL;
    return rv;
}

apr_status_t authsvc_passkeys_insert(authsvc_db_t *db, const authsvc_passkey_t *k)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[12] = {k->id,
                            k->user_id,
                            k->credential_id,
                            k->user_handle,
                            k->public_key,
                            authsvc_store_int(p, k->alg),
                            authsvc_store_int(p, k->sign_count),
                            k->name,
                            k->transports,
                            authsvc_store_int(p, k->backup_eligible),
                            authsvc_store_int(p, k->backed_up),
                            authsvc_store_int(p, k->created_at)};

    int n = 0;
    apr_status_t rv = authsvc_store_exec(db, "authsvc_passkeys_insert", &n, 12, args);

    return rv == APR_SUCCESS && n == 0 ? APR_EEXIST : rv;
}

/* A write of one row at most; *done says whether it did. */
static apr_status_t one_row(authsvc_db_t *db, const char *label, int nargs,
                            const char **args, int *done)
{
    int n = 0;
    apr_status_t rv = authsvc_store_exec(db, label, &n, nargs, args);

    *done = rv == APR_SUCCESS && n > 0;
    return rv;
}

apr_status_t authsvc_passkeys_use(authsvc_db_t *db, const authsvc_passkey_t *k,
                                  apr_int64_t sign_count, int backed_up, apr_int64_t now,
                                  int *done)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[5] = {authsvc_store_int(p, sign_count),
                           authsvc_store_int(p, backed_up), authsvc_store_int(p, now),
                           k->id, authsvc_store_int(p, k->sign_count)};

    return one_row(db, "authsvc_passkeys_use", 5, args, done);
}

apr_status_t authsvc_passkeys_rename(authsvc_db_t *db, const char *id,
                                     const char *user_id, const char *name, int *done)
{
    const char *args[3] = {name, id, user_id};

    return one_row(db, "authsvc_passkeys_rename", 3, args, done);
}

apr_status_t authsvc_passkeys_delete(authsvc_db_t *db, const char *id,
                                     const char *user_id, int *done)
{
    const char *args[2] = {id, user_id};

    return one_row(db, "authsvc_passkeys_delete", 2, args, done);
}

apr_status_t authsvc_passkeys_delete_user(authsvc_db_t *db, const char *user_id)
{
    const char *args[1] = {user_id};
    apr_status_t rv =
        authsvc_store_exec(db, "authsvc_webauthn_challenge_delete_user", NULL, 1, args);

    return rv == APR_SUCCESS
               ? authsvc_store_exec(db, "authsvc_passkeys_delete_user", NULL, 1, args)
               : rv;
}

apr_status_t authsvc_webauthn_challenge_insert(authsvc_db_t *db, const char *hash,
                                               const char *purpose, const char *user_id,
                                               const char *user_handle, apr_int64_t now,
                                               apr_int64_t expires_at)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[6] = {hash,
                           purpose,
                           user_id,
                           user_handle,
                           authsvc_store_int(p, now),
                           authsvc_store_int(p, expires_at)};

    return authsvc_store_exec(db, "authsvc_webauthn_challenge_insert", NULL, 6, args);
}

apr_status_t authsvc_webauthn_challenge_take(authsvc_db_t *db, const char *hash,
                                             const char *purpose, apr_int64_t now,
                                             int *found, const char **user_id,
                                             const char **user_handle)
{
    const char *args[3] = {hash, purpose, authsvc_store_int(authsvc_store_pool(db), now)};
    authsvc_rows_t rows;
    apr_status_t rv =
        authsvc_store_select(db, "authsvc_webauthn_challenge_take", 3, args, &rows);

    *found = rv == APR_SUCCESS && rows.nrows > 0;
    *user_id = *found ? authsvc_store_cell(&rows, 0, 0) : NULL;
    *user_handle = *found ? authsvc_store_cell(&rows, 0, 1) : NULL;
    return rv;
}

apr_status_t authsvc_webauthn_challenge_prune(authsvc_db_t *db, apr_int64_t before)
{
    const char *args[1] = {authsvc_store_int(authsvc_store_pool(db), before)};

    return authsvc_store_exec(db, "authsvc_webauthn_challenge_prune", NULL, 1, args);
}

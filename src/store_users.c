/*
 * store_users.c - every statement on the users table.
 */
#include "store.h"

#define USER_COLS AUTHSVC_USER_COLS("")

const authsvc_stmt_t authsvc_store_users_stmts[] = {
    /* ON CONFLICT DO NOTHING covers both unique keys (email, lower(username)): a
     * duplicate is 0 rows, not an error that would abort a PostgreSQL transaction. */
    {"authsvc_users_insert",
     "INSERT INTO users (id, email, username, password_hash, first_name, last_name, "
     "status, roles, created_at, updated_at) "
     "VALUES (%s, %s, %s, %s, %s, %s, 'active', '', %lld, %lld) ON CONFLICT DO NOTHING"},
    {"authsvc_users_conflict",
     "SELECT email FROM users WHERE email = %s OR lower(username) = lower(%s)"},
    {"authsvc_users_by_id", "SELECT " USER_COLS " FROM users WHERE id = %s"},
    {"authsvc_users_by_email", "SELECT " USER_COLS " FROM users WHERE email = %s"},
    {"authsvc_users_by_username",
     "SELECT " USER_COLS " FROM users WHERE lower(username) = lower(%s)"},
    {"authsvc_users_rehash",
     "UPDATE users SET password_hash = %s, updated_at = %lld "
     "WHERE id = %s AND password_hash = %s"},
    {"authsvc_users_update_profile",
     "UPDATE users SET username = %s, first_name = %s, last_name = %s, updated_at = %lld "
     "WHERE id = %s AND NOT EXISTS (SELECT 1 FROM users o "
     "WHERE lower(o.username) = lower(%s) AND o.id <> %s)"},
    {"authsvc_users_set_password",
     "UPDATE users SET password_hash = %s, updated_at = %lld WHERE id = %s"},
    /* Verified only while the account still has the address the token was sent to. */
    {"authsvc_users_verify",
     "UPDATE users SET email_verified_at = COALESCE(email_verified_at, %lld), "
     "updated_at = %lld WHERE id = %s AND email = %s"},
    {"authsvc_users_set_email",
     "UPDATE users SET email = %s, email_verified_at = %lld, updated_at = %lld "
     "WHERE id = %s AND NOT EXISTS (SELECT 1 FROM users o WHERE o.email = %s "
     "AND o.id <> %s)"},
    {"authsvc_users_delete", "DELETE FROM users WHERE id = %s"},
    /* A no-op write: PostgreSQL row lock that serialises one account's token requests
     * (SQLite's BEGIN IMMEDIATE already serialises every write transaction). */
    {"authsvc_users_lock", "UPDATE users SET updated_at = updated_at WHERE id = %s"},
    /* GET /admin/users: a case-insensitive substring (the caller's LIKE pattern, its
     * own %, _ and \\ escaped) of any name, an optional status, and keyset paging on
     * (created_at, id), newest first: the page after the cursor's row. */
    {"authsvc_users_search",
     "SELECT " USER_COLS ", locked_until FROM users "
     "WHERE (lower(email) LIKE lower(CAST(%s AS TEXT)) ESCAPE '\\' "
     "OR lower(COALESCE(username, '')) LIKE lower(CAST(%s AS TEXT)) ESCAPE '\\' "
     "OR lower(COALESCE(first_name, '')) LIKE lower(CAST(%s AS TEXT)) ESCAPE '\\' "
     "OR lower(COALESCE(last_name, '')) LIKE lower(CAST(%s AS TEXT)) ESCAPE '\\') "
     "AND (CAST(%s AS TEXT) = '' OR status = %s) "
     "AND (created_at < %lld OR (created_at = %lld AND id < %s)) "
     "ORDER BY created_at DESC, id DESC LIMIT %d"},
    {"authsvc_users_admin_get", "SELECT " USER_COLS ", locked_until FROM users WHERE id = %s"},
    {"authsvc_users_set_status",
     "UPDATE users SET status = %s, updated_at = %lld WHERE id = %s AND status <> %s"},
    /* Compare and set: a concurrent change of the roles wins, this one is refused. */
    {"authsvc_users_set_roles",
     "UPDATE users SET roles = %s, updated_at = %lld WHERE id = %s AND roles = %s"},
    {NULL, NULL}};

/* Columns 0..11 of USER_COLS row i, starting at column `off`. */
static authsvc_user_t *user_at(apr_pool_t *p, const authsvc_rows_t *rows, int i, int off)
{
    authsvc_user_t *u = apr_pcalloc(p, sizeof(*u));

    u->id = authsvc_store_cell(rows, i, off + 0);
    u->email = authsvc_store_cell(rows, i, off + 1);
    u->username = authsvc_store_cell(rows, i, off + 2);
    u->password_hash = authsvc_store_cell(rows, i, off + 3);
    u->first_name = authsvc_store_cell(rows, i, off + 4);
    u->last_name = authsvc_store_cell(rows, i, off + 5);
    u->status = authsvc_store_cell(rows, i, off + 6);
    u->roles = authsvc_store_cell(rows, i, off + 7);
    u->email_verified_at = authsvc_store_cell_int(rows, i, off + 8, 0);
    u->created_at = authsvc_store_cell_int(rows, i, off + 9, 0);
    u->updated_at = authsvc_store_cell_int(rows, i, off + 10, 0);
    u->mfa_enabled_at = authsvc_store_cell_int(rows, i, off + 11, 0);
    if (u->roles == NULL) {
        u->roles = "";
    }
    return u;
}

static authsvc_user_t *user_from_row(apr_pool_t *p, const authsvc_rows_t *rows, int off)
{
    return user_at(p, rows, 0, off);
}

authsvc_user_t *authsvc_users_from_row(apr_pool_t *p, const authsvc_rows_t *rows, int off)
{
    return user_from_row(p, rows, off);
}

static apr_status_t one_user(authsvc_db_t *db, const char *label, const char *key,
                             authsvc_user_t **out)
{
    authsvc_rows_t rows;
    const char *args[1] = {key};
    apr_status_t rv = authsvc_store_select(db, label, 1, args, &rows);

    *out = NULL;
    if (rv == APR_SUCCESS && rows.nrows > 0) {
        *out = user_from_row(authsvc_store_pool(db), &rows, 0);
    }
    return rv;
}

apr_status_t authsvc_users_by_id(authsvc_db_t *db, const char *id, authsvc_user_t **out)
{
    return one_user(db, "authsvc_users_by_id", id, out);
}

apr_status_t authsvc_users_by_email(authsvc_db_t *db, const char *email,
                                    authsvc_user_t **out)
{
    return one_user(db, "authsvc_users_by_email", email, out);
}

apr_status_t authsvc_users_by_username(authsvc_db_t *db, const char *username,
                                       authsvc_user_t **out)
{
    return one_user(db, "authsvc_users_by_username", username, out);
}

apr_status_t authsvc_users_conflict(authsvc_db_t *db, const authsvc_user_t *u,
                                    authsvc_insert_t *outcome, int *found)
{
    authsvc_rows_t rows;
    const char *args[2] = {u->email, u->username};
    apr_status_t rv = authsvc_store_select(db, "authsvc_users_conflict", 2, args, &rows);
    int i;

    *found = 0;
    *outcome = AUTHSVC_USERNAME_TAKEN;
    for (i = 0; rv == APR_SUCCESS && i < rows.nrows; i++) {
        const char *email = authsvc_store_cell(&rows, i, 0);
        *found = 1;
        if (email != NULL && u->email != NULL && strcmp(email, u->email) == 0) {
            *outcome = AUTHSVC_EMAIL_TAKEN;
        }
    }
    return rv;
}

apr_status_t authsvc_users_insert(authsvc_db_t *db, const authsvc_user_t *u,
                                  authsvc_insert_t *outcome)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[8] = {u->id, u->email, u->username, u->password_hash,
                           u->first_name, u->last_name,
                           authsvc_store_int(p, u->created_at),
                           authsvc_store_int(p, u->updated_at)};
    int n = 0;
    apr_status_t rv = authsvc_store_exec(db, "authsvc_users_insert", &n, 8, args);
    int found = 0;

    *outcome = AUTHSVC_INSERTED;
    if (rv == APR_SUCCESS && n == 0) {
        rv = authsvc_users_conflict(db, u, outcome, &found);
        if (rv == APR_SUCCESS && !found) {
            rv = APR_EGENERAL; /* 0 rows and no conflict: should not happen */
        }
    }
    return rv;
}

apr_status_t authsvc_users_rehash(authsvc_db_t *db, const char *id, const char *old_hash,
                                  const char *new_hash)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[4] = {new_hash, authsvc_store_int(p, AUTHSVC_NOW()), id, old_hash};

    return authsvc_store_exec(db, "authsvc_users_rehash", NULL, 4, args);
}

apr_status_t authsvc_users_update_profile(authsvc_db_t *db, const authsvc_user_t *u,
                                          authsvc_insert_t *outcome)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[7] = {u->username, u->first_name, u->last_name,
                           authsvc_store_int(p, u->updated_at), u->id, u->username,
                           u->id};
    int n = 0;
    apr_status_t rv = authsvc_store_exec(db, "authsvc_users_update_profile", &n, 7, args);

    *outcome = AUTHSVC_INSERTED;
    if (rv == APR_SUCCESS && n == 0) {
        *outcome = AUTHSVC_USERNAME_TAKEN;
    }
    else if (rv != APR_SUCCESS && u->username != NULL) {
        /* A concurrent update took the name between our check and the unique index. */
        authsvc_user_t probe = *u;
        int found = 0;
        probe.email = NULL;
        if (authsvc_users_conflict(db, &probe, outcome, &found) == APR_SUCCESS && found) {
            rv = APR_SUCCESS;
        }
    }
    return rv;
}

apr_status_t authsvc_users_set_password(authsvc_db_t *db, const char *id, const char *hash)
{
    const char *args[3] = {hash, authsvc_store_int(authsvc_store_pool(db), AUTHSVC_NOW()),
                           id};

    return authsvc_store_exec(db, "authsvc_users_set_password", NULL, 3, args);
}

apr_status_t authsvc_users_verify(authsvc_db_t *db, const char *id, const char *email,
                                  int *done)
{
    const char *now = authsvc_store_int(authsvc_store_pool(db), AUTHSVC_NOW());
    const char *args[4] = {now, now, id, email};
    int n = 0;
    apr_status_t rv = authsvc_store_exec(db, "authsvc_users_verify", &n, 4, args);

    *done = n == 1;
    return rv;
}

apr_status_t authsvc_users_set_email(authsvc_db_t *db, const char *id, const char *email,
                                     int *done)
{
    const char *now = authsvc_store_int(authsvc_store_pool(db), AUTHSVC_NOW());
    const char *args[6] = {email, now, now, id, email, id};
    int n = 0;
    apr_status_t rv = authsvc_store_exec(db, "authsvc_users_set_email", &n, 6, args);

    *done = n == 1;
    return rv;
}

apr_status_t authsvc_users_delete(authsvc_db_t *db, const char *id)
{
    const char *args[1] = {id};
    int n = 0;
    apr_status_t rv = authsvc_store_exec(db, "authsvc_users_delete", &n, 1, args);

    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

apr_status_t authsvc_users_lock(authsvc_db_t *db, const char *id)
{
    const char *args[1] = {id};

    return authsvc_store_exec(db, "authsvc_users_lock", NULL, 1, args);
}

/* Rows of USER_COLS then locked_until into out (authsvc_user_admin_t). */
static void admin_rows(apr_pool_t *p, const authsvc_rows_t *rows, apr_array_header_t *out)
{
    int i;

    for (i = 0; i < rows->nrows; i++) {
        authsvc_user_admin_t *a = apr_array_push(out);
        a->user = user_at(p, rows, i, 0);
        a->locked_until = authsvc_store_cell_int(rows, i, 12, 0);
        a->sessions = -1;
    }
}

apr_status_t authsvc_users_search(authsvc_db_t *db, const authsvc_user_search_t *q,
                                  apr_array_header_t **out)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *status = q->status ? q->status : "";
    const char *after = authsvc_store_int(p, q->after_created);
    const char *args[10] = {q->pattern, q->pattern, q->pattern, q->pattern, status, status,
                            after, after, q->after_id ? q->after_id : "",
                            authsvc_store_int(p, q->limit)};
    authsvc_rows_t rows = {0, 0, NULL};
    apr_status_t rv = authsvc_store_select(db, "authsvc_users_search", 10, args, &rows);

    *out = apr_array_make(p, rows.nrows > 0 ? rows.nrows : 1, sizeof(authsvc_user_admin_t));
    if (rv == APR_SUCCESS) {
        admin_rows(p, &rows, *out);
    }
    return rv;
}

apr_status_t authsvc_users_admin_get(authsvc_db_t *db, const char *id,
                                     authsvc_user_admin_t **out)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[1] = {id};
    authsvc_rows_t rows = {0, 0, NULL};
    apr_array_header_t *list = apr_array_make(p, 1, sizeof(authsvc_user_admin_t));
    apr_status_t rv = authsvc_store_select(db, "authsvc_users_admin_get", 1, args, &rows);

    *out = NULL;
    if (rv == APR_SUCCESS && rows.nrows > 0) {
        admin_rows(p, &rows, list);
        *out = &APR_ARRAY_IDX(list, 0, authsvc_user_admin_t);
    }
    return rv;
}

apr_status_t authsvc_users_set_status(authsvc_db_t *db, const char *id, const char *status,
                                      int *done)
{
    const char *args[4] = {status, authsvc_store_int(authsvc_store_pool(db), AUTHSVC_NOW()),
                           id, status};
    int n = 0;
    apr_status_t rv = authsvc_store_exec(db, "authsvc_users_set_status", &n, 4, args);

    *done = n == 1;
    return rv;
}

apr_status_t authsvc_users_set_roles(authsvc_db_t *db, const char *id, const char *old_roles,
                                     const char *roles, int *done)
{
    const char *args[4] = {roles, authsvc_store_int(authsvc_store_pool(db), AUTHSVC_NOW()),
                           id, old_roles};
    int n = 0;
    apr_status_t rv = authsvc_store_exec(db, "authsvc_users_set_roles", &n, 4, args);

    *done = n == 1;
    return rv;
}

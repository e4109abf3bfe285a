/*
 * store_mfa.c - every statement on the second factor: the TOTP columns of users, the
 * recovery codes, and the sign-in challenges.
 */
#include "store.h"

const authsvc_stmt_t authsvc_store_mfa_stmts[] = {
    {"authsvc_mfa_get",
     "SELECT totp_secret, totp_pending, totp_pending_at, totp_last_step, mfa_enabled_at, "
     "(SELECT count(*) FROM mfa_recovery_codes c WHERE c.user_id = u.id "
     "AND c.used_at IS NULL) FROM users u WHERE id = %s"},
    {"authsvc_mfa_set_pending",
     "UPDATE users SET totp_pending = %s, totp_pending_at = %lld "
     "WHERE id = %s AND totp_secret IS NULL"},
    /* Only the pending secret the code was checked against becomes the secret. */
    {"authsvc_mfa_confirm",
     "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, "
     "totp_pending_at = NULL, totp_last_step = %lld, mfa_enabled_at = %lld, "
     "updated_at = %lld WHERE id = %s AND totp_pending = %s AND totp_secret IS NULL"},
    {"authsvc_mfa_disable",
     "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_pending_at = NULL, "
     "totp_last_step = 0, mfa_enabled_at = NULL, updated_at = %lld "
     "WHERE id = %s AND totp_secret IS NOT NULL"},
    /* A code is good once: only a later time step than the last accepted one wins, and
     * of two requests with the same code exactly one updates the row. */
    {"authsvc_mfa_use_step",
     "UPDATE users SET totp_last_step = %lld WHERE id = %s AND totp_last_step < %lld "
     "AND totp_secret IS NOT NULL"},
    /* Key rotation: the secret sealed again under the newest key, unless it changed. */
    {"authsvc_mfa_reseal",
     "UPDATE users SET totp_secret = %s WHERE id = %s AND totp_secret = %s"},
    {"authsvc_mfa_rc_delete", "DELETE FROM mfa_recovery_codes WHERE user_id = %s"},
    {"authsvc_mfa_rc_insert",
     "INSERT INTO mfa_recovery_codes (user_id, code_hash, created_at) VALUES (%s, %s, %lld)"},
    {"authsvc_mfa_rc_use",
     "UPDATE mfa_recovery_codes SET used_at = %lld WHERE user_id = %s AND code_hash = %s "
     "AND used_at IS NULL"},
    {"authsvc_mfa_challenge_insert",
     "INSERT INTO mfa_challenges (token_hash, user_id, created_at, expires_at, "
     "first_factor) VALUES (%s, %s, %lld, %lld, %s)"},
    {"authsvc_mfa_challenge_peek",
     "SELECT user_id, created_at, first_factor FROM mfa_challenges WHERE token_hash = %s "
     "AND used_at IS NULL AND expires_at > %lld"},
    {"authsvc_mfa_challenge_consume",
     "UPDATE mfa_challenges SET used_at = %lld WHERE token_hash = %s AND user_id = %s "
     "AND used_at IS NULL AND expires_at > %lld"},
    {"authsvc_mfa_challenge_delete_user", "DELETE FROM mfa_challenges WHERE user_id = %s"},
    {"authsvc_mfa_challenge_prune", "DELETE FROM mfa_challenges WHERE expires_at < %lld"},
    {NULL, NULL}};

apr_status_t authsvc_mfa_get(authsvc_db_t *db, const char *user_id, authsvc_mfa_t *out)
{
    const char *args[1] = {user_id};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_mfa_get", 1, args, &rows);

    memset(out, 0, sizeof(*out));
    if (rv != APR_SUCCESS || rows.nrows == 0) {
        return rv;
    }
    out->found = 1;
    out->secret = authsvc_store_cell(&rows, 0, 0);
    out->pending = authsvc_store_cell(&rows, 0, 1);
    out->pending_at = authsvc_store_cell_int(&rows, 0, 2, 0);
    out->last_step = authsvc_store_cell_int(&rows, 0, 3, 0);
    out->enabled_at = authsvc_store_cell_int(&rows, 0, 4, 0);
    out->codes_left = (int)authsvc_store_cell_int(&rows, 0, 5, 0);
    return APR_SUCCESS;
}

/* A write that changes one row at most; *done (may be NULL) says whether it did. */
static apr_status_t one_row(authsvc_db_t *db, const char *label, int nargs,
                            const char **args, int *done)
{
    int n = 0;
    apr_status_t rv = authsvc_store_exec(db, label, &n, nargs, args);

    if (done != NULL) {
        *done = rv == APR_SUCCESS && n > 0;
    }
    return rv;
}

apr_status_t authsvc_mfa_set_pending(authsvc_db_t *db, const char *user_id,
                                     const char *sealed, apr_int64_t now, int *done)
{
    const char *args[3] = {sealed, authsvc_store_int(authsvc_store_pool(db), now), user_id};

    return one_row(db, "authsvc_mfa_set_pending", 3, args, done);
}

apr_status_t authsvc_mfa_confirm(authsvc_db_t *db, const char *user_id,
                                 const char *pending, apr_int64_t step, apr_int64_t now,
                                 int *done)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *nows = authsvc_store_int(p, now);
    const char *args[5] = {authsvc_store_int(p, step), nows, nows, user_id, pending};

    return one_row(db, "authsvc_mfa_confirm", 5, args, done);
}

apr_status_t authsvc_mfa_disable(authsvc_db_t *db, const char *user_id, int *done)
{
    const char *args[2] = {authsvc_store_int(authsvc_store_pool(db), AUTHSVC_NOW()),
                           user_id};

    return one_row(db, "authsvc_mfa_disable", 2, args, done);
}

apr_status_t authsvc_mfa_use_step(authsvc_db_t *db, const char *user_id, apr_int64_t step,
                                  int *done)
{
    const char *s = authsvc_store_int(authsvc_store_pool(db), step);
    const char *args[3] = {s, user_id, s};

    return one_row(db, "authsvc_mfa_use_step", 3, args, done);
}

apr_status_t authsvc_mfa_reseal(authsvc_db_t *db, const char *user_id, const char *old,
                               const char *sealed)
{
    const char *args[3] = {sealed, user_id, old};

    return authsvc_store_exec(db, "authsvc_mfa_reseal", NULL, 3, args);
}

apr_status_t authsvc_mfa_codes_replace(authsvc_db_t *db, const char *user_id,
                                       const apr_array_header_t *hashes)
{
    const char *now = authsvc_store_int(authsvc_store_pool(db), AUTHSVC_NOW());
    const char *del[1] = {user_id};
    apr_status_t rv = authsvc_store_exec(db, "authsvc_mfa_rc_delete", NULL, 1, del);
    int i;

    for (i = 0; rv == APR_SUCCESS && hashes != NULL && i < hashes->nelts; i++) {
        const char *args[3] = {user_id, APR_ARRAY_IDX(hashes, i, const char *), now};
        rv = authsvc_store_exec(db, "authsvc_mfa_rc_insert", NULL, 3, args);
    }
    return rv;
}

apr_status_t authsvc_mfa_code_use(authsvc_db_t *db, const char *user_id,
                                  const char *code_hash, int *done)
{
    const char *args[3] = {authsvc_store_int(authsvc_store_pool(db), AUTHSVC_NOW()),
                           user_id, code_hash};

    return one_row(db, "authsvc_mfa_rc_use", 3, args, done);
}

apr_status_t authsvc_mfa_challenge_insert(authsvc_db_t *db, const char *token_hash,
                                          const char *user_id, apr_int64_t now,
                                          apr_int64_t expires_at, const char *first)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[5] = {token_hash, user_id, authsvc_store_int(p, now),
                           authsvc_store_int(p, expires_at), first};

    return authsvc_store_exec(db, "authsvc_mfa_challenge_insert", NULL, 5, args);
}

apr_status_t authsvc_mfa_challenge_peek(authsvc_db_t *db, const char *token_hash,
                                        apr_int64_t now, const char **user_id,
                                        apr_int64_t *created_at, const char **first)
{
    const char *args[2] = {token_hash, authsvc_store_int(authsvc_store_pool(db), now)};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_mfa_challenge_peek", 2, args, &rows);

    *user_id = NULL;
    *created_at = 0;
    *first = "pwd";
    if (rv == APR_SUCCESS && rows.nrows > 0) {
        *user_id = authsvc_store_cell(&rows, 0, 0);
        *created_at = authsvc_store_cell_int(&rows, 0, 1, 0);
        if (authsvc_store_cell(&rows, 0, 2) != NULL) {
            *first = authsvc_store_cell(&rows, 0, 2);
        }
    }
    return rv;
}

apr_status_t authsvc_mfa_challenge_consume(authsvc_db_t *db, const char *token_hash,
                                           const char *user_id, apr_int64_t now,
                                           int *done)
{
    const char *nows = authsvc_store_int(authsvc_store_pool(db), now);
    const char *args[4] = {nows, token_hash, user_id, nows};

    return one_row(db, "authsvc_mfa_challenge_consume", 4, args, done);
}

apr_status_t authsvc_mfa_challenges_forget(authsvc_db_t *db, const char *user_id)
{
    const char *args[1] = {user_id};

    return authsvc_store_exec(db, "authsvc_mfa_challenge_delete_user", NULL, 1, args);
}

apr_status_t authsvc_mfa_delete_user(authsvc_db_t *db, const char *user_id)
{
    apr_status_t rv = authsvc_mfa_challenges_forget(db, user_id);

    return rv == APR_SUCCESS ? authsvc_mfa_codes_replace(db, user_id, NULL) : rv;
}

apr_status_t authsvc_mfa_challenge_prune(authsvc_db_t *db, apr_int64_t before)
{
    const char *args[1] = {authsvc_store_int(authsvc_store_pool(db), before)};

    return authsvc_store_exec(db, "authsvc_mfa_challenge_prune", NULL, 1, args);
}

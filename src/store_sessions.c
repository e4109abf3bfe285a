/*
 * store_sessions.c - every statement on the sessions table.
 */
#include "store.h"

#define SESSION_SELECT                                                                 \
    "SELECT s.token_hash, s.id, s.user_id, s.created_at, s.last_seen_at, "            \
    "s.idle_expires_at, s.expires_at, s.ip, s.user_agent, s.auth_at, s.mfa_at, s.amr, " \
    AUTHSVC_USER_COLS("u.") " FROM sessions s JOIN users u ON u.id = s.user_id "

/* A session the user sees (and may end) in their list (store.h). */
#define LISTED AUTHSVC_SESSION_LIVE

const authsvc_stmt_t authsvc_store_sessions_stmts[] = {
    {"authsvc_sessions_insert",
     "INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, "
     "idle_expires_at, expires_at, ip, user_agent, auth_at, mfa_at, amr) "
     "VALUES (%s, %s, %s, %lld, %lld, %lld, %lld, %s, %s, %lld, %lld, %s)"},
    /* One round trip for the session and its account; the key is the primary key. */
    {"authsvc_sessions_lookup",
     SESSION_SELECT "WHERE s.token_hash = %s AND s.revoked_at IS NULL "
     "AND s.expires_at > %lld AND s.idle_expires_at > %lld AND u.status = 'active'"},
    /* The session of a token (a refresh token, or an access token's sid): the idle
     * timeout is the cookie's; a token client's activity is its refreshes. */
    {"authsvc_sessions_lookup_token",
     SESSION_SELECT "WHERE s.token_hash = %s AND s.revoked_at IS NULL "
     "AND s.expires_at > %lld AND u.status = 'active'"},
    {"authsvc_sessions_lookup_id",
     SESSION_SELECT "WHERE s.id = %s AND s.revoked_at IS NULL "
     "AND s.expires_at > %lld AND u.status = 'active'"},
    /* A token client's use: the idle expiry moves only while the cookie has not idled
     * out (a refresh keeps a live cookie alive, never brings a dead one back). */
    {"authsvc_sessions_seen",
     "UPDATE sessions SET last_seen_at = %lld, idle_expires_at = CASE WHEN "
     "idle_expires_at > %lld THEN %lld ELSE idle_expires_at END "
     "WHERE token_hash = %s AND revoked_at IS NULL"},
    {"authsvc_sessions_touch",
     "UPDATE sessions SET last_seen_at = %lld, idle_expires_at = %lld "
     "WHERE token_hash = %s AND revoked_at IS NULL AND last_seen_at <= %lld"},
    {"authsvc_sessions_revoke",
     "UPDATE sessions SET revoked_at = %lld WHERE token_hash = %s AND revoked_at IS NULL"},
    /* The CAST: PostgreSQL would type a bare parameter compared with 0 as integer, and
     * SQLite compares the text apr_dbd binds as greater than any number. */
    {"authsvc_sessions_reauth",
     "UPDATE sessions SET auth_at = %lld, amr = %s, "
     "mfa_at = CASE WHEN CAST(%lld AS BIGINT) > 0 THEN %lld ELSE mfa_at END "
     "WHERE token_hash = %s AND revoked_at IS NULL"},
    {"authsvc_sessions_mfa_passed",
     "UPDATE sessions SET mfa_at = %lld, amr = %s "
     "WHERE token_hash = %s AND revoked_at IS NULL"},
    /* The second factor changed: no session has passed the new one yet. */
    {"authsvc_sessions_clear_mfa",
     "UPDATE sessions SET mfa_at = NULL WHERE user_id = %s AND mfa_at IS NOT NULL"},
    {"authsvc_sessions_list_user",
     "SELECT token_hash, id, user_id, created_at, last_seen_at, idle_expires_at, "
     "expires_at, ip, user_agent, auth_at, mfa_at, amr FROM sessions "
     "WHERE user_id = %s AND " LISTED " ORDER BY last_seen_at DESC, id"},
    /* The user_id condition is what keeps one user's request off another's session. */
    {"authsvc_sessions_revoke_id",
     "UPDATE sessions SET revoked_at = %lld WHERE id = %s AND user_id = %s AND " LISTED
     " RETURNING token_hash, id"},
    {"authsvc_sessions_revoke_others",
     "UPDATE sessions SET revoked_at = %lld WHERE user_id = %s AND token_hash <> %s "
     "AND revoked_at IS NULL RETURNING token_hash, id"},
    /* SQLite does not enforce the foreign key on mod_dbd's connections: account
     * deletion removes the sessions itself. */
    {"authsvc_sessions_count",
     "SELECT COUNT(*) FROM sessions WHERE user_id = %s AND " LISTED},
    {"authsvc_sessions_delete_user",
     "DELETE FROM sessions WHERE user_id = %s RETURNING token_hash, id"},
    /* The deliverer's housekeeping: sessions past their absolute lifetime (a revoked or
     * idle one goes with it; its row answers nothing meanwhile), a batch at a time so
     * that no write lock is held long. By the index of 0010. */
    {"authsvc_sessions_prune",
     "DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions "
     "WHERE expires_at < %lld LIMIT %d)"},
    {NULL, NULL}};

/* Columns 0-11 of a lookup or list row (both select them in the same order). */
static void session_row(apr_pool_t *p, const authsvc_rows_t *rows, int i,
                        authsvc_session_t *s)
{
    s->token_hash = authsvc_store_cell(rows, i, 0);
    s->id = authsvc_store_cell(rows, i, 1);
    s->user_id = authsvc_store_cell(rows, i, 2);
    s->created_at = authsvc_store_cell_int(rows, i, 3, 0);
    s->last_seen_at = authsvc_store_cell_int(rows, i, 4, 0);
    s->idle_expires_at = authsvc_store_cell_int(rows, i, 5, 0);
    s->expires_at = authsvc_store_cell_int(rows, i, 6, 0);
    s->ip = authsvc_store_cell(rows, i, 7);
    s->user_agent = authsvc_store_cell(rows, i, 8);
    s->auth_at = authsvc_store_cell_int(rows, i, 9, 0);
    s->mfa_at = authsvc_store_cell_int(rows, i, 10, 0);
    s->amr = authsvc_store_cell(rows, i, 11);
    if (s->amr == NULL) {
        s->amr = apr_pstrdup(p, "pwd");
    }
}

apr_status_t authsvc_sessions_insert(authsvc_db_t *db, const authsvc_session_t *s)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[12] = {s->token_hash,
                            s->id,
                            s->user_id,
                            authsvc_store_int(p, s->created_at),
                            authsvc_store_int(p, s->last_seen_at),
                            authsvc_store_int(p, s->idle_expires_at),
                            authsvc_store_int(p, s->expires_at),
                            s->ip,
                            s->user_agent,
                            authsvc_store_int(p, s->auth_at),
                            s->mfa_at > 0 ? authsvc_store_int(p, s->mfa_at) : NULL,
                            s->amr};

    return authsvc_store_exec(db, "authsvc_sessions_insert", NULL, 12, args);
}

/* One session and its account by `label` (key, now[, now]). */
static apr_status_t lookup(authsvc_db_t *db, const char *label, int nargs,
                           const char *key, apr_int64_t now, authsvc_session_t **s,
                           authsvc_user_t **u)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *nows = authsvc_store_int(p, now);
    const char *args[3] = {key, nows, nows};
    authsvc_rows_t rows;
    authsvc_session_t *ss;
    apr_status_t rv = authsvc_store_select(db, label, nargs, args, &rows);

    *s = NULL;
    *u = NULL;
    if (rv != APR_SUCCESS || rows.nrows == 0) {
        return rv;
    }
    ss = apr_pcalloc(p, sizeof(*ss));
    session_row(p, &rows, 0, ss);
    *s = ss;
    *u = authsvc_users_from_row(p, &rows, 12);
    return APR_SUCCESS;
}

apr_status_t authsvc_sessions_lookup(authsvc_db_t *db, const char *token_hash,
                                     apr_int64_t now, authsvc_session_t **s,
                                     authsvc_user_t **u)
{
    return lookup(db, "authsvc_sessions_lookup", 3, token_hash, now, s, u);
}

apr_status_t authsvc_sessions_lookup_token(authsvc_db_t *db, const char *token_hash,
                                           const char *id, apr_int64_t now,
                                           authsvc_session_t **s, authsvc_user_t **u)
{
    return token_hash ? lookup(db, "authsvc_sessions_lookup_token", 2, token_hash, now, s, u)
                      : lookup(db, "authsvc_sessions_lookup_id", 2, id, now, s, u);
}

apr_status_t authsvc_sessions_touch(authsvc_db_t *db, const char *token_hash,
                                    apr_int64_t now, apr_int64_t idle_expires_at,
                                    apr_int64_t not_after)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[4] = {authsvc_store_int(p, now), authsvc_store_int(p, idle_expires_at),
                           token_hash, authsvc_store_int(p, not_after)};

    return authsvc_store_exec(db, "authsvc_sessions_touch", NULL, 4, args);
}

apr_status_t authsvc_sessions_seen(authsvc_db_t *db, const char *token_hash,
                                   apr_int64_t now, apr_int64_t idle_expires_at)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *nows = authsvc_store_int(p, now);
    const char *args[4] = {nows, nows, authsvc_store_int(p, idle_expires_at), token_hash};

    return authsvc_store_exec(db, "authsvc_sessions_seen", NULL, 4, args);
}

apr_status_t authsvc_sessions_revoke(authsvc_db_t *db, const char *token_hash,
                                     apr_int64_t now)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[2] = {authsvc_store_int(p, now), token_hash};

    return authsvc_store_exec(db, "authsvc_sessions_revoke", NULL, 2, args);
}

apr_status_t authsvc_sessions_list(authsvc_db_t *db, const char *user_id, apr_int64_t now,
                                   apr_array_header_t **out)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *nows = authsvc_store_int(p, now);
    const char *args[4] = {user_id, nows, nows, nows};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_sessions_list_user", 4, args, &rows);
    int i;

    *out = apr_array_make(p, rows.nrows > 0 ? rows.nrows : 1, sizeof(authsvc_session_t));
    for (i = 0; rv == APR_SUCCESS && i < rows.nrows; i++) {
        session_row(p, &rows, i, apr_array_push(*out));
    }
    return rv;
}

apr_status_t authsvc_sessions_reauth(authsvc_db_t *db, const char *token_hash,
                                     apr_int64_t auth_at, apr_int64_t mfa_at,
                                     const char *amr, int *done)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *m = authsvc_store_int(p, mfa_at);
    const char *args[5] = {authsvc_store_int(p, auth_at), amr, m, m, token_hash};
    int n = 0;
    apr_status_t rv = authsvc_store_exec(db, "authsvc_sessions_reauth", &n, 5, args);

    *done = n > 0;
    return rv;
}

apr_status_t authsvc_sessions_mfa_passed(authsvc_db_t *db, const char *token_hash,
                                         apr_int64_t mfa_at, const char *amr)
{
    const char *args[3] = {authsvc_store_int(authsvc_store_pool(db), mfa_at), amr,
                           token_hash};

    return authsvc_store_exec(db, "authsvc_sessions_mfa_passed", NULL, 3, args);
}

apr_status_t authsvc_sessions_clear_mfa(authsvc_db_t *db, const char *user_id)
{
    const char *args[1] = {user_id};

    return authsvc_store_exec(db, "authsvc_sessions_clear_mfa", NULL, 1, args);
}

/* The revocations return the sessions they ended (token hash and public id), for the
 * caches. */
static apr_status_t revoked_hashes(authsvc_db_t *db, const char *label, int nargs,
                                   const char **args, apr_array_header_t **hashes)
{
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, label, nargs, args, &rows);
    int i;

    *hashes = apr_array_make(authsvc_store_pool(db), 4, sizeof(authsvc_session_t));
    for (i = 0; rv == APR_SUCCESS && i < rows.nrows; i++) {
        authsvc_session_t *s = apr_array_push(*hashes);
        memset(s, 0, sizeof(*s));
        s->token_hash = authsvc_store_cell(&rows, i, 0);
        s->id = authsvc_store_cell(&rows, i, 1);
    }
    return rv;
}

apr_status_t authsvc_sessions_revoke_id(authsvc_db_t *db, const char *user_id,
                                        const char *id, apr_array_header_t **hashes)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *now = authsvc_store_int(p, AUTHSVC_NOW());
    const char *args[6] = {now, id, user_id, now, now, now};

    return revoked_hashes(db, "authsvc_sessions_revoke_id", 6, args, hashes);
}

apr_status_t authsvc_sessions_revoke_others(authsvc_db_t *db, const char *user_id,
                                            const char *keep_hash,
                                            apr_array_header_t **hashes)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[3] = {authsvc_store_int(p, AUTHSVC_NOW()), user_id, keep_hash};

    return revoked_hashes(db, "authsvc_sessions_revoke_others", 3, args, hashes);
}

apr_status_t authsvc_sessions_delete_user(authsvc_db_t *db, const char *user_id,
                                          apr_array_header_t **hashes)
{
    const char *args[1] = {user_id};

    return revoked_hashes(db, "authsvc_sessions_delete_user", 1, args, hashes);
}

apr_status_t authsvc_sessions_count(authsvc_db_t *db, const char *user_id, apr_int64_t now,
                                    int *count)
{
    const char *t = authsvc_store_int(authsvc_store_pool(db), now);
    const char *args[4] = {user_id, t, t, t};
    authsvc_rows_t rows = {0, 0, NULL};
    apr_status_t rv = authsvc_store_select(db, "authsvc_sessions_count", 4, args, &rows);

    *count = rv == APR_SUCCESS ? (int)authsvc_store_cell_int(&rows, 0, 0, 0) : 0;
    return rv;
}

apr_status_t authsvc_sessions_prune(authsvc_db_t *db, apr_int64_t before, int batch,
                                    int *deleted)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[] = {authsvc_store_int(p, before), apr_itoa(p, batch)};

    return authsvc_store_exec(db, "authsvc_sessions_prune", deleted, 2, args);
}

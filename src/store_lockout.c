/*
 * store_lockout.c - the lockout state of an account (users columns, migration 0003).
 *
 * The claim is the heart of it: one UPDATE that counts an attempt only while the
 * account is neither locked nor out of attempts, so whatever number of requests race,
 * the database lets at most THRESHOLD of them check a password per window.
 */
#include "store.h"

/* Columns set when a window (or the hour) has run out start again at 1. */
#define WINDOW_OVER "(failed_window_start IS NULL OR failed_window_start <= %lld)"
#define HOUR_OVER   "(hour_start IS NULL OR hour_start <= %lld)"

const authsvc_stmt_t authsvc_store_lockout_stmts[] = {
    /* Arguments: window cut x2, now, hour cut x2, now, id, now, window cut, threshold,
     * hour cut, hourly cap. SET expressions read the old values (both drivers). */
    {"authsvc_lockout_claim",
     "UPDATE users SET "
     "failed_logins = CASE WHEN " WINDOW_OVER " THEN 1 ELSE failed_logins + 1 END, "
     "failed_window_start = CASE WHEN " WINDOW_OVER " THEN %lld "
     "ELSE failed_window_start END, "
     "hour_failures = CASE WHEN " HOUR_OVER " THEN 1 ELSE hour_failures + 1 END, "
     "hour_start = CASE WHEN " HOUR_OVER " THEN %lld ELSE hour_start END "
     "WHERE id = %s AND (locked_until IS NULL OR locked_until <= %lld) "
     "AND (" WINDOW_OVER " OR failed_logins < %d) "
     "AND (" HOUR_OVER " OR hour_failures < %d) "
     "RETURNING failed_logins, lockouts, locked_until"},
    {"authsvc_lockout_lock",
     "UPDATE users SET locked_until = %lld, lockouts = lockouts + 1, failed_logins = 0, "
     "failed_window_start = NULL WHERE id = %s AND failed_logins >= %d"},
    /* A successful check: the streak ends; its own claim is handed back to the hour. */
    {"authsvc_lockout_success",
     "UPDATE users SET failed_logins = 0, failed_window_start = NULL, lockouts = 0, "
     "locked_until = NULL, hour_failures = CASE WHEN hour_failures > 0 "
     "THEN hour_failures - 1 ELSE 0 END WHERE id = %s"},
    /* A claim whose password was never checked (no hashing slot): handed back. */
    {"authsvc_lockout_refund",
     "UPDATE users SET failed_logins = CASE WHEN failed_logins > 0 "
     "THEN failed_logins - 1 ELSE 0 END, hour_failures = CASE WHEN hour_failures > 0 "
     "THEN hour_failures - 1 ELSE 0 END WHERE id = %s"},
    /* An ended lock, forgotten once: the caller that clears it audits the unlock. */
    {"authsvc_lockout_expired",
     "UPDATE users SET locked_until = NULL WHERE id = %s AND locked_until = %lld"},
    {"authsvc_lockout_unlock_locked",
     "UPDATE users SET locked_until = NULL, lockouts = 0, failed_logins = 0, "
     "failed_window_start = NULL WHERE id = %s AND locked_until > %lld"},
    {"authsvc_lockout_clear",
     "UPDATE users SET lockouts = 0, failed_logins = 0, failed_window_start = NULL, "
     "locked_until = NULL WHERE id = %s AND (locked_until IS NULL OR locked_until <= %lld)"},
    {"authsvc_lockout_state",
     "SELECT locked_until, failed_window_start, hour_start, hour_failures "
     "FROM users WHERE id = %s"},
    {NULL, NULL}};

apr_status_t authsvc_lockout_claim(authsvc_db_t *db, const char *id, apr_int64_t now,
                                   const authsvc_lockout_t *pol, authsvc_claim_t *out)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *nows = authsvc_store_int(p, now);
    /* Off: no threshold, only the hourly cap. */
    const char *wcut = authsvc_store_int(p, pol->threshold ? now - pol->window : now);
    const char *hcut = authsvc_store_int(p, now - 3600);
    const char *args[12] = {wcut, wcut, nows, hcut, hcut, nows, id, nows, wcut,
                            authsvc_store_int(p, pol->threshold ? pol->threshold
                                                                : 2147483647),
                            hcut, authsvc_store_int(p, AUTHSVC_FAILURES_PER_HOUR)};
    authsvc_rows_t rows;
    apr_status_t rv = authsvc_store_select(db, "authsvc_lockout_claim", 12, args, &rows);

    memset(out, 0, sizeof(*out));
    if (rv == APR_SUCCESS && rows.nrows > 0) {
        out->claimed = 1;
        out->failures = (int)authsvc_store_cell_int(&rows, 0, 0, 0);
        out->lockouts = (int)authsvc_store_cell_int(&rows, 0, 1, 0);
        out->ended_lock = authsvc_store_cell_int(&rows, 0, 2, 0);
    }
    return rv;
}

apr_status_t authsvc_lockout_lock(authsvc_db_t *db, const char *id, apr_int64_t until,
                                  int threshold)
{
    apr_pool_t *p = authsvc_store_pool(db);
    const char *args[3] = {authsvc_store_int(p, until), id, authsvc_store_int(p, threshold)};
    int n = 0;
    apr_status_t rv = authsvc_store_exec(db, "authsvc_lockout_lock", &n, 3, args);

    return rv == APR_SUCCESS && n == 0 ? APR_ENOENT : rv;
}

apr_status_t authsvc_lockout_success(authsvc_db_t *db, const char *id)
{
    const char *args[1] = {id};

    return authsvc_store_exec(db, "authsvc_lockout_success", NULL, 1, args);
}

apr_status_t authsvc_lockout_refund(authsvc_db_t *db, const char *id)
{
    const char *args[1] = {id};

    return authsvc_store_exec(db, "authsvc_lockout_refund", NULL, 1, args);
}

apr_status_t authsvc_lockout_forget_expired(authsvc_db_t *db, const char *id,
                                            apr_int64_t until, int *cleared)
{
    const char *args[2] = {id, authsvc_store_int(authsvc_store_pool(db), until)};

    *cleared = 0;
    return authsvc_store_exec(db, "authsvc_lockout_expired", cleared, 2, args);
}

apr_status_t authsvc_lockout_unlock(authsvc_db_t *db, const char *id, apr_int64_t now,
                                    int *was_locked)
{
    const char *args[2] = {id, authsvc_store_int(authsvc_store_pool(db), now)};
    apr_status_t rv;

    *was_locked = 0;
    rv = authsvc_store_exec(db, "authsvc_lockout_unlock_locked", was_locked, 2, args);
    if (rv == APR_SUCCESS && !*was_locked) {
        rv = authsvc_store_exec(db, "authsvc_lockout_clear", NULL, 2, args);
    }
    return rv;
}

apr_status_t authsvc_lockout_retry_after(authsvc_db_t *db, const char *id, apr_int64_t now,
                                         const authsvc_lockout_t *pol, apr_int64_t *secs)
{
    const char *args[1] = {id};
    authsvc_rows_t rows;
    apr_int64_t until, ws, hs, t = 1;
    apr_status_t rv = authsvc_store_select(db, "authsvc_lockout_state", 1, args, &rows);

    if (rv == APR_SUCCESS && rows.nrows > 0) {
        until = authsvc_store_cell_int(&rows, 0, 0, 0);
        ws = authsvc_store_cell_int(&rows, 0, 1, 0);
        hs = authsvc_store_cell_int(&rows, 0, 2, 0);
        if (until > now) {
            t = until - now;
        }
        else if (authsvc_store_cell_int(&rows, 0, 3, 0) >= AUTHSVC_FAILURES_PER_HOUR &&
                 hs + 3600 > now) {
            t = hs + 3600 - now;
        }
        else if (pol->threshold && ws + pol->window > now) {
            t = 1; /* attempts in flight: their outcome decides */
        }
    }
    *secs = t < 1 ? 1 : t;
    return rv;
}

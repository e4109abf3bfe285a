/*
 * store.h - the statement registry and the one way to run SQL.
 *
 * Every statement the module runs is declared in a store_<entity>.c table, registered
 * with mod_dbd at configuration time (ap_dbd_prepare, label authsvc_<entity>_<op>) and
 * run per request through the helpers below, on the connection ap_dbd_acquire(r) gives.
 * Arguments are strings (NULL is SQL NULL); results are read to the end, always.
 */
#ifndef AUTHSVC_STORE_H
#define AUTHSVC_STORE_H

#include "authsvc.h"
#include "apr_dbd.h"
#include "mod_dbd.h"
#include "ratelimit.h"
#include "session_sql.h"

/* A labelled statement in apr_dbd syntax (%s text, %lld integer). */
typedef struct {
    const char *label;
    const char *sql;
} authsvc_stmt_t;

/* The tables of every entity (NULL-label terminated), defined in store_<entity>.c. */
extern const authsvc_stmt_t authsvc_store_users_stmts[];
extern const authsvc_stmt_t authsvc_store_sessions_stmts[];
extern const authsvc_stmt_t authsvc_store_audit_stmts[];
extern const authsvc_stmt_t authsvc_store_schema_stmts[];
extern const authsvc_stmt_t authsvc_store_tokens_stmts[];
extern const authsvc_stmt_t authsvc_store_outbox_stmts[];
extern const authsvc_stmt_t authsvc_store_lockout_stmts[];
extern const authsvc_stmt_t authsvc_store_mfa_stmts[];
extern const authsvc_stmt_t authsvc_store_refresh_stmts[];
extern const authsvc_stmt_t authsvc_store_metrics_stmts[];
extern const authsvc_stmt_t authsvc_store_emailcode_stmts[];
extern const authsvc_stmt_t authsvc_store_remembered_stmts[];
extern const authsvc_stmt_t authsvc_store_passkeys_stmts[];

/* A result set read in full: rows x cols strings, NULL for SQL NULL. */
typedef struct {
    int nrows;
    int ncols;
    const char **cells; /* row-major */
} authsvc_rows_t;

typedef struct authsvc_db authsvc_db_t;

/* Look up mod_dbd's optional functions; NULL on success, else an error for the admin. */
const char *authsvc_store_init(void);

/* Register every statement for server s (and its virtual hosts) with mod_dbd, once per
 * distinct mod_dbd configuration. Must run before mod_dbd's own post_config. */
void authsvc_store_prepare(apr_pool_t *ptemp, server_rec *s);

/* mod_dbd's dbd_cfg_t for s (DBDriver, DBDParams, DBDInitSQL), read from its private
 * per-server record; NULL when mod_dbd is not loaded. Callers that need s's own
 * settings check cfg->server == s. */
const dbd_cfg_t *authsvc_store_dbd_cfg(server_rec *s);
/* Whether cfg names a database: DBDriver and DBDParams both given (mod_dbd puts a
 * placeholder driver in a record without DBDriver). */
int authsvc_store_dbd_given(const dbd_cfg_t *cfg);

/* The request's database connection, or NULL when the database is unreachable (logged;
 * the caller answers 503 unavailable). Never closed by the caller. */
authsvc_db_t *authsvc_store_db(request_rec *r);

/* A connection the caller opened itself (the background mail delivery, which must not
 * share mod_dbd's per-process connection under prefork): statements are looked up in
 * dbd->prepared, results live in p, messages are logged against s. */
authsvc_db_t *authsvc_store_db_wrap(apr_pool_t *p, server_rec *s, ap_dbd_t *dbd);

/* Prepare every statement of table on handle into prepared. NULL-safe err gets the
 * first failure. */
apr_status_t authsvc_store_prepare_on(apr_pool_t *p, const apr_dbd_driver_t *drv,
                                      apr_dbd_t *handle, const authsvc_stmt_t *table,
                                      apr_hash_t *prepared, const char **err);

/* The request a connection serves (NULL for a background connection). */
request_rec *authsvc_store_request(authsvc_db_t *db);

/* The pool results and arguments live in. */
apr_pool_t *authsvc_store_pool(authsvc_db_t *db);

/* The driver's name ("sqlite3", "pgsql"). */
const char *authsvc_store_driver(const authsvc_db_t *db);

/* Run a write statement; *nrows (may be NULL) gets the affected row count. Logs and
 * returns APR_EGENERAL on failure. */
apr_status_t authsvc_store_exec(authsvc_db_t *db, const char *label, int *nrows, int nargs,
                                const char **args);

/* Run a query and read every row. Logs and returns APR_EGENERAL on failure (then
 * *rows holds no rows). */
apr_status_t authsvc_store_select(authsvc_db_t *db, const char *label, int nargs,
                                  const char **args, authsvc_rows_t *rows);

/* Cell (row, col) of a result, NULL for SQL NULL or out of range. */
const char *authsvc_store_cell(const authsvc_rows_t *rows, int row, int col);

/* Write transactions: begin takes the write lock at once on SQLite (BEGIN IMMEDIATE, so
 * concurrent writers wait on busy_timeout instead of failing on lock upgrade). rollback
 * is safe to call after a failed statement. */
apr_status_t authsvc_store_begin(authsvc_db_t *db);
apr_status_t authsvc_store_commit(authsvc_db_t *db);
void authsvc_store_rollback(authsvc_db_t *db);

/* Work that must happen only if the open transaction commits (the audit log line of
 * what it records): fn(baton) runs after a successful commit, in the order given, and
 * is dropped on rollback (said at debug level, naming `what`). Without an open
 * transaction fn runs at once. */
typedef void (*authsvc_commit_fn)(void *baton);
void authsvc_store_after_commit(authsvc_db_t *db, authsvc_commit_fn fn, void *baton,
                                const char *what);

/* Run fn(db, baton) in a write transaction: committed when fn returns APR_SUCCESS,
 * rolled back otherwise, and fn's status returned (so a caller can pass its own
 * "nothing to commit" status through, e.g. APR_EEXIST for a duplicate). */
typedef apr_status_t (*authsvc_tx_fn)(authsvc_db_t *db, void *baton);
apr_status_t authsvc_store_transaction(authsvc_db_t *db, authsvc_tx_fn fn, void *baton);

/* Integer helpers for arguments and cells. */
const char *authsvc_store_int(apr_pool_t *p, apr_int64_t v);
apr_int64_t authsvc_store_cell_int(const authsvc_rows_t *rows, int row, int col,
                                   apr_int64_t dflt);

/* ---- typed queries (store_<entity>.c) ------------------------------------------- */

/* An account as stored. email_verified_at is 0 when unverified. */
typedef struct {
    const char *id;
    const char *email;
    const char *username;      /* NULL when none */
    const char *password_hash;
    const char *first_name;    /* NULL when none */
    const char *last_name;     /* NULL when none */
    const char *status;        /* "active" or "disabled" */
    const char *roles;         /* space-separated */
    apr_int64_t email_verified_at;
    apr_int64_t created_at;
    apr_int64_t updated_at;
    apr_int64_t mfa_enabled_at;  /* 0 when the account has no second factor */
} authsvc_user_t;

/* A signed-in session (the token itself is never stored, only its SHA-256). */
typedef struct {
    const char *token_hash;
    const char *id;            /* public id */
    const char *user_id;
    apr_int64_t created_at;
    apr_int64_t last_seen_at;
    apr_int64_t idle_expires_at;
    apr_int64_t expires_at;
    const char *ip;
    const char *user_agent;
    apr_int64_t auth_at;       /* last full authentication (sign-in, re-authentication) */
    apr_int64_t mfa_at;        /* last second factor passed in this session, 0: none */
    const char *amr;           /* methods of the last authentication: "pwd", "pwd otp" */
} authsvc_session_t;

/* What a lookup found. APR_SUCCESS with *found 0 means "no such row". */
typedef enum { AUTHSVC_INSERTED = 0, AUTHSVC_EMAIL_TAKEN, AUTHSVC_USERNAME_TAKEN } authsvc_insert_t;

/* Which key of u (email, username) another account has: *found 0 if neither, else
 * *outcome says which (used after a 0-row insert or update). */
apr_status_t authsvc_users_conflict(authsvc_db_t *db, const authsvc_user_t *u,
                                    authsvc_insert_t *outcome, int *found);
/* Insert u (all fields set by the caller). *outcome tells a duplicate apart. */
apr_status_t authsvc_users_insert(authsvc_db_t *db, const authsvc_user_t *u,
                                  authsvc_insert_t *outcome);
/* The users columns authsvc_users_from_row reads, each prefixed with t ("u." etc.). */
#define AUTHSVC_USER_COLS(t)                                                          \
    t "id, " t "email, " t "username, " t "password_hash, " t "first_name, "          \
    t "last_name, " t "status, " t "roles, " t "email_verified_at, " t "created_at, " \
    t "updated_at, " t "mfa_enabled_at"

/* A user from the 12 AUTHSVC_USER_COLS columns of row 0 starting at column off. */
authsvc_user_t *authsvc_users_from_row(apr_pool_t *p, const authsvc_rows_t *rows, int off);
/* By id, by (lower-cased) email, by username (case-insensitive). *out NULL if none. */
apr_status_t authsvc_users_by_id(authsvc_db_t *db, const char *id, authsvc_user_t **out);
apr_status_t authsvc_users_by_email(authsvc_db_t *db, const char *email,
                                    authsvc_user_t **out);
apr_status_t authsvc_users_by_username(authsvc_db_t *db, const char *username,
                                       authsvc_user_t **out);
/* Replace the hash if it is still `old_hash` (a concurrent change wins). */
apr_status_t authsvc_users_rehash(authsvc_db_t *db, const char *id, const char *old_hash,
                                  const char *new_hash);
/* Write username/first/last name; *outcome USERNAME_TAKEN when another account has it. */
apr_status_t authsvc_users_update_profile(authsvc_db_t *db, const authsvc_user_t *u,
                                          authsvc_insert_t *outcome);

/* New password hash; a new email (verified now) unless another account has it (*done 0);
 * mark verified if the account still has `email` (*done 0 otherwise). */
apr_status_t authsvc_users_set_password(authsvc_db_t *db, const char *id, const char *hash);
apr_status_t authsvc_users_set_email(authsvc_db_t *db, const char *id, const char *email,
                                     int *done);
apr_status_t authsvc_users_verify(authsvc_db_t *db, const char *id, const char *email,
                                  int *done);
/* Delete the account's row; APR_ENOENT when there was none (deleted meanwhile). */
apr_status_t authsvc_users_delete(authsvc_db_t *db, const char *id);
/* Lock the account's row until the transaction ends. */
apr_status_t authsvc_users_lock(authsvc_db_t *db, const char *id);

/* ---- administration (store_users.c) ---- */

/* An account as an administrator sees it. */
typedef struct {
    authsvc_user_t *user;
    apr_int64_t locked_until; /* 0 when never locked */
    int sessions;             /* live sessions, -1 when not counted */
} authsvc_user_admin_t;

/* A search: pattern is a lower-case LIKE pattern with backslash as escape character
 * ("%" for everything); status "active", "disabled" or NULL (both); the page after the
 * row (after_created, after_id), newest first (APR_INT64_MAX, NULL: from the newest). */
typedef struct {
    const char *pattern;
    const char *status;
    apr_int64_t after_created;
    const char *after_id;
    int limit;
} authsvc_user_search_t;
/* Up to q->limit accounts (authsvc_user_admin_t, sessions not counted). */
apr_status_t authsvc_users_search(authsvc_db_t *db, const authsvc_user_search_t *q,
                                  apr_array_header_t **out);
/* One account with its lockout state; *out NULL if none. */
apr_status_t authsvc_users_admin_get(authsvc_db_t *db, const char *id,
                                     authsvc_user_admin_t **out);
/* Set the status ("active", "disabled"); *done 0 when it was already that. */
apr_status_t authsvc_users_set_status(authsvc_db_t *db, const char *id, const char *status,
                                      int *done);
/* Replace the roles if they are still old_roles; *done 0 otherwise. */
apr_status_t authsvc_users_set_roles(authsvc_db_t *db, const char *id, const char *old_roles,
                                     const char *roles, int *done);

/* ---- lockout (store_lockout.c) ---- */

/* NIST SP 800-63B: never more than this many failed attempts per account per hour. */
#define AUTHSVC_FAILURES_PER_HOUR 100

typedef struct {
    int claimed;            /* 0: locked, or out of attempts in the window or hour */
    int failures;           /* attempts claimed in this window, this one included */
    int lockouts;           /* locks since the last success */
    apr_int64_t ended_lock; /* a lock that has ended and is still recorded, else 0 */
} authsvc_claim_t;

/* Claim one password check on account id (atomic: see store_lockout.c). An unknown id
 * claims nothing, at the cost of the same statement. */
apr_status_t authsvc_lockout_claim(authsvc_db_t *db, const char *id, apr_int64_t now,
                                   const authsvc_lockout_t *pol, authsvc_claim_t *out);
/* Lock until `until`: the window starts again, and the next lock lasts twice as long.
 * Only while THRESHOLD attempts are still counted: a right password that came in
 * between (authsvc_lockout_success) wins, and the answer is APR_ENOENT (no lock). */
apr_status_t authsvc_lockout_lock(authsvc_db_t *db, const char *id, apr_int64_t until,
                                  int threshold);
/* A claim whose password was not checked after all (server busy): handed back. */
apr_status_t authsvc_lockout_refund(authsvc_db_t *db, const char *id);
/* The password was right: counters and lock history cleared. */
apr_status_t authsvc_lockout_success(authsvc_db_t *db, const char *id);
/* Clear the ended lock `until`; *cleared 1 for the one caller that did. */
apr_status_t authsvc_lockout_forget_expired(authsvc_db_t *db, const char *id,
                                            apr_int64_t until, int *cleared);
/* Unlock (password reset): *was_locked 1 when a lock was in force at `now`. */
apr_status_t authsvc_lockout_unlock(authsvc_db_t *db, const char *id, apr_int64_t now,
                                    int *was_locked);
/* Seconds until account id may be tried again (at least 1). */
apr_status_t authsvc_lockout_retry_after(authsvc_db_t *db, const char *id, apr_int64_t now,
                                         const authsvc_lockout_t *pol, apr_int64_t *secs);

/* ---- second factor (store_mfa.c) ---- */

/* The account's second-factor state. secret and pending are sealed (secretbox.h). */
typedef struct {
    int found;                 /* 0: no such account */
    const char *secret;        /* confirmed TOTP secret, NULL when MFA is off */
    const char *pending;       /* an enrollment waiting for its first code, or NULL */
    apr_int64_t pending_at;
    apr_int64_t last_step;     /* last TOTP time step accepted */
    apr_int64_t enabled_at;    /* 0 when off */
    int codes_left;            /* unused recovery codes */
} authsvc_mfa_t;
apr_status_t authsvc_mfa_get(authsvc_db_t *db, const char *user_id, authsvc_mfa_t *out);
/* Start (or restart) an enrollment; *done 0 when MFA is already on. */
apr_status_t authsvc_mfa_set_pending(authsvc_db_t *db, const char *user_id,
                                     const char *sealed, apr_int64_t now, int *done);
/* The pending secret `pending` becomes the secret, `step` the last used time step;
 * *done 0 when it is no longer the pending one (a concurrent restart or confirm). */
apr_status_t authsvc_mfa_confirm(authsvc_db_t *db, const char *user_id,
                                 const char *pending, apr_int64_t step, apr_int64_t now,
                                 int *done);
/* Turn MFA off; *done 0 when it was not on. */
apr_status_t authsvc_mfa_disable(authsvc_db_t *db, const char *user_id, int *done);
/* Record time step `step` as used; *done 0 when it (or a later one) was used already. */
apr_status_t authsvc_mfa_use_step(authsvc_db_t *db, const char *user_id, apr_int64_t step,
                                  int *done);
/* Replace the sealed secret `old` by `sealed` (the same secret under a newer key). */
apr_status_t authsvc_mfa_reseal(authsvc_db_t *db, const char *user_id, const char *old,
                               const char *sealed);
/* Replace the recovery codes by these hashes (const char *; NULL: none left). */
apr_status_t authsvc_mfa_codes_replace(authsvc_db_t *db, const char *user_id,
                                       const apr_array_header_t *hashes);
/* Use up the recovery code with this hash; *done 0 when there is no such unused code. */
apr_status_t authsvc_mfa_code_use(authsvc_db_t *db, const char *user_id,
                                  const char *code_hash, int *done);
/* Sign-in challenges (the mfa_token of a sign-in whose first step, `first` in RFC 8176
 * method names, passed). */
apr_status_t authsvc_mfa_challenge_insert(authsvc_db_t *db, const char *token_hash,
                                          const char *user_id, apr_int64_t now,
                                          apr_int64_t expires_at, const char *first);
/* The live challenge's account, creation time and first step ("pwd" for rows older than
 * the column); *user_id NULL if none. */
apr_status_t authsvc_mfa_challenge_peek(authsvc_db_t *db, const char *token_hash,
                                        apr_int64_t now, const char **user_id,
                                        apr_int64_t *created_at, const char **first);
/* Use the challenge up (one caller wins: *done). */
apr_status_t authsvc_mfa_challenge_consume(authsvc_db_t *db, const char *token_hash,
                                           const char *user_id, apr_int64_t now,
                                           int *done);
/* Every open challenge of the user ends (the password changed). */
apr_status_t authsvc_mfa_challenges_forget(authsvc_db_t *db, const char *user_id);
/* Account deletion: its challenges and recovery codes. */
apr_status_t authsvc_mfa_delete_user(authsvc_db_t *db, const char *user_id);
apr_status_t authsvc_mfa_challenge_prune(authsvc_db_t *db, apr_int64_t before);

/* ---- remembered devices (store_remembered.c) ---- */

/* A browser where the user ticked "remember this device" (the token itself is never
 * stored, only its SHA-256). */
typedef struct {
    const char *id;            /* public id */
    const char *token_hash;
    const char *user_id;
    apr_int64_t created_at;
    apr_int64_t expires_at;
    apr_int64_t last_used_at;  /* 0: not used for a sign-in yet */
    const char *ip;            /* where it was remembered */
    const char *user_agent;
    const char *name;          /* NULL when none */
} authsvc_device_t;
apr_status_t authsvc_remembered_insert(authsvc_db_t *db, const authsvc_device_t *d);
/* The live (unexpired) device of user_id with this token hash, remembered at
 * not_before or later, marked used at now: *id its public id, or NULL when none. */
apr_status_t authsvc_remembered_use(authsvc_db_t *db, const char *token_hash,
                                    const char *user_id, apr_int64_t not_before,
                                    apr_int64_t now, const char **id);
/* The user's unexpired devices (authsvc_device_t), most recently used first. */
apr_status_t authsvc_remembered_list(authsvc_db_t *db, const char *user_id,
                                     apr_int64_t now, apr_array_header_t **out);
/* Delete the user's device `id`, or (id NULL) all of them; *count says how many went. */
apr_status_t authsvc_remembered_delete(authsvc_db_t *db, const char *user_id,
                                       const char *id, int *count);
/* Delete the user's devices expired at now. */
apr_status_t authsvc_remembered_prune_user(authsvc_db_t *db, const char *user_id,
                                           apr_int64_t now);
/* Delete every device expired at now (the deliverer's pruning: where they came from goes
 * with them). */
apr_status_t authsvc_remembered_prune(authsvc_db_t *db, apr_int64_t now);

/* ---- audit trail of one user (store_audit.c) ---- */
typedef struct {
    const char *id;
    apr_int64_t at;
    const char *event, *login, *ip, *user_agent, *detail;
    const char *user_id; /* set by authsvc_audit_search only */
} authsvc_event_t;
/* Up to `limit` events of user_id with id < before, newest first (authsvc_event_t). */
apr_status_t authsvc_audit_list_user(authsvc_db_t *db, const char *user_id,
                                     apr_int64_t before, int limit,
                                     apr_array_header_t **out);

/* GET /admin/audit: events newest first with id < before, at in [since, until], of
 * user_id and of event when not NULL; up to limit (authsvc_event_t with user_id). */
typedef struct {
    const char *user_id, *event;
    apr_int64_t since, until, before;
    int limit;
} authsvc_audit_query_t;
apr_status_t authsvc_audit_search(authsvc_db_t *db, const authsvc_audit_query_t *q,
                                  apr_array_header_t **out);

apr_status_t authsvc_sessions_insert(authsvc_db_t *db, const authsvc_session_t *s);
/* The live session with this token hash (not revoked, not expired at `now`, account
 * active), with its user; *s NULL if none. */
apr_status_t authsvc_sessions_lookup(authsvc_db_t *db, const char *token_hash,
                                     apr_int64_t now, authsvc_session_t **s,
                                     authsvc_user_t **u);
/* The session behind a token: by token hash (a refresh token's session), or when
 * token_hash is NULL by public id (an access token's sid). Live means not revoked, not
 * past its absolute expiry, account active: the idle timeout is the cookie's. */
apr_status_t authsvc_sessions_lookup_token(authsvc_db_t *db, const char *token_hash,
                                           const char *id, apr_int64_t now,
                                           authsvc_session_t **s, authsvc_user_t **u);
/* Record activity: last_seen = now and a new idle expiry, unless written since
 * `not_after` (so at most one write per interval). */
apr_status_t authsvc_sessions_touch(authsvc_db_t *db, const char *token_hash,
                                    apr_int64_t now, apr_int64_t idle_expires_at,
                                    apr_int64_t not_after);
apr_status_t authsvc_sessions_revoke(authsvc_db_t *db, const char *token_hash,
                                     apr_int64_t now);
/* The session was used at `now` by a token client: last_seen, and the idle expiry when
 * the cookie has not idled out already. */
apr_status_t authsvc_sessions_seen(authsvc_db_t *db, const char *token_hash,
                                   apr_int64_t now, apr_int64_t idle_expires_at);
/* A re-authentication of the live session: auth_at and amr replaced; mfa_at too when
 * mfa_at > 0. *done 0 when the session is no longer live. */
apr_status_t authsvc_sessions_reauth(authsvc_db_t *db, const char *token_hash,
                                     apr_int64_t auth_at, apr_int64_t mfa_at,
                                     const char *amr, int *done);

/* The session passed a second factor at mfa_at (amr: the methods now). */
apr_status_t authsvc_sessions_mfa_passed(authsvc_db_t *db, const char *token_hash,
                                         apr_int64_t mfa_at, const char *amr);
/* Every session of the user forgets its second factor (the factor was turned off). */
apr_status_t authsvc_sessions_clear_mfa(authsvc_db_t *db, const char *user_id);

/* The user's sessions, most recently used first (authsvc_session_t elements): live
 * ones, and those a token client still holds a refresh token of. */
apr_status_t authsvc_sessions_list(authsvc_db_t *db, const char *user_id, apr_int64_t now,
                                   apr_array_header_t **out);
/* Revoke the user's session with public id `id` (none when it is not theirs or not
 * live), or every live session of the user but keep_hash. *hashes gets the sessions
 * ended (authsvc_session_t with token_hash and id only), for the caches. */
apr_status_t authsvc_sessions_revoke_id(authsvc_db_t *db, const char *user_id,
                                        const char *id, apr_array_header_t **hashes);
apr_status_t authsvc_sessions_revoke_others(authsvc_db_t *db, const char *user_id,
                                            const char *keep_hash,
                                            apr_array_header_t **hashes);

/* How many sessions of the user authsvc_sessions_list would list at `now`. */
apr_status_t authsvc_sessions_count(authsvc_db_t *db, const char *user_id, apr_int64_t now,
                                    int *count);

/* Delete every session row of the user; *hashes as above. */
apr_status_t authsvc_sessions_delete_user(authsvc_db_t *db, const char *user_id,
                                          apr_array_header_t **hashes);

/* A token mailed to a user (only its hash is stored). */
#define AUTHSVC_TOKEN_VERIFY "verify_email"
#define AUTHSVC_TOKEN_RESET  "reset_password"
#define AUTHSVC_TOKEN_CHANGE "change_email"
typedef struct {
    const char *token_hash;
    const char *user_id;
    const char *purpose;
    const char *email;     /* the address it was sent to (verify, change) */
    apr_int64_t created_at;
    apr_int64_t expires_at;
} authsvc_token_t;
apr_status_t authsvc_tokens_insert(authsvc_db_t *db, const authsvc_token_t *t);
/* The live token with this hash and one of the two purposes; *out NULL if none. peek
 * leaves it usable, consume marks it used (atomically: one caller wins). */
apr_status_t authsvc_tokens_peek(authsvc_db_t *db, const char *hash, const char *purpose1,
                                 const char *purpose2, authsvc_token_t **out);
apr_status_t authsvc_tokens_consume(authsvc_db_t *db, const char *hash,
                                    const char *purpose1, const char *purpose2,
                                    authsvc_token_t **out);
/* Every live token of the user for the purpose stops working. */
apr_status_t authsvc_tokens_invalidate(authsvc_db_t *db, const char *user_id,
                                       const char *purpose);
apr_status_t authsvc_tokens_delete_user(authsvc_db_t *db, const char *user_id);
apr_status_t authsvc_tokens_prune(authsvc_db_t *db, apr_int64_t before);

/* The user's n most recent earlier password hashes (const char *), newest first. */
apr_status_t authsvc_history_recent(authsvc_db_t *db, const char *user_id, int n,
                                    apr_array_header_t **hashes);
/* Remember old_hash (when keep > 0) and keep only the newest `keep` rows. */
apr_status_t authsvc_history_record(authsvc_db_t *db, const char *user_id,
                                    const char *old_hash, int keep);

/* A message in the outbox. */
typedef struct {
    const char *id;
    const char *template_name;
    const char *transport;  /* key of the AuthsvcMailTransport that delivers it */
    const char *sender;     /* envelope sender */
    const char *recipient;
    const char *message;    /* RFC 5322, CRLF line ends */
    int attempts;
    apr_int64_t created_at;
} authsvc_outbox_t;
apr_status_t authsvc_outbox_insert(authsvc_db_t *db, const authsvc_outbox_t *m);
/* Queued messages due at `now` and not claimed (a batch, oldest first). */
#define AUTHSVC_OUTBOX_BATCH 50
apr_status_t authsvc_outbox_due(authsvc_db_t *db, apr_int64_t now,
                                apr_array_header_t **out);
/* Claim a message until `until`; *claimed 0 when another deliverer has it. */
apr_status_t authsvc_outbox_claim(authsvc_db_t *db, const char *id, apr_int64_t until,
                                  int *claimed);
apr_status_t authsvc_outbox_sent(authsvc_db_t *db, const char *id);
apr_status_t authsvc_outbox_retry(authsvc_db_t *db, const char *id, apr_int64_t at,
                                  const char *error);
apr_status_t authsvc_outbox_fail(authsvc_db_t *db, const char *id, const char *error);
/* Delete sent and failed messages queued before `before`. */
apr_status_t authsvc_outbox_prune(authsvc_db_t *db, apr_int64_t before);
/* The queued messages: their number and the oldest one's created_at (0 when none). */
apr_status_t authsvc_outbox_backlog(authsvc_db_t *db, apr_int64_t *queued,
                                    apr_int64_t *oldest);

/* One audit row. detail is JSON text or NULL. */
typedef struct {
    const char *event;
    const char *user_id;
    const char *login;
    const char *ip;
    const char *user_agent;
    const char *request_id;
    const char *detail;
} authsvc_audit_row_t;
apr_status_t authsvc_audit_insert(authsvc_db_t *db, apr_int64_t at,
                                  const authsvc_audit_row_t *row);

/* Remove the personal data (login, ip, agent, detail) from the user's audit rows. */
apr_status_t authsvc_audit_scrub(authsvc_db_t *db, const char *user_id);
/* Delete up to `batch` audit rows older than `before` (Unix seconds); *deleted says
 * how many went. */
apr_status_t authsvc_audit_prune(authsvc_db_t *db, apr_int64_t before, int batch,
                                 int *deleted);

/* The highest applied migration (0 if none). */
apr_status_t authsvc_schema_version(authsvc_db_t *db, int *version);


/* ---- refresh tokens (store_refresh.c) ---- */
/* A refresh token as stored (only the SHA-256 of the token itself). */
typedef struct {
    const char *token_hash;
    const char *family_id;
    const char *session_hash;  /* the session's token_hash */
    const char *user_id;
    apr_int64_t created_at;
    apr_int64_t expires_at;
    apr_int64_t rotated_at;    /* 0: not used yet */
    apr_int64_t revoked_at;    /* 0: not revoked */
} authsvc_refresh_t;
apr_status_t authsvc_refresh_insert(authsvc_db_t *db, const authsvc_refresh_t *t);
/* Use the token once: rotated_at = now, atomically, if it is unused, unrevoked and
 * unexpired. *t gets the row when this call used it, else NULL. */
apr_status_t authsvc_refresh_rotate(authsvc_db_t *db, const char *token_hash,
                                    apr_int64_t now, authsvc_refresh_t **t);
/* The row of a token, whatever its state; *t NULL when there is none. */
apr_status_t authsvc_refresh_get(authsvc_db_t *db, const char *token_hash,
                                 authsvc_refresh_t **t);
/* Revoke every live token of a family, or of a session (by its token hash). */
apr_status_t authsvc_refresh_revoke_family(authsvc_db_t *db, const char *family_id,
                                           apr_int64_t now);
apr_status_t authsvc_refresh_revoke_session(authsvc_db_t *db, const char *session_hash,
                                            apr_int64_t now);
/* Delete every token of a user (account deletion) / every token expired before `before`. */
apr_status_t authsvc_refresh_delete_user(authsvc_db_t *db, const char *user_id);
apr_status_t authsvc_refresh_prune(authsvc_db_t *db, apr_int64_t before);
/* Delete at most `batch` of the sessions whose absolute lifetime ended before `before`
 * (housekeeping); *deleted says how many went. */
apr_status_t authsvc_sessions_prune(authsvc_db_t *db, apr_int64_t before, int batch,
                                    int *deleted);

/* ---- sign-in codes by mail and seen devices (store_emailcode.c) ---- */
/* The account's code (hashes: sql/sqlite/0007_email_code.up.sql) replaces any older. */
apr_status_t authsvc_emailcode_put(authsvc_db_t *db, const char *user_id,
                                   const char *token_hash, const char *code_hash,
                                   apr_int64_t now, apr_int64_t expires_at);
/* The account's live code (fewer than max_failures wrong tries); NULLs when none. */
apr_status_t authsvc_emailcode_get(authsvc_db_t *db, const char *user_id, apr_int64_t now,
                                   int max_failures, const char **token_hash,
                                   const char **code_hash);
/* Use the code up if it is still live (*done: this caller did, atomically). */
apr_status_t authsvc_emailcode_use(authsvc_db_t *db, const char *user_id,
                                   const char *code_hash, apr_int64_t now,
                                   int max_failures, int *done);
/* One more wrong try on the code asked for with token_hash (none when replaced). */
apr_status_t authsvc_emailcode_fail(authsvc_db_t *db, const char *user_id,
                                    const char *token_hash);
/* Account deletion: its code and its seen devices. */
apr_status_t authsvc_emailcode_delete_user(authsvc_db_t *db, const char *user_id);
/* Expired codes, and seen devices past their window. */
apr_status_t authsvc_emailcode_prune(authsvc_db_t *db, apr_int64_t now);
/* *seen: key1 or key2 (may be NULL) seen for the account since `since`; *known: the
 * account has any seen device at all. */
apr_status_t authsvc_devices_seen(authsvc_db_t *db, const char *user_id, const char *key1,
                                  const char *key2, apr_int64_t since, int *seen,
                                  int *known);
/* Record the key as seen now (first_seen kept), kept until expires_at. */
apr_status_t authsvc_devices_put(authsvc_db_t *db, const char *user_id, const char *key,
                                 apr_int64_t now, apr_int64_t expires_at);
/* ---- passkeys (store_passkeys.c; issue 11) ---- */

/* A passkey as stored: credential_id and public_key base64url, alg a COSE algorithm. */
typedef struct {
    const char *id;            /* public id (UUID) */
    const char *user_id;
    const char *credential_id;
    const char *user_handle;   /* the account's random WebAuthn user id, base64url */
    const char *public_key;
    int alg;
    apr_int64_t sign_count;
    const char *name;
    const char *transports;    /* space-separated, or NULL */
    int backup_eligible, backed_up;
    apr_int64_t created_at;
    apr_int64_t last_used_at;  /* 0: never used to sign in */
} authsvc_passkey_t;

/* The account's passkeys (authsvc_passkey_t *), oldest first. */
apr_status_t authsvc_passkeys_list(authsvc_db_t *db, const char *user_id,
                                   apr_array_header_t **out);
/* The passkey with this credential id; *out NULL if none. */
apr_status_t authsvc_passkeys_by_cred(authsvc_db_t *db, const char *credential_id,
                                      authsvc_passkey_t **out);
/* Store a new passkey; APR_EEXIST when its credential id is taken (by any account: one
 * registration of two at once wins). */
apr_status_t authsvc_passkeys_insert(authsvc_db_t *db, const authsvc_passkey_t *k);
/* After a sign-in with k: the new counter, backup state and time, only if the stored
 * counter is still k->sign_count (*done 0 otherwise). */
apr_status_t authsvc_passkeys_use(authsvc_db_t *db, const authsvc_passkey_t *k,
                                  apr_int64_t sign_count, int backed_up, apr_int64_t now,
                                  int *done);
/* Rename / delete passkey id of user_id; *done 0 when it has no such passkey. */
apr_status_t authsvc_passkeys_rename(authsvc_db_t *db, const char *id, const char *user_id,
                                     const char *name, int *done);
apr_status_t authsvc_passkeys_delete(authsvc_db_t *db, const char *id, const char *user_id,
                                     int *done);
/* Every passkey and pending challenge of the account (its deletion). */
apr_status_t authsvc_passkeys_delete_user(authsvc_db_t *db, const char *user_id);
/* A ceremony's challenge (its SHA-256 hex), purpose "register" or "login". */
apr_status_t authsvc_webauthn_challenge_insert(authsvc_db_t *db, const char *hash,
                                               const char *purpose, const char *user_id,
                                               const char *user_handle, apr_int64_t now,
                                               apr_int64_t expires_at);
/* Use up the live challenge of this hash and purpose: *found 0 when there is none
 * (unknown, expired, used, or another purpose's); else its user and handle. */
apr_status_t authsvc_webauthn_challenge_take(authsvc_db_t *db, const char *hash,
                                             const char *purpose, apr_int64_t now,
                                             int *found, const char **user_id,
                                             const char **user_handle);
apr_status_t authsvc_webauthn_challenge_prune(authsvc_db_t *db, apr_int64_t before);

#endif

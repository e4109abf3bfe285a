/* admin.h - what the files of authsvc-admin share: the command context, the
 * database helpers (tools/admin/db.c) and the command handlers of
 * tools/admin/users.c, tools/admin/import.c and tools/admin/config.c.
 *
 * Every helper that can fail prints "authsvc-admin: COMMAND: what: why" on
 * stderr itself and tells its caller only that it failed.
 */
#ifndef AUTHSVC_ADMIN_H
#define AUTHSVC_ADMIN_H

#include <apr_dbd.h>
#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_tables.h>

#define EXIT_OK       0
#define EXIT_FAIL     1
#define EXIT_USAGE    2
#define EXIT_NOTFOUND 3

/* The audit detail of every change the tool makes. */
#define ADMIN_DETAIL "\"reason\":\"admin\",\"via\":\"authsvc-admin\""

/* What a command handler gets: an open connection and its arguments. */
typedef struct {
    apr_pool_t *pool;
    const char *driver_name;
    const char *params;
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    const char *command;        /* "migrate up", for messages */
    apr_table_t *opts;          /* the command's --options (flags: "") */
    apr_pool_t *conn_pool;      /* lives as long as the connection */
    apr_hash_t *stmts;          /* prepared statements by label (in conn_pool) */
    const char *breach_path;    /* --breach-corpus or --config's corpus, or NULL */
    const struct authsvc_breach_t *breach; /* it, opened when a password is checked */
    apr_int64_t breach_min;     /* refused when seen this often (>= 1) */
} admin_ctx_t;

/* Rows of a query as strings: cells[row * ncols + col], NULL for SQL NULL. */
typedef struct {
    int nrows;
    int ncols;
    const char **cells;
} rows_t;

#define CELL(rows, r, c) ((rows)->cells[(r) * (rows)->ncols + (c)])

extern const char *progname;

/* "authsvc-admin: <message>" and a hint on stderr; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "authsvc-admin: COMMAND: <message>" on stderr; returns EXIT_FAIL. */
int cmd_error(const admin_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* err, or the text of rv, as cmd_error; returns EXIT_FAIL. */
int fail(const admin_ctx_t *ctx, apr_status_t rv, const char *err);

int db_run(admin_ctx_t *ctx, const char *label, const char *sql, const char *what,
           int nargs, const char **args, rows_t *rows);
int db_exec(admin_ctx_t *ctx, const char *label, const char *sql, const char *what,
            int nargs, const char **args);
int db_plain(admin_ctx_t *ctx, const char *sql);
void db_rollback(admin_ctx_t *ctx);
int db_commit(admin_ctx_t *ctx);
int db_begin(admin_ctx_t *ctx);
int is_sqlite(const admin_ctx_t *ctx);
int need_version(admin_ctx_t *ctx, int min_version);
int check_login(const admin_ctx_t *ctx, int argc, const char *const *argv);
int find_account(admin_ctx_t *ctx, const char *login, const char *column, int lock,
                 const char **id, const char **value);
int begin_on_account(admin_ctx_t *ctx, int min_version, const char *login,
                     const char *column, const char **id, const char **value);
int audit_admin(admin_ctx_t *ctx, const char *event, const char *id, const char *login,
                apr_int64_t now, const char *extra);
const char *iso8601(apr_pool_t *p, apr_int64_t t);
const char *int_text(apr_pool_t *p, apr_int64_t v);

/* The value of --name, or NULL when it was not given. */
const char *opt_get(const admin_ctx_t *ctx, const char *name);

/* Read a password from standard input (a terminal: prompted twice, not echoed). */
int read_password(admin_ctx_t *ctx, const char **pw, apr_size_t *len);
/* The module's default password policy with the account's context, and the breached-
 * password corpus when one is given (ctx->breach_path, opened on first use): NULL when
 * pw is acceptable, else the message (also when the corpus cannot be read). */
const char *password_policy(admin_ctx_t *ctx, const char *pw, apr_size_t len,
                            const char *email, const char *username,
                            const char *first_name, const char *last_name);
/* The module's username rule (3-32 of A-Z a-z 0-9 . _ -, first a letter or digit):
 * NULL if valid, else the message. */
const char *check_username(const char *s);
/* A role: 1-64 of A-Z a-z 0-9 . _ - : (a word of the roles column). */
int role_ok(const char *s);

/* What --config reads from an httpd configuration file. */
typedef struct {
    const char *driver;         /* DBDriver */
    const char *params;         /* DBDParams */
    const char *breach;         /* AuthsvcPasswordBreachCorpus's file (absolute), or NULL */
    apr_int64_t breach_min;     /* AuthsvcPasswordBreachMinCount, or 0 when not set */
} admin_config_t;

/* Read DBDriver / DBDParams and the breach corpus directives from an httpd
 * configuration file and its Include(s) into *out (zeroed by the caller): EXIT_OK when
 * DBDriver or DBDParams is found (fields not found stay NULL or 0), else an exit
 * status with the message printed. */
int config_read(apr_pool_t *p, const char *file, admin_config_t *out);

/* A new account, as user add and import make it. */
typedef struct {
    const char *email;          /* normalised */
    const char *username;       /* NULL: none */
    const char *first_name;
    const char *last_name;
    const char *password_hash;
    const char *roles;          /* space-separated, "" for none */
    int verified;
} admin_account_t;

/* Check a new account's fields (not the password): NULL, or what is wrong. The
 * email is normalised in place; roles are joined by single spaces. */
const char *account_check(apr_pool_t *p, admin_account_t *a);
/* Insert a, in the open transaction, with the audit row `event`: 1 inserted (*id set),
 * 0 the email or username is taken (nothing written), -1 a database error (printed). */
int account_insert(admin_ctx_t *ctx, const admin_account_t *a, const char *event,
                   const char *extra, const char **id);
/* 1 when an account has a.email or a.username, 0 when none, -1 on error (printed). */
int account_taken(admin_ctx_t *ctx, const admin_account_t *a);
/* The schema version the new commands need: this build's latest. */
int need_latest(admin_ctx_t *ctx);

/* The command handlers. */
typedef int (*admin_run_fn)(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_user_add(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_user_show(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_user_list(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_user_disable(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_user_enable(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_user_delete(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_user_verify(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_user_set_password(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_user_role(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_sessions_list(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_sessions_revoke(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_audit(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_import(admin_ctx_t *ctx, int argc, const char *const *argv);
int cmd_breach_index(admin_ctx_t *ctx, int argc, const char *const *argv);

/* Argument checks run before the database is opened (0 or an exit status). */
typedef int (*admin_check_fn)(const admin_ctx_t *ctx, int argc, const char *const *argv);
int check_user_add(const admin_ctx_t *ctx, int argc, const char *const *argv);
int check_user_role(const admin_ctx_t *ctx, int argc, const char *const *argv);
int check_sessions_revoke(const admin_ctx_t *ctx, int argc, const char *const *argv);
int check_user_list(const admin_ctx_t *ctx, int argc, const char *const *argv);
int check_audit(const admin_ctx_t *ctx, int argc, const char *const *argv);
int check_import(const admin_ctx_t *ctx, int argc, const char *const *argv);

#endif /* AUTHSVC_ADMIN_H */

/* db.c - authsvc-admin's database helpers and messages: statements prepared
 * with apr_dbd_prepare (once per connection) and run with string arguments,
 * transactions, the lookup of an account by LOGIN, the audit row of a change.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "admin.h"
#include "migrate.h"
#include "text.h"

const char *progname = "authsvc-admin";

/* Print "authsvc-admin: <message>" and a hint; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", progname);
    return EXIT_USAGE;
}

/* Print "authsvc-admin: COMMAND: <message>"; returns EXIT_FAIL. */
int cmd_error(const admin_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: %s: ", progname, ctx->command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_FAIL;
}

int fail(const admin_ctx_t *ctx, apr_status_t rv, const char *err)
{
    char buf[256];

    return cmd_error(ctx, "%s", err ? err : apr_strerror(rv, buf, sizeof(buf)));
}

const char *int_text(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

const char *opt_get(const admin_ctx_t *ctx, const char *name)
{
    return ctx->opts ? apr_table_get(ctx->opts, name) : NULL;
}

/* BEGIN a write transaction (IMMEDIATE on SQLite: commands read, then write, and a
 * deferred transaction could not upgrade its lock while httpd writes). */
int db_begin(admin_ctx_t *ctx)
{
    return db_plain(ctx, is_sqlite(ctx) ? "BEGIN IMMEDIATE" : "BEGIN");
}

/* EXIT_OK when the schema is at min_version or later, else EXIT_FAIL (printed). */
int need_version(admin_ctx_t *ctx, int min_version)
{
    const char *err = NULL;
    apr_status_t rv;
    int version = 0;

    rv = authsvc_migrate_current(ctx->pool, ctx->driver, ctx->handle, &version, &err);
    if (rv != APR_SUCCESS) {
        return fail(ctx, rv, err);
    }
    if (version < min_version) {
        return cmd_error(ctx, "the database is at schema version %d; this command needs "
                         "version %d or later (run '%s migrate up')", version,
                         min_version, progname);
    }
    return EXIT_OK;
}

/* The driver's message for rc without trailing newlines (libpq ends with one). */
static const char *db_error(const admin_ctx_t *ctx, int rc)
{
    const char *msg = apr_dbd_error(ctx->driver, ctx->handle, rc);
    size_t len;

    if (!msg || !*msg) {
        return apr_psprintf(ctx->pool, "%s driver error %d", ctx->driver_name, rc);
    }
    len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'
                       || msg[len - 1] == ' ')) {
        len--;
    }
    return apr_pstrmemdup(ctx->pool, msg, len);
}

/* The statement label names, prepared on first use: NULL on failure (printed). */
static apr_dbd_prepared_t *prepared(admin_ctx_t *ctx, const char *label, const char *sql,
                                    const char *what)
{
    apr_pool_t *p = ctx->conn_pool ? ctx->conn_pool : ctx->pool;
    apr_dbd_prepared_t *st;
    int rc;

    /* A label is prepared once per connection (PostgreSQL refuses a name twice), in
     * a pool as long-lived as the connection. */
    if (ctx->stmts == NULL) {
        ctx->stmts = apr_hash_make(p);
    }
    st = apr_hash_get(ctx->stmts, label, APR_HASH_KEY_STRING);
    if (st != NULL) {
        return st;
    }
    rc = apr_dbd_prepare(ctx->driver, p, ctx->handle, sql, label, &st);
    if (rc != 0) {
        fprintf(stderr, "%s: %s: %s: %s\n", progname, ctx->command, what,
                db_error(ctx, rc));
        return NULL;
    }
    apr_hash_set(ctx->stmts, label, APR_HASH_KEY_STRING, st);
    return st;
}

/* Run a statement without result rows: the number of rows it changed, or -1 on
 * failure (printed as db_run does). */
int db_exec(admin_ctx_t *ctx, const char *label, const char *sql, const char *what,
            int nargs, const char **args)
{
    apr_dbd_prepared_t *st = prepared(ctx, label, sql, what);
    int rc, n = 0;

    if (st == NULL) {
        return -1;
    }
    rc = apr_dbd_pquery(ctx->driver, ctx->pool, ctx->handle, &n, st, nargs, args);
    if (rc != 0) {
        fprintf(stderr, "%s: %s: %s: %s\n", progname, ctx->command, what,
                db_error(ctx, rc));
        return -1;
    }
    return n;
}

/* Prepare sql (apr_dbd placeholders: %s, %lld) and run it with string arguments.
 * With rows NULL it is a statement without result rows; else every row is read
 * (to the end, so the connection is left clean) into *rows. On failure prints
 * "authsvc-admin: COMMAND: WHAT: message" and returns 0. */
int db_run(admin_ctx_t *ctx, const char *label, const char *sql,
           const char *what, int nargs, const char **args, rows_t *rows)
{
    apr_dbd_prepared_t *st;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *cells;
    int rc, c;

    if (rows == NULL) {
        return db_exec(ctx, label, sql, what, nargs, args) >= 0;
    }
    if ((st = prepared(ctx, label, sql, what)) == NULL) {
        return 0;
    }
    /* random access (1): the pgsql driver then reports an error here rather
     * than as "no rows" later. */
    rc = apr_dbd_pselect(ctx->driver, ctx->pool, ctx->handle, &res, st, 1, nargs, args);
    if (rc != 0) {
        fprintf(stderr, "%s: %s: %s: %s\n", progname, ctx->command, what,
                db_error(ctx, rc));
        return 0;
    }
    rows->ncols = apr_dbd_num_cols(ctx->driver, res);
    rows->nrows = 0;
    cells = apr_array_make(ctx->pool, 4, sizeof(const char *));
    while ((rc = apr_dbd_get_row(ctx->driver, ctx->pool, res, &row, -1)) == 0) {
        for (c = 0; c < rows->ncols; c++) {
            char *v = NULL;

            if (apr_dbd_datum_get(ctx->driver, row, c, APR_DBD_TYPE_STRING, &v)
                != APR_SUCCESS) {
                v = NULL;               /* APR_ENOENT: SQL NULL */
            }
            APR_ARRAY_PUSH(cells, const char *) = v ? apr_pstrdup(ctx->pool, v) : NULL;
        }
        rows->nrows++;
    }
    if (rc != -1) {
        fprintf(stderr, "%s: %s: %s: %s\n", progname, ctx->command, what,
                db_error(ctx, rc));
        return 0;
    }
    rows->cells = (const char **)cells->elts;
    return 1;
}

/* A statement of our own (BEGIN, COMMIT): 1 on success, else the error printed. */
int db_plain(admin_ctx_t *ctx, const char *sql)
{
    int n = 0;
    int rc = apr_dbd_query(ctx->driver, ctx->handle, &n, sql);

    if (rc != 0) {
        fprintf(stderr, "%s: %s: %s: %s\n", progname, ctx->command, sql,
                db_error(ctx, rc));
        return 0;
    }
    return 1;
}

/* Best effort: after a failure the transaction may already be gone. */
void db_rollback(admin_ctx_t *ctx)
{
    int n = 0;

    (void)apr_dbd_query(ctx->driver, ctx->handle, &n, "ROLLBACK");
}

int is_sqlite(const admin_ctx_t *ctx)
{
    return strcmp(ctx->driver_name, "sqlite3") == 0;
}

/* LOGIN: not empty, valid UTF-8 (PostgreSQL refuses anything else), and a valid
 * address when it has an '@' (no other can be stored). */
int check_login(const admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *login = argv[0];
    size_t len = strlen(login);
    const char *msg = NULL;
    const char *email = NULL;
    apr_pool_t *p = NULL;
    int rc = EXIT_OK;

    (void)ctx;
    (void)argc;
    if (len == 0) {
        return usage_error("LOGIN must not be empty");
    }
    if (authsvc_text_utf8_length(login, len) < 0) {
        return usage_error("LOGIN is not valid UTF-8");
    }
    if (memchr(login, '@', len) == NULL) {
        return EXIT_OK;
    }
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        fprintf(stderr, "%s: out of memory\n", progname);
        return EXIT_FAIL;
    }
    msg = authsvc_text_email_normalize(p, login, len, &email);
    if (msg != NULL) {
        rc = usage_error("'%s' is not a valid email address (%s); give the user id "
                         "instead", login, msg);
    }
    apr_pool_destroy(p);
    return rc;
}

/* The statement label of a lookup by `by` reading `column`, locked or not: the
 * prepared statements are cached by label, so the label names everything that
 * changes the SQL. A column that is no plain name (an SQL expression) is named by a
 * hash of its text, to stay within PostgreSQL's 63 bytes for a statement name. */
static const char *lookup_label(apr_pool_t *p, const char *by, const char *column,
                                int lock)
{
    apr_ssize_t len = (apr_ssize_t)strlen(column);
    const char *name = column;

    if (len > 20 || strspn(column, "abcdefghijklmnopqrstuvwxyz_") != (size_t)len) {
        name = apr_psprintf(p, "x%08x", apr_hashfunc_default(column, &len));
    }
    return apr_pstrcat(p, by, lock ? "_locked_" : "_", name, NULL);
}

/* The account LOGIN names: 1 with *id and *value, the value of the SQL expression
 * `column` in that row (NULL for SQL NULL), 0 when there is none, -1 on a database
 * error (printed). With lock (inside the command's transaction) the row is locked
 * FOR UPDATE on PostgreSQL; a command that only reads passes 0. An email is looked
 * up as the module stores it; anything else as a user id first, then as a username
 * in any case. */
int find_account(admin_ctx_t *ctx, const char *login, const char *column, int lock,
                 const char **id, const char **value)
{
    const char *const by[][2] = {
        {"authsvc_admin_user_by_email", "email = %s"},
        {"authsvc_admin_user_by_id", "id = %s"},
        {"authsvc_admin_user_by_username", "lower(username) = lower(%s)"},
    };
    const char *key = login;
    int first = 1, last = 2, i;

    lock = lock && !is_sqlite(ctx); /* SQLite: BEGIN IMMEDIATE holds the write lock */
    if (strchr(login, '@') != NULL) {
        /* check_login() accepted it: normalising cannot fail here. */
        if (authsvc_text_email_normalize(ctx->pool, login, strlen(login), &key)
            != NULL) {
            return 0;
        }
        first = last = 0;
    }
    for (i = first; i <= last; i++) {
        const char *sql = apr_pstrcat(ctx->pool, "SELECT id, ", column, " FROM users "
                                      "WHERE ", by[i][1], lock ? " FOR UPDATE" : "",
                                      NULL);
        rows_t rows;

        if (!db_run(ctx, lookup_label(ctx->pool, by[i][0], column, lock), sql,
                    "looking up the account", 1, &key, &rows)) {
            return -1;
        }
        if (rows.nrows > 0) {
            *id = rows.cells[0];
            *value = rows.cells[1];
            return 1;
        }
    }
    return 0;
}

/* How a command on one account starts: the schema must be at min_version or later;
 * then BEGIN (IMMEDIATE on SQLite: the command reads, then writes) and
 * find_account(). EXIT_OK with the transaction open and *id, *value set; else
 * EXIT_NOTFOUND or EXIT_FAIL, the message printed and no transaction left open. */
int begin_on_account(admin_ctx_t *ctx, int min_version, const char *login,
                     const char *column, const char **id, const char **value)
{
    int found, rc;

    if ((rc = need_version(ctx, min_version)) != EXIT_OK) {
        return rc;
    }
    if (!db_begin(ctx)) {
        return EXIT_FAIL;
    }
    found = find_account(ctx, login, column, 1, id, value);
    if (found <= 0) {
        db_rollback(ctx);
        if (found == 0) {
            fprintf(stderr, "%s: %s: no such user: '%s' (not the email, username or "
                    "id of any account)\n", progname, ctx->command, login);
            return EXIT_NOTFOUND;
        }
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* COMMIT the command's transaction: 1, or 0 with the error printed (and the
 * transaction rolled back). */
int db_commit(admin_ctx_t *ctx)
{
    if (!db_plain(ctx, "COMMIT")) {
        db_rollback(ctx);
        return 0;
    }
    return 1;
}

/* The audit row of an administrator's change to account id, in the open
 * transaction: event, detail {"reason":"admin","via":"authsvc-admin"} plus extra
 * (NULL, or members such as "\"role\":\"x\"" the caller has made valid JSON), the
 * login as given, no ip, user agent or request id. 1 on success, 0 on failure
 * (printed). */
int audit_admin(admin_ctx_t *ctx, const char *event, const char *id,
                const char *login, apr_int64_t now, const char *extra)
{
    const char *args[] = {int_text(ctx->pool, now), event, id, login,
                          apr_pstrcat(ctx->pool, "{" ADMIN_DETAIL, extra ? "," : "",
                                      extra ? extra : "", "}", NULL)};

    return db_run(ctx, "authsvc_admin_audit",
                  "INSERT INTO audit_log (at, event, user_id, login, ip, user_agent, "
                  "request_id, detail) VALUES (%lld, %s, %s, %s, NULL, NULL, NULL, %s)",
                  "writing the audit row", 5, args, NULL);
}


/* Epoch seconds as 2026-11-21T08:00:00Z. */
const char *iso8601(apr_pool_t *p, apr_int64_t t)
{
    apr_time_exp_t tm;
    apr_size_t len = 0;
    char buf[32];

    if (apr_time_exp_gmt(&tm, apr_time_from_sec(t)) != APR_SUCCESS
        || apr_strftime(buf, &len, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm)
           != APR_SUCCESS) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT, t);
    }
    return apr_pstrmemdup(p, buf, len);
}

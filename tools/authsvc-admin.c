/* authsvc-admin — command-line administration for mod_authsvc.
 *
 *   authsvc-admin [--driver sqlite3|pgsql] [--params STRING] GROUP COMMAND
 *                 [ARGS]
 *   authsvc-admin migrate status|up [N]|down N
 *   authsvc-admin user unlock LOGIN
 *   authsvc-admin mfa reset LOGIN
 *   authsvc-admin keygen [--alg EdDSA|ES256|RS256|HS256] [--out FILE]
 *
 * --driver and --params take the same strings as mod_dbd's DBDriver and
 * DBDParams; they default to $AUTHSVC_DBD_DRIVER and $AUTHSVC_DBD_PARAMS.
 * Exit status: 0 ok, 1 the operation failed (message on stderr), 2 usage.
 *
 * Commands live in one table (group, name, arguments, help, handler); a new
 * command is a handler plus a row. "authsvc-admin GROUP COMMAND --help"
 * prints a command's help without touching the database. A command of one
 * word (keygen) is a row with an empty name; a local one needs no database.
 *
 * Build (the Makefile has the rule; src/migrations_data.c comes from
 * tools/embed-sql.pl):
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes) -Isrc -o tools/authsvc-admin tools/authsvc-admin.c src/migrate.c src/migrations_data.c src/text.c $(apu-1-config --link-ld) $(apr-1-config --link-ld)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_dbd.h>
#include <apr_env.h>
#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "jwt.h"
#include "migrate.h"
#include "text.h"

#define EXIT_OK    0
#define EXIT_FAIL  1
#define EXIT_USAGE 2

/* What a command handler gets: an open connection and its arguments. */
typedef struct {
    apr_pool_t *pool;
    const char *driver_name;
    const char *params;
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    const char *command;        /* "migrate up", for messages */
} admin_ctx_t;

typedef int (*admin_run_fn)(admin_ctx_t *ctx, int argc,
                            const char *const *argv);
/* Validates the arguments before the database is opened: 0 ok, else an
 * exit status (the message printed). */
typedef int (*admin_check_fn)(int argc, const char *const *argv);

typedef struct {
    const char *group;
    const char *name;
    const char *args;           /* synopsis of the arguments */
    int min_args;
    int max_args;
    const char *summary;        /* one line for the overview */
    const char *help;           /* the rest of "--help" */
    admin_check_fn check;       /* may be NULL */
    admin_run_fn run;
    int local;                  /* 1: runs without a database */
} admin_cmd_t;

static int check_versions(int argc, const char *const *argv);
static int cmd_migrate_status(admin_ctx_t *ctx, int argc,
                              const char *const *argv);
static int cmd_migrate_up(admin_ctx_t *ctx, int argc, const char *const *argv);
static int cmd_migrate_down(admin_ctx_t *ctx, int argc,
                            const char *const *argv);
static int check_login(int argc, const char *const *argv);
static int cmd_user_unlock(admin_ctx_t *ctx, int argc, const char *const *argv);
static int cmd_mfa_reset(admin_ctx_t *ctx, int argc, const char *const *argv);
static int cmd_keygen(admin_ctx_t *ctx, int argc, const char *const *argv);

static const admin_cmd_t commands[] = {
    { "migrate", "status", "", 0, 0,
      "show the schema version and the pending migrations",
      "Prints the database's schema version, the latest version this build\n"
      "knows, and the migrations not yet applied (or \"up to date\").\n"
      "Creates nothing in the database.\n",
      NULL, cmd_migrate_status, 0 },
    { "migrate", "up", "[N]", 0, 1,
      "apply pending migrations (up to version N)",
      "Applies the pending migrations up to version N (default: the latest),\n"
      "each in its own transaction. Safe to run while httpd runs the same\n"
      "migrations. Refuses a database newer than this build.\n",
      check_versions, cmd_migrate_up, 0 },
    { "migrate", "down", "N", 1, 1,
      "roll back to version N (0 = empty schema)",
      "Runs the down scripts of every migration above version N, newest\n"
      "first, each in its own transaction. This drops tables and their data;\n"
      "it does not ask for confirmation.\n",
      check_versions, cmd_migrate_down, 0 },
    { "user", "unlock", "LOGIN", 1, 1,
      "clear an account's sign-in lockout",
      "Clears the lockout state of one account: the failed sign-in counter,\n"
      "the lock (locked_until), the count of earlier locks that lengthens the\n"
      "next one, and the hourly failure cap. Writes an account_unlocked audit\n"
      "row ({\"reason\":\"admin\"}) in the same transaction, whether or not the\n"
      "account was locked.\n"
      "\n"
      "LOGIN is an email address when it contains '@' (compared as the module\n"
      "stores it: lower-cased), else a user id or a username (any case).\n"
      "Prints \"unlocked ID (was locked until TIME)\" or \"ID was not locked;\n"
      "failure counter cleared\". Exit 1 when no account matches or the\n"
      "database is below schema version 3 (run migrate up).\n",
      check_login, cmd_user_unlock, 0 },
    { "mfa", "reset", "LOGIN", 1, 1,
      "turn off an account's two-step sign-in",
      "Turns two-step sign-in (MFA) off for one account whose owner lost the\n"
      "authenticator and every recovery code. In one transaction it removes the\n"
      "TOTP secret, the recovery codes and any sign-in waiting for its second\n"
      "step, and writes an mfa_disabled audit row ({\"reason\":\"admin\"}). An\n"
      "account without two-step sign-in is left as it is, without an audit row.\n"
      "\n"
      "The user then signs in with the password alone and should enroll again.\n"
      "Sessions the module has cached may still say two-step sign-in is on for\n"
      "up to a minute. No mail is sent: tell the user yourself.\n"
      "\n"
      "Social engineering is the main risk of this command: someone who has the\n"
      "password but not the second factor asks for it. Verify who asks, by a\n"
      "channel an attacker does not control, before running it.\n"
      "\n"
      "LOGIN is an email address, a username or a user id, as for user unlock.\n"
      "Prints \"two-step sign-in turned off for ID\" or \"ID had no two-step\n"
      "sign-in; nothing changed\". Exit 1 when no account matches or the\n"
      "database is below schema version 4 (run migrate up).\n",
      check_login, cmd_mfa_reset, 0 },
    { "keygen", "", "[--alg ALG] [--out FILE]", 0, 4,
      "make a token signing key",
      "Makes a new key for AuthsvcTokenSigningKey and writes it to FILE,\n"
      "which is created with mode 0600 and must not exist yet (nothing is\n"
      "overwritten), or to standard output. The key's kid goes to standard\n"
      "error. Needs no database.\n"
      "\n"
      "  --alg ALG   EdDSA (Ed25519, the default), ES256 (P-256), RS256 (RSA\n"
      "              3072 bits): a PKCS#8 PEM private key; HS256: a shared\n"
      "              secret, 32 random bytes as 64 hex digits (the directive\n"
      "              must then name HS256)\n"
      "  --out FILE  where to write it (default: standard output)\n",
      NULL, cmd_keygen, 1 },
};

#define NCOMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

static const char *progname = "authsvc-admin";

/* "group name args", without the blanks of an empty name or arguments. */
static const char *synopsis(apr_pool_t *pool, const admin_cmd_t *c)
{
    return apr_pstrcat(pool, c->group, *c->name ? " " : "", c->name,
                       *c->args ? " " : "", c->args, NULL);
}

static void print_overview(apr_pool_t *pool, FILE *out, const char *group)
{
    int i;

    fprintf(out,
            "usage: %s [--driver sqlite3|pgsql] [--params STRING] "
            "GROUP COMMAND [ARGS]\n\n"
            "  --driver NAME    apr_dbd driver, as DBDriver "
            "(default $AUTHSVC_DBD_DRIVER)\n"
            "  --params STRING  connection string, as DBDParams "
            "(default $AUTHSVC_DBD_PARAMS)\n"
            "  -h, --help       this help; GROUP COMMAND --help for a "
            "command's help\n\ncommands:\n", progname);
    for (i = 0; i < NCOMMANDS; i++) {
        const admin_cmd_t *c = &commands[i];

        if (group && strcmp(group, c->group) != 0) {
            continue;
        }
        fprintf(out, "  %-31s %s\n", synopsis(pool, c), c->summary);
    }
}

static void print_command_help(apr_pool_t *pool, FILE *out,
                               const admin_cmd_t *c)
{
    fprintf(out, "usage: %s %s%s\n\n%s", progname,
            c->local ? "" : "[--driver NAME] [--params STRING] ",
            synopsis(pool, c), c->help);
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Print "authsvc-admin: <message>" and a hint; returns EXIT_USAGE. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", progname);
    return EXIT_USAGE;
}

static int group_exists(const char *group)
{
    int i;

    for (i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].group, group) == 0) {
            return 1;
        }
    }
    return 0;
}

static const admin_cmd_t *find_command(const char *group, const char *name)
{
    int i;

    for (i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].group, group) == 0
            && strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

/* A schema version argument: decimal digits only, no sign, fits an int. */
static int parse_version(const char *s, int *out)
{
    char *end = NULL;
    long v;

    if (*s < '0' || *s > '9') {
        return 0;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v > INT_MAX) {
        return 0;
    }
    *out = (int)v;
    return 1;
}

/* Open the database. A sqlite3 database is put in WAL mode (a setting stored in the
 * file, so the module's connections inherit it: readers never wait for the writer);
 * this connection also gets foreign keys and a busy timeout. PRAGMAs that return a row
 * are selected, as the sqlite3 driver's apr_dbd_query() reports a row as an error. */
static int open_db(admin_ctx_t *ctx)
{
    static const char *const sqlite_setup[] = {
        "PRAGMA busy_timeout = 5000", "PRAGMA journal_mode = WAL", NULL};
    const char *err = NULL;
    apr_status_t rv;
    int i;

    rv = apr_dbd_get_driver(ctx->pool, ctx->driver_name, &ctx->driver);
    if (rv != APR_SUCCESS) {
        char buf[256];

        fprintf(stderr, "%s: cannot load apr_dbd driver '%s': %s\n", progname,
                ctx->driver_name, apr_strerror(rv, buf, sizeof(buf)));
        return EXIT_FAIL;
    }
    rv = apr_dbd_open_ex(ctx->driver, ctx->pool, ctx->params, &ctx->handle,
                         &err);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "%s: cannot open the %s database: %s\n", progname,
                ctx->driver_name, err ? err : "no reason given");
        return EXIT_FAIL;
    }
    if (strcmp(ctx->driver_name, "sqlite3") != 0) {
        return EXIT_OK;
    }
    for (i = 0; sqlite_setup[i] != NULL; i++) {
        apr_dbd_results_t *res = NULL;
        apr_dbd_row_t *row = NULL;
        int rc, tries = 0;

        /* Switching a new file to WAL takes an exclusive lock that SQLite does not
         * wait for: when several admin runs (or httpd) open it at once, try again
         * (for up to 10 s: 24 runs at once took more than 2 s on a loaded machine). */
        while ((rc = apr_dbd_select(ctx->driver, ctx->pool, ctx->handle, &res,
                                    sqlite_setup[i], 0)) == 5 && tries++ < 200) {
            apr_sleep(apr_time_from_msec(50));
        }

        if (rc != 0) {
            fprintf(stderr, "%s: cannot set up the sqlite3 connection (%s): %s\n",
                    progname, sqlite_setup[i],
                    apr_dbd_error(ctx->driver, ctx->handle, rc));
            return EXIT_FAIL;
        }
        while (apr_dbd_get_row(ctx->driver, ctx->pool, res, &row, -1) == 0) {
        }
    }
    {
        int nrows = 0;
        int rc = apr_dbd_query(ctx->driver, ctx->handle, &nrows,
                               "PRAGMA foreign_keys = ON");
        if (rc != 0) {
            fprintf(stderr, "%s: cannot set up the sqlite3 connection: %s\n",
                    progname, apr_dbd_error(ctx->driver, ctx->handle, rc));
            return EXIT_FAIL;
        }
    }
    return EXIT_OK;
}

/* Every argument must be a schema version. */
static int check_versions(int argc, const char *const *argv)
{
    int i;
    int v;

    for (i = 0; i < argc; i++) {
        if (!parse_version(argv[i], &v)) {
            return usage_error("not a version number: '%s'", argv[i]);
        }
    }
    return EXIT_OK;
}

static int fail(const admin_ctx_t *ctx, apr_status_t rv, const char *err)
{
    char buf[256];

    fprintf(stderr, "%s: %s: %s\n", progname, ctx->command,
            err ? err : apr_strerror(rv, buf, sizeof(buf)));
    return EXIT_FAIL;
}

static int cmd_migrate_status(admin_ctx_t *ctx, int argc,
                              const char *const *argv)
{
    int latest = authsvc_migrate_latest(ctx->driver_name);
    const authsvc_migration_t *list;
    const char *err = NULL;
    apr_status_t rv;
    int current = 0;
    int count = 0;
    int i;

    (void)argc;
    (void)argv;
    rv = authsvc_migrate_current(ctx->pool, ctx->driver, ctx->handle, &current,
                                 &err);
    if (rv != APR_SUCCESS) {
        return fail(ctx, rv, err);
    }
    list = authsvc_migrate_list(ctx->driver_name, &count);
    printf("driver:          %s\n", ctx->driver_name);
    printf("current version: %d\n", current);
    printf("latest version:  %d\n", latest);
    if (current > latest) {
        printf("database is newer than this build: upgrade mod_authsvc\n");
    }
    else if (current == latest) {
        printf("up to date\n");
    }
    else {
        printf("pending:\n");
        for (i = current; i < count; i++) {
            printf("  %04d_%s\n", list[i].version, list[i].name);
        }
    }
    return EXIT_OK;
}

/* migrate up [N] / migrate down N: move the schema, then say where it is. */
static int migrate_to(admin_ctx_t *ctx, int up, int target)
{
    const char *err = NULL;
    apr_status_t rv;
    int moved = 0;
    int now = 0;

    rv = up ? authsvc_migrate_up(ctx->pool, ctx->driver, ctx->handle, target, &moved,
                                 &err)
            : authsvc_migrate_down(ctx->pool, ctx->driver, ctx->handle, target, &moved,
                                   &err);
    if (moved > 0 || rv == APR_SUCCESS) {
        printf("%s %d migration(s)\n", up ? "applied" : "reverted", moved);
    }
    if (rv != APR_SUCCESS) {
        return fail(ctx, rv, err);
    }
    rv = authsvc_migrate_current(ctx->pool, ctx->driver, ctx->handle, &now, &err);
    if (rv != APR_SUCCESS) {
        return fail(ctx, rv, err);
    }
    printf("schema version now %d\n", now);
    return EXIT_OK;
}

static int cmd_migrate_up(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    int target = -1;

    if (argc == 1) {
        parse_version(argv[0], &target);    /* checked by check_versions() */
    }
    return migrate_to(ctx, 1, target);
}

static int cmd_migrate_down(admin_ctx_t *ctx, int argc,
                            const char *const *argv)
{
    int target = 0;

    (void)argc;
    parse_version(argv[0], &target);        /* checked by check_versions() */
    return migrate_to(ctx, 0, target);
}

/* ---- commands on one account: helpers, user unlock ---------------------- */

/* 0003_abuse added the lockout columns to users. */
#define UNLOCK_MIN_VERSION 3

/* Rows of a query as strings: cells[row * ncols + col], NULL for SQL NULL. */
typedef struct {
    int nrows;
    int ncols;
    const char **cells;
} rows_t;

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

/* Prepare sql (apr_dbd placeholders: %s, %lld) and run it with string arguments.
 * With rows NULL it is a statement without result rows; else every row is read
 * (to the end, so the connection is left clean) into *rows. On failure prints
 * "authsvc-admin: COMMAND: WHAT: message" and returns 0. */
static int db_run(admin_ctx_t *ctx, const char *label, const char *sql,
                  const char *what, int nargs, const char **args, rows_t *rows)
{
    apr_dbd_prepared_t *st = NULL;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *cells;
    int rc, n = 0, c;

    rc = apr_dbd_prepare(ctx->driver, ctx->pool, ctx->handle, sql, label, &st);
    if (rc == 0 && rows == NULL) {
        rc = apr_dbd_pquery(ctx->driver, ctx->pool, ctx->handle, &n, st, nargs, args);
    }
    else if (rc == 0) {
        /* random access (1): the pgsql driver then reports an error here rather
         * than as "no rows" later. */
        rc = apr_dbd_pselect(ctx->driver, ctx->pool, ctx->handle, &res, st, 1, nargs,
                             args);
    }
    if (rc != 0) {
        fprintf(stderr, "%s: %s: %s: %s\n", progname, ctx->command, what,
                db_error(ctx, rc));
        return 0;
    }
    if (rows == NULL) {
        return 1;
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
static int db_plain(admin_ctx_t *ctx, const char *sql)
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
static void db_rollback(admin_ctx_t *ctx)
{
    int n = 0;

    (void)apr_dbd_query(ctx->driver, ctx->handle, &n, "ROLLBACK");
}

static int is_sqlite(const admin_ctx_t *ctx)
{
    return strcmp(ctx->driver_name, "sqlite3") == 0;
}

/* LOGIN: not empty, valid UTF-8 (PostgreSQL refuses anything else), and a valid
 * address when it has an '@' (no other can be stored). */
static int check_login(int argc, const char *const *argv)
{
    const char *login = argv[0];
    size_t len = strlen(login);
    const char *msg = NULL;
    const char *email = NULL;
    apr_pool_t *p = NULL;
    int rc = EXIT_OK;

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

/* The account LOGIN names, read inside the transaction (and, on PostgreSQL, locked
 * FOR UPDATE): 1 with *id and *value, the value of the SQL expression `column` in
 * that row (NULL for SQL NULL), 0 when there is none, -1 on a database error
 * (printed). An email is looked up as the module stores it; anything else as a
 * user id first, then as a username in any case. */
static int find_account(admin_ctx_t *ctx, const char *login, const char *column,
                        const char **id, const char **value)
{
    static const char *const by[][2] = {
        {"authsvc_admin_user_by_email", "email = %s"},
        {"authsvc_admin_user_by_id", "id = %s"},
        {"authsvc_admin_user_by_username", "lower(username) = lower(%s)"},
    };
    const char *key = login;
    int first = 1, last = 2, i;

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
                                      "WHERE ", by[i][1],
                                      is_sqlite(ctx) ? "" : " FOR UPDATE", NULL);
        rows_t rows;

        if (!db_run(ctx, by[i][0], sql, "looking up the account", 1, &key, &rows)) {
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
 * EXIT_FAIL, the message printed and no transaction left open. */
static int begin_on_account(admin_ctx_t *ctx, int min_version, const char *login,
                            const char *column, const char **id, const char **value)
{
    const char *err = NULL;
    apr_status_t rv;
    int version = 0, found;

    rv = authsvc_migrate_current(ctx->pool, ctx->driver, ctx->handle, &version, &err);
    if (rv != APR_SUCCESS) {
        return fail(ctx, rv, err);
    }
    if (version < min_version) {
        fprintf(stderr, "%s: %s: the database is at schema version %d; this command "
                "needs version %d or later (run '%s migrate up')\n", progname,
                ctx->command, version, min_version, progname);
        return EXIT_FAIL;
    }
    if (!db_plain(ctx, is_sqlite(ctx) ? "BEGIN IMMEDIATE" : "BEGIN")) {
        return EXIT_FAIL;
    }
    found = find_account(ctx, login, column, id, value);
    if (found <= 0) {
        db_rollback(ctx);
        if (found == 0) {
            fprintf(stderr, "%s: %s: no such user: '%s' (not the email, username or "
                    "id of any account)\n", progname, ctx->command, login);
        }
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* COMMIT the command's transaction: 1, or 0 with the error printed (and the
 * transaction rolled back). */
static int db_commit(admin_ctx_t *ctx)
{
    if (!db_plain(ctx, "COMMIT")) {
        db_rollback(ctx);
        return 0;
    }
    return 1;
}

/* The audit row of an administrator's change to account id, in the open
 * transaction: event, detail {"reason":"admin"}, the login as given, no ip, user
 * agent or request id. 1 on success, 0 on failure (printed). */
static int audit_admin(admin_ctx_t *ctx, const char *event, const char *id,
                       const char *login, apr_int64_t now)
{
    const char *args[] = {apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT, now), event, id,
                          login};

    return db_run(ctx, "authsvc_admin_audit",
                  "INSERT INTO audit_log (at, event, user_id, login, ip, user_agent, "
                  "request_id, detail) VALUES (%lld, %s, %s, %s, NULL, NULL, NULL, "
                  "'{\"reason\":\"admin\"}')",
                  "writing the audit row", 4, args, NULL);
}

/* Clear the lockout columns of account id and write the audit row, in the open
 * transaction. 1 on success, 0 on failure (printed). */
static int clear_lockout(admin_ctx_t *ctx, const char *id, const char *login,
                         apr_int64_t now)
{
    const char *set[] = {id};

    return db_run(ctx, "authsvc_admin_user_unlock",
                  "UPDATE users SET failed_logins = 0, failed_window_start = NULL, "
                  "locked_until = NULL, lockouts = 0, hour_failures = 0, "
                  "hour_start = NULL WHERE id = %s",
                  "clearing the lockout", 1, set, NULL)
        && audit_admin(ctx, "account_unlocked", id, login, now);
}

/* Epoch seconds as 2026-11-21T08:00:00Z. */
static const char *iso8601(apr_pool_t *p, apr_int64_t t)
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

/* user unlock LOGIN: one transaction that finds the account, clears its lockout
 * and writes the audit row. */
static int cmd_user_unlock(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *login = argv[0];
    const char *id = NULL, *locked = NULL;
    apr_int64_t now = apr_time_sec(apr_time_now());
    apr_int64_t until;
    int rc;

    (void)argc;
    rc = begin_on_account(ctx, UNLOCK_MIN_VERSION, login, "locked_until", &id, &locked);
    if (rc != EXIT_OK) {
        return rc;
    }
    if (!clear_lockout(ctx, id, login, now)) {
        db_rollback(ctx);
        return EXIT_FAIL;
    }
    if (!db_commit(ctx)) {
        return EXIT_FAIL;
    }
    until = locked ? apr_atoi64(locked) : 0;
    if (until > now) {
        printf("unlocked %s (was locked until %s)\n", id, iso8601(ctx->pool, until));
    }
    else {
        printf("%s was not locked; failure counter cleared\n", id);
    }
    return EXIT_OK;
}

/* ---- mfa reset ---------------------------------------------------------- */

/* 0004_mfa added the second factor: the TOTP columns of users, mfa_recovery_codes
 * and mfa_challenges. */
#define MFA_MIN_VERSION 4

/* 1 when the account has two-step sign-in: a confirmed secret (what
 * DELETE /users/me/mfa turns off) or an enabled time (what sign-in and the guard
 * read); they go together, but either alone must be cleared too. An enrollment not
 * yet confirmed (totp_pending) is not two-step sign-in: it expires by itself. */
#define MFA_ON_SQL \
    "CASE WHEN totp_secret IS NOT NULL OR mfa_enabled_at IS NOT NULL THEN 1 ELSE 0 END"

/* Turn off the second factor of account id and write the audit row, in the open
 * transaction: the TOTP columns (with a pending enrollment and the last used step),
 * every recovery code (used or not) and every sign-in waiting for its second step.
 * 1 on success, 0 on failure (printed). */
static int clear_mfa(admin_ctx_t *ctx, const char *id, const char *login,
                     apr_int64_t now)
{
    const char *set[] = {apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT, now), id};
    const char *of[] = {id};

    return db_run(ctx, "authsvc_admin_mfa_reset",
                  "UPDATE users SET totp_secret = NULL, totp_pending = NULL, "
                  "totp_pending_at = NULL, totp_last_step = 0, mfa_enabled_at = NULL, "
                  "updated_at = %lld WHERE id = %s",
                  "turning two-step sign-in off", 2, set, NULL)
        && db_run(ctx, "authsvc_admin_mfa_codes",
                  "DELETE FROM mfa_recovery_codes WHERE user_id = %s",
                  "deleting the recovery codes", 1, of, NULL)
        && db_run(ctx, "authsvc_admin_mfa_challenges",
                  "DELETE FROM mfa_challenges WHERE user_id = %s",
                  "deleting the sign-in challenges", 1, of, NULL)
        /* A session that passed the old factor must not count for a new one. */
        && db_run(ctx, "authsvc_admin_mfa_sessions",
                  "UPDATE sessions SET mfa_at = NULL WHERE user_id = %s",
                  "clearing the sessions' second factor", 1, of, NULL)
        && audit_admin(ctx, "mfa_disabled", id, login, now);
}

/* mfa reset LOGIN: one transaction that finds the account and, when it has
 * two-step sign-in, turns it off and writes the audit row. No mail: the
 * administrator tells the user. */
static int cmd_mfa_reset(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *login = argv[0];
    const char *id = NULL, *on = NULL;
    apr_int64_t now = apr_time_sec(apr_time_now());
    int rc;

    (void)argc;
    rc = begin_on_account(ctx, MFA_MIN_VERSION, login, MFA_ON_SQL, &id, &on);
    if (rc != EXIT_OK) {
        return rc;
    }
    if (on == NULL || strcmp(on, "1") != 0) {
        db_rollback(ctx);               /* nothing was written */
        printf("%s had no two-step sign-in; nothing changed\n", id);
        return EXIT_OK;
    }
    if (!clear_mfa(ctx, id, login, now)) {
        db_rollback(ctx);
        return EXIT_FAIL;
    }
    if (!db_commit(ctx)) {
        return EXIT_FAIL;
    }
    printf("two-step sign-in turned off for %s\n", id);
    return EXIT_OK;
}

/* ---- keygen ---------------------------------------------------------------- */

/* --alg ALG and --out FILE (or --alg=ALG, --out=FILE). EXIT_OK, or
 * EXIT_USAGE with the message printed. */
static int keygen_options(admin_ctx_t *ctx, int argc, const char *const *argv,
                          authsvc_jwt_alg_t *alg, const char **out)
{
    static const apr_getopt_option_t opts[] = {
        { "alg", 'a', 1, "algorithm" },
        { "out", 'o', 1, "output file" },
        { NULL, 0, 0, NULL }
    };
    apr_getopt_t *os;
    const char *arg;
    apr_status_t rv;
    int opt;

    /* apr_getopt skips argv[0]: the command's own name is just before. */
    apr_getopt_init(&os, ctx->pool, argc + 1, argv - 1);
    while ((rv = apr_getopt_long(os, opts, &opt, &arg)) == APR_SUCCESS) {
        if (opt == 'o') {
            *out = arg;
        }
        else if ((*alg = authsvc_jwt_alg_parse(arg)) == AUTHSVC_JWT_NONE) {
            return usage_error("unknown algorithm '%s' (EdDSA, ES256, RS256 or "
                               "HS256)", arg);
        }
    }
    if (rv != APR_EOF) {
        fprintf(stderr, "Try '%s keygen --help'.\n", progname);
        return EXIT_USAGE;
    }
    if (os->ind < os->argc) {
        return usage_error("keygen takes no argument '%s'", os->argv[os->ind]);
    }
    return EXIT_OK;
}

/* text into a new file, mode 0600. O_EXCL refuses any existing path (a
 * symlink too), so nothing is overwritten; a file left half-written is
 * removed. */
static int write_new_file(const char *path, const char *text)
{
    size_t len = strlen(text), done = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
    int err = 0;
    ssize_t n;

    if (fd < 0) {
        fprintf(stderr, "%s: keygen: cannot create %s: %s%s\n", progname, path,
                strerror(errno), errno == EEXIST ? " (not overwritten)" : "");
        return EXIT_FAIL;
    }
    if (fchmod(fd, 0600) != 0) {
        err = errno;
    }
    while (err == 0 && done < len) {
        n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            err = n < 0 ? errno : EIO;
            break;
        }
        done += (size_t)n;
    }
    if (err == 0 && fsync(fd) != 0) {
        err = errno;
    }
    if (close(fd) != 0 && err == 0) {
        err = errno;
    }
    if (err != 0) {
        unlink(path);
        fprintf(stderr, "%s: keygen: cannot write %s: %s\n", progname, path,
                strerror(err));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int write_stdout(const char *text)
{
    if (fputs(text, stdout) == EOF || fflush(stdout) != 0) {
        fprintf(stderr, "%s: keygen: cannot write to standard output: %s\n",
                progname, strerror(errno));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* The new key is loaded back as the module will load it, which also gives
 * its kid; only then is it written. */
static int cmd_keygen(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    authsvc_jwt_alg_t alg = AUTHSVC_JWT_EDDSA;
    authsvc_jwt_keyset_t *ks = NULL;
    const char *out = NULL, *text = NULL, *err;
    int rc = keygen_options(ctx, argc, argv, &alg, &out);

    if (rc != EXIT_OK) {
        return rc;
    }
    err = authsvc_jwt_keygen(ctx->pool, alg, &text);
    if (err == NULL) {
        err = authsvc_jwt_keyset_add_text(ctx->pool, &ks, text, strlen(text), alg,
                                          0);
    }
    if (err != NULL) {
        fprintf(stderr, "%s: keygen: %s\n", progname, err);
        return EXIT_FAIL;
    }
    rc = out ? write_new_file(out, text) : write_stdout(text);
    if (rc == EXIT_OK) {
        fprintf(stderr, "%s\n",
                authsvc_jwt_key_kid(authsvc_jwt_keyset_signer(ks)));
    }
    return rc;
}

/* Global options; returns EXIT_OK and the index of the first non-option
 * argument in *first, or an exit status (help printed: -1). */
static int parse_options(admin_ctx_t *ctx, int argc, const char *const *argv,
                         int *first)
{
    static const apr_getopt_option_t opts[] = {
        { "driver", 'd', 1, "apr_dbd driver name" },
        { "params", 'p', 1, "connection parameters" },
        { "help",   'h', 0, "help" },
        { NULL, 0, 0, NULL }
    };
    apr_getopt_t *os;
    const char *arg;
    apr_status_t rv;
    int opt;

    apr_getopt_init(&os, ctx->pool, argc, argv);
    while ((rv = apr_getopt_long(os, opts, &opt, &arg)) == APR_SUCCESS) {
        switch (opt) {
        case 'd':
            ctx->driver_name = arg;
            break;
        case 'p':
            ctx->params = arg;
            break;
        case 'h':
            print_overview(ctx->pool, stdout, NULL);
            return -1;
        }
    }
    if (rv != APR_EOF) {
        fprintf(stderr, "Try '%s --help'.\n", progname);
        return EXIT_USAGE;
    }
    *first = os->ind;
    return EXIT_OK;
}

static int has_help_flag(int argc, const char *const *argv)
{
    int i;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return 1;
        }
    }
    return 0;
}

/* The command argv names (one word, or GROUP COMMAND), with *argc and *argv
 * moved past its name. NULL when there is none: the overview or a message was
 * printed and *rc is the exit status. */
static const admin_cmd_t *lookup(admin_ctx_t *ctx, int *argc,
                                 const char *const **argv, int *rc)
{
    const char *const *av = *argv;
    const admin_cmd_t *cmd;

    *rc = EXIT_USAGE;
    if (*argc < 1) {
        print_overview(ctx->pool, stderr, NULL);
        return NULL;
    }
    if (!group_exists(av[0])) {
        *rc = usage_error("unknown command group '%s'", av[0]);
        return NULL;
    }
    if ((cmd = find_command(av[0], "")) != NULL) {
        *argc -= 1;
        *argv += 1;
        return cmd;
    }
    if (*argc < 2 || strcmp(av[1], "--help") == 0
        || strcmp(av[1], "-h") == 0) {
        print_overview(ctx->pool, *argc < 2 ? stderr : stdout, av[0]);
        *rc = *argc < 2 ? EXIT_USAGE : EXIT_OK;
        return NULL;
    }
    cmd = find_command(av[0], av[1]);
    if (!cmd) {
        fprintf(stderr, "%s: unknown command '%s %s'\n", progname, av[0],
                av[1]);
        print_overview(ctx->pool, stderr, av[0]);
        return NULL;
    }
    *argc -= 2;
    *argv += 2;
    return cmd;
}

/* Find the command and check its arguments; a local one runs at once, the
 * others once the connection settings are checked and the database is open. */
static int dispatch(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const admin_cmd_t *cmd;
    int rc;

    if (!(cmd = lookup(ctx, &argc, &argv, &rc))) {
        return rc;
    }
    if (has_help_flag(argc, argv)) {
        print_command_help(ctx->pool, stdout, cmd);
        return EXIT_OK;
    }
    if (argc < cmd->min_args || argc > cmd->max_args) {
        fprintf(stderr, "%s: wrong number of arguments\n", progname);
        print_command_help(ctx->pool, stderr, cmd);
        return EXIT_USAGE;
    }
    if (cmd->check && (rc = cmd->check(argc, argv)) != EXIT_OK) {
        return rc;
    }
    ctx->command = apr_pstrcat(ctx->pool, cmd->group, *cmd->name ? " " : "",
                               cmd->name, NULL);
    if (cmd->local) {
        return cmd->run(ctx, argc, argv);
    }
    if (!ctx->driver_name || !*ctx->driver_name) {
        return usage_error("no database driver: use --driver or set "
                           "AUTHSVC_DBD_DRIVER");
    }
    if (!authsvc_migrate_list(ctx->driver_name, NULL)) {
        return usage_error("unsupported driver '%s' (sqlite3 or pgsql)",
                           ctx->driver_name);
    }
    if (!ctx->params) {
        return usage_error("no connection parameters: use --params or set "
                           "AUTHSVC_DBD_PARAMS");
    }
    rc = open_db(ctx);
    if (rc != EXIT_OK) {
        return rc;
    }
    rc = cmd->run(ctx, argc, argv);
    apr_dbd_close(ctx->driver, ctx->handle);
    return rc;
}

int main(int argc, const char *const *argv)
{
    admin_ctx_t ctx = { 0 };
    char *env = NULL;
    int first = 0;
    int rc;

    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS
        || apr_pool_create(&ctx.pool, NULL) != APR_SUCCESS
        || apr_dbd_init(ctx.pool) != APR_SUCCESS) {
        fprintf(stderr, "%s: cannot initialise APR\n", progname);
        return EXIT_FAIL;
    }
    if (apr_env_get(&env, "AUTHSVC_DBD_DRIVER", ctx.pool) == APR_SUCCESS) {
        ctx.driver_name = env;
    }
    if (apr_env_get(&env, "AUTHSVC_DBD_PARAMS", ctx.pool) == APR_SUCCESS) {
        ctx.params = env;
    }
    rc = parse_options(&ctx, argc, argv, &first);
    if (rc == EXIT_OK) {
        rc = dispatch(&ctx, argc - first, argv + first);
    }
    else if (rc < 0) {
        rc = EXIT_OK;
    }
    apr_pool_destroy(ctx.pool);
    apr_terminate();
    return rc;
}

/* authsvc-admin — command-line administration for mod_authsvc.
 *
 *   authsvc-admin [--driver sqlite3|pgsql] [--params STRING] [--config FILE]
 *                 GROUP COMMAND [ARGS]
 *   authsvc-admin migrate status|up [N]|down N
 *   authsvc-admin user add|show|list|disable|enable|delete|unlock|verify|
 *                 set-password|role ...
 *   authsvc-admin sessions list|revoke ...
 *   authsvc-admin mfa reset LOGIN
 *   authsvc-admin audit [...]
 *   authsvc-admin import FILE [--format jsonl|csv] [--dry-run]
 *   authsvc-admin keygen [--alg EdDSA|ES256|RS256|HS256] [--out FILE]
 *   authsvc-admin breach-index IN OUT
 *
 * --driver and --params take the same strings as mod_dbd's DBDriver and
 * DBDParams; --config reads them from an httpd configuration file; else
 * $AUTHSVC_DBD_DRIVER and $AUTHSVC_DBD_PARAMS. Exit status: 0 ok, 1 the
 * operation failed (message on stderr), 2 usage, 3 no such account.
 *
 * Commands live in one table (group, name, arguments, help, handler,
 * options); a new command is a handler plus a row. "authsvc-admin GROUP
 * COMMAND --help" prints a command's help without touching the database. A
 * command of one word (keygen) is a row with an empty name; a local one
 * needs no database. This file holds the table, the dispatcher and the
 * migrate, unlock, mfa and keygen commands; tools/admin/ the rest (admin.h).
 *
 * Build: the Makefile's ADMIN_SRCS with its PURE units.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
#include "admin/admin.h"


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
    const apr_getopt_option_t *opts;  /* its --options (NULL: parses its own) */
} admin_cmd_t;

static int check_versions(const admin_ctx_t *ctx, int argc, const char *const *argv);
static int cmd_migrate_status(admin_ctx_t *ctx, int argc,
                              const char *const *argv);
static int cmd_migrate_up(admin_ctx_t *ctx, int argc, const char *const *argv);
static int cmd_migrate_down(admin_ctx_t *ctx, int argc,
                            const char *const *argv);
static int cmd_user_unlock(admin_ctx_t *ctx, int argc, const char *const *argv);
static int cmd_mfa_reset(admin_ctx_t *ctx, int argc, const char *const *argv);
static int cmd_keygen(admin_ctx_t *ctx, int argc, const char *const *argv);

/* The --options of the commands that take some (a flag has has_arg 0). */
static const apr_getopt_option_t no_opts[] = {{ NULL, 0, 0, NULL }};
static const apr_getopt_option_t json_opts[] = {
    { "json", 'j', 0, "JSON lines" }, { NULL, 0, 0, NULL }};
static const apr_getopt_option_t pw_opts[] = {
    { "password-stdin", 'P', 0, "password from stdin" }, { NULL, 0, 0, NULL }};
static const apr_getopt_option_t all_opts[] = {
    { "all", 'A', 0, "every account" }, { NULL, 0, 0, NULL }};
static const apr_getopt_option_t add_opts[] = {
    { "username", 'u', 1, "username" },
    { "first-name", 'f', 1, "first name" },
    { "last-name", 'l', 1, "last name" },
    { "role", 'r', 1, "role" },
    { "verified", 'v', 0, "verified" },
    { "password-stdin", 'P', 0, "password from stdin" },
    { NULL, 0, 0, NULL }};
static const apr_getopt_option_t list_opts[] = {
    { "search", 's', 1, "substring" },
    { "status", 't', 1, "active or disabled" },
    { "limit", 'n', 1, "page size" },
    { "after", 'a', 1, "cursor" },
    { "json", 'j', 0, "JSON lines" },
    { NULL, 0, 0, NULL }};
static const apr_getopt_option_t audit_opts[] = {
    { "user", 'u', 1, "account" },
    { "event", 'e', 1, "event name" },
    { "since", 's', 1, "from" },
    { "until", 't', 1, "to" },
    { "limit", 'n', 1, "count" },
    { "before", 'b', 1, "cursor" },
    { NULL, 0, 0, NULL }};
static const apr_getopt_option_t import_opts[] = {
    { "format", 'f', 1, "jsonl or csv" },
    { "dry-run", 'd', 0, "write nothing" },
    { NULL, 0, 0, NULL }};

/* The tool cannot reach the module's cache. */
#define SESSIONS_CACHE_NOTE \
    "\nA session a server has cached stays usable on that server for up to the\n" \
    "module's cache lifetime (AuthsvcCacheTTL, and the per-process cache).\n"

static const admin_cmd_t commands[] = {
    { "migrate", "status", "", 0, 0,
      "show the schema version and the pending migrations",
      "Prints the database's schema version, the latest version this build\n"
      "knows, and the migrations not yet applied (or \"up to date\").\n"
      "Creates nothing in the database.\n",
      NULL, cmd_migrate_status, 0, NULL },
    { "migrate", "up", "[N]", 0, 1,
      "apply pending migrations (up to version N)",
      "Applies the pending migrations up to version N (default: the latest),\n"
      "each in its own transaction. Safe to run while httpd runs the same\n"
      "migrations. Refuses a database newer than this build.\n",
      check_versions, cmd_migrate_up, 0, NULL },
    { "migrate", "down", "N", 1, 1,
      "roll back to version N (0 = empty schema)",
      "Runs the down scripts of every migration above version N, newest\n"
      "first, each in its own transaction. This drops tables and their data;\n"
      "it does not ask for confirmation.\n",
      check_versions, cmd_migrate_down, 0, NULL },
    { "user", "unlock", "LOGIN", 1, 1,
      "clear an account's sign-in lockout",
      "Clears the lockout state of one account: the failed sign-in counter,\n"
      "the lock (locked_until), the count of earlier locks that lengthens the\n"
      "next one, and the hourly failure cap. Writes an account_unlocked audit\n"
      "row in the same transaction, whether or not the account was locked.\n"
      "\n"
      "LOGIN is an email address when it contains '@' (compared as the module\n"
      "stores it: lower-cased), else a user id or a username (any case).\n"
      "Prints \"unlocked ID (was locked until TIME)\" or \"ID was not locked;\n"
      "failure counter cleared\". Exit 3 when no account matches, 1 when the\n"
      "database is below schema version 3 (run migrate up).\n",
      check_login, cmd_user_unlock, 0, no_opts },
    { "user", "add", "EMAIL [OPTIONS]", 1, 1,
      "create an account (password from standard input)",
      "Creates an active account. The password is read from standard input\n"
      "(one line; on a terminal it is asked twice without echo), never from the\n"
      "command line, and must pass the module's default policy: 12 to 128\n"
      "characters, not a common password, not containing the email's local part,\n"
      "the username or a name, nor in the breach corpus of --breach-corpus or\n"
      "--config. It is stored as Argon2id at the default\n"
      "parameters (the module rehashes it at first sign-in if yours differ).\n"
      "\n"
      "  --username NAME      3-32 letters, digits, '.', '_', '-'\n"
      "  --first-name NAME    --last-name NAME   up to 100 characters\n"
      "  --role ROLE          a role (repeat, or separate with spaces or commas)\n"
      "  --verified           mark the email address as verified\n"
      "  --password-stdin     read the password from standard input (the default)\n"
      "\n"
      "Prints the new account's id. Audit event admin_user_created. Exit 1 when\n"
      "the email or username is taken or the password is refused.\n",
      check_user_add, cmd_user_add, 0, add_opts },
    { "user", "show", "LOGIN", 1, 1,
      "print one account as JSON",
      "Prints the account LOGIN names as one JSON object: id, email, username,\n"
      "first_name, last_name, email_verified, mfa_enabled, roles, created_at (as\n"
      "GET /users/me), plus status, updated_at, locked, locked_until, mfa and\n"
      "sessions (the number of live sessions). Exit 3 when no account matches.\n",
      check_login, cmd_user_show, 0, no_opts },
    { "user", "list", "[OPTIONS]", 0, 0,
      "list or search accounts",
      "Lists accounts in id order, a page at a time.\n"
      "\n"
      "  --search S     only accounts whose email, username, first or last name\n"
      "                 contains S (any case; % and _ are literal)\n"
      "  --status ST    active or disabled\n"
      "  --limit N      page size, 1 to 1000 (default 50)\n"
      "  --after ID     the page after the account ID (the cursor printed as\n"
      "                 \"next: ID\" on standard error after a full page)\n"
      "  --json         one JSON object per line (as user show, without the\n"
      "                 session count) instead of a table\n",
      check_user_list, cmd_user_list, 0, list_opts },
    { "user", "disable", "LOGIN", 1, 1,
      "disable an account and end its sessions",
      "Sets the account's status to disabled (it can no longer sign in) and, in\n"
      "the same transaction, revokes all its sessions and refresh tokens.\n"
      "Audit event admin_user_disabled. A disabled account is left as it is.\n"
      SESSIONS_CACHE_NOTE,
      check_login, cmd_user_disable, 0, no_opts },
    { "user", "enable", "LOGIN", 1, 1,
      "enable a disabled account",
      "Sets the account's status back to active. Audit event admin_user_enabled.\n"
      "An active account is left as it is.\n",
      check_login, cmd_user_enable, 0, no_opts },
    { "user", "delete", "LOGIN", 1, 1,
      "delete an account and everything it owns",
      "Deletes the account with its sessions, refresh tokens, mailed tokens,\n"
      "recovery codes and password history, as DELETE /users/me does. Its audit\n"
      "rows stay, without personal data (login, ip, user agent, detail); an\n"
      "admin_user_deleted row is added. There is no confirmation.\n"
      SESSIONS_CACHE_NOTE,
      check_login, cmd_user_delete, 0, no_opts },
    { "user", "verify", "LOGIN", 1, 1,
      "mark an account's email address as verified",
      "Marks the account's email address as verified (as the mailed link does).\n"
      "Audit event email_verified. An address already verified is left as it\n"
      "is.\n",
      check_login, cmd_user_verify, 0, no_opts },
    { "user", "set-password", "LOGIN", 1, 1,
      "set an account's password (from standard input)",
      "Reads the new password from standard input (as user add; never from the\n"
      "command line), checks it against the module's default policy, stores it\n"
      "as Argon2id and, in the same transaction, revokes all the account's\n"
      "sessions and refresh tokens. Audit event password_changed. The module's\n"
      "AuthsvcPasswordHistory is not consulted.\n"
      SESSIONS_CACHE_NOTE,
      check_login, cmd_user_set_password, 0, pw_opts },
    { "user", "role", "add|remove LOGIN ROLE", 3, 3,
      "grant or take away a role",
      "Adds ROLE to the account's roles, or removes it. ROLE is 1 to 64 letters,\n"
      "digits, '.', '_', '-' or ':'. Audit event admin_role_added or\n"
      "admin_role_removed (detail with the role); nothing is written when the\n"
      "account already has (or lacks) the role.\n"
      "Sessions the module has cached keep their old roles for up to the\n"
      "module's cache lifetime (AuthsvcCacheTTL).\n",
      check_user_role, cmd_user_role, 0, no_opts },
    { "mfa", "reset", "LOGIN", 1, 1,
      "turn off an account's two-step sign-in",
      "Turns two-step sign-in (MFA) off for one account whose owner lost the\n"
      "authenticator and every recovery code. In one transaction it removes the\n"
      "TOTP secret, the recovery codes and any sign-in waiting for its second\n"
      "step, and writes an mfa_disabled audit row. An\n"
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
      "sign-in; nothing changed\". Exit 3 when no account matches, 1 when the\n"
      "database is below schema version 4 (run migrate up).\n",
      check_login, cmd_mfa_reset, 0, no_opts },
    { "sessions", "list", "LOGIN [--json]", 1, 1,
      "list an account's live sessions",
      "Lists the sessions of one account that are still live (as GET\n"
      "/users/me/sessions): id, created, last seen, expiry, address, user\n"
      "agent. --json prints one JSON object per line.\n",
      check_login, cmd_sessions_list, 0, json_opts },
    { "sessions", "revoke", "LOGIN | --all", 0, 1,
      "end the sessions of one account, or of every account",
      "Revokes every live session and refresh token of the account LOGIN, or\n"
      "with --all of every account, and writes one admin_sessions_revoked audit\n"
      "row per account that had any, in one transaction. Prints the number of\n"
      "sessions ended.\n"
      SESSIONS_CACHE_NOTE,
      check_sessions_revoke, cmd_sessions_revoke, 0, all_opts },
    { "audit", "", "[OPTIONS]", 0, 0,
      "print audit events as JSON lines",
      "Prints audit events, newest first, one JSON object per line: id, at\n"
      "(ISO 8601), event, user_id, login, ip, user_agent, request_id, detail.\n"
      "\n"
      "  --user LOGIN   events of this account (an email, username or user id;\n"
      "                 the id of a deleted account works too)\n"
      "  --event E      only this event name\n"
      "  --since T      at or after T, --until T  before T: ISO 8601\n"
      "                 (2026-11-21, 2026-11-21T08:00:00Z) or Unix seconds\n"
      "  --limit N      at most N events, 1 to 10000 (default 100)\n"
      "  --before ID    events older than the event ID (for paging)\n",
      check_audit, cmd_audit, 0, audit_opts },
    { "import", "", "FILE [--format jsonl|csv] [--dry-run]", 1, 1,
      "create accounts from a file of password hashes",
      "Creates one account per record of FILE ('-': standard input). JSON lines:\n"
      "one object per line; CSV: a header line naming the columns, RFC 4180\n"
      "quoting. Fields: email (required), password_hash (required), username,\n"
      "first_name, last_name, verified (true/false; CSV also 1/0, yes/no),\n"
      "roles (space-separated, or a JSON array). --format defaults to csv for a\n"
      "name ending in .csv, else jsonl.\n"
      "\n"
      "password_hash is any format the module verifies: $argon2id$/$argon2i$,\n"
      "bcrypt $2a$/$2b$/$2y$, Werkzeug pbkdf2:sha256:... and scrypt:..., passlib\n"
      "$pbkdf2-sha256$... The module verifies it at the first sign-in and\n"
      "replaces it with Argon2id. Checking a hash computes it once (with an\n"
      "empty password), so a large file of slow hashes takes a while.\n"
      "\n"
      "Each record is checked and written on its own (all or nothing per line,\n"
      "audit event admin_user_imported). A bad record is reported on standard\n"
      "error as \"line N: reason\" and skipped; the summary goes to standard\n"
      "output. --dry-run checks everything (also against the database) and\n"
      "writes nothing. Exit 1 when any record failed.\n",
      check_import, cmd_import, 0, import_opts },
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
      NULL, cmd_keygen, 1, NULL },
    { "breach-index", "", "IN OUT", 2, 2,
      "index a Pwned Passwords file for AuthsvcPasswordBreachCorpus",
      "Reads IN, the Have I Been Pwned \"Pwned Passwords\" SHA-1 file (HASH:COUNT\n"
      "lines sorted by hash, as the official downloader writes it; '-': standard\n"
      "input), and writes OUT, the compact index AuthsvcPasswordBreachCorpus\n"
      "also reads: a 32-octet header and 12 octets per hash (the first 8 octets\n"
      "of the SHA-1 and the count), about 10 GB for the full 850 million hashes\n"
      "against 36 GB of text. OUT is written as OUT.tmp and renamed when\n"
      "complete, so a running server never sees half an index (restart httpd to\n"
      "use the new one). A malformed or out-of-order line stops the build with\n"
      "its line number. Needs no database.\n",
      NULL, cmd_breach_index, 1, no_opts },
};

#define NCOMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))


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
            "usage: %s [--driver sqlite3|pgsql] [--params STRING] [--config FILE]\n"
            "                     [--breach-corpus FILE] GROUP COMMAND [ARGS]\n\n"
            "  --driver NAME    apr_dbd driver, as DBDriver\n"
            "  --params STRING  connection string, as DBDParams\n"
            "  --config FILE    read DBDriver and DBDParams from this httpd\n"
            "                   configuration file (and the files it Includes),\n"
            "                   and AuthsvcPasswordBreachCorpus/MinCount\n"
            "  --breach-corpus FILE\n"
            "                   refuse new passwords found in this breach corpus\n"
            "                   (as AuthsvcPasswordBreachCorpus; wins over --config's)\n"
            "  -h, --help       this help; GROUP COMMAND --help for a "
            "command's help\n\n"
            "--driver and --params win over --config, which wins over\n"
            "$AUTHSVC_DBD_DRIVER and $AUTHSVC_DBD_PARAMS.\n"
            "Exit status: 0 ok, 1 failed, 2 usage error, 3 no such account.\n"
            "\ncommands:\n", progname);
    for (i = 0; i < NCOMMANDS; i++) {
        const admin_cmd_t *c = &commands[i];

        if (group && strcmp(group, c->group) != 0) {
            continue;
        }
        fprintf(out, "  %-38s %s\n", synopsis(pool, c), c->summary);
    }
}

static void print_command_help(apr_pool_t *pool, FILE *out,
                               const admin_cmd_t *c)
{
    fprintf(out, "usage: %s %s%s\n\n%s", progname,
            c->local ? "" : "[--driver NAME] [--params STRING] [--config FILE]\n       ",
            synopsis(pool, c), c->help);
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
static int check_versions(const admin_ctx_t *ctx, int argc, const char *const *argv)
{
    int i;
    int v;

    (void)ctx;
    for (i = 0; i < argc; i++) {
        if (!parse_version(argv[i], &v)) {
            return usage_error("not a version number: '%s'", argv[i]);
        }
    }
    return EXIT_OK;
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
        && audit_admin(ctx, "account_unlocked", id, login, now, NULL);
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
        && audit_admin(ctx, "mfa_disabled", id, login, now, NULL);
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
 * argument in *first, or an exit status (help printed: -1). The connection
 * settings already in ctx (from the environment) give way to those of
 * --config, which give way to --driver and --params. */
static int parse_options(admin_ctx_t *ctx, int argc, const char *const *argv,
                         int *first)
{
    static const apr_getopt_option_t opts[] = {
        { "driver", 'd', 1, "apr_dbd driver name" },
        { "params", 'p', 1, "connection parameters" },
        { "config", 'c', 1, "httpd configuration file" },
        { "breach-corpus", 'b', 1, "breached-password corpus" },
        { "help",   'h', 0, "help" },
        { NULL, 0, 0, NULL }
    };
    const char *driver = NULL, *params = NULL, *config = NULL, *breach = NULL;
    apr_getopt_t *os;
    const char *arg;
    apr_status_t rv;
    int opt, rc;

    apr_getopt_init(&os, ctx->pool, argc, argv);
    while ((rv = apr_getopt_long(os, opts, &opt, &arg)) == APR_SUCCESS) {
        switch (opt) {
        case 'd':
            driver = arg;
            break;
        case 'p':
            params = arg;
            break;
        case 'c':
            config = arg;
            break;
        case 'b':
            breach = arg;
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
    if (config != NULL) {
        admin_config_t cf = {NULL, NULL, NULL, 0};

        if ((rc = config_read(ctx->pool, config, &cf)) != EXIT_OK) {
            return rc;
        }
        ctx->driver_name = cf.driver ? cf.driver : ctx->driver_name;
        ctx->params = cf.params ? cf.params : ctx->params;
        ctx->breach_min = cf.breach_min;
        breach = breach ? breach : cf.breach;
    }
    ctx->driver_name = driver ? driver : ctx->driver_name;
    ctx->params = params ? params : ctx->params;
    /* The passwords this tool sets meet the corpus the module refuses them by (opened
     * by the commands that set one). */
    if (breach != NULL && strcasecmp(breach, "none") != 0) {
        ctx->breach_path = breach;
    }
    *first = os->ind;
    return EXIT_OK;
}

/* A command's --options into ctx->opts (a repeated one adds a value), the other
 * arguments left in *argc and *argv. EXIT_OK, or EXIT_USAGE with the message printed. */
static int command_options(admin_ctx_t *ctx, const admin_cmd_t *cmd, int *argc,
                           const char *const **argv)
{
    apr_array_header_t *rest = apr_array_make(ctx->pool, 4, sizeof(const char *));
    apr_getopt_t *os;
    const char *arg;
    apr_status_t rv;
    int opt, i;

    static const char dash_mark[] = "\001-";
    const char **av = apr_pcalloc(ctx->pool, sizeof(*av) * (size_t)(*argc + 2));

    ctx->opts = apr_table_make(ctx->pool, 4);
    /* apr_getopt skips argv[0]: the command's own name is just before. A lone "-"
     * (standard input) is an argument, which apr_getopt would take for an option. */
    for (i = -1; i < *argc; i++) {
        av[i + 1] = i >= 0 && strcmp((*argv)[i], "-") == 0 ? dash_mark : (*argv)[i];
    }
    apr_getopt_init(&os, ctx->pool, *argc + 1, av);
    os->interleave = 1;
    os->errfn = NULL;
    while ((rv = apr_getopt_long(os, cmd->opts, &opt, &arg)) == APR_SUCCESS) {
        for (i = 0; cmd->opts[i].name != NULL; i++) {
            if (cmd->opts[i].optch == opt) {
                apr_table_add(ctx->opts, cmd->opts[i].name, arg ? arg : "");
            }
        }
    }
    if (rv != APR_EOF) {
        return usage_error("%s%s%s: %s '%s'", cmd->group, *cmd->name ? " " : "",
                           cmd->name, rv == APR_BADARG ? "a value is missing after"
                                                       : "unknown option",
                           os->argv[os->ind > 0 ? os->ind - 1 : 0]);
    }
    for (i = os->ind; i < os->argc; i++) {
        APR_ARRAY_PUSH(rest, const char *) = os->argv[i] == dash_mark ? "-" : os->argv[i];
    }
    *argc = rest->nelts;
    *argv = (const char *const *)rest->elts;
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
    if (cmd->opts && (rc = command_options(ctx, cmd, &argc, &argv)) != EXIT_OK) {
        return rc;
    }
    if (argc < cmd->min_args || argc > cmd->max_args) {
        fprintf(stderr, "%s: wrong number of arguments\n", progname);
        print_command_help(ctx->pool, stderr, cmd);
        return EXIT_USAGE;
    }
    ctx->command = apr_pstrcat(ctx->pool, cmd->group, *cmd->name ? " " : "",
                               cmd->name, NULL);
    if (cmd->check && (rc = cmd->check(ctx, argc, argv)) != EXIT_OK) {
        return rc;
    }
    if (cmd->local) {
        return cmd->run(ctx, argc, argv);
    }
    if (!ctx->driver_name || !*ctx->driver_name) {
        return usage_error("no database driver: use --driver or --config, or set "
                           "AUTHSVC_DBD_DRIVER");
    }
    if (!authsvc_migrate_list(ctx->driver_name, NULL)) {
        return usage_error("unsupported driver '%s' (sqlite3 or pgsql)",
                           ctx->driver_name);
    }
    if (!ctx->params) {
        return usage_error("no connection parameters: use --params or --config, or "
                           "set AUTHSVC_DBD_PARAMS");
    }
    rc = open_db(ctx);
    if (rc != EXIT_OK) {
        return rc;
    }
    ctx->conn_pool = ctx->pool;
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
    struct rlimit no_core = {0, 0};

    /* Passwords and connection strings pass through memory: never into a core file. */
    setrlimit(RLIMIT_CORE, &no_core);
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

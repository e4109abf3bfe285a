/* users.c - authsvc-admin's commands on accounts: user add|show|list|disable|
 * enable|delete|verify|set-password|role, sessions list|revoke, audit.
 *
 * Every change runs in one transaction with its audit row (detail
 * {"reason":"admin","via":"authsvc-admin"}). The tool cannot reach the module's
 * cache: a session it revokes stays usable for up to the cache lifetime on a
 * server that has cached it (said in --help and the man page).
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_time.h>

#include <openssl/crypto.h>

#include "account_limits.h"
#include "audit_sql.h"
#include "session_sql.h"

#include "admin.h"
#include "crypto.h"
#include "json.h"
#include "migrate.h"
#include "password.h"
#include "breach.h"
#include "policy.h"
#include "text.h"

/* The module's defaults (src/config.h AUTHSVC_DEFAULT_PW_MIN/MAX; src/flow_common.c
 * USERNAME_MIN/MAX and NAME_MAX_CP): those headers need httpd. */
#define PW_MIN        12
#define PW_MAX        128
#define USERNAME_MIN  3
#define USERNAME_MAX  32
#define NAME_MAX_CP   100
#define ROLE_SEPARATORS " \t\r\n,"
#define PASSWORD_READ_MAX 4096

/* A session the user sees in their list, as the module counts it (session_sql.h). */
#define LISTED AUTHSVC_SESSION_LIVE

/* The columns user_json() reads, in its order. */
#define USER_COLS                                                                      \
    "id, email, username, first_name, last_name, status, roles, email_verified_at, "  \
    "created_at, updated_at, locked_until, "                                          \
    "CASE WHEN totp_secret IS NOT NULL OR mfa_enabled_at IS NOT NULL THEN 1 ELSE 0 END"

static apr_int64_t now_sec(void)
{
    return apr_time_sec(apr_time_now());
}

static apr_int64_t cell_int(const char *v)
{
    return v ? apr_atoi64(v) : 0;
}

static const char *iso_or_null(apr_pool_t *p, const char *v)
{
    return v ? iso8601(p, apr_atoi64(v)) : NULL;
}

int need_latest(admin_ctx_t *ctx)
{
    return need_version(ctx, authsvc_migrate_latest(ctx->driver_name));
}

/* The id of the account login names, for a command that only reads: EXIT_OK,
 * EXIT_NOTFOUND or EXIT_FAIL (printed). */
static int read_account(admin_ctx_t *ctx, const char *login, const char **id)
{
    const char *v = NULL;
    int rc, found;

    if ((rc = need_latest(ctx)) != EXIT_OK) {
        return rc;
    }
    if ((found = find_account(ctx, login, "id", 0, id, &v)) == 0) {
        cmd_error(ctx, "no such user: '%s'", login);
        return EXIT_NOTFOUND;
    }
    return found < 0 ? EXIT_FAIL : EXIT_OK;
}

/* begin_on_account() for the commands that need this build's schema. */
static int begin_latest(admin_ctx_t *ctx, const char *login, const char *column,
                        const char **id, const char **value)
{
    return begin_on_account(ctx, authsvc_migrate_latest(ctx->driver_name), login, column,
                            id, value);
}

/* ---- checks ------------------------------------------------------------------ */

const char *check_username(const char *s)
{
    size_t i, len = strlen(s);

    if (len < USERNAME_MIN || len > USERNAME_MAX) {
        return "must be 3 to 32 characters";
    }
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch > 0x7f || !(isalnum(ch) || (i > 0 && (ch == '.' || ch == '_' || ch == '-')))) {
            return "may contain only letters, digits, '.', '_' and '-', and must start "
                   "with a letter or digit";
        }
    }
    return NULL;
}

int role_ok(const char *s)
{
    size_t i, len = strlen(s);

    if (len == 0 || len > AUTHSVC_ROLE_MAX) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch > 0x7f || !(isalnum(ch) || ch == '.' || ch == '_' || ch == '-' || ch == ':')) {
            return 0;
        }
    }
    return 1;
}

/* The message for a role list longer than the module accepts (flow_admin.c). */
#define ROLES_TOO_MANY                                                                 \
    "an account has at most " APR_STRINGIFY(AUTHSVC_ROLES_MAX) " roles, "             \
    APR_STRINGIFY(AUTHSVC_ROLES_BYTES_MAX) " bytes in all"

/* The words of a role list (separated by blanks, line breaks or commas), checked,
 * deduplicated and joined by single spaces into *out; no more than the module allows.
 * NULL, or the message. */
static const char *roles_join(apr_pool_t *p, const char *list, const char **out)
{
    char *copy = apr_pstrdup(p, list ? list : ""), *last = NULL, *w;
    const char *joined = "";

    for (w = apr_strtok(copy, ROLE_SEPARATORS, &last); w;
         w = apr_strtok(NULL, ROLE_SEPARATORS, &last)) {
        if (!role_ok(w)) {
            return apr_psprintf(p, "not a valid role: '%s' (1-64 letters, digits, '.', "
                                "'_', '-', ':')", w);
        }
        if (!strstr(apr_pstrcat(p, " ", joined, " ", NULL),
                    apr_pstrcat(p, " ", w, " ", NULL))) {
            joined = *joined ? apr_pstrcat(p, joined, " ", w, NULL) : w;
        }
    }
    if (authsvc_roles_too_many(joined)) {
        return ROLES_TOO_MANY;
    }
    *out = joined;
    return NULL;
}

const char *account_check(apr_pool_t *p, admin_account_t *a)
{
    const char *msg, *norm = NULL;

    if (a->email == NULL || *a->email == '\0') {
        return "email is missing";
    }
    if ((msg = authsvc_text_email_normalize(p, a->email, strlen(a->email), &norm))) {
        return apr_psprintf(p, "email: %s", msg);
    }
    a->email = norm;
    if (a->username && *a->username == '\0') {
        a->username = NULL;
    }
    if (a->username && (msg = check_username(a->username))) {
        return apr_psprintf(p, "username: %s", msg);
    }
    if (a->first_name && *a->first_name == '\0') {
        a->first_name = NULL;
    }
    if (a->last_name && *a->last_name == '\0') {
        a->last_name = NULL;
    }
    if (a->first_name &&
        (msg = authsvc_text_check_name(p, a->first_name, strlen(a->first_name),
                                       NAME_MAX_CP))) {
        return apr_psprintf(p, "first_name: %s", msg);
    }
    if (a->last_name &&
        (msg = authsvc_text_check_name(p, a->last_name, strlen(a->last_name),
                                       NAME_MAX_CP))) {
        return apr_psprintf(p, "last_name: %s", msg);
    }
    return roles_join(p, a->roles, &a->roles);
}

/* ---- passwords --------------------------------------------------------------- */

/* One line of fd into buf (without its end of line): its length, or -1 when too long
 * or unreadable. */
static long read_line(int fd, char *buf, size_t size)
{
    size_t n = 0;
    char ch;
    ssize_t r;

    while ((r = read(fd, &ch, 1)) == 1 && ch != '\n') {
        if (n + 1 >= size) {
            return -1;
        }
        buf[n++] = ch;
    }
    if (r < 0) {
        return -1;
    }
    if (n > 0 && buf[n - 1] == '\r') {
        n--;
    }
    buf[n] = '\0';
    return (long)n;
}

/* The terminal's settings while prompt() has echo off, for on_signal(). */
static struct termios echo_on;

/* SIGINT, SIGTERM, SIGHUP or SIGQUIT at the prompt: echo back on, then die of the
 * signal as if it had not been caught (only async-signal-safe calls here). */
static void on_signal(int sig)
{
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &echo_on);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Prompt on the terminal with echo off; echo comes back even when a signal ends the
 * program at the prompt. */
static long prompt(const char *text, char *buf, size_t size)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    struct sigaction sa, old_sa[4];
    struct termios quiet;
    int restore = tcgetattr(STDIN_FILENO, &echo_on) == 0;
    long n;
    size_t i;

    fputs(text, stderr);
    fflush(stderr);
    if (restore) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        for (i = 0; i < 4; i++) {
            sigaction(sigs[i], &sa, &old_sa[i]);
        }
        quiet = echo_on;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    n = read_line(STDIN_FILENO, buf, size);
    if (restore) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &echo_on);
        for (i = 0; i < 4; i++) {
            sigaction(sigs[i], &old_sa[i], NULL);
        }
        fputc('\n', stderr);
    }
    return n;
}

int read_password(admin_ctx_t *ctx, const char **pw, apr_size_t *len)
{
    char *a = apr_palloc(ctx->pool, PASSWORD_READ_MAX);
    char *b = apr_palloc(ctx->pool, PASSWORD_READ_MAX);
    long n, m;
    int same;

    if (!isatty(STDIN_FILENO)) {
        n = read_line(STDIN_FILENO, a, PASSWORD_READ_MAX);
    }
    else {
        n = prompt("New password: ", a, PASSWORD_READ_MAX);
        m = n < 0 ? -1 : prompt("Repeat it: ", b, PASSWORD_READ_MAX);
        same = m == n && memcmp(a, b, (size_t)(n < 0 ? 0 : n)) == 0;
        OPENSSL_cleanse(b, PASSWORD_READ_MAX);
        if (n >= 0 && !same) {
            OPENSSL_cleanse(a, PASSWORD_READ_MAX);
            return cmd_error(ctx, "the passwords differ");
        }
    }
    if (n <= 0) {
        OPENSSL_cleanse(a, PASSWORD_READ_MAX);
        return cmd_error(ctx, n < 0 ? "cannot read the password (at most %d octets, "
                         "one line, from standard input)" : "no password on standard "
                         "input", PASSWORD_READ_MAX - 1);
    }
    *pw = a;
    *len = (apr_size_t)n;
    return EXIT_OK;
}

const char *password_policy(admin_ctx_t *ctx, const char *pw, apr_size_t len,
                            const char *email, const char *username,
                            const char *first_name, const char *last_name)
{
    authsvc_policy_t pol = {PW_MIN, PW_MAX, 0, authsvc_blocklist_builtin(), NULL,
                            ctx->breach_min};
    authsvc_policy_ctx_t pctx = {email, username, first_name, last_name};
    authsvc_breach_t *b = NULL;
    const char *err;

    /* Opened only for the commands that set a password: an unreadable corpus named by
     * the configuration must not stop `sessions revoke` or `user disable`. */
    if (ctx->breach == NULL && ctx->breach_path != NULL) {
        if ((err = authsvc_breach_open(ctx->pool, ctx->breach_path, &b)) != NULL) {
            return apr_psprintf(ctx->pool, "cannot check the breach corpus %s: %s",
                                ctx->breach_path, err);
        }
        ctx->breach = b;
    }
    pol.breach = ctx->breach;
    return authsvc_policy_check(ctx->pool, &pol, pw, len, &pctx, NULL);
}

/* The policy check and the Argon2id hash of pw (wiped afterwards): EXIT_OK and *hash,
 * else EXIT_FAIL (printed). */
static int hash_new_password(admin_ctx_t *ctx, char *pw, apr_size_t len,
                             const admin_account_t *a, const char **hash)
{
    authsvc_argon2_params_t params = {AUTHSVC_ARGON2_M_DEFAULT, AUTHSVC_ARGON2_T_DEFAULT,
                                      AUTHSVC_ARGON2_P_DEFAULT};
    const char *msg = password_policy(ctx, pw, len, a->email, a->username,
                                      a->first_name, a->last_name);
    apr_status_t rv = APR_SUCCESS;

    if (msg == NULL) {
        rv = authsvc_password_hash(ctx->pool, pw, len, &params, hash);
    }
    OPENSSL_cleanse(pw, len);
    if (msg != NULL) {
        return cmd_error(ctx, "password refused: %s", msg);
    }
    return rv == APR_SUCCESS ? EXIT_OK : fail(ctx, rv, "cannot hash the password");
}

/* ---- writing ------------------------------------------------------------------ */

int account_taken(admin_ctx_t *ctx, const admin_account_t *a)
{
    const char *args[] = {a->email, a->username ? a->username : ""};
    rows_t rows;

    if (!db_run(ctx, "authsvc_admin_user_taken",
                "SELECT id FROM users WHERE email = %s OR lower(username) = lower(%s)",
                "looking for the email and username", 2, args, &rows)) {
        return -1;
    }
    return rows.nrows > 0;
}

int account_insert(admin_ctx_t *ctx, const admin_account_t *a, const char *event,
                   const char *extra, const char **id)
{
    apr_int64_t now = now_sec();
    const char *t = int_text(ctx->pool, now);
    const char *uid = authsvc_crypto_uuid(ctx->pool);
    const char *args[] = {uid, a->email, a->username, a->password_hash, a->first_name,
                          a->last_name, a->roles ? a->roles : "", t, t};
    const char *vargs[] = {t, uid};
    int n;

    n = db_exec(ctx, "authsvc_admin_user_insert",
                "INSERT INTO users (id, email, username, password_hash, first_name, "
                "last_name, status, roles, created_at, updated_at) VALUES (%s, %s, %s, "
                "%s, %s, %s, 'active', %s, %lld, %lld) ON CONFLICT DO NOTHING",
                "creating the account", 9, args);
    if (n <= 0) {
        return n;
    }
    if (a->verified &&
        db_exec(ctx, "authsvc_admin_user_verified",
                "UPDATE users SET email_verified_at = %lld WHERE id = %s",
                "marking the address verified", 2, vargs) < 0) {
        return -1;
    }
    if (!audit_admin(ctx, event, uid, a->email, now, extra)) {
        return -1;
    }
    *id = uid;
    return 1;
}

/* Revoke every live session and refresh token of account id (in the open
 * transaction): the number of sessions, or -1 (printed). */
static int revoke_user_sessions(admin_ctx_t *ctx, const char *id, apr_int64_t now)
{
    const char *args[] = {int_text(ctx->pool, now), id};
    int n = db_exec(ctx, "authsvc_admin_sessions_revoke",
                    "UPDATE sessions SET revoked_at = %lld WHERE user_id = %s "
                    "AND revoked_at IS NULL", "revoking the sessions", 2, args);

    if (n < 0 || db_exec(ctx, "authsvc_admin_refresh_revoke",
                         "UPDATE refresh_tokens SET revoked_at = %lld WHERE user_id = %s "
                         "AND revoked_at IS NULL", "revoking the refresh tokens", 2,
                         args) < 0) {
        return -1;
    }
    return n;
}

/* Commit, or roll back and fail. */
static int finish(admin_ctx_t *ctx, int ok)
{
    if (!ok) {
        db_rollback(ctx);
        return EXIT_FAIL;
    }
    return db_commit(ctx) ? EXIT_OK : EXIT_FAIL;
}

/* ---- user add ------------------------------------------------------------------ */

static admin_account_t add_account(const admin_ctx_t *ctx, const char *email)
{
    const apr_array_header_t *h = apr_table_elts(ctx->opts);
    const apr_table_entry_t *e = (const apr_table_entry_t *)h->elts;
    admin_account_t a = {0};
    int i;

    a.email = email;
    a.username = opt_get(ctx, "username");
    a.first_name = opt_get(ctx, "first-name");
    a.last_name = opt_get(ctx, "last-name");
    a.verified = opt_get(ctx, "verified") != NULL;
    a.roles = "";
    for (i = 0; i < h->nelts; i++) {
        if (strcmp(e[i].key, "role") == 0) {
            a.roles = apr_pstrcat(ctx->pool, a.roles, " ", e[i].val, NULL);
        }
    }
    return a;
}

int check_user_add(const admin_ctx_t *ctx, int argc, const char *const *argv)
{
    admin_account_t a = add_account(ctx, argv[0]);
    const char *msg = account_check(ctx->pool, &a);

    (void)argc;
    return msg ? usage_error("user add: %s", msg) : EXIT_OK;
}

int cmd_user_add(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    admin_account_t a = add_account(ctx, argv[0]);
    const char *pw = NULL, *id = NULL;
    apr_size_t len = 0;
    int rc, n;

    (void)argc;
    account_check(ctx->pool, &a);           /* checked by check_user_add() */
    if ((rc = need_latest(ctx)) != EXIT_OK || (rc = read_password(ctx, &pw, &len)) != EXIT_OK ||
        (rc = hash_new_password(ctx, (char *)pw, len, &a, &a.password_hash)) != EXIT_OK) {
        return rc;
    }
    if (!db_begin(ctx)) {
        return EXIT_FAIL;
    }
    n = account_insert(ctx, &a, "admin_user_created", NULL, &id);
    if (n == 0) {
        db_rollback(ctx);
        return cmd_error(ctx, "an account with this email%s exists", a.username
                         ? " or username" : "");
    }
    if ((rc = finish(ctx, n > 0)) == EXIT_OK) {
        printf("%s\n", id);
    }
    return rc;
}

/* ---- user show, user list -------------------------------------------------------- */

/* Row i of a USER_COLS query as a JSON object (sessions: -1 leaves it out). */
static authsvc_json_t *user_json(apr_pool_t *p, const rows_t *r, int i, long sessions)
{
    authsvc_json_t *o = authsvc_json_object(p);
    apr_int64_t locked = cell_int(CELL(r, i, 10));

    authsvc_json_set_str(o, "id", CELL(r, i, 0));
    authsvc_json_set_str(o, "email", CELL(r, i, 1));
    authsvc_json_set_str(o, "username", CELL(r, i, 2));
    authsvc_json_set_str(o, "first_name", CELL(r, i, 3));
    authsvc_json_set_str(o, "last_name", CELL(r, i, 4));
    authsvc_json_set_bool(o, "email_verified", CELL(r, i, 7) != NULL);
    authsvc_json_set_bool(o, "mfa_enabled", cell_int(CELL(r, i, 11)) != 0);
    authsvc_json_set(o, "roles", authsvc_json_words(p, CELL(r, i, 6)));
    authsvc_json_set_str(o, "created_at", iso_or_null(p, CELL(r, i, 8)));
    authsvc_json_set_str(o, "status", CELL(r, i, 5));
    authsvc_json_set_str(o, "updated_at", iso_or_null(p, CELL(r, i, 9)));
    authsvc_json_set_str(o, "email_verified_at", iso_or_null(p, CELL(r, i, 7)));
    authsvc_json_set_bool(o, "locked", locked > now_sec());
    authsvc_json_set_str(o, "locked_until", locked > now_sec() ? iso8601(p, locked) : NULL);
    authsvc_json_set_bool(o, "mfa", cell_int(CELL(r, i, 11)) != 0);
    if (sessions >= 0) {
        authsvc_json_set_int(o, "sessions", sessions);
    }
    return o;
}

int cmd_user_show(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *id = NULL, *t = int_text(ctx->pool, now_sec());
    const char *args[] = {t, t, t, NULL};
    rows_t rows;
    int rc;

    (void)argc;
    if ((rc = read_account(ctx, argv[0], &id)) != EXIT_OK) {
        return rc;
    }
    args[3] = id;
    if (!db_run(ctx, "authsvc_admin_user_show",
                "SELECT " USER_COLS ", (SELECT COUNT(*) FROM sessions WHERE "
                "sessions.user_id = users.id AND " LISTED ") FROM users WHERE id = %s",
                "reading the account", 4, args, &rows) || rows.nrows != 1) {
        return EXIT_FAIL;
    }
    printf("%s\n", authsvc_json_dump(ctx->pool,
                                     user_json(ctx->pool, &rows, 0,
                                               (long)cell_int(CELL(&rows, 0, 12)))));
    return EXIT_OK;
}

/* A decimal in [lo, hi] (64 bits wide on every platform), or -1; out of range of
 * apr_int64_t too. */
static apr_int64_t bounded(const char *s, apr_int64_t lo, apr_int64_t hi)
{
    char *end = NULL;
    apr_int64_t v;

    if (s == NULL || *s < '0' || *s > '9') {
        return -1;
    }
    errno = 0;
    v = apr_strtoi64(s, &end, 10);
    return (errno || *end || v < lo || v > hi) ? -1 : v;
}

int check_user_list(const admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *st = opt_get(ctx, "status"), *lim = opt_get(ctx, "limit");

    (void)argc;
    (void)argv;
    if (st && strcmp(st, "active") != 0 && strcmp(st, "disabled") != 0) {
        return usage_error("user list: --status is active or disabled, not '%s'", st);
    }
    if (lim && bounded(lim, 1, 1000) < 0) {
        return usage_error("user list: --limit is a number from 1 to 1000, not '%s'", lim);
    }
    return EXIT_OK;
}

/* s as a LIKE pattern matching s anywhere, with %, _ and \ taken literally
 * (ESCAPE '\'), lower-cased as the columns are. */
static const char *like_anywhere(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 2 + 3), *o = out;

    *o++ = '%';
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\') {
            *o++ = '\\';
        }
        *o++ = (char)tolower((unsigned char)*s);
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

static const char *dash(const char *s)
{
    return s && *s ? s : "-";
}

int cmd_user_list(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *search = opt_get(ctx, "search"), *st = opt_get(ctx, "status");
    const char *after = opt_get(ctx, "after"), *lim = opt_get(ctx, "limit");
    long limit = lim ? (long)bounded(lim, 1, 1000) : 50;
    const char *pat = like_anywhere(ctx->pool, search ? search : "");
    const char *args[] = {pat, pat, pat, pat, st ? st : "", st ? st : "",
                          after ? after : "", apr_ltoa(ctx->pool, limit + 1)};
    int json = opt_get(ctx, "json") != NULL;
    rows_t rows;
    int i, rc, shown;

    (void)argc;
    (void)argv;
    if ((rc = need_latest(ctx)) != EXIT_OK) {
        return rc;
    }
    /* Keyset paging on the primary key: stable whatever is added meanwhile. */
    if (!db_run(ctx, "authsvc_admin_user_list",
                "SELECT " USER_COLS " FROM users WHERE (lower(email) LIKE %s ESCAPE '\\' "
                "OR lower(COALESCE(username, '')) LIKE %s ESCAPE '\\' "
                "OR lower(COALESCE(first_name, '')) LIKE %s ESCAPE '\\' "
                "OR lower(COALESCE(last_name, '')) LIKE %s ESCAPE '\\') "
                "AND (%s = '' OR status = %s) AND id > %s ORDER BY id LIMIT %d",
                "listing the accounts", 8, args, &rows)) {
        return EXIT_FAIL;
    }
    shown = rows.nrows > limit ? (int)limit : rows.nrows;
    if (!json) {
        printf("%-36s  %-32s  %-20s  %-8s  %s\n", "ID", "EMAIL", "USERNAME", "STATUS",
               "ROLES");
    }
    for (i = 0; i < shown; i++) {
        if (json) {
            printf("%s\n", authsvc_json_dump(ctx->pool, user_json(ctx->pool, &rows, i, -1)));
        }
        else {
            printf("%-36s  %-32s  %-20s  %-8s  %s\n", CELL(&rows, i, 0), CELL(&rows, i, 1),
                   dash(CELL(&rows, i, 2)), CELL(&rows, i, 5), dash(CELL(&rows, i, 6)));
        }
    }
    if (rows.nrows > limit) {
        fprintf(stderr, "next: %s\n", CELL(&rows, shown - 1, 0));
    }
    return EXIT_OK;
}

/* ---- user disable|enable|delete|verify ------------------------------------------- */

/* user disable / user enable: the status, and (disabling) every session revoked. */
static int set_status(admin_ctx_t *ctx, const char *login, const char *status,
                      const char *event)
{
    int disable = strcmp(status, "disabled") == 0;
    const char *id = NULL, *now_status = NULL;
    apr_int64_t now = now_sec();
    const char *args[3];
    int rc, n = 0;

    if ((rc = begin_latest(ctx, login, "status", &id, &now_status)) != EXIT_OK) {
        return rc;
    }
    if (strcmp(now_status, status) == 0) {
        db_rollback(ctx);
        printf("%s is already %s; nothing changed\n", id, status);
        return EXIT_OK;
    }
    args[0] = status;
    args[1] = int_text(ctx->pool, now);
    args[2] = id;
    rc = finish(ctx, db_exec(ctx, "authsvc_admin_user_status",
                             "UPDATE users SET status = %s, updated_at = %lld WHERE id = %s",
                             "changing the status", 3, args) == 1 &&
                         (!disable || (n = revoke_user_sessions(ctx, id, now)) >= 0) &&
                         audit_admin(ctx, event, id, login, now, NULL));
    if (rc == EXIT_OK && disable) {
        printf("disabled %s; %d session(s) revoked\n", id, n);
    }
    else if (rc == EXIT_OK) {
        printf("enabled %s\n", id);
    }
    return rc;
}

int cmd_user_disable(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    (void)argc;
    return set_status(ctx, argv[0], "disabled", "admin_user_disabled");
}

int cmd_user_enable(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    (void)argc;
    return set_status(ctx, argv[0], "active", "admin_user_enabled");
}

int cmd_user_delete(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *id = NULL, *email = NULL;
    const char *of[1];
    int rc;

    (void)argc;
    if ((rc = begin_latest(ctx, argv[0], "email", &id, &email)) != EXIT_OK) {
        return rc;
    }
    of[0] = id;
    /* Sessions, refresh and mailed tokens, recovery codes, challenges and password
     * history go by ON DELETE CASCADE (the tool's SQLite connection enforces foreign
     * keys). The audit trail keeps its events without personal data, as the module's
     * account deletion leaves it (src/store_audit.c authsvc_audit_scrub). */
    rc = finish(ctx, db_exec(ctx, "authsvc_admin_user_delete",
                             "DELETE FROM users WHERE id = %s", "deleting the account", 1,
                             of) == 1 &&
                         db_exec(ctx, "authsvc_admin_audit_scrub", AUTHSVC_SQL_AUDIT_SCRUB,
                                 "removing personal data from the audit trail", 1, of) >= 0 &&
                         audit_admin(ctx, "admin_user_deleted", id, NULL, now_sec(), NULL));
    if (rc == EXIT_OK) {
        printf("deleted %s\n", id);
    }
    return rc;
}

int cmd_user_verify(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *id = NULL, *at = NULL;
    apr_int64_t now = now_sec();
    const char *args[3];
    int rc;

    (void)argc;
    if ((rc = begin_latest(ctx, argv[0], "email_verified_at", &id, &at)) != EXIT_OK) {
        return rc;
    }
    if (at != NULL) {
        db_rollback(ctx);
        printf("%s is already verified; nothing changed\n", id);
        return EXIT_OK;
    }
    args[0] = args[1] = int_text(ctx->pool, now);
    args[2] = id;
    rc = finish(ctx, db_exec(ctx, "authsvc_admin_user_verify",
                             "UPDATE users SET email_verified_at = %lld, updated_at = %lld "
                             "WHERE id = %s", "verifying the address", 3, args) == 1 &&
                         audit_admin(ctx, "email_verified", id, argv[0], now, NULL));
    if (rc == EXIT_OK) {
        printf("verified the address of %s\n", id);
    }
    return rc;
}

/* ---- user set-password ------------------------------------------------------------ */

/* The names of account id the password policy checks the password against, into *a:
 * 1, 0 when the account is gone, -1 on a database error (printed). */
static int read_names(admin_ctx_t *ctx, const char *id, admin_account_t *a)
{
    const char *args[1] = {id};
    rows_t rows;

    if (!db_run(ctx, "authsvc_admin_user_names",
                "SELECT email, username, first_name, last_name FROM users WHERE id = %s",
                "reading the account", 1, args, &rows)) {
        return -1;
    }
    if (rows.nrows != 1) {
        return 0;
    }
    a->email = CELL(&rows, 0, 0);
    a->username = CELL(&rows, 0, 1);
    a->first_name = CELL(&rows, 0, 2);
    a->last_name = CELL(&rows, 0, 3);
    return 1;
}

static int same_text(const char *x, const char *y)
{
    return x == y || (x && y && strcmp(x, y) == 0);
}

int cmd_user_set_password(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *pw = NULL, *id = NULL, *locked = NULL, *v = NULL, *hash = NULL;
    apr_int64_t now = now_sec();
    admin_account_t a = {0}, b = {0};
    apr_size_t len = 0;
    const char *args[3];
    int rc, n = 0;

    (void)argc;
    /* The password is read, checked and hashed (Argon2id: a while) before the
     * transaction: no write lock is held while typing or hashing. */
    if ((rc = need_latest(ctx)) != EXIT_OK || (rc = read_password(ctx, &pw, &len)) != EXIT_OK) {
        return rc;
    }
    if ((rc = read_account(ctx, argv[0], &id)) != EXIT_OK ||
        (n = read_names(ctx, id, &a)) <= 0) {
        OPENSSL_cleanse((char *)pw, len);
        return rc != EXIT_OK ? rc : n < 0 ? EXIT_FAIL
                                          : cmd_error(ctx, "no such user: '%s'", argv[0]);
    }
    if ((rc = hash_new_password(ctx, (char *)pw, len, &a, &hash)) != EXIT_OK) {
        return rc;
    }
    if ((rc = begin_latest(ctx, argv[0], "id", &locked, &v)) != EXIT_OK) {
        return rc;
    }
    /* What the policy saw must still hold: the same account, the same names. */
    if (strcmp(locked, id) != 0 || (n = read_names(ctx, id, &b)) <= 0 ||
        !same_text(a.email, b.email) || !same_text(a.username, b.username) ||
        !same_text(a.first_name, b.first_name) || !same_text(a.last_name, b.last_name)) {
        db_rollback(ctx);
        return n < 0 ? EXIT_FAIL
                     : cmd_error(ctx, "the account changed while the password was being "
                                 "hashed; nothing changed, try again");
    }
    args[0] = hash;
    args[1] = int_text(ctx->pool, now);
    args[2] = id;
    rc = finish(ctx, db_exec(ctx, "authsvc_admin_user_password",
                             "UPDATE users SET password_hash = %s, updated_at = %lld "
                             "WHERE id = %s", "storing the password", 3, args) == 1 &&
                         (n = revoke_user_sessions(ctx, id, now)) >= 0 &&
                         /* as the module's password change: no device skips MFA now */
                         db_exec(ctx, "authsvc_admin_devices_forget",
                                 "DELETE FROM remembered_devices WHERE user_id = %s",
                                 "forgetting the remembered devices", 1, &args[2]) >= 0 &&
                         audit_admin(ctx, "password_changed", id, argv[0], now, NULL));
    if (rc == EXIT_OK) {
        printf("password of %s set; %d session(s) revoked\n", id, n);
    }
    return rc;
}

/* ---- user role add|remove ----------------------------------------------------------- */

int check_user_role(const admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *login[1] = {argv[1]};
    int rc;

    (void)argc;
    if (strcmp(argv[0], "add") != 0 && strcmp(argv[0], "remove") != 0) {
        return usage_error("user role: add or remove, not '%s'", argv[0]);
    }
    if ((rc = check_login(ctx, 1, login)) != EXIT_OK) {
        return rc;
    }
    if (!role_ok(argv[2])) {
        return usage_error("user role: not a valid role: '%s' (1-64 letters, digits, '.', "
                           "'_', '-', ':')", argv[2]);
    }
    return EXIT_OK;
}

int cmd_user_role(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    int add = strcmp(argv[0], "add") == 0;
    const char *role = argv[2], *id = NULL, *roles = NULL, *w, *out = "";
    char *copy, *last = NULL;
    apr_int64_t now = now_sec();
    int had = 0, rc;
    const char *args[3];

    (void)argc;
    if ((rc = begin_latest(ctx, argv[1], "roles", &id, &roles)) != EXIT_OK) {
        return rc;
    }
    copy = apr_pstrdup(ctx->pool, roles ? roles : "");
    for (w = apr_strtok(copy, " ", &last); w; w = apr_strtok(NULL, " ", &last)) {
        if (strcmp(w, role) == 0) {
            had = 1;
            if (!add) {
                continue;
            }
        }
        out = *out ? apr_pstrcat(ctx->pool, out, " ", w, NULL) : w;
    }
    if (had == add) {
        db_rollback(ctx);
        printf("%s %s role %s; nothing changed\n", id, add ? "already has" : "does not have",
               role);
        return EXIT_OK;
    }
    if (add) {
        out = *out ? apr_pstrcat(ctx->pool, out, " ", role, NULL) : role;
        if (authsvc_roles_too_many(out)) {
            db_rollback(ctx);
            return cmd_error(ctx, "%s already has too many roles (" ROLES_TOO_MANY
                             "); remove one first", id);
        }
    }
    args[0] = out;
    args[1] = int_text(ctx->pool, now);
    args[2] = id;
    rc = finish(ctx, db_exec(ctx, "authsvc_admin_user_roles",
                             "UPDATE users SET roles = %s, updated_at = %lld WHERE id = %s",
                             "changing the roles", 3, args) == 1 &&
                         audit_admin(ctx, add ? "admin_role_added" : "admin_role_removed",
                                     id, argv[1], now,
                                     apr_psprintf(ctx->pool, "\"role\":\"%s\"", role)));
    if (rc == EXIT_OK) {
        printf("%s role %s %s %s\n", add ? "added" : "removed", role, add ? "to" : "from", id);
    }
    return rc;
}

/* ---- sessions list|revoke --------------------------------------------------------------- */

int cmd_sessions_list(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *id = NULL, *t = int_text(ctx->pool, now_sec());
    const char *args[4];
    int json = opt_get(ctx, "json") != NULL;
    rows_t rows;
    int rc, i;

    (void)argc;
    if ((rc = read_account(ctx, argv[0], &id)) != EXIT_OK) {
        return rc;
    }
    args[0] = id;
    args[1] = args[2] = args[3] = t;
    if (!db_run(ctx, "authsvc_admin_sessions_list",
                "SELECT id, created_at, last_seen_at, expires_at, ip, user_agent, amr "
                "FROM sessions WHERE user_id = %s AND " LISTED
                " ORDER BY last_seen_at DESC, id", "listing the sessions", 4, args, &rows)) {
        return EXIT_FAIL;
    }
    if (!json) {
        printf("%-36s  %-20s  %-20s  %-20s  %-15s  %s\n", "ID", "CREATED", "LAST SEEN",
               "EXPIRES", "IP", "USER AGENT");
    }
    for (i = 0; i < rows.nrows; i++) {
        apr_pool_t *p = ctx->pool;

        if (json) {
            authsvc_json_t *o = authsvc_json_object(p);

            authsvc_json_set_str(o, "id", CELL(&rows, i, 0));
            authsvc_json_set_str(o, "created_at", iso_or_null(p, CELL(&rows, i, 1)));
            authsvc_json_set_str(o, "last_seen_at", iso_or_null(p, CELL(&rows, i, 2)));
            authsvc_json_set_str(o, "expires_at", iso_or_null(p, CELL(&rows, i, 3)));
            authsvc_json_set_str(o, "ip", CELL(&rows, i, 4));
            authsvc_json_set_str(o, "user_agent", CELL(&rows, i, 5));
            authsvc_json_set(o, "amr", authsvc_json_words(p, CELL(&rows, i, 6)));
            printf("%s\n", authsvc_json_dump(p, o));
        }
        else {
            printf("%-36s  %-20s  %-20s  %-20s  %-15s  %s\n", CELL(&rows, i, 0),
                   iso_or_null(p, CELL(&rows, i, 1)), iso_or_null(p, CELL(&rows, i, 2)),
                   iso_or_null(p, CELL(&rows, i, 3)), dash(CELL(&rows, i, 4)),
                   dash(CELL(&rows, i, 5)));
        }
    }
    return EXIT_OK;
}

int check_sessions_revoke(const admin_ctx_t *ctx, int argc, const char *const *argv)
{
    int all = opt_get(ctx, "all") != NULL;

    if (all == (argc == 1)) {
        return usage_error("sessions revoke: give either LOGIN or --all");
    }
    return all ? EXIT_OK : check_login(ctx, argc, argv);
}

/* --all: one audit row for every account with a live session, then every session and
 * refresh token revoked, in one transaction. */
static int revoke_all(admin_ctx_t *ctx)
{
    apr_int64_t now = now_sec();
    const char *t = int_text(ctx->pool, now);
    const char *args[] = {t, "{" ADMIN_DETAIL ",\"all\":true}"};
    const char *rargs[] = {t};
    int users, n = -1, ok;

    if (!db_begin(ctx)) {
        return EXIT_FAIL;
    }
    users = db_exec(ctx, "authsvc_admin_audit_revoke_all",
                    "INSERT INTO audit_log (at, event, user_id, login, ip, user_agent, "
                    "request_id, detail) SELECT DISTINCT CAST(%lld AS BIGINT), "
                    "'admin_sessions_revoked', user_id, CAST(NULL AS TEXT), "
                    "CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), "
                    "CAST(%s AS TEXT) FROM sessions WHERE revoked_at IS NULL",
                    "writing the audit rows", 2, args);
    ok = users >= 0 &&
         (n = db_exec(ctx, "authsvc_admin_sessions_revoke_all",
                      "UPDATE sessions SET revoked_at = %lld WHERE revoked_at IS NULL",
                      "revoking the sessions", 1, rargs)) >= 0 &&
         db_exec(ctx, "authsvc_admin_refresh_revoke_all",
                 "UPDATE refresh_tokens SET revoked_at = %lld WHERE revoked_at IS NULL",
                 "revoking the refresh tokens", 1, rargs) >= 0;
    if (finish(ctx, ok) != EXIT_OK) {
        return EXIT_FAIL;
    }
    printf("revoked %d session(s) of %d account(s)\n", n, users);
    return EXIT_OK;
}

int cmd_sessions_revoke(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *id = NULL, *v = NULL;
    apr_int64_t now = now_sec();
    int rc, n;

    if ((rc = need_latest(ctx)) != EXIT_OK) {
        return rc;
    }
    if (argc == 0) {
        return revoke_all(ctx);
    }
    if ((rc = begin_latest(ctx, argv[0], "id", &id, &v)) != EXIT_OK) {
        return rc;
    }
    n = revoke_user_sessions(ctx, id, now);
    rc = finish(ctx, n >= 0 && (n == 0 || audit_admin(ctx, "admin_sessions_revoked", id,
                                                      argv[0], now, NULL)));
    if (rc == EXIT_OK) {
        printf("revoked %d session(s) of %s\n", n, id);
    }
    return rc;
}

/* ---- audit ------------------------------------------------------------------------------ */

/* Unix seconds, or ISO 8601 UTC: YYYY-MM-DD, optionally followed by THH:MM or
 * THH:MM:SS and an optional Z. 1 with *out, or 0. */
static int parse_time(const char *s, apr_int64_t *out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, leap;
    struct tm tm = {0};
    apr_int64_t v;

    if ((v = bounded(s, 0, APR_INT64_C(253402300799))) >= 0) { /* to 9999-12-31 */
        *out = v;
        return 1;
    }
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) {
        return 0;
    }
    s += n;
    if (*s == 'T' || *s == ' ') {
        if (sscanf(s + 1, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5) {
            return 0;
        }
        s += 1 + n;
        if (*s == ':') {
            if (sscanf(s + 1, "%2d%n", &sec, &n) != 1 || n != 2) {
                return 0;
            }
            s += 1 + n;
        }
    }
    if (*s == 'Z') {
        s++;
    }
    if (*s || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 60 || y < 1970) {
        return 0;
    }
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d < 1 || d > mdays[mo - 1] + (mo == 2 && leap)) {
        return 0;                       /* 2026-02-31, 2026-04-31 ... */
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (apr_int64_t)timegm(&tm);
    return 1;
}

int check_audit(const admin_ctx_t *ctx, int argc, const char *const *argv)
{
    static const char *const times[] = {"since", "until"};
    const char *lim = opt_get(ctx, "limit"), *before = opt_get(ctx, "before");
    const char *user = opt_get(ctx, "user");
    apr_int64_t t;
    int i;

    (void)argc;
    (void)argv;
    for (i = 0; i < 2; i++) {
        const char *v = opt_get(ctx, times[i]);

        if (v && !parse_time(v, &t)) {
            return usage_error("audit: --%s is ISO 8601 (2026-11-21T08:00:00Z) or Unix "
                               "seconds, not '%s'", times[i], v);
        }
    }
    if (lim && bounded(lim, 1, 10000) < 0) {
        return usage_error("audit: --limit is a number from 1 to 10000, not '%s'", lim);
    }
    if (before && bounded(before, 1, APR_INT64_MAX) < 0) {
        return usage_error("audit: --before is an event id, not '%s'", before);
    }
    return user ? check_login(ctx, 1, &user) : EXIT_OK;
}

/* Row i of the audit query as a JSON object; detail parsed when it is an object. */
static authsvc_json_t *audit_json(apr_pool_t *p, const rows_t *r, int i)
{
    static const char *const keys[] = {"event", "user_id", "login", "ip", "user_agent",
                                       "request_id"};
    authsvc_json_t *o = authsvc_json_object(p);
    const char *detail = CELL(r, i, 8), *err = NULL;
    authsvc_json_t *d = NULL;
    int k;

    authsvc_json_set_int(o, "id", cell_int(CELL(r, i, 0)));
    authsvc_json_set_str(o, "at", iso_or_null(p, CELL(r, i, 1)));
    for (k = 0; k < 6; k++) {
        authsvc_json_set_str(o, keys[k], CELL(r, i, k + 2));
    }
    if (detail && (d = authsvc_json_parse(p, detail, strlen(detail), &err)) != NULL) {
        authsvc_json_set(o, "detail", d);
    }
    else {
        authsvc_json_set_str(o, "detail", detail);
    }
    return o;
}

#define AUDIT_COLUMNS "id, at, event, user_id, login, ip, user_agent, request_id, detail"
#define AUDIT_FILTER                                                                   \
    "(%s = '' OR event = %s) AND at >= %lld AND at < %lld AND id < %lld "              \
    "ORDER BY id DESC LIMIT %d"

int cmd_audit(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *user = opt_get(ctx, "user"), *event = opt_get(ctx, "event");
    const char *since = opt_get(ctx, "since"), *until = opt_get(ctx, "until");
    const char *lim = opt_get(ctx, "limit"), *before = opt_get(ctx, "before");
    apr_int64_t from = 0, to = APR_INT64_C(0x7fffffffffffffff);
    const char *uid = "", *v = NULL, *args[8];
    rows_t rows;
    int rc, i, n;

    (void)argc;
    (void)argv;
    if ((rc = need_latest(ctx)) != EXIT_OK) {
        return rc;
    }
    if (since) {
        parse_time(since, &from);               /* checked by check_audit() */
    }
    if (until) {
        parse_time(until, &to);
    }
    /* An id that is no account (any more) still names the events of a deleted one. */
    if (user && (rc = find_account(ctx, user, "id", 0, &uid, &v)) <= 0) {
        if (rc < 0) {
            return EXIT_FAIL;
        }
        uid = user;
    }
    /* With a user, its own statement: "(%s = '' OR user_id = %s)" would keep the
     * planner off the (user_id, id) index. */
    n = 0;
    if (*uid) {
        args[n++] = uid;
    }
    args[n++] = event ? event : "";
    args[n++] = event ? event : "";
    args[n++] = int_text(ctx->pool, from);
    args[n++] = int_text(ctx->pool, to);
    args[n++] = before ? before : "9223372036854775807";
    args[n++] = lim ? lim : "100";
    if (!db_run(ctx, *uid ? "authsvc_admin_audit_list_user" : "authsvc_admin_audit_list",
                *uid ? "SELECT " AUDIT_COLUMNS " FROM audit_log WHERE user_id = %s AND "
                       AUDIT_FILTER
                     : "SELECT " AUDIT_COLUMNS " FROM audit_log WHERE " AUDIT_FILTER,
                "reading the audit log", n, args, &rows)) {
        return EXIT_FAIL;
    }
    for (i = 0; i < rows.nrows; i++) {
        printf("%s\n", authsvc_json_dump(ctx->pool, audit_json(ctx->pool, &rows, i)));
    }
    return EXIT_OK;
}

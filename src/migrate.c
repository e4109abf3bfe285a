/* migrate.c — schema migration runner (pure: apr + apr_dbd, no httpd).
 *
 * Each migration runs in its own transaction together with its row in
 * schema_migrations, so a database is always at a whole version. We issue
 * BEGIN/COMMIT/ROLLBACK ourselves instead of apr_dbd_transaction_start():
 * older apr-util sqlite3 drivers begin a deferred transaction, and one that
 * reads the version and then writes fails at once with SQLITE_BUSY when two
 * processes race (lock upgrade), while BEGIN IMMEDIATE waits for
 * busy_timeout (1.6.3 happens to send BEGIN IMMEDIATE; we do not rely on
 * it). apr's transaction object also makes errors sticky per mode flags,
 * which we do not want. On PostgreSQL a transaction-scoped advisory lock
 * serialises runs; without it two runs both see version N and collide in
 * the catalogue (duplicate key on pg_type).
 *
 * Driver notes (apr-util 1.6.3, found by testing):
 *   - sqlite3 apr_dbd_query() runs every statement of a string but keeps only
 *     the last status: an error in the middle is lost. It also returns
 *     SQLITE_MISUSE (21) when anything but statements follows the last ';',
 *     and SQLITE_ROW (100) for a statement that returns a row. Hence one
 *     statement per call, and queries that return rows go through
 *     apr_dbd_select().
 *   - pgsql apr_dbd_select() with seek=0 is asynchronous: an error shows up
 *     as "no rows" from apr_dbd_get_row(). Every select here returns exactly
 *     one row, so a missing row is treated as the error it is.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "migrate.h"

typedef enum {
    DIALECT_NONE,
    DIALECT_SQLITE,
    DIALECT_PGSQL
} dialect_t;

/* Everything a migration run needs, set up once by runner_init(). */
typedef struct {
    apr_pool_t *p;
    const apr_dbd_driver_t *drv;
    apr_dbd_t *h;
    dialect_t dialect;
    const authsvc_migration_t *list;
    int latest;
    const char **err;
} runner_t;

static dialect_t dialect_of(const apr_dbd_driver_t *drv)
{
    const char *name = apr_dbd_name(drv);

    if (name && strcmp(name, "sqlite3") == 0) {
        return DIALECT_SQLITE;
    }
    if (name && strcmp(name, "pgsql") == 0) {
        return DIALECT_PGSQL;
    }
    return DIALECT_NONE;
}

/* The driver's message for rc, copied into p without trailing newlines
 * (libpq ends its messages with one). */
static const char *db_message(apr_pool_t *p, const apr_dbd_driver_t *drv,
                              apr_dbd_t *h, int rc)
{
    const char *msg = apr_dbd_error(drv, h, rc);
    size_t len;

    if (!msg || !*msg) {
        return apr_psprintf(p, "%s driver error %d", apr_dbd_name(drv), rc);
    }
    len = strlen(msg);
    while (len > 0 && isspace((unsigned char)msg[len - 1])) {
        len--;
    }
    return apr_pstrmemdup(p, msg, len);
}

/* SQLite, when another connection (another authsvc-admin, or httpd starting) is
 * migrating the same file at the same moment: apr-util prepares with the legacy
 * sqlite3_prepare(), so a statement can fail with "database schema has changed" (or
 * stay busy past the driver's own retries). Such a statement did nothing and is tried
 * again, a bounded number of times. */
#define SQLITE_RETRIES 40
#define SQLITE_RETRY_SLEEP apr_time_from_msec(50)

static int sqlite_again(const runner_t *r, int rc, int *tries)
{
    const char *msg;

    if (rc == 0 || *tries >= SQLITE_RETRIES || strcmp(apr_dbd_name(r->drv), "sqlite3") != 0) {
        return 0;
    }
    msg = apr_dbd_error(r->drv, r->h, rc);
    if (rc != 5 && rc != 17 && (msg == NULL || strstr(msg, "schema has changed") == NULL)) {
        return 0;
    }
    (*tries)++;
    apr_sleep(SQLITE_RETRY_SLEEP);
    return 1;
}

/* Run one statement that returns no rows; `what` names it in the error. */
static apr_status_t exec_sql(const runner_t *r, const char *sql,
                             const char *what)
{
    int nrows = 0, tries = 0;
    int rc;

    do {
        rc = apr_dbd_query(r->drv, r->h, &nrows, sql);
    } while (sqlite_again(r, rc, &tries));

    if (rc != 0) {
        *r->err = apr_psprintf(r->p, "%s: %s", what,
                               db_message(r->p, r->drv, r->h, rc));
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* Run a query that returns exactly one row and read its first column as a
 * non-negative int (value may be NULL to ignore it, e.g. a void function).
 * The result is always read to the end so the connection is left clean. */
static apr_status_t select_int(const runner_t *r, const char *sql,
                               const char *what, int *value)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *first = NULL;
    int rows = 0, tries = 0;
    int rc;

    do {
        rc = apr_dbd_select(r->drv, r->p, r->h, &res, sql, 0);
    } while (sqlite_again(r, rc, &tries));

    if (rc != 0) {
        *r->err = apr_psprintf(r->p, "%s: %s", what,
                               db_message(r->p, r->drv, r->h, rc));
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(r->drv, r->p, res, &row, -1) == 0) {
        if (rows++ == 0) {
            first = apr_pstrdup(r->p, apr_dbd_get_entry(r->drv, row, 0));
        }
    }
    if (rows != 1) {
        *r->err = apr_psprintf(r->p, "%s: expected one row, got %d: %s",
                               what, rows, db_message(r->p, r->drv, r->h, 0));
        return APR_EGENERAL;
    }
    if (value) {
        char *end = NULL;
        long v;

        errno = 0;
        v = first ? strtol(first, &end, 10) : -1;
        if (!first || errno || end == first || *end || v < 0 || v > INT_MAX) {
            *r->err = apr_psprintf(r->p, "%s: unexpected value '%s'", what,
                                   first ? first : "(null)");
            return APR_EGENERAL;
        }
        *value = (int)v;
    }
    return APR_SUCCESS;
}

static int is_comment_line(const char *line, const char *eol)
{
    while (line < eol && isspace((unsigned char)*line)) {
        line++;
    }
    return eol - line >= 2 && line[0] == '-' && line[1] == '-';
}

/* Does the line's last non-blank character end a statement? */
static int ends_statement(const char *line, const char *eol)
{
    while (eol > line && isspace((unsigned char)eol[-1])) {
        eol--;
    }
    return eol > line && eol[-1] == ';';
}

/* Copy buf[0..len) into p without surrounding blanks; NULL if all blank. */
static const char *trimmed_copy(apr_pool_t *p, const char *buf, size_t len)
{
    while (len > 0 && isspace((unsigned char)*buf)) {
        buf++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)buf[len - 1])) {
        len--;
    }
    return len ? apr_pstrmemdup(p, buf, len) : NULL;
}

/* Split a script into statements: see the rules in migrate.h. Fails with
 * APR_EINVAL when non-comment text follows the last statement. */
apr_status_t authsvc_migrate_split(apr_pool_t *p, const char *script,
                                   apr_array_header_t **stmts,
                                   const char **err)
{
    size_t len = strlen(script);
    char *buf = apr_palloc(p, len + 1);
    size_t used = 0;
    const char *line = script;
    const char *rest;

    *stmts = apr_array_make(p, 8, sizeof(const char *));
    while (*line) {
        const char *eol = strchr(line, '\n');
        const char *next = eol ? eol + 1 : line + strlen(line);

        if (!eol) {
            eol = next;
        }
        if (!is_comment_line(line, eol)) {
            memcpy(buf + used, line, (size_t)(next - line));
            used += (size_t)(next - line);
            if (ends_statement(line, eol)) {
                const char *stmt = trimmed_copy(p, buf, used);

                if (stmt) {
                    APR_ARRAY_PUSH(*stmts, const char *) = stmt;
                }
                used = 0;
            }
        }
        line = next;
    }
    rest = trimmed_copy(p, buf, used);
    if (rest) {
        *err = apr_psprintf(p, "text after the last statement (every "
                            "statement must end with ';' at the end of a "
                            "line): %.60s", rest);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_status_t runner_init(runner_t *r, apr_pool_t *p,
                                const apr_dbd_driver_t *drv, apr_dbd_t *h,
                                const char **err)
{
    int count = 0;
    int i;

    r->p = p;
    r->drv = drv;
    r->h = h;
    r->err = err;
    r->dialect = dialect_of(drv);
    r->list = authsvc_migrate_list(apr_dbd_name(drv), &count);
    r->latest = count;
    if (r->dialect == DIALECT_NONE || !r->list) {
        *err = apr_psprintf(p, "no migrations for database driver '%s' in "
                            "this build", apr_dbd_name(drv));
        return APR_ENOTIMPL;
    }
    /* embed-sql.pl guarantees 1..N without gaps; the runner indexes by it. */
    for (i = 0; i < count; i++) {
        if (r->list[i].version != i + 1) {
            *err = apr_psprintf(p, "migration table corrupt at entry %d", i);
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

/* Best effort: after a failure the transaction may already be gone. */
static void rollback(const runner_t *r)
{
    int nrows;

    apr_dbd_query(r->drv, r->h, &nrows, "ROLLBACK");
}

/* Start a write transaction that excludes other migration runs. */
static apr_status_t begin_locked(const runner_t *r)
{
    apr_status_t rv;

    if (r->dialect == DIALECT_SQLITE) {
        return exec_sql(r, "BEGIN IMMEDIATE", "starting transaction");
    }
    rv = exec_sql(r, "BEGIN", "starting transaction");
    if (rv == APR_SUCCESS) {
        rv = select_int(r, "SELECT pg_advisory_xact_lock("
                        AUTHSVC_MIGRATE_LOCK_KEY ")",
                        "taking the migration lock", NULL);
        if (rv != APR_SUCCESS) {
            rollback(r);
        }
    }
    return rv;
}

static apr_status_t ensure_table(const runner_t *r)
{
    const char *sql = (r->dialect == DIALECT_SQLITE)
        ? "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version INTEGER PRIMARY KEY,"
          " name TEXT NOT NULL,"
          " applied_at INTEGER NOT NULL)"
        : "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version INTEGER PRIMARY KEY,"
          " name TEXT NOT NULL,"
          " applied_at BIGINT NOT NULL)";

    return exec_sql(r, sql, "creating schema_migrations");
}

static apr_status_t read_version(const runner_t *r, int *version)
{
    return select_int(r, "SELECT COALESCE(MAX(version), 0) "
                      "FROM schema_migrations",
                      "reading the schema version", version);
}

/* Names go into SQL text unescaped, so only [a-z0-9_] is accepted (the
 * embed script enforces the same; this guards hand-made tables). */
static int name_ok(const char *name)
{
    if (!*name) {
        return 0;
    }
    for (; *name; name++) {
        if (!islower((unsigned char)*name) && !isdigit((unsigned char)*name)
            && *name != '_') {
            return 0;
        }
    }
    return 1;
}

/* Run the up or down script of m, one statement per query. */
static apr_status_t run_script(const runner_t *r,
                               const authsvc_migration_t *m, int up)
{
    const char *label = apr_psprintf(r->p, "%04d_%s %s", m->version, m->name,
                                     up ? "up" : "down");
    apr_array_header_t *stmts;
    apr_status_t rv;
    int i;

    rv = authsvc_migrate_split(r->p, up ? m->up : m->down, &stmts, r->err);
    if (rv != APR_SUCCESS) {
        *r->err = apr_psprintf(r->p, "%s: %s", label, *r->err);
        return APR_EGENERAL;
    }
    for (i = 0; i < stmts->nelts; i++) {
        const char *stmt = APR_ARRAY_IDX(stmts, i, const char *);
        const char *what = apr_psprintf(r->p, "%s, statement %d (%.*s)",
                                        label, i + 1,
                                        (int)strcspn(stmt, "\n"), stmt);

        rv = exec_sql(r, stmt, what);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t record(const runner_t *r, const authsvc_migration_t *m,
                           int up)
{
    const char *sql;

    if (!name_ok(m->name)) {
        *r->err = apr_psprintf(r->p, "migration %d has a bad name", m->version);
        return APR_EGENERAL;
    }
    sql = up
        ? apr_psprintf(r->p, "INSERT INTO schema_migrations "
                       "(version, name, applied_at) VALUES (%d, '%s', %"
                       APR_TIME_T_FMT ")", m->version, m->name,
                       apr_time_sec(apr_time_now()))
        : apr_psprintf(r->p, "DELETE FROM schema_migrations WHERE version = %d",
                       m->version);
    return exec_sql(r, sql, "recording the schema version");
}

/* One locked transaction: read the version (*seen) and, if it is not yet at
 * target, run the next migration in the given direction and record it.
 * *moved = 1 when a migration was committed, 0 when there was nothing to do. */
static apr_status_t step(const runner_t *r, int target, int up, int *seen,
                         int *moved)
{
    const authsvc_migration_t *m;
    apr_status_t rv;

    *moved = 0;
    rv = begin_locked(r);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = ensure_table(r)) != APR_SUCCESS
        || (rv = read_version(r, seen)) != APR_SUCCESS) {
        goto fail;
    }
    if (*seen > r->latest) {
        *r->err = apr_psprintf(r->p, "the database schema is at version %d, "
                               "newer than this build knows (%d): refusing "
                               "to migrate; upgrade mod_authsvc", *seen,
                               r->latest);
        rv = APR_EGENERAL;
        goto fail;
    }
    if (!up && target > *seen) {
        *r->err = apr_psprintf(r->p, "cannot roll back to version %d: the "
                               "database is at version %d", target, *seen);
        rv = APR_EINVAL;
        goto fail;
    }
    if (up ? *seen >= target : *seen <= target) {
        /* Commit, not roll back: ensure_table may have created the table. */
        rv = exec_sql(r, "COMMIT", "committing");
        if (rv != APR_SUCCESS) {
            goto fail;
        }
        return APR_SUCCESS;
    }
    m = up ? &r->list[*seen] : &r->list[*seen - 1];
    if ((rv = run_script(r, m, up)) != APR_SUCCESS
        || (rv = record(r, m, up)) != APR_SUCCESS
        || (rv = exec_sql(r, "COMMIT", "committing")) != APR_SUCCESS) {
        goto fail;
    }
    *moved = 1;
    return APR_SUCCESS;

fail:
    rollback(r);
    return rv;
}

/* Run step() until it has nothing left to do; *count = migrations moved. */
static apr_status_t run_steps(const runner_t *r, int target, int up,
                              int *count)
{
    apr_status_t rv;
    int seen = 0;
    int moved = 1;

    *count = 0;
    while (moved) {
        rv = step(r, target, up, &seen, &moved);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        *count += moved;
    }
    return APR_SUCCESS;
}

/* The number of migrations known for a driver: they are 1..N, so N is also
 * the latest version. 0 for a driver without migrations. */
int authsvc_migrate_latest(const char *driver_name)
{
    int count = 0;

    if (!driver_name || !authsvc_migrate_list(driver_name, &count)) {
        return 0;
    }
    return count;
}

/* Current version, read without writing anything: 0 when schema_migrations
 * is missing or empty. APR_ENOTIMPL for an unknown driver, APR_EGENERAL with
 * the driver's message when a query fails. */
apr_status_t authsvc_migrate_current(apr_pool_t *p, const apr_dbd_driver_t *drv,
                                     apr_dbd_t *h, int *version,
                                     const char **err)
{
    runner_t r = { p, drv, h, dialect_of(drv), NULL, 0, err };
    const char *exists_sql;
    apr_status_t rv;
    int exists = 0;

    *err = NULL;
    *version = 0;
    if (r.dialect == DIALECT_SQLITE) {
        exists_sql = "SELECT count(*) FROM sqlite_master "
                     "WHERE type = 'table' AND name = 'schema_migrations'";
    }
    else if (r.dialect == DIALECT_PGSQL) {
        exists_sql = "SELECT CASE WHEN to_regclass('schema_migrations') "
                     "IS NULL THEN 0 ELSE 1 END";
    }
    else {
        *err = apr_psprintf(p, "unsupported database driver '%s'",
                            apr_dbd_name(drv));
        return APR_ENOTIMPL;
    }
    rv = select_int(&r, exists_sql, "looking for schema_migrations", &exists);
    if (rv == APR_SUCCESS && exists) {
        rv = read_version(&r, version);
    }
    return rv;
}

/* Apply migrations up to target (-1 = latest), one transaction each. Fails
 * with APR_EINVAL for a target outside -1..latest, APR_ENOTIMPL for a driver
 * without migrations, APR_EGENERAL when the database is newer than this
 * build or a statement fails (that migration is rolled back; the ones before
 * it stay committed and are counted in *applied). */
apr_status_t authsvc_migrate_up(apr_pool_t *p, const apr_dbd_driver_t *drv,
                                apr_dbd_t *h, int target, int *applied,
                                const char **err)
{
    runner_t r;
    apr_status_t rv;

    *err = NULL;
    *applied = 0;
    rv = runner_init(&r, p, drv, h, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (target == -1) {
        target = r.latest;
    }
    if (target < 0 || target > r.latest) {
        *err = apr_psprintf(p, "no migration %d: this build knows versions "
                            "1 to %d", target, r.latest);
        return APR_EINVAL;
    }
    return run_steps(&r, target, 1, applied);
}

/* Roll back to target, newest first, one transaction each. Fails with
 * APR_EINVAL for a target below 0 or above the current version, otherwise
 * as authsvc_migrate_up(); *reverted counts the committed rollbacks. */
apr_status_t authsvc_migrate_down(apr_pool_t *p, const apr_dbd_driver_t *drv,
                                  apr_dbd_t *h, int target, int *reverted,
                                  const char **err)
{
    runner_t r;
    apr_status_t rv;

    *err = NULL;
    *reverted = 0;
    rv = runner_init(&r, p, drv, h, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (target < 0) {
        *err = apr_psprintf(p, "cannot roll back to version %d", target);
        return APR_EINVAL;
    }
    return run_steps(&r, target, 0, reverted);
}

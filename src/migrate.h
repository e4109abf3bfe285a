/* migrate.h — schema migrations for mod_authsvc (pure: apr + apr_dbd only).
 *
 * The migrations live in sql/<dir>/NNNN_name.up.sql and .down.sql (dir
 * "sqlite" for the sqlite3 driver, "pgsql" for pgsql). tools/embed-sql.pl
 * turns them into src/migrations_data.c at build time; the runner below
 * applies them through any apr_dbd connection: one opened by
 * tools/authsvc-admin, or one that mod_dbd hands the module (ap_dbd_t's
 * ->driver and ->handle).
 *
 * Rules for a migration file (embed-sql.pl refuses a file that breaks them):
 *   - Each statement ends with ';' as the last non-blank character of a line,
 *     and no line ends with ';' inside a statement (so no trigger or function
 *     bodies with ';' at line ends, no ';' before a trailing "--" comment).
 *     The runner sends one statement per apr_dbd_query() because the sqlite3
 *     driver of apr-util 1.6 runs every statement of a multi-statement string
 *     but returns only the last one's status: a failing statement in the
 *     middle goes unnoticed.
 *   - Lines whose first non-blank characters are "--" are comments; they are
 *     dropped before a statement is sent.
 *   - No transaction control (BEGIN, COMMIT, ...) and no PRAGMA: the runner
 *     wraps each migration in its own transaction. Connection settings are not
 *     migrations either; note that with apr-util's sqlite3 driver, PRAGMAs that
 *     expire prepared statements (foreign_keys, journal_mode) must not be run on
 *     mod_dbd's connections at all (the module refuses them in DBDInitSQL), so
 *     SQLite does not enforce foreign keys there: code deletes dependent rows
 *     itself rather than relying on ON DELETE CASCADE.
 *   - File names: four-digit version from 0001 up without gaps, then '_' and
 *     a name of [a-z0-9_]; both drivers have the same versions and names.
 *
 * Failures are returned as APR statuses with a message in *err (allocated
 * from the pool given):
 *   APR_ENOTIMPL  the driver has no migrations in this build
 *   APR_EINVAL    a target version out of range
 *   APR_EGENERAL  the database said no (the driver's message is in *err), or
 *                 the database is at a version newer than this build knows
 */
#ifndef AUTHSVC_MIGRATE_H
#define AUTHSVC_MIGRATE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_dbd.h>

/* pg_advisory_xact_lock() key serialising migration runs on PostgreSQL
 * ("authsvc" in ASCII). */
#define AUTHSVC_MIGRATE_LOCK_KEY "27432215569987171"

typedef struct {
    int version;            /* 1, 2, ... without gaps */
    const char *name;       /* the part after NNNN_, e.g. "core" */
    const char *up;         /* SQL script, see the rules above */
    const char *down;
} authsvc_migration_t;

/* From the generated src/migrations_data.c: the migrations for a driver
 * ("sqlite3" or "pgsql", as apr_dbd_name() says), sorted by version, with
 * their number in *count (count may be NULL). Returns NULL and sets *count to
 * 0 for any other driver. */
const authsvc_migration_t *authsvc_migrate_list(const char *driver_name,
                                                int *count);

/* Latest version known to this build for that driver (0 if unknown driver). */
int authsvc_migrate_latest(const char *driver_name);

/* Current schema version in the database: 0 when schema_migrations is
 * missing or empty. Read-only: creates nothing. On failure returns an APR
 * error and sets *err to the driver's message (in p). */
apr_status_t authsvc_migrate_current(apr_pool_t *p, const apr_dbd_driver_t *drv,
                                     apr_dbd_t *h, int *version,
                                     const char **err);

/* Apply pending migrations up to `target` (-1 = latest), each in its own
 * transaction together with its schema_migrations row (the table is created
 * if missing); *applied = how many were committed, also on failure. Safe when
 * several processes run it at once: the transaction starts with BEGIN
 * IMMEDIATE on SQLite and takes pg_advisory_xact_lock(AUTHSVC_MIGRATE_LOCK_KEY)
 * on PostgreSQL, then re-reads the version and skips what is applied. A
 * target below the current version applies nothing and succeeds. A database
 * newer than this build (version > latest) is an error, never a downgrade.
 * On failure the failing migration is rolled back and *err says which
 * migration and statement failed, with the driver's message. */
apr_status_t authsvc_migrate_up(apr_pool_t *p, const apr_dbd_driver_t *drv,
                                apr_dbd_t *h, int target, int *applied,
                                const char **err);

/* Roll back to `target` (0 <= target <= current; equal does nothing), newest
 * first, each down script in its own locked transaction together with the
 * removal of its schema_migrations row; *reverted = how many were committed,
 * also on failure. APR_EINVAL when target is negative or above the current
 * version; APR_EGENERAL when the database is newer than this build (its down
 * scripts are unknown) or a statement fails (that migration is rolled back). */
apr_status_t authsvc_migrate_down(apr_pool_t *p, const apr_dbd_driver_t *drv,
                                  apr_dbd_t *h, int target, int *reverted,
                                  const char **err);

/* Split a migration script into statements by the rules above: an array of
 * const char * (in p) with comment lines dropped and the trailing ';' kept.
 * Returns APR_EINVAL with a message in *err when text follows the last ';'.
 * Exported for tests; the runner uses it for every script. */
apr_status_t authsvc_migrate_split(apr_pool_t *p, const char *script,
                                   apr_array_header_t **stmts,
                                   const char **err);

#endif /* AUTHSVC_MIGRATE_H */

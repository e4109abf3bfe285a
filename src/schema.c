/*
 * schema.c - start-up migration and the per-process "schema is current" flag.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apr_atomic.h"
#include "apr_dbd.h"
#include "ap_mpm.h"
#include "mod_dbd.h"
#include "unixd.h"

#include "config.h"
#include "migrate.h"
#include "schema.h"

/* Set once this process has seen the schema at the build's version; and once it has
 * said that it is not (one line per process, not one per request). */
static volatile apr_uint32_t schema_current;
static volatile apr_uint32_t schema_complained;

/* The start-up migration needs a connection of its own (mod_dbd's pooled ones prepare
 * our statements, which fail while the tables do not exist), so it reads DBDriver and
 * DBDParams from mod_dbd's record, and checks that the record really is s's own and
 * what it expects (cfg->server points back at the server). */
static const dbd_cfg_t *dbd_config(server_rec *s)
{
    const dbd_cfg_t *cfg = authsvc_store_dbd_cfg(s);

    if (!authsvc_store_dbd_given(cfg) || cfg->server != s) {
        return NULL;
    }
    return cfg;
}

/* As root, hand a SQLite file we just created to the user the children run as. */
static void give_to_children(apr_pool_t *p, server_rec *s, const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", NULL};
    int i;

    if (geteuid() != 0) {
        return;
    }
    for (i = 0; suffixes[i] != NULL; i++) {
        const char *f = apr_pstrcat(p, path, suffixes[i], NULL);
        if (chown(f, ap_unixd_config.user_id, ap_unixd_config.group_id) != 0 &&
            errno != ENOENT) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, errno, s,
                         "could not chown %s to the server's User/Group", f);
        }
    }
}

static void run_init_queries(const dbd_cfg_t *cfg, const apr_dbd_driver_t *drv,
                             apr_dbd_t *h)
{
    int i, n;

    for (i = 0; cfg->init_queries && i < cfg->init_queries->nelts; i++) {
        (void)apr_dbd_query(drv, h, &n, APR_ARRAY_IDX(cfg->init_queries, i, const char *));
    }
}

/* apr-util's sqlite3 driver prepares with the legacy sqlite3_prepare(): a PRAGMA that
 * expires prepared statements (foreign_keys, journal_mode, ...) run by DBDInitSQL
 * after mod_dbd prepared ours breaks every statement on that connection for good
 * ("not an error"). Refuse such a configuration at start-up, saying why. */
static const char *check_init_queries(apr_pool_t *p, const dbd_cfg_t *cfg)
{
    static const char *const bad[] = {"foreign_keys", "journal_mode", "recursive_triggers",
                                      "case_sensitive_like", "query_only", NULL};
    int i, b;

    if (strcmp(cfg->name, "sqlite3") != 0 || cfg->init_queries == NULL) {
        return NULL;
    }
    for (i = 0; i < cfg->init_queries->nelts; i++) {
        const char *q = APR_ARRAY_IDX(cfg->init_queries, i, const char *);
        for (b = 0; bad[b] != NULL; b++) {
            if (ap_strcasestr(q, bad[b]) != NULL) {
                return apr_psprintf(p,
                    "DBDInitSQL \"%s\": PRAGMA %s makes apr-util's sqlite3 driver "
                    "invalidate mod_dbd's prepared statements for good; remove it "
                    "(mod_authsvc needs no DBDInitSQL for SQLite: WAL mode is stored in "
                    "the database file when it is created)", q, bad[b]);
            }
        }
    }
    return NULL;
}

/* apr-util's sqlite3 driver holds a process-wide mutex while a statement runs, so a
 * busy_timeout makes every other thread of a threaded child wait as long: say so. */
static void warn_busy_timeout(server_rec *s, const dbd_cfg_t *cfg)
{
    int threaded = 0, i;

    if (strcmp(cfg->name, "sqlite3") != 0 || cfg->init_queries == NULL ||
        ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) != APR_SUCCESS ||
        threaded == AP_MPMQ_NOT_SUPPORTED) {
        return;
    }
    for (i = 0; i < cfg->init_queries->nelts; i++) {
        const char *q = APR_ARRAY_IDX(cfg->init_queries, i, const char *);
        if (ap_strcasestr(q, "busy_timeout") != NULL) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         "DBDInitSQL \"%s\" under a threaded MPM: apr-util's sqlite3 "
                         "driver holds a process-wide lock while SQLite waits, so every "
                         "thread of the child stalls that long; leave it out (mod_authsvc "
                         "retries busy writes itself)", q);
        }
    }
}

/* WAL is a property of the file: set once, every later connection has it. */
static void sqlite_wal(server_rec *s, const apr_dbd_driver_t *drv, apr_dbd_t *h,
                       apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;

    if (apr_dbd_select(drv, p, h, &res, "PRAGMA journal_mode=WAL", 0) != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "could not put SQLite in WAL mode");
        return;
    }
    while (apr_dbd_get_row(drv, p, res, &row, -1) == 0) {
    }
}

/* Check (and maybe migrate) one database. */
static void check_one(apr_pool_t *ptemp, server_rec *s, const dbd_cfg_t *cfg)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(s);
    const apr_dbd_driver_t *drv = NULL;
    apr_dbd_t *h = NULL;
    const char *err = NULL;
    int current = 0, latest = authsvc_migrate_latest(cfg->name), applied = 0;
    int created = 0;
    apr_finfo_t fi;

    if (apr_dbd_get_driver(ptemp, cfg->name, &drv) != APR_SUCCESS || latest == 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "DBDriver %s is not supported by mod_authsvc (use sqlite3 or pgsql)",
                     cfg->name);
        return;
    }
    if (strcmp(cfg->name, "sqlite3") == 0) {
        created = apr_stat(&fi, cfg->params, APR_FINFO_TYPE, ptemp) != APR_SUCCESS;
    }
    if (apr_dbd_open_ex(drv, ptemp, cfg->params, &h, &err) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "cannot reach the %s database to check its schema: %s; requests "
                     "will get 503 until it is reachable", cfg->name, err ? err : "?");
        return;
    }
    run_init_queries(cfg, drv, h);
    if (strcmp(cfg->name, "sqlite3") == 0) {
        sqlite_wal(s, drv, h, ptemp);
    }
    if (authsvc_migrate_current(ptemp, drv, h, &current, &err) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "cannot read the schema version: %s",
                     err ? err : "?");
    }
    else if (current < latest && c->auto_migrate == 1) {
        if (authsvc_migrate_up(ptemp, drv, h, -1, &applied, &err) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                         "AuthsvcAutoMigrate: migrating from version %d to %d failed: %s",
                         current, latest, err ? err : "?");
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                         "AuthsvcAutoMigrate: applied %d migration(s); schema now at "
                         "version %d", applied, latest);
        }
    }
    else if (current < latest) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "database schema is at version %d but this mod_authsvc needs %d: "
                     "run 'authsvc-admin --driver %s --params ... migrate up' or set "
                     "AuthsvcAutoMigrate On; until then every endpoint answers 503",
                     current, latest, cfg->name);
    }
    else if (current > latest) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "database schema is at version %d, newer than this mod_authsvc "
                     "(%d): upgrade the module; every endpoint answers 503 until then",
                     current, latest);
    }
    apr_dbd_close(drv, h);
    if (created) {
        give_to_children(ptemp, s, cfg->params);
    }
}

const char *authsvc_schema_startup(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    apr_hash_t *seen = apr_hash_make(ptemp);
    server_rec *sp;

    (void)pconf;
    for (sp = s; sp != NULL; sp = sp->next) {
        const dbd_cfg_t *cfg = dbd_config(sp);
        const char *key;

        if (cfg == NULL) {
            continue;
        }
        key = apr_pstrcat(ptemp, cfg->name, "\n", cfg->params, NULL);
        if (apr_hash_get(seen, key, APR_HASH_KEY_STRING) != NULL) {
            continue;
        }
        apr_hash_set(seen, key, APR_HASH_KEY_STRING, key);
        check_one(ptemp, sp, cfg);
    }
    return NULL;
}

const char *authsvc_schema_check_config(apr_pool_t *p, server_rec *s)
{
    server_rec *sp;
    const char *err;

    for (sp = s; sp != NULL; sp = sp->next) {
        const dbd_cfg_t *cfg = dbd_config(sp);
        if (cfg == NULL) {
            continue;
        }
        if ((err = check_init_queries(p, cfg)) != NULL) {
            return err;
        }
        warn_busy_timeout(sp, cfg);
    }
    return NULL;
}

int authsvc_schema_ready(request_rec *r, authsvc_db_t *db, int *version)
{
    int v = 0, latest = authsvc_migrate_latest(authsvc_store_driver(db));

    if (apr_atomic_read32(&schema_current) && version == NULL) {
        return 1;
    }
    if (authsvc_schema_version(db, &v) != APR_SUCCESS) {
        return 0;
    }
    if (version != NULL) {
        *version = v;
    }
    if (v != latest) {
        if (apr_atomic_cas32(&schema_complained, 1, 0) != 0) {
            return 0;
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "database schema is at version %d, this mod_authsvc needs %d: run "
                      "'authsvc-admin migrate up' (or AuthsvcAutoMigrate On)", v, latest);
        return 0;
    }
    apr_atomic_set32(&schema_current, 1);
    return 1;
}

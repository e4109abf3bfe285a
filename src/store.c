/*
 * store.c - statement registration, connection acquisition, and the exec/select/
 * transaction helpers every typed query in store_<entity>.c goes through.
 */
#include "apr_dbd.h"
#include "apr_optional.h"
#include "mod_dbd.h"

#include "metrics.h"
#include "store.h"

struct authsvc_db {
    request_rec *r;  /* NULL for a background connection */
    server_rec *s;
    apr_pool_t *p;   /* results and arguments live here */
    ap_dbd_t *dbd;
    int in_tx;     /* between our BEGIN and COMMIT/ROLLBACK */
    int recovered; /* a reconnect was already tried for this request */
    apr_array_header_t *after; /* after_t: what waits for the open transaction's commit */
};

/* Work that must wait for the transaction to commit (authsvc_store_after_commit). */
typedef struct {
    authsvc_commit_fn fn;
    void *baton;
    const char *what;
} after_t;

/* SQLite's SQLITE_BUSY. apr-util's sqlite3 driver already retries a busy statement 16
 * times 100 ms apart, releasing its process-wide mutex while it sleeps; when the write
 * lock is still taken after that (a holder descheduled on a saturated machine), a
 * statement that takes the write lock is tried again, a bounded number of rounds, so
 * that concurrent writers queue rather than fail. */
#define SQLITE_BUSY_RC 5
#define BUSY_ROUNDS    4

/* Log against the request when there is one, else against the server. */
#define DBLOG(db, level, ...)                                                   \
    do {                                                                        \
        if ((db)->r != NULL)                                                    \
            ap_log_rerror(APLOG_MARK, level, 0, (db)->r, __VA_ARGS__);          \
        else                                                                    \
            ap_log_error(APLOG_MARK, level, 0, (db)->s, __VA_ARGS__);           \
    } while (0)

static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare;
static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;

static const authsvc_stmt_t *const all_tables[] = {
    authsvc_store_users_stmts, authsvc_store_sessions_stmts, authsvc_store_audit_stmts,
    authsvc_store_schema_stmts, authsvc_store_tokens_stmts, authsvc_store_outbox_stmts,
    authsvc_store_lockout_stmts, authsvc_store_mfa_stmts, authsvc_store_refresh_stmts,
    authsvc_store_metrics_stmts, authsvc_store_emailcode_stmts,
    authsvc_store_remembered_stmts, authsvc_store_passkeys_stmts, NULL};

const char *authsvc_store_init(void)
{
    dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    if (dbd_prepare == NULL || dbd_acquire == NULL) {
        return "mod_authsvc needs mod_dbd: add 'LoadModule dbd_module "
               "modules/mod_dbd.so' (Debian: a2enmod dbd) and configure DBDriver";
    }
    return NULL;
}

/* mod_dbd keeps its settings in a private per-server record whose first member is
 * the public dbd_cfg_t pointer (httpd 2.4's layout since 2.2). */
const dbd_cfg_t *authsvc_store_dbd_cfg(server_rec *s)
{
    module *m = ap_find_linked_module("mod_dbd.c");
    void *svr = m ? ap_get_module_config(s->module_config, m) : NULL;

    return svr ? *(const dbd_cfg_t **)svr : NULL;
}

/* Once per set of statements mod_dbd keeps: virtual hosts without DBD directives of
 * their own share the main server's, and preparing twice makes mod_dbd warn. */
void authsvc_store_prepare(apr_pool_t *ptemp, server_rec *s)
{
    apr_hash_t *seen = apr_hash_make(ptemp);
    server_rec *sp;
    int t;
    const authsvc_stmt_t *st;

    for (sp = s; sp != NULL; sp = sp->next) {
        const dbd_cfg_t *cfg = authsvc_store_dbd_cfg(sp);
        if (cfg != NULL && cfg->queries != NULL) {
            if (apr_hash_get(seen, &cfg->queries, sizeof(cfg->queries)) != NULL) {
                continue;
            }
            apr_hash_set(seen, apr_pmemdup(ptemp, &cfg->queries, sizeof(cfg->queries)),
                         sizeof(cfg->queries), cfg);
        }
        for (t = 0; all_tables[t] != NULL; t++) {
            for (st = all_tables[t]; st->label != NULL; st++) {
                dbd_prepare(sp, st->sql, st->label);
            }
        }
    }
}

/* After a database restart the pool holds dead connections; mod_dbd checks one per
 * acquire, discards it and returns NULL. A few more tries drain them, so the first
 * requests after an outage succeed instead of each meeting one corpse. When the
 * database is really down every try fails fast (connection refused). A new SQLite
 * connection prepares its statements, which fails while another process commits
 * (SQLITE_BUSY: new children of a graceful restart under load): on SQLite there are
 * more tries, with pauses that double from 20 ms (620 ms in all), so that a commit
 * delayed by a loaded machine can end in between. Elsewhere a pause would only hold the
 * worker longer while the database is down. */
#define ACQUIRE_TRIES 3
#define ACQUIRE_TRIES_SQLITE 6
#define ACQUIRE_PAUSE_MS 20

static int is_sqlite(const char *driver)
{
    return driver != NULL && strcmp(driver, "sqlite3") == 0;
}

int authsvc_store_dbd_given(const dbd_cfg_t *cfg)
{
    return cfg != NULL && cfg->name != NULL && cfg->params != NULL &&
           cfg->name[0] != '['; /* mod_dbd's "[DBDriver unset]" placeholder */
}

/* The tries after a first one that found no connection. The driver is looked up here
 * only, off the path of a request that gets its connection at once. */
static ap_dbd_t *acquire_again(request_rec *r)
{
    const dbd_cfg_t *cfg = authsvc_store_dbd_cfg(r->server);
    int sqlite = cfg != NULL && is_sqlite(cfg->name);
    int tries = sqlite ? ACQUIRE_TRIES_SQLITE : ACQUIRE_TRIES;
    apr_int64_t pause_ms = ACQUIRE_PAUSE_MS;
    ap_dbd_t *dbd = NULL;
    int i;

    for (i = 1; dbd == NULL && i < tries; i++) {
        if (sqlite) {
            apr_sleep(apr_time_from_msec(pause_ms));
            pause_ms *= 2;
        }
        dbd = dbd_acquire(r);
    }
    return dbd;
}

authsvc_db_t *authsvc_store_db(request_rec *r)
{
    authsvc_db_t *db;
    ap_dbd_t *dbd = NULL;

    if (dbd_acquire != NULL && (dbd = dbd_acquire(r)) == NULL) {
        dbd = acquire_again(r);
    }
    if (dbd == NULL) {
        authsvc_metrics_inc(AUTHSVC_M_DB_ERRORS);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "no database connection (see mod_dbd's messages above)");
        return NULL;
    }
    db = apr_pcalloc(r->pool, sizeof(*db));
    db->r = r;
    db->s = r->server;
    db->p = r->pool;
    db->dbd = dbd;
    return db;
}

authsvc_db_t *authsvc_store_db_wrap(apr_pool_t *p, server_rec *s, ap_dbd_t *dbd)
{
    authsvc_db_t *db = apr_pcalloc(p, sizeof(*db));

    db->s = s;
    db->p = p;
    db->dbd = dbd;
    return db;
}

apr_status_t authsvc_store_prepare_on(apr_pool_t *p, const apr_dbd_driver_t *drv,
                                      apr_dbd_t *handle, const authsvc_stmt_t *table,
                                      apr_hash_t *prepared, const char **err)
{
    const authsvc_stmt_t *st;

    for (st = table; st->label != NULL; st++) {
        apr_dbd_prepared_t *ps = NULL;
        int rc = apr_dbd_prepare(drv, p, handle, st->sql, st->label, &ps);
        if (rc != 0) {
            if (err != NULL) {
                const char *m = apr_dbd_error(drv, handle, rc);
                *err = apr_psprintf(p, "%s: %s", st->label, m ? m : "(no message)");
            }
            return APR_EGENERAL;
        }
        apr_hash_set(prepared, st->label, APR_HASH_KEY_STRING, ps);
    }
    return APR_SUCCESS;
}

request_rec *authsvc_store_request(authsvc_db_t *db)
{
    return db->r;
}

apr_pool_t *authsvc_store_pool(authsvc_db_t *db)
{
    return db->p;
}

const char *authsvc_store_driver(const authsvc_db_t *db)
{
    return apr_dbd_name(db->dbd->driver);
}

static apr_dbd_prepared_t *statement(authsvc_db_t *db, const char *label)
{
    apr_dbd_prepared_t *st = apr_hash_get(db->dbd->prepared, label, APR_HASH_KEY_STRING);

    if (st == NULL) {
        DBLOG(db, APLOG_ERR, "prepared statement %s is missing", label);
    }
    return st;
}

static int busy_again(authsvc_db_t *db, int rc, int *round, const char *what)
{
    if (rc != SQLITE_BUSY_RC || *round >= BUSY_ROUNDS ||
        !is_sqlite(authsvc_store_driver(db))) {
        return 0;
    }
    (*round)++;
    DBLOG(db, APLOG_DEBUG, "%s: database busy, round %d of %d", what, *round, BUSY_ROUNDS);
    return 1;
}

static apr_status_t failed(authsvc_db_t *db, const char *label, int rc)
{
    const char *msg = apr_dbd_error(db->dbd->driver, db->dbd->handle, rc);

    authsvc_metrics_inc(AUTHSVC_M_DB_ERRORS);
    DBLOG(db, APLOG_ERR, "%s failed (%d): %s", label, rc, msg ? msg : "(no message)");
    return APR_EGENERAL;
}

/* Prepare every statement of ours on the request's connection again; the number that
 * PREPAREd. 0 as soon as the first one fails: the connection is dead, or it is live and
 * has them all (a statement that failed for its own reasons), and then trying the
 * other hundred would only make a hundred more round trips. */
static int prepare_all(authsvc_db_t *db)
{
    const apr_dbd_driver_t *drv = db->dbd->driver;
    const authsvc_stmt_t *st;
    int t, n = 0;

    for (t = 0; all_tables[t] != NULL; t++) {
        for (st = all_tables[t]; st->label != NULL; st++) {
            apr_dbd_prepared_t *ps = NULL;
            if (apr_dbd_prepare(drv, db->dbd->pool, db->dbd->handle, st->sql, st->label,
                                &ps) != 0) {
                if (n == 0) {
                    return 0;
                }
                continue;
            }
            apr_hash_set(db->dbd->prepared, st->label, APR_HASH_KEY_STRING, ps);
            n++;
        }
    }
    return n;
}

/* PostgreSQL restarted under us: the pooled connection's session is gone. libpq's
 * PQreset (run by apr_dbd_check_conn) opens a new one, but without the prepared
 * statements mod_dbd made, and mod_dbd never prepares them again. So after a failed
 * statement outside a transaction: reconnect if needed, prepare our statements on this
 * connection again, and let the caller try once more. libpq may not have noticed the
 * server went away until the first PREPARE fails: then the check runs a second time,
 * which reconnects (or fails fast while the server is still down). Returns 1 if a retry
 * is worth it. */
static int recover(authsvc_db_t *db)
{
    int round;

    if (db->in_tx || db->recovered || strcmp(authsvc_store_driver(db), "pgsql") != 0) {
        return 0;
    }
    db->recovered = 1;
    for (round = 0; round < 2; round++) {
        if (apr_dbd_check_conn(db->dbd->driver, db->p, db->dbd->handle) != APR_SUCCESS) {
            return 0;
        }
        if (prepare_all(db) > 0) {
            DBLOG(db, APLOG_NOTICE,
                  "database connection re-established; statements prepared again");
            return 1;
        }
    }
    return 0;
}

apr_status_t authsvc_store_exec(authsvc_db_t *db, const char *label, int *nrows, int nargs,
                                const char **args)
{
    apr_dbd_prepared_t *st = statement(db, label);
    int n = 0, rc, round = 0;

    if (st == NULL) {
        return APR_EGENERAL;
    }
    do {
        rc = apr_dbd_pquery(db->dbd->driver, db->p, db->dbd->handle, &n, st, nargs, args);
    } while (busy_again(db, rc, &round, label) ||
             (rc != 0 && recover(db) && (st = statement(db, label)) != NULL));
    if (rc != 0) {
        return failed(db, label, rc);
    }
    if (nrows != NULL) {
        *nrows = n;
    }
    DBLOG(db, APLOG_TRACE2, "%s: %d rows", label, n);
    return APR_SUCCESS;
}

apr_status_t authsvc_store_select(authsvc_db_t *db, const char *label, int nargs,
                                  const char **args, authsvc_rows_t *rows)
{
    apr_dbd_prepared_t *st = statement(db, label);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *cells;
    const apr_dbd_driver_t *drv = db->dbd->driver;
    int rc, c;

    /* No rows unless it worked: callers may size things by nrows before checking. */
    rows->nrows = 0;
    rows->ncols = 0;
    rows->cells = NULL;
    if (st == NULL) {
        return APR_EGENERAL;
    }
    do {
        rc = apr_dbd_pselect(drv, db->p, db->dbd->handle, &res, st, 1, nargs, args);
    } while (rc != 0 && recover(db) && (st = statement(db, label)) != NULL);
    if (rc != 0) {
        return failed(db, label, rc);
    }
    rows->ncols = apr_dbd_num_cols(drv, res);
    rows->nrows = 0;
    cells = apr_array_make(db->p, rows->ncols * 2, sizeof(const char *));
    while ((rc = apr_dbd_get_row(drv, db->p, res, &row, -1)) == 0) {
        for (c = 0; c < rows->ncols; c++) {
            char *v = NULL;
            if (apr_dbd_datum_get(drv, row, c, APR_DBD_TYPE_STRING, &v) != APR_SUCCESS) {
                v = NULL; /* APR_ENOENT: SQL NULL */
            }
            APR_ARRAY_PUSH(cells, const char *) = v ? apr_pstrdup(db->p, v) : NULL;
        }
        rows->nrows++;
    }
    if (rc != -1) {
        rows->nrows = 0;
        return failed(db, label, rc);
    }
    rows->cells = (const char **)cells->elts;
    DBLOG(db, APLOG_TRACE2, "%s: %d rows", label, rows->nrows);
    return APR_SUCCESS;
}

const char *authsvc_store_cell(const authsvc_rows_t *rows, int row, int col)
{
    if (row < 0 || row >= rows->nrows || col < 0 || col >= rows->ncols) {
        return NULL;
    }
    return rows->cells[row * rows->ncols + col];
}

const char *authsvc_store_int(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

apr_int64_t authsvc_store_cell_int(const authsvc_rows_t *rows, int row, int col,
                                   apr_int64_t dflt)
{
    const char *v = authsvc_store_cell(rows, row, col);
    return v ? apr_atoi64(v) : dflt;
}

static apr_status_t run(authsvc_db_t *db, const char *sql)
{
    int n = 0, rc, round = 0;

    do {
        rc = apr_dbd_query(db->dbd->driver, db->dbd->handle, &n, sql);
    } while (busy_again(db, rc, &round, sql) || (rc != 0 && recover(db)));
    return rc == 0 ? APR_SUCCESS : failed(db, sql, rc);
}

void authsvc_store_after_commit(authsvc_db_t *db, authsvc_commit_fn fn, void *baton,
                                const char *what)
{
    after_t *a;

    if (!db->in_tx) {
        fn(baton);
        return;
    }
    if (db->after == NULL) {
        db->after = apr_array_make(db->p, 2, sizeof(after_t));
    }
    a = apr_array_push(db->after);
    a->fn = fn;
    a->baton = baton;
    a->what = what;
}

/* The transaction ended: its waiting work runs (committed) or goes (rolled back). */
static void settle(authsvc_db_t *db, int committed)
{
    int i, n = db->after ? db->after->nelts : 0;

    for (i = 0; i < n; i++) {
        after_t *a = &APR_ARRAY_IDX(db->after, i, after_t);
        if (committed) {
            a->fn(a->baton);
        }
        else {
            DBLOG(db, APLOG_DEBUG, "transaction rolled back: %s dropped", a->what);
        }
    }
    if (db->after != NULL) {
        apr_array_clear(db->after);
    }
}

apr_status_t authsvc_store_begin(authsvc_db_t *db)
{
    apr_status_t rv =
        run(db, is_sqlite(authsvc_store_driver(db)) ? "BEGIN IMMEDIATE" : "BEGIN");

    db->in_tx = rv == APR_SUCCESS;
    return rv;
}

apr_status_t authsvc_store_commit(authsvc_db_t *db)
{
    apr_status_t rv = run(db, "COMMIT");

    if (rv != APR_SUCCESS) {
        authsvc_store_rollback(db);
        return rv;
    }
    db->in_tx = 0;
    settle(db, 1);
    return rv;
}

void authsvc_store_rollback(authsvc_db_t *db)
{
    int n = 0;

    if (db->in_tx) {
        (void)apr_dbd_query(db->dbd->driver, db->dbd->handle, &n, "ROLLBACK");
        db->in_tx = 0;
    }
    settle(db, 0);
}

apr_status_t authsvc_store_transaction(authsvc_db_t *db, authsvc_tx_fn fn, void *baton)
{
    apr_status_t rv = authsvc_store_begin(db);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = fn(db, baton)) != APR_SUCCESS) {
        authsvc_store_rollback(db);
        return rv;
    }
    return authsvc_store_commit(db);
}

/*
 * outbox.c - queue mail in the request's transaction; deliver it from a mod_watchdog
 * callback.
 *
 * The deliverer runs in one child process at a time (a singleton watchdog) on a
 * connection of its own: under prefork mod_dbd keeps one connection per process, which
 * the request thread may be using at that very moment. Each message is claimed with an
 * atomic UPDATE before it is sent, so several nodes sharing a database never send one
 * message twice (a deliverer that dies mid-send leaves the claim to expire, and the
 * message is sent again: at least once, never silently dropped).
 */
#include "apr_atomic.h"
#include "apr_dbd.h"
#include "apr_thread_mutex.h"
#include "mod_watchdog.h"
#include <curl/curl.h>

#include "config.h"
#include "crypto.h"
#include "mail.h"
#include "mail_transport.h"
#include "metrics.h"
#include "outbox.h"
#include "page.h"
#include "secretbox.h"
#include "request.h"

#define POLL_INTERVAL  apr_time_from_sec(1)
#define CLAIM_SECONDS  120            /* longer than any transport's own time-out */
#define PRUNE_EVERY    3600
#define KEEP_DONE      (7 * 86400)    /* sent and failed rows are kept a week */
#define KEEP_TOKENS    86400          /* expired tokens a day (for support questions) */
#define WARN_EVERY     60             /* "database unreachable" at most once a minute */
#define TICK_BUDGET    apr_time_from_sec(5) /* one callback delivers for this long at most */
#define PRUNE_BATCH    1000           /* audit rows or sessions pruned per statement */

/* ---- queueing ------------------------------------------------------------------ */

/* The name a mail calls the site by: the host of AuthsvcPublicURL, else ServerName. */
static const char *site_name(request_rec *r, const authsvc_srv_cfg_t *c)
{
    if (c->public_host != NULL) {
        return c->public_host;
    }
    return r->server->server_hostname ? r->server->server_hostname : "localhost";
}

/* A sealed message is bound to its recipient. */
static const char *sealing_aad(apr_pool_t *p, const char *to)
{
    return apr_pstrcat(p, "mail_outbox:", to, NULL);
}

apr_status_t authsvc_outbox_queue(request_rec *r, authsvc_db_t *db, const char *name,
                                  const char *to, apr_table_t *vars, const char **why)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const authsvc_mail_tpl_t *tpl = authsvc_mail_template(c->mail_templates, name);
    authsvc_outbox_t m;
    apr_time_t now = apr_time_now();
    char date[APR_RFC822_DATE_LEN];

    *why = NULL;
    if (tpl == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mail template %s is missing", name);
        return APR_EGENERAL;
    }
    apr_rfc822_date(date, now);
    apr_table_setn(vars, "site", site_name(r, c));
    apr_table_setn(vars, "email", to);
    apr_table_setn(vars, "time", apr_pstrdup(r->pool, date));
    apr_table_setn(vars, "ip", r->useragent_ip);
    memset(&m, 0, sizeof(m));
    /* In the language of the request that causes the mail (as its page would be). */
    *why = authsvc_mail_compose_in(r->pool, tpl, c->i18n, authsvc_page_language(r),
                                   c->mail_from, c->mail_from_name, to, vars, now,
                                   &m.message);
    if (*why != NULL) {
        return APR_EINVAL;
    }
    /* The message carries the token of a link: with a key, it is sealed at rest. */
    if (c->keyring != NULL &&
        (m.message = authsvc_secretbox_seal(r->pool, c->keyring,
                                            (const unsigned char *)m.message,
                                            strlen(m.message), sealing_aad(r->pool, to))) ==
            NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "could not seal mail %s to the outbox",
                      name);
        return APR_EGENERAL;
    }
    m.template_name = name;
    m.transport = c->mail_transport_key;
    m.sender = c->mail_from;
    m.recipient = to;
    m.created_at = apr_time_sec(now);
    return authsvc_outbox_insert(db, &m);
}

/* ---- delivery ------------------------------------------------------------------ */

/* One per distinct database: the servers using it, by transport key. */
typedef struct {
    server_rec *s;              /* the first server on this database: logs, defaults */
    const dbd_cfg_t *cfg;
    apr_hash_t *by_transport;   /* transport key -> server_rec * */
    apr_array_header_t *keyrings; /* the servers' distinct AuthsvcSecretKeyFile keys */
    int audit_days;             /* the longest AuthsvcAuditRetention of them; 0 keeps all */
    /* mod_watchdog's pool cleanup calls tick(STOPPING) from the main thread while its
     * own thread may still be in tick(RUNNING): each tick holds this lock, and once
     * stopping the deliverer opens no connection again (valgrind saw the two threads
     * close one connection, a use after free at every child's exit). `stopping` is set
     * by tick(STOPPING) before it waits for the lock, so a running tick ends early. */
    apr_thread_mutex_t *lock;
    volatile apr_uint32_t stopping;
    /* per child process, built on first use */
    apr_pool_t *pool;
    ap_dbd_t dbd;
    apr_time_t last_warn;
    apr_int64_t last_prune;
} deliverer_t;

static void close_db(deliverer_t *d)
{
    if (d->dbd.handle != NULL) {
        apr_dbd_close(d->dbd.driver, d->dbd.handle);
        d->dbd.handle = NULL;
    }
    if (d->pool != NULL) {
        apr_pool_destroy(d->pool);
        d->pool = NULL;
    }
}

/* This process's connection, opened (and the statements prepared) on first use. */
static int open_db(deliverer_t *d)
{
    /* What the deliverer runs: delivery, and the pruning of what has expired. */
    static const authsvc_stmt_t *const tables[] = {
        authsvc_store_outbox_stmts, authsvc_store_tokens_stmts, authsvc_store_mfa_stmts,
        authsvc_store_refresh_stmts, authsvc_store_audit_stmts, authsvc_store_emailcode_stmts,
        authsvc_store_passkeys_stmts, authsvc_store_remembered_stmts,
        authsvc_store_sessions_stmts, NULL};
    const char *err = NULL;
    apr_status_t rv;
    int i;

    if (d->dbd.handle != NULL) {
        return 1;
    }
    if (apr_pool_create(&d->pool, NULL) != APR_SUCCESS) {
        return 0;
    }
    d->dbd.pool = d->pool;
    d->dbd.prepared = apr_hash_make(d->pool);
    rv = apr_dbd_get_driver(d->pool, d->cfg->name, &d->dbd.driver);
    if (rv == APR_SUCCESS) {
        rv = apr_dbd_open_ex(d->dbd.driver, d->pool, d->cfg->params, &d->dbd.handle, &err);
    }
    for (i = 0; rv == APR_SUCCESS && tables[i] != NULL; i++) {
        rv = authsvc_store_prepare_on(d->pool, d->dbd.driver, d->dbd.handle, tables[i],
                                      d->dbd.prepared, &err);
    }
    if (rv != APR_SUCCESS) {
        if (apr_time_now() - d->last_warn > apr_time_from_sec(WARN_EVERY)) {
            d->last_warn = apr_time_now();
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, d->s,
                         "mail outbox: cannot use the database (%s); mail stays queued",
                         err ? err : "no driver");
        }
        close_db(d);
        return 0;
    }
    return 1;
}

/* The server whose transport delivers m: the one that queued it, or (a transport no
 * longer configured) the first server of the database, so nothing waits forever. */
static server_rec *owner(const deliverer_t *d, const authsvc_outbox_t *m)
{
    server_rec *s = m->transport ? apr_hash_get(d->by_transport, m->transport,
                                                APR_HASH_KEY_STRING)
                                 : NULL;
    return s ? s : d->s;
}

static apr_int64_t backoff(const authsvc_srv_cfg_t *c, int attempts)
{
    apr_int64_t delay = c->retry_base;

    while (--attempts > 0 && delay < c->retry_max) {
        delay *= 2;
    }
    return delay < c->retry_max ? delay : c->retry_max;
}

/* The message as queued: in clear, or sealed (then opened with whichever server's keys
 * know its key id). NULL when no key opens it. */
static const char *unseal(const deliverer_t *d, apr_pool_t *p, const authsvc_outbox_t *m)
{
    unsigned char *pt = NULL;
    apr_size_t len = 0;
    int i;

    if (strncmp(m->message, "v1.", 3) != 0) {
        return m->message; /* queued in clear (no key), or before keys were configured */
    }
    for (i = 0; i < d->keyrings->nelts; i++) {
        if (authsvc_secretbox_open(p, APR_ARRAY_IDX(d->keyrings, i,
                                                    const authsvc_keyring_t *),
                                   m->message, sealing_aad(p, m->recipient), &pt,
                                   &len) == APR_SUCCESS) {
            return (const char *)pt;
        }
    }
    return NULL;
}

static void deliver(deliverer_t *d, authsvc_db_t *db, apr_pool_t *p,
                    const authsvc_outbox_t *m)
{
    server_rec *s = owner(d, m);
    const authsvc_srv_cfg_t *c = authsvc_srv(s);
    apr_int64_t now = AUTHSVC_NOW();
    const char *error = NULL, *message;
    int claimed = 0;

    if (authsvc_outbox_claim(db, m->id, now + CLAIM_SECONDS, &claimed) != APR_SUCCESS ||
        !claimed) {
        return;
    }
    if (m->message == NULL || m->recipient == NULL) {
        error = "the message is missing";
    }
    else if ((message = unseal(d, p, m)) == NULL) {
        error = "the message is sealed with a key no AuthsvcSecretKeyFile lists";
    }
    else if (authsvc_mail_transport_send(p, c->mail_transport, m->sender, m->recipient,
                                         message, &error) == APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "mail %s sent via %s", m->id,
                     c->mail_transport_key);
        authsvc_outbox_sent(db, m->id);
        authsvc_metrics_inc(AUTHSVC_M_MAIL_SENT);
        return;
    }
    if (error == NULL) {
        error = "delivery failed";
    }
    if (now - m->created_at >= c->retry_giveup || m->message == NULL) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "mail %s failed for good after %d "
                     "attempts: %s", m->id, m->attempts + 1, error);
        authsvc_outbox_fail(db, m->id, error);
        authsvc_metrics_inc(AUTHSVC_M_MAIL_FAILED);
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "mail %s not delivered (attempt %d): "
                 "%s; trying again later", m->id, m->attempts + 1, error);
    authsvc_outbox_retry(db, m->id, now + backoff(c, m->attempts + 1), error);
    authsvc_metrics_inc(AUTHSVC_M_MAIL_RETRIED);
}

/* Delete with fn (audit rows, sessions) a batch at a time, for at most a tick's budget
 * (the rest waits for the next hour: the first prune after an upgrade, say, has every
 * session ever made to go), and not after the child began to stop (tick(STOPPING) waits
 * for this). The rows deleted, or -1 (logged). */
static apr_int64_t prune_batches(deliverer_t *d, authsvc_db_t *db, apr_int64_t before,
                                 apr_status_t (*fn)(authsvc_db_t *, apr_int64_t, int, int *),
                                 const char *what)
{
    apr_time_t start = apr_time_now();
    apr_int64_t total = 0;
    int n = PRUNE_BATCH;

    while (n == PRUNE_BATCH && apr_time_now() - start < TICK_BUDGET &&
           !apr_atomic_read32(&d->stopping)) {
        if (fn(db, before, PRUNE_BATCH, &n) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, d->s, "could not prune %s", what);
            return -1;
        }
        total += n;
    }
    return total;
}

/* AuthsvcAuditRetention. */
static void prune_audit(deliverer_t *d, authsvc_db_t *db, apr_int64_t now)
{
    apr_int64_t total;

    if (d->audit_days <= 0) {
        return;
    }
    total = prune_batches(d, db, now - (apr_int64_t)d->audit_days * 86400,
                          authsvc_audit_prune, "audit_log");
    if (total > 0) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, d->s,
                     "pruned %" APR_INT64_T_FMT " audit rows older than %d days", total,
                     d->audit_days);
    }
}

static void prune(deliverer_t *d, authsvc_db_t *db)
{
    apr_int64_t now = AUTHSVC_NOW();

    if (now - d->last_prune < PRUNE_EVERY) {
        return;
    }
    d->last_prune = now;
    authsvc_outbox_prune(db, now - KEEP_DONE);
    authsvc_tokens_prune(db, now - KEEP_TOKENS);
    authsvc_mfa_challenge_prune(db, now - KEEP_TOKENS);
    authsvc_webauthn_challenge_prune(db, now - KEEP_TOKENS);
    authsvc_refresh_prune(db, now - KEEP_TOKENS);
    prune_batches(d, db, now - KEEP_TOKENS, authsvc_sessions_prune, "sessions");
    authsvc_emailcode_prune(db, now);
    authsvc_remembered_prune(db, now);
    prune_audit(d, db, now);
}

static void run(deliverer_t *d, int state, apr_pool_t *p)
{
    apr_time_t start = apr_time_now();
    apr_array_header_t *due = NULL;
    authsvc_db_t *db;
    int i;

    if (state == AP_WATCHDOG_STATE_STOPPING) {
        close_db(d);
        return;
    }
    if (state != AP_WATCHDOG_STATE_RUNNING || apr_atomic_read32(&d->stopping) ||
        !open_db(d)) {
        return;
    }
    db = authsvc_store_db_wrap(p, d->s, &d->dbd);
    /* Batch after batch while there is more, for a few seconds at most: a queue that
     * grew during a mail server outage drains at the transport's speed. */
    do {
        if (authsvc_outbox_due(db, AUTHSVC_NOW(), &due) != APR_SUCCESS) {
            close_db(d); /* a fresh connection next time */
            return;
        }
        /* A child stopping (tick(STOPPING) waits for this tick) ends the batch between
         * two mails rather than after up to a batch of SMTP timeouts. */
        for (i = 0; i < due->nelts && !apr_atomic_read32(&d->stopping); i++) {
            deliver(d, db, p, &APR_ARRAY_IDX(due, i, authsvc_outbox_t));
        }
    } while (due->nelts == AUTHSVC_OUTBOX_BATCH && apr_time_now() - start < TICK_BUDGET &&
             !apr_atomic_read32(&d->stopping));
    if (!apr_atomic_read32(&d->stopping)) {
        prune(d, db);
    }
}

/* The watchdog callback: one tick at a time per deliverer (see deliverer_t.lock). */
static apr_status_t tick(int state, void *data, apr_pool_t *p)
{
    deliverer_t *d = data;

    if (state == AP_WATCHDOG_STATE_STOPPING) {
        apr_atomic_set32(&d->stopping, 1); /* before the lock: a running tick sees it */
    }
    apr_thread_mutex_lock(d->lock);
    run(d, state, p);
    apr_thread_mutex_unlock(d->lock);
    return APR_SUCCESS;
}

/* ---- start-up ------------------------------------------------------------------ */

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register;

static void add_keyring(deliverer_t *d, const authsvc_keyring_t *kr)
{
    int i;

    for (i = 0; kr != NULL && i < d->keyrings->nelts; i++) {
        if (APR_ARRAY_IDX(d->keyrings, i, const authsvc_keyring_t *) == kr) {
            return;
        }
    }
    if (kr != NULL) {
        APR_ARRAY_PUSH(d->keyrings, const authsvc_keyring_t *) = kr;
    }
}

/* Group the servers by database (their cache realm is the database's identity). */
static apr_hash_t *group(apr_pool_t *pconf, server_rec *s)
{
    apr_hash_t *by_realm = apr_hash_make(pconf);

    for (; s != NULL; s = s->next) {
        const authsvc_srv_cfg_t *c = authsvc_srv(s);
        const dbd_cfg_t *cfg = authsvc_store_dbd_cfg(s);
        deliverer_t *d;

        if (cfg == NULL || cfg->name == NULL || cfg->params == NULL || c->realm == NULL) {
            continue;
        }
        d = apr_hash_get(by_realm, c->realm, APR_HASH_KEY_STRING);
        if (d == NULL) {
            d = apr_pcalloc(pconf, sizeof(*d));
            d->s = s;
            d->cfg = cfg;
            d->by_transport = apr_hash_make(pconf);
            d->keyrings = apr_array_make(pconf, 2, sizeof(const authsvc_keyring_t *));
            d->audit_days = -1;
            apr_hash_set(by_realm, c->realm, APR_HASH_KEY_STRING, d);
        }
        /* Servers sharing a database keep its rows as long as the longest asks. */
        if (authsvc_config_audit_days(c) == 0 || d->audit_days == 0) {
            d->audit_days = 0;
        }
        else if (authsvc_config_audit_days(c) > d->audit_days) {
            d->audit_days = authsvc_config_audit_days(c);
        }
        add_keyring(d, c->keyring);
        if (apr_hash_get(d->by_transport, c->mail_transport_key, APR_HASH_KEY_STRING) ==
            NULL) {
            apr_hash_set(d->by_transport, c->mail_transport_key, APR_HASH_KEY_STRING, s);
        }
    }
    return by_realm;
}

const char *authsvc_outbox_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_hash_index_t *hi;
    ap_watchdog_t *wd = NULL;
    apr_hash_t *by_realm;

    wd_get = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (wd_get == NULL || wd_register == NULL) {
        return "mod_authsvc needs mod_watchdog to deliver mail: add 'LoadModule "
               "watchdog_module modules/mod_watchdog.so' (built in on Debian)";
    }
    static int curl_ready = 0; /* once per process: it counts its calls */

    if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return "mod_authsvc: libcurl could not be initialised";
    }
    curl_ready = 1;
    by_realm = group(pconf, s);
    if (apr_hash_count(by_realm) == 0) {
        return NULL;
    }
    if (wd_get(&wd, "authsvc-mail", 0, 1, pconf) != APR_SUCCESS) {
        return "mod_authsvc: cannot create the mail watchdog";
    }
    for (hi = apr_hash_first(pconf, by_realm); hi; hi = apr_hash_next(hi)) {
        deliverer_t *d = apr_hash_this_val(hi);
        if (apr_thread_mutex_create(&d->lock, APR_THREAD_MUTEX_DEFAULT, pconf) !=
            APR_SUCCESS) {
            return "mod_authsvc: cannot create the mail watchdog's lock";
        }
        if (wd_register(wd, POLL_INTERVAL, d, tick) != APR_SUCCESS) {
            return "mod_authsvc: cannot register the mail watchdog";
        }
    }
    return NULL;
}

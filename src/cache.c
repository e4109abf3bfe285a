/*
 * cache.c - one socache instance for the whole server, behind a global mutex when the
 * provider needs one (shmcb: it is not safe across processes on its own).
 *
 * Entries in a cache outside this machine's memory (any provider but shmcb: redis,
 * memcache, dbm) are sealed with the server's AuthsvcSecretKeyFile when it has one
 * (AES-256-GCM, the cache key as associated data, the expiry sealed with the value):
 * whoever can write to a shared Redis cannot forge a cached session or counter, move it
 * to another key or bring it back past its expiry, and reads no user id in it. An entry
 * that does not open is a miss.
 */
#include "ap_provider.h"
#include "ap_socache.h"
#include "apr_atomic.h"
#include "apr_global_mutex.h"
#include "apr_shm.h"
#include "util_mutex.h"

#include "cache.h"
#include "config.h"
#include "secretbox.h"
#include "store.h"

#include <openssl/crypto.h>

#define MUTEX_TYPE "authsvc-cache"
#define NAMESPACE  "authsvc"

/* Configuration-time globals: reset in pre_config, set by the directive or by
 * post_config, inherited by the children. */
static const ap_socache_provider_t *provider;
static ap_socache_instance_t *instance;
static apr_global_mutex_t *mutex;
static int disabled;
static int node_local; /* shmcb: this machine's shared memory (set in post_config) */
static int initialised;
static apr_shm_t *generation_shm;
static volatile apr_uint32_t *generation;

void authsvc_cache_pre_config(apr_pool_t *pconf)
{
    provider = NULL;
    instance = NULL;
    mutex = NULL;
    disabled = 0;
    node_local = 0;
    initialised = 0;
    generation_shm = NULL;
    generation = NULL;
    ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

static const char *create(apr_pool_t *p, apr_pool_t *ptemp, const char *spec)
{
    const char *sep = ap_strchr_c(spec, ':');
    const char *name = sep ? apr_pstrmemdup(ptemp, spec, (apr_size_t)(sep - spec)) : spec;
    const char *err;

    provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                  AP_SOCACHE_PROVIDER_VERSION);
    if (provider == NULL) {
        return apr_psprintf(p, "no socache provider '%s': load it first "
                            "(LoadModule socache_%s_module, or a2enmod socache_%s)",
                            name, name, name);
    }
    err = provider->create(&instance, sep ? sep + 1 : NULL, ptemp, p);
    if (err != NULL) {
        provider = NULL;
        return apr_psprintf(p, "%s: %s", name, err);
    }
    return NULL;
}

const char *authsvc_cache_set(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dcfg;
    if (err != NULL) {
        return err;
    }
    /* The last AuthsvcCache line wins. */
    provider = NULL;
    instance = NULL;
    disabled = strcasecmp(arg, "none") == 0;
    if (disabled) {
        return NULL;
    }
    err = create(cmd->pool, cmd->temp_pool, arg);
    return err ? apr_psprintf(cmd->pool, "AuthsvcCache %s", err) : NULL;
}

static apr_status_t destroy(void *data)
{
    if (provider != NULL && instance != NULL) {
        provider->destroy(instance, (server_rec *)data);
    }
    return APR_SUCCESS;
}

const char *authsvc_cache_post_config(apr_pool_t *pconf, server_rec *s)
{
    static const struct ap_socache_hints hints = {64, 256, apr_time_from_sec(30)};
    const char *err;
    apr_status_t rv;

    if (disabled) {
        return NULL;
    }
    if (provider == NULL && (err = create(pconf, pconf, "shmcb")) != NULL) {
        return apr_pstrcat(pconf, "AuthsvcCache (default shmcb): ", err,
                           "; or set AuthsvcCache none", NULL);
    }
    if (provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&mutex, NULL, MUTEX_TYPE, NULL, s, pconf, 0);
        if (rv != APR_SUCCESS) {
            return "AuthsvcCache: cannot create the cache mutex (see Mutex)";
        }
    }
    rv = provider->init(instance, NAMESPACE, &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(pconf, "AuthsvcCache: %s provider failed to initialise",
                            provider->name);
    }
    apr_pool_cleanup_register(pconf, s, destroy, apr_pool_cleanup_null);
    initialised = 1;
    node_local = strcmp(provider->name, "shmcb") == 0;
    if (!node_local) {
        server_rec *v;

        for (v = s; v != NULL; v = v->next) {
            if (authsvc_srv(v)->keyring == NULL && authsvc_store_dbd_cfg(v) != NULL) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, v,
                             "AuthsvcCache %s without AuthsvcSecretKeyFile: cache entries "
                             "(sessions, counters) are stored unsealed; whoever can write "
                             "to the cache can sign in as anyone", provider->name);
                break;
            }
        }
    }
    /* Anonymous shared memory, inherited by the children across fork. */
    if (apr_shm_create(&generation_shm, sizeof(apr_uint32_t), NULL, pconf) ==
        APR_SUCCESS) {
        generation = apr_shm_baseaddr_get(generation_shm);
        apr_atomic_set32(generation, 1);
    }
    return NULL;
}

apr_uint32_t authsvc_cache_generation(void)
{
    return generation ? apr_atomic_read32(generation) : 0;
}

void authsvc_cache_bump(void)
{
    if (generation != NULL) {
        apr_atomic_inc32(generation);
    }
}

int authsvc_cache_local_only(void)
{
    return authsvc_cache_enabled() && generation != NULL && node_local;
}

void authsvc_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (mutex == NULL) {
        return;
    }
    rv = apr_global_mutex_child_init(&mutex, apr_global_mutex_lockfile(mutex), pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "cannot reopen the cache mutex");
    }
}

int authsvc_cache_enabled(void)
{
    return initialised && provider != NULL && instance != NULL;
}

static int lock(request_rec *r)
{
    apr_status_t rv;

    if (mutex == NULL) {
        return 1;
    }
    rv = apr_global_mutex_lock(mutex);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "cannot lock the cache mutex");
        return 0;
    }
    return 1;
}

static void unlock(void)
{
    if (mutex != NULL) {
        apr_global_mutex_unlock(mutex);
    }
}

#define MAX_VALUE 4096
/* A sealed entry begins with its expiry (apr_time_t, 8 octets big-endian). */
#define EXPIRY_LEN 8
/* A sealed MAX_VALUE: "v1.<kid>." and the base64url of iv, expiry, value and tag, with
 * a NUL. */
#define MAX_SEALED (16 + (12 + EXPIRY_LEN + MAX_VALUE + 16 + 2) / 3 * 4 + 1)

/* The keyring that seals this server's entries: NULL for shmcb (this machine's shared
 * memory) or without AuthsvcSecretKeyFile. */
static const authsvc_keyring_t *sealing(request_rec *r)
{
    return node_local ? NULL : authsvc_srv(r->server)->keyring;
}

/* provider->retrieve, opening a sealed entry: one that does not open (another key, a
 * forgery, an entry written before the key was set) is not found. Under the lock. */
static apr_status_t retrieve(request_rec *r, const char *key, unsigned char *buf,
                             unsigned int *len)
{
    const authsvc_keyring_t *kr = sealing(r);
    unsigned char sealed[MAX_SEALED], *pt = NULL;
    unsigned int slen = sizeof(sealed) - 1;
    apr_size_t ptlen = 0, i;
    apr_uint64_t expiry = 0;
    apr_status_t rv;

    if (kr == NULL) {
        return provider->retrieve(instance, r->server, (const unsigned char *)key,
                                  (unsigned int)strlen(key), buf, len, r->pool);
    }
    rv = provider->retrieve(instance, r->server, (const unsigned char *)key,
                            (unsigned int)strlen(key), sealed, &slen, r->pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    sealed[slen] = '\0';
    if (authsvc_secretbox_open(r->pool, kr, (const char *)sealed, key, &pt, &ptlen) !=
            APR_SUCCESS ||
        ptlen < EXPIRY_LEN) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "a cache entry did not open with AuthsvcSecretKeyFile's keys: "
                      "ignored (another key, or written by someone else)");
        return APR_NOTFOUND;
    }
    /* The expiry sealed with the value: an old entry written back (with a new TTL) by
     * someone who can write to the cache is as dead as it was. */
    for (i = 0; i < EXPIRY_LEN; i++) {
        expiry = (expiry << 8) | pt[i];
    }
    rv = APR_NOTFOUND;
    if ((apr_time_t)expiry > apr_time_now() && ptlen - EXPIRY_LEN <= *len) {
        memcpy(buf, pt + EXPIRY_LEN, ptlen - EXPIRY_LEN);
        *len = (unsigned int)(ptlen - EXPIRY_LEN);
        rv = APR_SUCCESS;
    }
    /* As store() does with what it sealed: no opened entry lingers in the pool. */
    OPENSSL_cleanse(pt, ptlen);
    return rv;
}

/* provider->store, sealing the value when the cache is shared. Under the lock. */
static apr_status_t store(request_rec *r, const char *key, apr_time_t expiry,
                          const unsigned char *data, unsigned int len)
{
    const authsvc_keyring_t *kr = sealing(r);
    unsigned char plain[EXPIRY_LEN + MAX_VALUE];
    const char *sealed;
    int i;

    if (kr == NULL) {
        return provider->store(instance, r->server, (const unsigned char *)key,
                               (unsigned int)strlen(key), expiry, (unsigned char *)data,
                               len, r->pool);
    }
    if (len > MAX_VALUE) {
        return APR_ENOSPC;
    }
    for (i = 0; i < EXPIRY_LEN; i++) {
        plain[i] = (unsigned char)((apr_uint64_t)expiry >> (8 * (EXPIRY_LEN - 1 - i)));
    }
    memcpy(plain + EXPIRY_LEN, data, len);
    sealed = authsvc_secretbox_seal(r->pool, kr, plain, EXPIRY_LEN + len, key);
    OPENSSL_cleanse(plain, EXPIRY_LEN + len);
    if (sealed == NULL) {
        return APR_EGENERAL;
    }
    return provider->store(instance, r->server, (const unsigned char *)key,
                           (unsigned int)strlen(key), expiry, (unsigned char *)sealed,
                           (unsigned int)strlen(sealed), r->pool);
}

apr_status_t authsvc_cache_get(request_rec *r, const char *key, unsigned char *buf,
                               unsigned int *len)
{
    apr_status_t rv;

    if (!authsvc_cache_enabled() || !lock(r)) {
        return APR_EGENERAL;
    }
    rv = retrieve(r, key, buf, len);
    unlock();
    if (rv != APR_SUCCESS && !APR_STATUS_IS_NOTFOUND(rv)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r, "cache lookup failed");
    }
    return rv;
}

static void store_unless(request_rec *r, const char *key, const unsigned char *data,
                         unsigned int len, apr_time_t expiry,
                         int (*keep)(const unsigned char *value, unsigned int len))
{
    unsigned char old[MAX_VALUE];
    unsigned int oldlen = sizeof(old);
    apr_status_t rv;

    if (!authsvc_cache_enabled() || !lock(r)) {
        return;
    }
    if (keep != NULL && retrieve(r, key, old, &oldlen) == APR_SUCCESS &&
        keep(old, oldlen)) {
        unlock();
        return;
    }
    rv = store(r, key, expiry, data, len);
    unlock();
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r, "cache store failed");
    }
}

void authsvc_cache_put(request_rec *r, const char *key, const unsigned char *data,
                       unsigned int len, apr_time_t expiry)
{
    store_unless(r, key, data, len, expiry, NULL);
}

void authsvc_cache_put_unless(request_rec *r, const char *key, const unsigned char *data,
                              unsigned int len, apr_time_t expiry,
                              int (*keep)(const unsigned char *value, unsigned int len))
{
    store_unless(r, key, data, len, expiry, keep);
}

apr_status_t authsvc_cache_update(request_rec *r, const char *key, void *buf,
                                  unsigned int size, authsvc_cache_update_fn fn,
                                  void *baton)
{
    unsigned int len = size;
    apr_time_t expiry;
    apr_status_t rv;
    int found;

    if (!authsvc_cache_enabled() || !lock(r)) {
        return APR_EGENERAL;
    }
    rv = retrieve(r, key, buf, &len);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_NOTFOUND(rv)) {
        /* Unreadable is not absent: starting a fresh count would reset a limit. */
        unlock();
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r, "cache read failed");
        return rv;
    }
    found = rv == APR_SUCCESS && len == size;
    if (!found) {
        memset(buf, 0, size);
    }
    expiry = fn(buf, found, baton);
    rv = APR_SUCCESS;
    if (expiry > 0) {
        rv = store(r, key, expiry, buf, size);
    }
    unlock();
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r, "cache update failed");
    }
    return rv;
}

typedef struct {
    apr_uint32_t count;
    apr_int64_t window_end; /* seconds */
} counter_t;

static apr_time_t count_one(void *buf, int found, void *baton)
{
    counter_t *c = buf;
    apr_int64_t now = apr_time_sec(apr_time_now());

    if (!found || c->window_end <= now) {
        c->count = 0;
        c->window_end = now + *(apr_int64_t *)baton;
    }
    c->count++;
    return apr_time_from_sec(c->window_end);
}

apr_uint32_t authsvc_cache_count(request_rec *r, const char *key, apr_int64_t window)
{
    counter_t c;

    if (authsvc_cache_update(r, key, &c, sizeof(c), count_one, &window) != APR_SUCCESS) {
        return 0;
    }
    return c.count;
}

apr_status_t authsvc_cache_remove(request_rec *r, const char *key)
{
    apr_status_t rv;

    if (!authsvc_cache_enabled()) {
        return APR_SUCCESS;
    }
    if (!lock(r)) {
        return APR_EGENERAL;
    }
    rv = provider->remove(instance, r->server, (const unsigned char *)key,
                          (unsigned int)strlen(key), r->pool);
    unlock();
    if (rv != APR_SUCCESS && !APR_STATUS_IS_NOTFOUND(rv)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, "cache remove failed");
        return rv;
    }
    return APR_SUCCESS;
}

const char *authsvc_cache_provider_name(void)
{
    return authsvc_cache_enabled() ? provider->name : NULL;
}

int authsvc_cache_probe(request_rec *r)
{
    static const unsigned char mark[] = "ok";
    unsigned char buf[sizeof(mark)];
    unsigned int len = sizeof(buf);
    const char *key;

    if (!authsvc_cache_enabled()) {
        return -1;
    }
    /* A key of this process alone, so that probes from several children do not race. */
    key = apr_psprintf(r->pool, "health:%" APR_PID_T_FMT, getpid());
    authsvc_cache_put(r, key, mark, sizeof(mark), apr_time_now() + apr_time_from_sec(5));
    return authsvc_cache_get(r, key, buf, &len) == APR_SUCCESS && len == sizeof(mark) &&
           memcmp(buf, mark, sizeof(mark)) == 0;
}

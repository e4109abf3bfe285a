/*
 * cache.h - the module's socache: session lookups (and, later, counters) shared by all
 * children, and by all nodes when the provider is memcache or redis.
 *
 * A cache, never a store: whatever is put here can be lost at any moment and is then
 * read again from the database.
 */
#ifndef AUTHSVC_CACHE_H
#define AUTHSVC_CACHE_H

#include "authsvc.h"

/* AuthsvcCache setter: "none", "shmcb", "shmcb:/path(bytes)", "memcache:host:port",
 * "redis:host:port" (any socache provider, with its own argument syntax). */
const char *authsvc_cache_set(cmd_parms *cmd, void *dcfg, const char *arg);

/* pre_config: register the mutex type and forget the previous configuration's cache. */
void authsvc_cache_pre_config(apr_pool_t *pconf);

/* post_config: pick the default provider when none was configured, create the mutex
 * if the provider needs one, and initialise the instance. NULL or an error message. */
const char *authsvc_cache_post_config(apr_pool_t *pconf, server_rec *s);

/* child_init: re-open the mutex in the child. */
void authsvc_cache_child_init(apr_pool_t *pchild, server_rec *s);

/* 1 when a cache is configured. */
int authsvc_cache_enabled(void);

/* Look key up. APR_SUCCESS with the value in buf (*len in: its size, out: the value's
 * length); APR_NOTFOUND on a miss; any other status when the cache failed (logged at
 * debug: callers fall back to the database). */
apr_status_t authsvc_cache_get(request_rec *r, const char *key, unsigned char *buf,
                               unsigned int *len);

/* Store key -> data until expiry (absolute). Failures are logged and ignored. */
void authsvc_cache_put(request_rec *r, const char *key, const unsigned char *data,
                       unsigned int len, apr_time_t expiry);

/* Store key -> data unless the value already there makes keep(value) true: the check
 * and the store happen under the cache mutex, so with shmcb a tombstone written by a
 * revocation can never be overwritten by a lookup that read the database just before
 * it. (memcache/redis have no mutex here: there it is best effort.) */
void authsvc_cache_put_unless(request_rec *r, const char *key, const unsigned char *data,
                              unsigned int len, apr_time_t expiry,
                              int (*keep)(const unsigned char *value, unsigned int len));

/* Read-modify-write of one fixed-size value, atomic under the mutex for shmcb (best
 * effort with memcache/redis, which have no such lock here). fn gets buf holding the
 * stored value (found 1) or zeroes (found 0: absent, expired, or of another size), may
 * change it, and returns the absolute expiry to store it with, or 0 to store nothing.
 * APR_SUCCESS, or a failure (no cache, cache error: logged at debug). */
typedef apr_time_t (*authsvc_cache_update_fn)(void *buf, int found, void *baton);
apr_status_t authsvc_cache_update(request_rec *r, const char *key, void *buf,
                                  unsigned int size, authsvc_cache_update_fn fn,
                                  void *baton);

/* Count one event under key in a fixed window of `window` seconds and return the count
 * so far in this window (1 for the first). 0 when the cache is off or failed: callers
 * then decide for themselves (fail open or closed). Atomic under the mutex for shmcb. */
apr_uint32_t authsvc_cache_count(request_rec *r, const char *key, apr_int64_t window);

/* The revocation generation: a counter in shared memory that every revocation and
 * account change bumps, so that per-process copies (see session.c) made before it are
 * no longer trusted. 0 when no cache is configured. */
apr_uint32_t authsvc_cache_generation(void);
void authsvc_cache_bump(void);

/* 1 when the cache is this machine's alone (shmcb): only then can a per-process copy
 * be invalidated by the generation (another node's revocation would not bump it). */
int authsvc_cache_local_only(void);

/* Forget key. Returns the provider's status (APR_NOTFOUND is success for callers). */
apr_status_t authsvc_cache_remove(request_rec *r, const char *key);

/* The socache provider's name ("shmcb", "redis" ...), NULL with AuthsvcCache none. */
const char *authsvc_cache_provider_name(void);

/* Store a short-lived key and read it back (for the health check): 1 when the cache
 * answered, 0 when it failed, -1 when there is no cache (AuthsvcCache none). */
int authsvc_cache_probe(request_rec *r);

#endif

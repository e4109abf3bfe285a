/*
 * l1.c - the per-process table of recent answers (see l1.h).
 */
#include "apr_thread_mutex.h"
#include <openssl/crypto.h>

#include "cache.h"
#include "l1.h"

#define SLOTS 256

typedef struct {
    const void *owner; /* whose entry (a server's configuration, a pointer into pconf) */
    unsigned char digest[32];
    apr_uint32_t generation;
    apr_int64_t until;
    unsigned int len;
    unsigned char value[AUTHSVC_L1_MAX_ENTRY];
} slot_t;

static slot_t *slots;
#if APR_HAS_THREADS
static apr_thread_mutex_t *lock;
#endif

void authsvc_l1_child_init(apr_pool_t *pchild)
{
    slots = apr_pcalloc(pchild, SLOTS * sizeof(*slots));
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS) {
        slots = NULL;
    }
#endif
}

/* The slot of digest, locked; NULL when the table is not usable for gen. */
static slot_t *slot_lock(const unsigned char digest[32], apr_uint32_t gen)
{
    if (slots == NULL || gen == 0 || !authsvc_cache_local_only()) {
        return NULL;
    }
#if APR_HAS_THREADS
    if (apr_thread_mutex_lock(lock) != APR_SUCCESS) {
        return NULL;
    }
#endif
    return &slots[((unsigned)digest[0] << 8 | digest[1]) % SLOTS];
}

static void slot_unlock(void)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(lock);
#endif
}

apr_int64_t authsvc_l1_until(apr_int64_t now, apr_int64_t cache_ttl, apr_int64_t limit)
{
    apr_int64_t until = now + (cache_ttl < AUTHSVC_L1_TTL ? cache_ttl : AUTHSVC_L1_TTL);

    return until < limit ? until : limit;
}

int authsvc_l1_get(const void *owner, const unsigned char digest[32], apr_int64_t now,
                   apr_uint32_t gen, unsigned char *buf, unsigned int *len)
{
    slot_t *sl = slot_lock(digest, gen);
    int hit = 0;

    if (sl == NULL) {
        return 0;
    }
    if (sl->until > now && sl->generation == gen && sl->owner == owner &&
        CRYPTO_memcmp(sl->digest, digest, sizeof(sl->digest)) == 0) {
        memcpy(buf, sl->value, sl->len);
        *len = sl->len;
        hit = 1;
    }
    slot_unlock();
    return hit;
}

void authsvc_l1_put(const void *owner, const unsigned char digest[32],
                    const unsigned char *value, unsigned int len, apr_uint32_t gen,
                    apr_int64_t until)
{
    slot_t *sl;

    if (len > AUTHSVC_L1_MAX_ENTRY || (sl = slot_lock(digest, gen)) == NULL) {
        return;
    }
    sl->owner = owner;
    memcpy(sl->digest, digest, sizeof(sl->digest));
    memcpy(sl->value, value, len);
    sl->len = len;
    sl->generation = gen;
    sl->until = until;
    slot_unlock();
}

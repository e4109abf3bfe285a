/*
 * hashcap.c - a machine-wide counting semaphore bounding concurrent password hashing.
 *
 * A POSIX semaphore in anonymous shared memory (made before the children fork) counts
 * the free slots: waiters sleep in the kernel and are woken as slots come back, so a
 * burst is served in about the order it came, not by whoever polls luckiest. apr has no
 * counting semaphore across processes; its mutexes are binary.
 *
 * Two things keep a flood from holding the server's workers: at most QUEUE_PER_SLOT
 * requests per slot may wait (the rest are refused at once), and a waiter gives up
 * after the configured time. A process that dies mid-hash would keep its slot for good:
 * every holder writes its pid in a slot record, and a waiter that gives up hands back
 * the slots of processes that are gone.
 */
#include <errno.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ap_mpm.h"
#include "apr_atomic.h"
#include "apr_shm.h"
#include "apr_thread_mutex.h"

#include "config.h"
#include "hashcap.h"
#include "password.h"

/* Waiters allowed per slot before requests are refused without waiting. A hash takes
 * tens of ms at the default parameters: 8 per slot wait a few hundred ms at most. */
#define QUEUE_PER_SLOT 8

typedef struct {
    sem_t free;                   /* free slots */
    volatile apr_uint32_t waiting; /* requests waiting for one now */
    volatile apr_uint32_t holder[]; /* pid of each slot's holder, 0 when free */
} shared_t;

struct authsvc_hashcap {
    int n;
    apr_int64_t wait_ms;
    apr_shm_t *shm;
    shared_t *sh;
};

/* Blocks kept by all the children together, at most the hashes that may run at once
 * (the sum of the pools' N): under prefork, 150 children must not keep 150 blocks. */
static apr_shm_t *kept_shm;
static volatile apr_uint32_t *kept_total;
static apr_uint32_t kept_limit;

authsvc_hashcap_t *authsvc_hashcap_make(apr_pool_t *p, int n, apr_int64_t wait_ms)
{
    authsvc_hashcap_t *h = apr_pcalloc(p, sizeof(*h));

    h->n = n;
    h->wait_ms = wait_ms;
    return h;
}

/* The cores this process may run on (its affinity mask: what taskset or a container's
 * cpuset allows), else the online ones. */
static int usable_cores(void)
{
    cpu_set_t set;
    long n;

    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) {
        n = CPU_COUNT(&set);
    }
    else {
        n = sysconf(_SC_NPROCESSORS_ONLN);
    }
    return n < 1 ? 1 : n > AUTHSVC_HASHCAP_MAX ? AUTHSVC_HASHCAP_MAX : (int)n;
}

static const char *create(apr_pool_t *pconf, authsvc_hashcap_t *h)
{
    apr_size_t size = sizeof(shared_t) + sizeof(apr_uint32_t) * (apr_size_t)h->n;

    /* Anonymous: inherited by the children across fork, gone with pconf. */
    if (apr_shm_create(&h->shm, size, NULL, pconf) != APR_SUCCESS) {
        return "AuthsvcHashConcurrency: cannot create shared memory for the slots";
    }
    h->sh = apr_shm_baseaddr_get(h->shm);
    memset(h->sh, 0, size);
    if (sem_init(&h->sh->free, 1, (unsigned)h->n) != 0) {
        h->sh = NULL;
        return "AuthsvcHashConcurrency: cannot create the slot semaphore";
    }
    return NULL;
}

const char *authsvc_hashcap_post_config(apr_pool_t *pconf, server_rec *s)
{
    authsvc_hashcap_t *dflt = NULL;
    const char *err;

    kept_limit = 0;
    kept_total = NULL;
    for (; s != NULL; s = s->next) {
        authsvc_srv_cfg_t *c = authsvc_srv(s);
        if (c->hashcap == NULL) {
            if (dflt == NULL) {
                dflt = authsvc_hashcap_make(pconf, usable_cores(), AUTHSVC_HASHCAP_WAIT_MS);
            }
            c->hashcap = dflt;
        }
        if (c->hashcap->sh == NULL) {
            if ((err = create(pconf, c->hashcap)) != NULL) {
                return err;
            }
            kept_limit += (apr_uint32_t)c->hashcap->n;
        }
    }
    if (apr_shm_create(&kept_shm, sizeof(apr_uint32_t), NULL, pconf) == APR_SUCCESS) {
        kept_total = apr_shm_baseaddr_get(kept_shm);
        apr_atomic_set32(kept_total, 0);
    }
    return NULL;
}

/* Hand back the slots of processes that died holding them. */
static void reap(request_rec *r, authsvc_hashcap_t *h)
{
    int i;

    for (i = 0; i < h->n; i++) {
        apr_uint32_t pid = h->sh->holder[i];
        if (pid != 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH &&
            apr_atomic_cas32(&h->sh->holder[i], 0, pid) == pid) {
            sem_post(&h->sh->free);
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "freed a hashing slot held by process %u, which is gone", pid);
        }
    }
}

/* Wait for a free slot until wait_ms has passed; 0 when one was taken. */
static int wait_free(authsvc_hashcap_t *h)
{
    struct timespec until;
    int rc;

    /* Monotonic: a step of the wall clock must not stretch the wait. */
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(h->wait_ms / 1000);
    until.tv_nsec += (long)(h->wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while ((rc = sem_clockwait(&h->sh->free, CLOCK_MONOTONIC, &until)) != 0 &&
           errno == EINTR) {
    }
    return rc;
}

apr_status_t authsvc_hashcap_enter(request_rec *r, int *slot)
{
    authsvc_hashcap_t *h = authsvc_srv(r->server)->hashcap;
    apr_uint32_t me = (apr_uint32_t)getpid();
    int i, got;

    *slot = -1;
    if (h == NULL || h->sh == NULL) {
        return APR_SUCCESS; /* not initialised (cannot happen after post_config) */
    }
    got = sem_trywait(&h->sh->free) == 0;
    if (!got && h->wait_ms > 0 &&
        apr_atomic_inc32(&h->sh->waiting) < (apr_uint32_t)(h->n * QUEUE_PER_SLOT)) {
        got = wait_free(h) == 0;
        apr_atomic_dec32(&h->sh->waiting);
    }
    else if (!got && h->wait_ms > 0) {
        apr_atomic_dec32(&h->sh->waiting); /* the queue is full: refused at once */
    }
    if (!got) {
        reap(r, h);
        return APR_TIMEUP;
    }
    /* Whose slot it is, for reap(). The semaphore guarantees a free record. */
    for (i = 0; i < h->n; i++) {
        if (h->sh->holder[i] == 0 && apr_atomic_cas32(&h->sh->holder[i], me, 0) == 0) {
            *slot = i;
            break;
        }
    }
    if (*slot < 0) {
        *slot = h->n; /* no record free (a reaped slot raced us): held all the same */
    }
    return APR_SUCCESS;
}

int authsvc_hashcap_full(request_rec *r)
{
    authsvc_hashcap_t *h = authsvc_srv(r->server)->hashcap;

    return h != NULL && h->sh != NULL &&
           apr_atomic_read32(&h->sh->waiting) >= (apr_uint32_t)(h->n * QUEUE_PER_SLOT);
}

void authsvc_hashcap_leave(request_rec *r, int slot)
{
    authsvc_hashcap_t *h = authsvc_srv(r->server)->hashcap;

    if (h == NULL || h->sh == NULL || slot < 0 || slot > h->n) {
        return;
    }
    if (slot < h->n) {
        apr_atomic_set32(&h->sh->holder[slot], 0);
    }
    sem_post(&h->sh->free);
}

/* ---- Argon2 working memory, reused within this process ----------------------------- */

#define BLOCKS_MAX 64

static apr_thread_mutex_t *mem_lock;
static struct {
    uint8_t *p;
    size_t len;
} kept[BLOCKS_MAX];
static int nkept, keep_max;

/* libargon2's ARGON2_OK and ARGON2_MEMORY_ALLOCATION_ERROR. */
#define MEM_OK   0
#define MEM_FAIL (-22)

static int mem_alloc(uint8_t **memory, size_t bytes)
{
    void *p;
    int i;

    apr_thread_mutex_lock(mem_lock);
    for (i = nkept - 1; i >= 0; i--) {
        if (kept[i].len == bytes) {
            *memory = kept[i].p;
            kept[i] = kept[--nkept];
            apr_atomic_dec32(kept_total);
            apr_thread_mutex_unlock(mem_lock);
            return MEM_OK;
        }
    }
    apr_thread_mutex_unlock(mem_lock);
    p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return MEM_FAIL;
    }
    *memory = p;
    return MEM_OK;
}

/* libargon2 has wiped the block (secure_wipe_memory) before it calls this. */
static void mem_free(uint8_t *memory, size_t bytes)
{
    apr_thread_mutex_lock(mem_lock);
    if (nkept < keep_max && apr_atomic_inc32(kept_total) >= kept_limit) {
        apr_atomic_dec32(kept_total); /* enough kept machine-wide */
    }
    else if (nkept < keep_max) {
        madvise(memory, bytes, MADV_FREE);
        kept[nkept].p = memory;
        kept[nkept].len = bytes;
        nkept++;
        memory = NULL;
    }
    apr_thread_mutex_unlock(mem_lock);
    if (memory != NULL) {
        munmap(memory, bytes);
    }
}

/* A child that exits takes its blocks with it: they no longer count. */
static apr_status_t forget_kept(void *data)
{
    (void)data;
    while (nkept > 0) {
        nkept--;
        apr_atomic_dec32(kept_total);
    }
    return APR_SUCCESS;
}

void authsvc_hashcap_child_init(apr_pool_t *pchild, server_rec *s)
{
    int n = 1, threaded = 0;

    for (; s != NULL; s = s->next) {
        authsvc_hashcap_t *h = authsvc_srv(s)->hashcap;
        if (h != NULL && h->n > n) {
            n = h->n;
        }
    }
    /* A process runs at most as many hashes at once as it has threads. */
    ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded);
    if (threaded == AP_MPMQ_NOT_SUPPORTED) {
        n = 1;
    }
    keep_max = n < BLOCKS_MAX ? n : BLOCKS_MAX;
    if (kept_total != NULL &&
        apr_thread_mutex_create(&mem_lock, APR_THREAD_MUTEX_DEFAULT, pchild) ==
            APR_SUCCESS) {
        apr_pool_cleanup_register(pchild, NULL, forget_kept, apr_pool_cleanup_null);
        authsvc_password_set_memory(mem_alloc, mem_free);
    }
}

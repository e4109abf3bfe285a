/*
 * hashcap.c - shared-memory slots bounding concurrent password hashing.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include "apr_atomic.h"
#include "apr_shm.h"

#include "config.h"
#include "hashcap.h"

struct authsvc_hashcap {
    int n;
    apr_int64_t wait_ms;
    apr_shm_t *shm;
    volatile apr_uint32_t *slots; /* pid of the holder, 0 when free */
};

/* How often a waiter looks again: from 1 ms, doubling to 16 ms (a hash takes tens of
 * ms at the default parameters; waiters must not spin). */
#define POLL_MIN apr_time_from_msec(1)
#define POLL_MAX apr_time_from_msec(16)

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

const char *authsvc_hashcap_post_config(apr_pool_t *pconf, server_rec *s)
{
    authsvc_hashcap_t *dflt = NULL;
    apr_status_t rv;

    for (; s != NULL; s = s->next) {
        authsvc_srv_cfg_t *c = authsvc_srv(s);
        if (c->hashcap == NULL) {
            if (dflt == NULL) {
                dflt = authsvc_hashcap_make(pconf, usable_cores(), AUTHSVC_HASHCAP_WAIT_MS);
            }
            c->hashcap = dflt;
        }
        if (c->hashcap->slots != NULL) {
            continue; /* shared with a server seen before */
        }
        /* Anonymous: inherited by the children across fork, gone with pconf. */
        rv = apr_shm_create(&c->hashcap->shm, sizeof(apr_uint32_t) * c->hashcap->n, NULL,
                            pconf);
        if (rv != APR_SUCCESS) {
            return "AuthsvcHashConcurrency: cannot create shared memory for the slots";
        }
        c->hashcap->slots = apr_shm_baseaddr_get(c->hashcap->shm);
        memset((void *)c->hashcap->slots, 0, sizeof(apr_uint32_t) * c->hashcap->n);
    }
    return NULL;
}

static int try_take(authsvc_hashcap_t *h, apr_uint32_t me, int start)
{
    int i;

    for (i = 0; i < h->n; i++) {
        int k = (start + i) % h->n;
        if (h->slots[k] == 0 && apr_atomic_cas32(&h->slots[k], me, 0) == 0) {
            return k;
        }
    }
    return -1;
}

/* Free the slots of processes that died holding them (a crash mid-hash). */
static void reap(request_rec *r, authsvc_hashcap_t *h)
{
    int i;

    for (i = 0; i < h->n; i++) {
        apr_uint32_t pid = h->slots[i];
        if (pid != 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH &&
            apr_atomic_cas32(&h->slots[i], 0, pid) == pid) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "freed a hashing slot held by process %u, which is gone", pid);
        }
    }
}

apr_status_t authsvc_hashcap_enter(request_rec *r, int *slot)
{
    authsvc_hashcap_t *h = authsvc_srv(r->server)->hashcap;
    apr_uint32_t me = (apr_uint32_t)getpid();
    apr_time_t give_up, poll = POLL_MIN;
    int start, reaped = 0;

    if (h == NULL || h->slots == NULL) {
        *slot = -1;
        return APR_SUCCESS; /* not initialised (cannot happen after post_config) */
    }
    /* Spread the threads of one process over the slots. */
    start = (int)(((apr_uintptr_t)r >> 6) % (apr_uintptr_t)h->n);
    if ((*slot = try_take(h, me, start)) >= 0) {
        return APR_SUCCESS;
    }
    give_up = apr_time_now() + apr_time_from_msec(h->wait_ms);
    for (;;) {
        if (!reaped) {
            reap(r, h);
            reaped = 1;
        }
        if ((*slot = try_take(h, me, start)) >= 0) {
            return APR_SUCCESS;
        }
        if (apr_time_now() >= give_up) {
            return APR_TIMEUP;
        }
        apr_sleep(poll);
        if (poll < POLL_MAX) {
            poll *= 2;
        }
    }
}

void authsvc_hashcap_leave(request_rec *r, int slot)
{
    authsvc_hashcap_t *h = authsvc_srv(r->server)->hashcap;

    if (h != NULL && h->slots != NULL && slot >= 0 && slot < h->n) {
        apr_atomic_set32(&h->slots[slot], 0);
    }
}

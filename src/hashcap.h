/*
 * hashcap.h - AuthsvcHashConcurrency: at most N password hashes at once on this
 * machine, across every child process and thread.
 *
 * Argon2id at the default parameters takes 19 MiB and tens of milliseconds of one core
 * per hash; a burst of logins must not turn into hundreds of parallel hashes. Slots live
 * in anonymous shared memory made before the children fork; each holds the pid of the
 * process using it, so a child that dies mid-hash cannot leak its slot for good.
 */
#ifndef AUTHSVC_HASHCAP_H
#define AUTHSVC_HASHCAP_H

#include "authsvc.h"

#define AUTHSVC_HASHCAP_MAX     1024
#define AUTHSVC_HASHCAP_WAIT_MS 1000

typedef struct authsvc_hashcap authsvc_hashcap_t;

/* At configuration time: a pool of n slots (1..AUTHSVC_HASHCAP_MAX) whose waiters give
 * up after wait_ms. Its shared memory comes later, in post_config. */
authsvc_hashcap_t *authsvc_hashcap_make(apr_pool_t *p, int n, apr_int64_t wait_ms);

/* post_config: give every server without its own pool the default one (one slot per
 * online core, 1 s), and create the shared memory of every pool. NULL or an error. */
const char *authsvc_hashcap_post_config(apr_pool_t *pconf, server_rec *s);

/* Take a slot of the request's server pool, waiting up to its limit (in arrival order,
 * about). APR_SUCCESS with *slot set, or APR_TIMEUP when every slot stayed busy or
 * too many requests were waiting already (8 per slot: those are refused at once). */
apr_status_t authsvc_hashcap_enter(request_rec *r, int *slot);

/* 1 when the queue for a slot is full now, so that authsvc_hashcap_enter would refuse at
 * once: lets a caller refuse before it does work (database writes) for nothing. */
int authsvc_hashcap_full(request_rec *r);

/* Give back the slot taken by authsvc_hashcap_enter. */
void authsvc_hashcap_leave(request_rec *r, int slot);

/* child_init: Argon2 verification reuses its working memory within this process. At
 * most as many blocks are kept as hashes may run at once (the largest pool's N); a
 * kept block is marked MADV_FREE, so the kernel takes its pages back when memory runs
 * short, and a reused block costs no page faults while it does not. */
void authsvc_hashcap_child_init(apr_pool_t *pchild, server_rec *s);

#endif

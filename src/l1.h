/*
 * l1.h - a small per-process table of recent answers (the "L1" in front of socache).
 *
 * Most guarded requests come back with a credential this process saw a moment ago. A
 * direct-mapped table keyed by the SHA-256 of the credential (compared in constant
 * time) answers them without the cache mutex or any cryptography. An entry is trusted
 * until its `until` and only while the revocation generation (bumped in shared memory
 * by every revocation and account change on this machine) is the one it was made
 * under; so only with shmcb, where every revocation happens on this machine.
 */
#ifndef AUTHSVC_L1_H
#define AUTHSVC_L1_H

#include "authsvc.h"

#define AUTHSVC_L1_MAX_ENTRY 1024 /* longest value kept */
#define AUTHSVC_L1_TTL       5    /* seconds an entry is trusted at most */

/* child_init: this process's table. */
void authsvc_l1_child_init(apr_pool_t *pchild);

/* Copy out the value kept for (owner, digest) into buf (AUTHSVC_L1_MAX_ENTRY bytes):
 * 1 and *len set when there is one made under generation gen and valid at now; else 0
 * (also when gen is 0 or the cache is not this machine's alone). */
int authsvc_l1_get(const void *owner, const unsigned char digest[32], apr_int64_t now,
                   apr_uint32_t gen, unsigned char *buf, unsigned int *len);

/* Until when a copy made at now may be trusted: AUTHSVC_L1_TTL, or the cache TTL when
 * shorter, and never past `limit` (when the thing copied ends). */
apr_int64_t authsvc_l1_until(apr_int64_t now, apr_int64_t cache_ttl, apr_int64_t limit);

/* Keep value[0..len) for (owner, digest) until `until` (authsvc_l1_until), made under
 * generation gen. Too long: not kept. */
void authsvc_l1_put(const void *owner, const unsigned char digest[32],
                    const unsigned char *value, unsigned int len, apr_uint32_t gen,
                    apr_int64_t until);

#endif

/*
 * abuse.h - the throttles in front of every password check and every mail-sending
 * endpoint: rate limits (AuthsvcRateLimit), login back-off (AuthsvcLoginBackoff), the
 * hashing cap (AuthsvcHashConcurrency), and the honeypot field (AuthsvcHoneypotField).
 * The account lockout, which must survive restarts, is in the database (flow_login.c).
 *
 * Counters live in the socache (cache.c): one count for every child, and for every node
 * when the cache is memcache or redis. Without a cache (AuthsvcCache none) rate limits
 * and back-off are off: the checks let everything through.
 *
 * A refusal sets Retry-After and returns the failure to answer; it is audited once per
 * key and window, so that a flood cannot flood the audit trail too.
 */
#ifndef AUTHSVC_ABUSE_H
#define AUTHSVC_ABUSE_H

#include "flow.h"
#include "json.h"
#include "ratelimit.h"

/* post_config: the hashing slots, and a warning when there is no cache to count in. */
const char *authsvc_abuse_post_config(apr_pool_t *pconf, server_rec *s);

/* The account key of a name as typed (an email address, normalised, or a username,
 * lower-cased): the same for every spelling that names one account, whether or not it
 * exists. Callers that know the account use its id instead. */
const char *authsvc_abuse_name_key(request_rec *r, const char *name, apr_size_t len);

/* Count this request in class cls, per client address when by_ip, and per account when
 * account is not NULL. NULL, or rate_limited (Retry-After set). user_id and login only
 * go into the audit row of a refusal. */
const authsvc_fail_t *authsvc_abuse_limit(request_rec *r, authsvc_rl_class_t cls,
                                          int by_ip, const char *account,
                                          const char *user_id, const char *login);

/* Login back-off: NULL when this address and this account (may be NULL) may try a
 * password now, else rate_limited with Retry-After. */
const authsvc_fail_t *authsvc_abuse_backoff_check(request_rec *r, const char *account,
                                                  const char *user_id, const char *login);
/* A failed password check: both streaks grow (account NULL: the address's only). */
void authsvc_abuse_backoff_fail(request_rec *r, const char *account);
/* A successful one: the account's streak ends, the address's loses one failure. */
void authsvc_abuse_backoff_success(request_rec *r, const char *account);
/* End the account's streak (a completed password reset). */
void authsvc_abuse_backoff_forget(request_rec *r, const char *account);

/* A hashing slot for one password hash or check: NULL with *slot set, or busy (503,
 * Retry-After: 1). `endpoint` names the caller in the audit row. */
const authsvc_fail_t *authsvc_abuse_hash_enter(request_rec *r, const char *endpoint,
                                               int *slot);
/* busy (as authsvc_abuse_hash_enter would answer) when the hashing queue is full now,
 * else NULL: checked before work that a refusal would waste. */
const authsvc_fail_t *authsvc_abuse_hash_full(request_rec *r, const char *endpoint);
/* Give the slot back (after the hash, on every path). */
void authsvc_abuse_hash_leave(request_rec *r, int slot);

/* 1 when body carries the honeypot field with a value (anything but null or ""). */
int authsvc_abuse_honeypot(request_rec *r, authsvc_json_t *body);
/* Audit a honeypot hit on `endpoint`, with the login or email typed. */
void authsvc_abuse_honeypot_audit(request_rec *r, const char *endpoint, const char *login);

#endif

/*
 * ratelimit.h - the arithmetic of rate limits and login back-off: fixed windows,
 * exponential delays, and which counter a client address falls into.
 *
 * Pure unit: apr only, no httpd. The state lives in the socache (see abuse.c); these
 * functions only compute the next state from the previous one and the time.
 */
#ifndef AUTHSVC_RATELIMIT_H
#define AUTHSVC_RATELIMIT_H

#include <apr_pools.h>

/* The endpoint classes that AuthsvcRateLimit names, and the two keys a class counts. */
typedef enum {
    AUTHSVC_RL_LOGIN = 0,
    AUTHSVC_RL_REGISTER,
    AUTHSVC_RL_FORGOT,
    AUTHSVC_RL_VERIFY,
    AUTHSVC_RL_MFA,
    AUTHSVC_RL_REFRESH,
    AUTHSVC_RL_NCLASSES
} authsvc_rl_class_t;

typedef enum { AUTHSVC_RL_IP = 0, AUTHSVC_RL_ACCOUNT = 1, AUTHSVC_RL_NKEYS } authsvc_rl_key_t;

/* One limit: count hits per window seconds; count 0 means no limit. */
typedef struct {
    apr_uint32_t count;
    apr_int64_t window;
} authsvc_rl_limit_t;

/* The class called `name` (case-insensitive), or -1. */
int authsvc_ratelimit_class(const char *name);
/* The name of class c ("login" ...). */
const char *authsvc_ratelimit_class_name(authsvc_rl_class_t c);
/* The built-in limit of class c for key k (docs/directives.md, AuthsvcRateLimit). */
const authsvc_rl_limit_t *authsvc_ratelimit_default(authsvc_rl_class_t c, authsvc_rl_key_t k);

/* Longest text authsvc_ratelimit_ip_key returns, with its NUL. */
#define AUTHSVC_RL_IP_KEY_MAX 64

/* A fixed window: the hits counted in it and when it ends (epoch seconds). */
typedef struct {
    apr_uint32_t count;
    apr_int64_t window_end;
} authsvc_rl_window_t;

/* Count one hit at `now` in a window of `window` seconds allowing `limit` hits; a new
 * window opens when the old one has ended (or w->window_end is 0). Returns 0 when the
 * hit is within the limit, else the seconds until the window ends (at least 1). */
apr_int64_t authsvc_ratelimit_hit(authsvc_rl_window_t *w, apr_int64_t now,
                                  apr_uint32_t limit, apr_int64_t window);

/* A back-off streak: consecutive failures and when the next attempt is allowed. */
typedef struct {
    apr_uint32_t failures;
    apr_int64_t next_allowed; /* epoch seconds */
} authsvc_rl_backoff_t;

/* The delay after the k-th consecutive failure: base * 2^(k-1), at most max; 0 for
 * k == 0. Never overflows. */
apr_int64_t authsvc_ratelimit_backoff_delay(apr_int64_t base, apr_int64_t max,
                                            apr_uint32_t k);

/* Seconds until the streak allows another attempt at `now` (0: allowed). */
apr_int64_t authsvc_ratelimit_backoff_wait(const authsvc_rl_backoff_t *b, apr_int64_t now);

/* Record one failure at `now`: the streak grows (a streak whose delay ended more than
 * `max` seconds ago starts again at 1). Returns when the record may be forgotten. */
apr_int64_t authsvc_ratelimit_backoff_fail(authsvc_rl_backoff_t *b, apr_int64_t now,
                                           apr_int64_t base, apr_int64_t max);

/* A successful sign-in from a streak's key: one failure forgiven (a client that keeps
 * signing in does not pile up a delay; one that alternates guesses with its own
 * account's sign-ins still does not get a clean slate). */
void authsvc_ratelimit_backoff_succeed(authsvc_rl_backoff_t *b);

/* AuthsvcLockout, resolved: threshold 0 means off (only the hourly cap applies). */
typedef struct {
    int threshold;
    apr_int64_t window, duration, max;
} authsvc_lockout_t;

/* How long the next lock lasts after `lockouts` earlier ones since the last success:
 * DURATION doubled for each, at most MAXDURATION. */
apr_int64_t authsvc_ratelimit_lock_duration(const authsvc_lockout_t *pol, int lockouts);

/* The counter key of a client address: an IPv4 address as dotted quad (an IPv4-mapped
 * IPv6 address too); an IPv6 address cut to its first v6_prefix bits (1..128), as
 * "2001:db8:1:2::/64"; a zone ("fe80::1%eth0") is ignored. NULL when ip is not an
 * address. */
const char *authsvc_ratelimit_ip_key(apr_pool_t *p, const char *ip, int v6_prefix);

#endif

/* test_ratelimit.c - ratelimit.c: fixed windows, back-off delays and streaks, and the
 * counter key of a client address (IPv4, IPv4-mapped, IPv6 prefixes). */
#include <stdint.h>
#include <string.h>

#include "apr_general.h"
#include "apr_pools.h"

#include "ratelimit.h"
#include "tap_apr.h"

#define T0 1700000000 /* an arbitrary "now", epoch seconds */

/* ---- fixed windows ------------------------------------------------------------- */

static void test_window(void)
{
    authsvc_rl_window_t w = {0, 0};
    int i, refused = 0;

    /* limit 3 per 60 s: the first hit opens the window [T0, T0+60). */
    is_int(authsvc_ratelimit_hit(&w, T0, 3, 60), 0, "hit: first hit allowed");
    is_int(w.window_end, T0 + 60, "hit: window_end 0 opens a window ending now+window");
    is_int(w.count, 1, "hit: first hit counted");
    is_int(authsvc_ratelimit_hit(&w, T0 + 10, 3, 60), 0, "hit: 2nd of 3 allowed");
    is_int(authsvc_ratelimit_hit(&w, T0 + 20, 3, 60), 0,
           "hit: 3rd of 3 (the limit) allowed");
    is_int(authsvc_ratelimit_hit(&w, T0 + 25, 3, 60), 35,
           "hit: 4th (limit+1) refused with seconds to the window end");
    is_int(authsvc_ratelimit_hit(&w, T0 + 59, 3, 60), 1,
           "hit: refused one second before the end: Retry-After 1");
    is_int(w.window_end, T0 + 60, "hit: refused hits do not extend the window");
    is_int(w.count, 5, "hit: refused hits still count");

    /* At the end second the old window is over: a new one opens. */
    is_int(authsvc_ratelimit_hit(&w, T0 + 60, 3, 60), 0,
           "hit: at window_end a new window");
    is_int(w.window_end, T0 + 120, "hit: new window ends now+window");
    is_int(w.count, 1, "hit: new window counts from 1");

    /* Long after the end: a new window from that moment, not aligned to the old. */
    is_int(authsvc_ratelimit_hit(&w, T0 + 1000, 3, 60), 0, "hit: long after: allowed");
    is_int(w.window_end, T0 + 1060, "hit: long after: window from now");

    /* limit 1: the second hit is refused. */
    w.count = 0;
    w.window_end = 0;
    is_int(authsvc_ratelimit_hit(&w, T0, 1, 10), 0, "hit: limit 1: first allowed");
    is_int(authsvc_ratelimit_hit(&w, T0, 1, 10), 10,
           "hit: limit 1: second at the same second refused, whole window left");

    /* Exactly limit hits pass, every one after is refused, all in one window. */
    w.count = 0;
    w.window_end = 0;
    for (i = 0; i < 10; i++) {
        refused += authsvc_ratelimit_hit(&w, T0 + i, 5, 100) != 0;
    }
    is_int(refused, 5, "hit: 10 hits at limit 5: 5 refused");
    is_int(w.count, 10, "hit: 10 hits counted");

    /* A stale window (window_end in the past, count high) is reset. */
    w.count = 999;
    w.window_end = T0 - 1;
    is_int(authsvc_ratelimit_hit(&w, T0, 5, 30), 0, "hit: stale window reset");
    is_int(w.count, 1, "hit: stale count dropped");

    /* The count saturates instead of wrapping to 0 (which would allow again). */
    w.count = APR_UINT32_MAX;
    w.window_end = T0 + 50;
    ok(authsvc_ratelimit_hit(&w, T0, 5, 60) == 50 && w.count == APR_UINT32_MAX,
       "hit: count saturates at UINT32_MAX, still refused");
}

/* ---- back-off ------------------------------------------------------------------- */

static void test_delay(void)
{
    is_int(authsvc_ratelimit_backoff_delay(1, 300, 0), 0, "delay: k=0 -> 0");
    is_int(authsvc_ratelimit_backoff_delay(1, 300, 1), 1, "delay: k=1 -> base");
    is_int(authsvc_ratelimit_backoff_delay(3, 300, 1), 3, "delay: k=1 -> base (3)");
    is_int(authsvc_ratelimit_backoff_delay(1, 300, 2), 2, "delay: k=2 -> 2 base");
    is_int(authsvc_ratelimit_backoff_delay(1, 300, 3), 4, "delay: k=3 -> 4 base");
    is_int(authsvc_ratelimit_backoff_delay(3, 300, 4), 24, "delay: k=4 -> 8 base (3)");
    is_int(authsvc_ratelimit_backoff_delay(1, 300, 9), 256, "delay: k=9 -> 256");
    is_int(authsvc_ratelimit_backoff_delay(1, 300, 10), 300,
           "delay: k=10 -> capped at max");
    is_int(authsvc_ratelimit_backoff_delay(1, 256, 9), 256, "delay: exactly max");
    is_int(authsvc_ratelimit_backoff_delay(1, 300, 11), 300, "delay: k=11 -> max");
    is_int(authsvc_ratelimit_backoff_delay(1, 300, 64), 300, "delay: k=64 -> max");
    is_int(authsvc_ratelimit_backoff_delay(1, 300, APR_UINT32_MAX), 300,
           "delay: k=UINT32_MAX -> max (no overflow)");
    is_int(authsvc_ratelimit_backoff_delay(1, 30 * 86400, APR_UINT32_MAX), 30 * 86400,
           "delay: k=UINT32_MAX, max 30d -> max");
    /* The largest max for which doubling (d < max, so d*2 < 2*max) cannot overflow. */
    is_int(authsvc_ratelimit_backoff_delay(1, INT64_MAX / 2, APR_UINT32_MAX),
           INT64_MAX / 2, "delay: k=UINT32_MAX, max INT64_MAX/2 -> max");
    is_int(authsvc_ratelimit_backoff_delay(1, INT64_MAX / 2, 62), (apr_int64_t)1 << 61,
           "delay: k=62, max INT64_MAX/2 -> 2^61");
    /* The header promises no overflow for any arguments: a max above INT64_MAX/2 must
     * not let the doubling pass INT64_MAX (signed overflow). */
    is_int(authsvc_ratelimit_backoff_delay(1, INT64_MAX, 64), INT64_MAX,
           "delay: k=64, max INT64_MAX -> max (no overflow)");
    is_int(authsvc_ratelimit_backoff_delay(3, INT64_MAX - 1, 70), INT64_MAX - 1,
           "delay: k=70, base 3, max INT64_MAX-1 -> max (no overflow)");
    is_int(authsvc_ratelimit_backoff_delay(600, 300, 1), 300,
           "delay: base > max, k=1 -> max");
    is_int(authsvc_ratelimit_backoff_delay(600, 300, 5), 300,
           "delay: base > max, k=5 -> max");
    is_int(authsvc_ratelimit_backoff_delay(600, 300, 0), 0,
           "delay: base > max, k=0 -> 0");
}

static void test_streak(void)
{
    authsvc_rl_backoff_t b = {0, 0};
    apr_int64_t forget;

    is_int(authsvc_ratelimit_backoff_wait(&b, T0), 0, "wait: empty streak: no wait");

    /* base 1, max 300 (the default 1s 5m). */
    forget = authsvc_ratelimit_backoff_fail(&b, T0, 1, 300);
    is_int(b.failures, 1, "fail: first failure: streak 1");
    is_int(b.next_allowed, T0 + 1, "fail: first failure: next allowed after base");
    is_int(forget, T0 + 1 + 300, "fail: forget after next_allowed + max");
    is_int(authsvc_ratelimit_backoff_wait(&b, T0), 1, "wait: 1 s at the failure");
    is_int(authsvc_ratelimit_backoff_wait(&b, T0 + 1), 0, "wait: 0 at next_allowed");
    is_int(authsvc_ratelimit_backoff_wait(&b, T0 + 5), 0, "wait: 0 after next_allowed");

    authsvc_ratelimit_backoff_fail(&b, T0 + 1, 1, 300);
    is_int(b.failures, 2, "fail: second failure: streak 2");
    is_int(b.next_allowed, T0 + 1 + 2, "fail: second failure: 2 s");
    authsvc_ratelimit_backoff_fail(&b, T0 + 3, 1, 300);
    is_int(b.failures, 3, "fail: third failure: streak 3");
    is_int(b.next_allowed, T0 + 3 + 4, "fail: third failure: 4 s");
    is_int(authsvc_ratelimit_backoff_wait(&b, T0 + 4), 3, "wait: seconds left");

    /* Grow to the cap. */
    b.failures = 20;
    b.next_allowed = T0 + 10;
    forget = authsvc_ratelimit_backoff_fail(&b, T0 + 10, 1, 300);
    is_int(b.failures, 21, "fail: long streak grows");
    is_int(b.next_allowed, T0 + 10 + 300, "fail: long streak: delay capped at max");
    is_int(forget, T0 + 10 + 600, "fail: long streak: forget = next_allowed + max");

    /* Quiet for exactly max after the delay ended: still the same streak. */
    b.failures = 3;
    b.next_allowed = T0;
    authsvc_ratelimit_backoff_fail(&b, T0 + 300, 1, 300);
    is_int(b.failures, 4, "fail: quiet exactly max: streak goes on");

    /* Quiet for more than max after the delay ended: the streak starts again. */
    b.failures = 3;
    b.next_allowed = T0;
    authsvc_ratelimit_backoff_fail(&b, T0 + 301, 1, 300);
    is_int(b.failures, 1, "fail: quiet longer than max: streak restarts at 1");
    is_int(b.next_allowed, T0 + 301 + 1, "fail: restarted streak: base delay");

    /* failures 0 with a stale next_allowed: counts as a new streak. */
    b.failures = 0;
    b.next_allowed = T0 + 1000;
    authsvc_ratelimit_backoff_fail(&b, T0, 2, 60);
    ok(b.failures == 1 && b.next_allowed == T0 + 2,
       "fail: failures 0: new streak with base delay");

    /* The streak counter saturates. */
    b.failures = APR_UINT32_MAX;
    b.next_allowed = T0;
    authsvc_ratelimit_backoff_fail(&b, T0, 1, 300);
    ok(b.failures == APR_UINT32_MAX && b.next_allowed == T0 + 300,
       "fail: streak saturates at UINT32_MAX, delay max");
}

/* ---- address keys --------------------------------------------------------------- */

/* A success forgives one failure of a streak; nothing below zero. */
static void test_succeed(void)
{
    authsvc_rl_backoff_t b = {0, 0};

    authsvc_ratelimit_backoff_fail(&b, 1000, 1, 300);
    authsvc_ratelimit_backoff_fail(&b, 1000, 1, 300);
    authsvc_ratelimit_backoff_fail(&b, 1000, 1, 300);
    is_int(b.failures, 3, "succeed: three failures");
    authsvc_ratelimit_backoff_succeed(&b);
    is_int(b.failures, 2, "succeed: one forgiven");
    is_int(b.next_allowed, 1004, "succeed: the wait in force stays");
    authsvc_ratelimit_backoff_fail(&b, 1004, 1, 300);
    is_int(b.next_allowed, 1004 + 4, "succeed: the next failure is the third again (4 s)");
    b.failures = 0;
    authsvc_ratelimit_backoff_succeed(&b);
    is_int(b.failures, 0, "succeed: no failures stays 0");
}

/* Lock durations: DURATION, doubled per earlier lock, capped at MAXDURATION. */
static void test_lock_duration(void)
{
    authsvc_lockout_t pol = {10, 900, 900, 86400};

    is_int(authsvc_ratelimit_lock_duration(&pol, 0), 900, "lock: first 15m");
    is_int(authsvc_ratelimit_lock_duration(&pol, 1), 1800, "lock: second 30m");
    is_int(authsvc_ratelimit_lock_duration(&pol, 2), 3600, "lock: third 1h");
    is_int(authsvc_ratelimit_lock_duration(&pol, 6), 57600, "lock: seventh 16h");
    is_int(authsvc_ratelimit_lock_duration(&pol, 7), 86400, "lock: eighth capped at 24h");
    is_int(authsvc_ratelimit_lock_duration(&pol, 1000000), 86400, "lock: huge count capped");
    is_int(authsvc_ratelimit_lock_duration(&pol, -1), 900, "lock: negative count as 0");
    pol.max = 900;
    is_int(authsvc_ratelimit_lock_duration(&pol, 3), 900, "lock: MAX = DURATION never grows");
}

static void test_ip_key(apr_pool_t *p)
{
    const char *a, *b;

    is_str(authsvc_ratelimit_ip_key(p, "1.2.3.4", 64), "1.2.3.4", "ip: IPv4 as is");
    is_str(authsvc_ratelimit_ip_key(p, "192.168.100.255", 64), "192.168.100.255",
           "ip: IPv4 (all octets)");
    is_str(authsvc_ratelimit_ip_key(p, "::ffff:1.2.3.4", 64), "1.2.3.4",
           "ip: IPv4-mapped IPv6 -> IPv4");
    is_str(authsvc_ratelimit_ip_key(p, "::FFFF:0102:0304", 64), "1.2.3.4",
           "ip: IPv4-mapped in hex, upper case -> IPv4");
    is_str(authsvc_ratelimit_ip_key(p, "::ffff:1.2.3.4", 128), "1.2.3.4",
           "ip: IPv4-mapped ignores the IPv6 prefix");

    a = authsvc_ratelimit_ip_key(p, "2001:db8:1:2:aaaa::1", 64);
    b = authsvc_ratelimit_ip_key(p, "2001:db8:1:2:bbbb::2", 64);
    is_str(a, "2001:db8:1:2::/64", "ip: IPv6 /64 masks the interface id");
    is_str(a, b, "ip: two addresses of one /64: same key");
    ok(a != NULL && b != NULL, "ip: both /64 keys exist");
    b = authsvc_ratelimit_ip_key(p, "2001:db8:1:3::1", 64);
    is_str(b, "2001:db8:1:3::/64", "ip: another /64");
    ok(a != NULL && b != NULL && strcmp(a, b) != 0, "ip: another /64: different key");
    is_str(authsvc_ratelimit_ip_key(p, "2001:DB8:1:2:AAAA::1", 64), "2001:db8:1:2::/64",
           "ip: IPv6 upper case: same key as lower case");

    is_str(authsvc_ratelimit_ip_key(p, "2001:db8:1:2:aaaa::1", 48), "2001:db8:1::/48",
           "ip: /48");
    is_str(authsvc_ratelimit_ip_key(p, "2001:db8:1:3::1", 48), "2001:db8:1::/48",
           "ip: /48: another /64 of the same /48, same key");
    is_str(authsvc_ratelimit_ip_key(p, "2001:db8:1:2:aaaa::1", 128),
           "2001:db8:1:2:aaaa::1/128", "ip: /128 keeps the whole address");
    is_str(authsvc_ratelimit_ip_key(p, "2001:db8:1:2:aaaa::1", 1), "::/1",
           "ip: /1 of 2001:: -> ::/1");
    is_str(authsvc_ratelimit_ip_key(p, "8001:db8::1", 1), "8000::/1",
           "ip: /1 of 8001:: keeps the top bit");
    is_str(authsvc_ratelimit_ip_key(p, "2001:db8:1:2:aaaa::1", 60), "2001:db8:1::/60",
           "ip: /60 (a prefix inside a byte)");
    is_str(authsvc_ratelimit_ip_key(p, "2001:db8:1:1f:aaaa::1", 60), "2001:db8:1:10::/60",
           "ip: /60 keeps the high nibble");
    is_str(authsvc_ratelimit_ip_key(p, "2001:db8:1:3::1", 63), "2001:db8:1:2::/63",
           "ip: /63 drops the last bit of the 4th group");
    is_str(authsvc_ratelimit_ip_key(p, "2001:db8:1:2:aaaa::1", 0), "2001:db8:1:2::/64",
           "ip: prefix 0 -> 64");
    is_str(authsvc_ratelimit_ip_key(p, "2001:db8:1:2:aaaa::1", 129), "2001:db8:1:2::/64",
           "ip: prefix 129 -> 64");
    is_str(authsvc_ratelimit_ip_key(p, "2001:db8:1:2:aaaa::1", -5), "2001:db8:1:2::/64",
           "ip: prefix -5 -> 64");
    is_str(authsvc_ratelimit_ip_key(p, "::1", 64), "::/64", "ip: ::1 /64");

    is_str(authsvc_ratelimit_ip_key(p, "not an address", 64), NULL, "ip: not an address");
    is_str(authsvc_ratelimit_ip_key(p, "", 64), NULL, "ip: empty string");
    is_str(authsvc_ratelimit_ip_key(p, NULL, 64), NULL, "ip: NULL");
    is_str(authsvc_ratelimit_ip_key(p, "1.2.3.4.5", 64), NULL, "ip: 1.2.3.4.5");
    is_str(authsvc_ratelimit_ip_key(p, "1.2.3", 64), NULL, "ip: 1.2.3");
    is_str(authsvc_ratelimit_ip_key(p, "256.1.1.1", 64), NULL, "ip: octet 256");
    is_str(authsvc_ratelimit_ip_key(p, " 1.2.3.4", 64), NULL, "ip: leading space");
    is_str(authsvc_ratelimit_ip_key(p, "fe80::1:2:3:4%eth0", 64), "fe80::/64",
           "ip: the zone of fe80::1:2:3:4%%eth0 is ignored");
    is_str(authsvc_ratelimit_ip_key(p, "1.2.3.4%eth0", 64), "1.2.3.4",
           "ip: ... also after an IPv4 address");
    is_str(authsvc_ratelimit_ip_key(p, "%eth0", 64), NULL, "ip: a zone alone is no address");
    is_str(authsvc_ratelimit_ip_key(p, "2001:db8::1/64", 64), NULL, "ip: CIDR text");
    is_str(authsvc_ratelimit_ip_key(p, "2001:db8:::1", 64), NULL, "ip: ':::'");

    /* Every key fits the buffer size the header promises. */
    a = authsvc_ratelimit_ip_key(p, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 128);
    ok(a != NULL && strlen(a) < AUTHSVC_RL_IP_KEY_MAX,
       "ip: longest IPv6 key fits AUTHSVC_RL_IP_KEY_MAX (%s)", a ? a : "NULL");
}

int main(void)
{
    apr_pool_t *p;

    p = tap_apr_start();
    test_window();
    test_delay();
    test_streak();
    test_succeed();
    test_lock_duration();
    test_ip_key(p);
    return tap_apr_end(p);
}

/*
 * ratelimit.c - fixed windows, back-off delays, and address keys (pure).
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "ratelimit.h"

static const char *const class_names[AUTHSVC_RL_NCLASSES] = {
    "login", "register", "forgot", "verify", "mfa", "refresh"};

/* Secure defaults: [class][ip, account]. */
static const authsvc_rl_limit_t defaults[AUTHSVC_RL_NCLASSES][AUTHSVC_RL_NKEYS] = {
    {{10, 60}, {5, 60}},          /* login */
    {{10, 3600}, {3, 3600}},      /* register */
    {{5, 600}, {3, 3600}},        /* forgot */
    {{10, 600}, {5, 3600}},       /* verify */
    {{10, 60}, {5, 60}},          /* mfa */
    {{60, 60}, {30, 60}}};        /* refresh */

int authsvc_ratelimit_class(const char *name)
{
    int i;

    for (i = 0; i < AUTHSVC_RL_NCLASSES; i++) {
        if (strcasecmp(name, class_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *authsvc_ratelimit_class_name(authsvc_rl_class_t c)
{
    return (unsigned)c < AUTHSVC_RL_NCLASSES ? class_names[c] : "?";
}

const authsvc_rl_limit_t *authsvc_ratelimit_default(authsvc_rl_class_t c, authsvc_rl_key_t k)
{
    return &defaults[c][k];
}

apr_int64_t authsvc_ratelimit_hit(authsvc_rl_window_t *w, apr_int64_t now,
                                  apr_uint32_t limit, apr_int64_t window)
{
    if (w->window_end <= now) {
        w->count = 0;
        w->window_end = now + window;
    }
    if (w->count < APR_UINT32_MAX) {
        w->count++;
    }
    return w->count <= limit ? 0 : w->window_end - now;
}

apr_int64_t authsvc_ratelimit_backoff_delay(apr_int64_t base, apr_int64_t max,
                                            apr_uint32_t k)
{
    apr_int64_t d = base;

    if (k == 0) {
        return 0;
    }
    /* Doubling stops as soon as it passes max: no overflow for any k. */
    while (--k > 0 && d < max) {
        d = d > max / 2 ? max : d * 2;
    }
    return d < max ? d : max;
}

apr_int64_t authsvc_ratelimit_backoff_wait(const authsvc_rl_backoff_t *b, apr_int64_t now)
{
    return b->next_allowed > now ? b->next_allowed - now : 0;
}

apr_int64_t authsvc_ratelimit_backoff_fail(authsvc_rl_backoff_t *b, apr_int64_t now,
                                           apr_int64_t base, apr_int64_t max)
{
    if (b->failures == 0 || b->next_allowed + max < now) {
        b->failures = 0;
    }
    if (b->failures < APR_UINT32_MAX) {
        b->failures++;
    }
    b->next_allowed = now + authsvc_ratelimit_backoff_delay(base, max, b->failures);
    return b->next_allowed + max;
}

void authsvc_ratelimit_backoff_succeed(authsvc_rl_backoff_t *b)
{
    if (b->failures > 0) {
        b->failures--;
    }
}

apr_int64_t authsvc_ratelimit_lock_duration(const authsvc_lockout_t *pol, int lockouts)
{
    return authsvc_ratelimit_backoff_delay(pol->duration, pol->max,
                                           (apr_uint32_t)(lockouts < 0 ? 0 : lockouts) + 1);
}

const char *authsvc_ratelimit_ip_key(apr_pool_t *p, const char *ip, int v6_prefix)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    unsigned char a[16];
    char buf[INET6_ADDRSTRLEN];
    int i;

    const char *zone;

    if (ip == NULL) {
        return NULL;
    }
    /* APR writes link-local addresses with their zone; the zone names our interface,
     * not the client. */
    if ((zone = strchr(ip, '%')) != NULL && zone - ip < INET6_ADDRSTRLEN) {
        ip = apr_pstrmemdup(p, ip, (apr_size_t)(zone - ip));
    }
    if (inet_pton(AF_INET, ip, a) == 1) {
        return inet_ntop(AF_INET, a, buf, sizeof(buf)) ? apr_pstrdup(p, buf) : NULL;
    }
    if (inet_pton(AF_INET6, ip, a) != 1) {
        return NULL;
    }
    if (memcmp(a, mapped, sizeof(mapped)) == 0) {
        return inet_ntop(AF_INET, a + 12, buf, sizeof(buf)) ? apr_pstrdup(p, buf) : NULL;
    }
    if (v6_prefix < 1 || v6_prefix > 128) {
        v6_prefix = 64;
    }
    for (i = 0; i < 16; i++) {
        int keep = v6_prefix - i * 8;
        if (keep <= 0) {
            a[i] = 0;
        }
        else if (keep < 8) {
            a[i] &= (unsigned char)(0xff << (8 - keep));
        }
    }
    if (inet_ntop(AF_INET6, a, buf, sizeof(buf)) == NULL) {
        return NULL;
    }
    return apr_psprintf(p, "%s/%d", buf, v6_prefix);
}

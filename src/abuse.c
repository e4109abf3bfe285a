/*
 * abuse.c - rate limits, login back-off, the hashing cap and the honeypot (see abuse.h).
 */
#include "apr_lib.h"

#include "abuse.h"
#include "audit.h"
#include "cache.h"
#include "config.h"
#include "crypto.h"
#include "hashcap.h"
#include "metrics.h"
#include "text.h"

const char *authsvc_abuse_post_config(apr_pool_t *pconf, server_rec *s)
{
    if (!authsvc_cache_enabled() && authsvc_store_dbd_cfg(s) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "AuthsvcCache none: rate limits and login back-off are off "
                     "(account lockout still works)");
    }
    return authsvc_hashcap_post_config(pconf, s);
}

const char *authsvc_abuse_name_key(request_rec *r, const char *name, apr_size_t len)
{
    const char *email = NULL;
    char *lower;
    apr_size_t i;

    if (memchr(name, '@', len) != NULL &&
        authsvc_text_email_normalize(r->pool, name, len, &email) == NULL) {
        name = email;
        len = strlen(email);
    }
    lower = apr_pstrmemdup(r->pool, name, len);
    for (i = 0; i < len; i++) {
        lower[i] = (char)apr_tolower((unsigned char)lower[i]);
    }
    /* Hashed: the socache keeps no address, and every key has the same short length. */
    return apr_pstrcat(r->pool, "n:", authsvc_crypto_sha256_hex(r->pool, lower, len), NULL);
}

static const char *client_key(request_rec *r)
{
    const char *k = authsvc_ratelimit_ip_key(
        r->pool, r->useragent_ip, authsvc_config_v6_prefix(authsvc_srv(r->server)));
    return k ? k : "-";
}

static const char *key_of(request_rec *r, const char *kind, authsvc_rl_key_t k,
                          const char *value)
{
    const char *realm = authsvc_config_cache_realm(authsvc_srv(r->server));

    return apr_pstrcat(r->pool, kind, ":", realm, ":",
                       k == AUTHSVC_RL_IP ? "i:" : "a:", value, NULL);
}

static void retry_after(request_rec *r, apr_int64_t secs)
{
    apr_table_setn(r->headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, secs < 1 ? 1 : secs));
}

static void audit(request_rec *r, const char *event, const char *user_id,
                  const char *login, authsvc_json_t *detail)
{
    authsvc_db_t *db = authsvc_store_db(r);

    if (db == NULL || authsvc_audit(r, db, event, user_id, login, detail) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "could not audit %s", event);
    }
}

/* When a counter may go: a second after it ends. memcache and redis refuse an expiry
 * less than a second away, and a refused store would let the request through. */
static apr_time_t expiry(apr_int64_t end)
{
    return apr_time_from_sec(end + 1);
}

/* ---- rate limits ------------------------------------------------------------------ */

typedef struct {
    const authsvc_rl_limit_t *lim;
    apr_int64_t now;
    apr_int64_t wait;
} hit_t;

static apr_time_t hit(void *buf, int found, void *baton)
{
    authsvc_rl_window_t *w = buf;
    hit_t *h = baton;

    (void)found;
    h->wait = authsvc_ratelimit_hit(w, h->now, h->lim->count, h->lim->window);
    return expiry(w->window_end);
}

/* Count one hit on key; the seconds to wait, 0 when allowed (or when not counted). */
static apr_int64_t count(request_rec *r, authsvc_rl_class_t cls, authsvc_rl_key_t k,
                         const char *value, const char *user_id, const char *login)
{
    const authsvc_rl_limit_t *lim =
        authsvc_config_rate_limit(authsvc_srv(r->server), cls, k);
    authsvc_rl_window_t w;
    authsvc_json_t *d;
    hit_t h;

    if (lim->count == 0) {
        return 0;
    }
    h.lim = lim;
    h.now = AUTHSVC_NOW();
    h.wait = 0;
    if (authsvc_cache_update(r, key_of(r, apr_pstrcat(r->pool, "rl:",
                                                      authsvc_ratelimit_class_name(cls),
                                                      NULL), k, value),
                             &w, sizeof(w), hit, &h) != APR_SUCCESS) {
        return 0; /* no cache: fail open (the lockout still holds) */
    }
    if (h.wait > 0 && w.count == lim->count + 1) {
        /* The first refusal in this window: once, not once per request. */
        d = authsvc_json_object(r->pool);
        authsvc_json_set_str(d, "class", authsvc_ratelimit_class_name(cls));
        authsvc_json_set_str(d, "key", k == AUTHSVC_RL_IP ? "ip" : "account");
        authsvc_json_set_int(d, "limit", lim->count);
        authsvc_json_set_int(d, "window", lim->window);
        audit(r, "rate_limited", k == AUTHSVC_RL_ACCOUNT ? user_id : NULL, login, d);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "rate limit: %s per %s reached",
                      authsvc_ratelimit_class_name(cls),
                      k == AUTHSVC_RL_IP ? "address" : "account");
    }
    return h.wait;
}

static const authsvc_fail_t *limited(request_rec *r, apr_int64_t wait)
{
    if (wait < 1) {
        wait = 1;
    }
    retry_after(r, wait);
    return authsvc_fail(r, "rate_limited",
                        apr_psprintf(r->pool, "too many attempts; try again in %"
                                     APR_INT64_T_FMT " second%s", wait, wait == 1 ? "" : "s"));
}

const authsvc_fail_t *authsvc_abuse_limit(request_rec *r, authsvc_rl_class_t cls,
                                          int by_ip, const char *account,
                                          const char *user_id, const char *login)
{
    apr_int64_t wait = 0, w;

    if (by_ip) {
        wait = count(r, cls, AUTHSVC_RL_IP, client_key(r), user_id, login);
    }
    if (account != NULL &&
        (w = count(r, cls, AUTHSVC_RL_ACCOUNT, account, user_id, login)) > wait) {
        wait = w;
    }
    if (wait > 0) {
        authsvc_metrics_rate_limited(cls);
    }
    return wait > 0 ? limited(r, wait) : NULL;
}

/* ---- back-off --------------------------------------------------------------------- */

typedef struct {
    apr_int64_t now, base, max;
} streak_t;

static apr_time_t grow(void *buf, int found, void *baton)
{
    streak_t *s = baton;

    (void)found;
    return expiry(authsvc_ratelimit_backoff_fail(buf, s->now, s->base, s->max));
}

static apr_time_t forgive(void *buf, int found, void *baton)
{
    authsvc_rl_backoff_t *b = buf;
    streak_t *s = baton;

    if (!found || b->failures == 0) {
        return 0;
    }
    authsvc_ratelimit_backoff_succeed(b);
    return expiry(b->next_allowed + s->max);
}

static apr_int64_t backoff_wait(request_rec *r, authsvc_rl_key_t k, const char *value,
                                const char *user_id, const char *login)
{
    authsvc_rl_backoff_t b;
    unsigned int len = sizeof(b);
    apr_int64_t wait;
    authsvc_json_t *d;
    const char *key = key_of(r, "bo", k, value);

    if (authsvc_cache_get(r, key, (unsigned char *)&b, &len) != APR_SUCCESS ||
        len != sizeof(b) || (wait = authsvc_ratelimit_backoff_wait(&b, AUTHSVC_NOW())) == 0) {
        return 0;
    }
    if (authsvc_cache_count(r, apr_pstrcat(r->pool, "ab", key + 2, NULL), 60) == 1) {
        d = authsvc_json_object(r->pool);
        authsvc_json_set_str(d, "class", "login");
        authsvc_json_set_str(d, "key", k == AUTHSVC_RL_IP ? "ip" : "account");
        authsvc_json_set_str(d, "reason", "backoff");
        authsvc_json_set_int(d, "retry_after", wait);
        audit(r, "rate_limited", k == AUTHSVC_RL_ACCOUNT ? user_id : NULL, login, d);
    }
    return wait;
}

const authsvc_fail_t *authsvc_abuse_backoff_check(request_rec *r, const char *account,
                                                  const char *user_id, const char *login)
{
    apr_int64_t wait, w;

    if (authsvc_config_backoff_base(authsvc_srv(r->server)) == 0) {
        return NULL;
    }
    wait = backoff_wait(r, AUTHSVC_RL_IP, client_key(r), user_id, login);
    if (account != NULL &&
        (w = backoff_wait(r, AUTHSVC_RL_ACCOUNT, account, user_id, login)) > wait) {
        wait = w;
    }
    if (wait > 0) {
        authsvc_metrics_rate_limited(AUTHSVC_RL_LOGIN);
    }
    return wait > 0 ? limited(r, wait) : NULL;
}

/* Apply fn to the streak of this address and of the account (when not NULL). */
static void update_streaks(request_rec *r, const char *account, authsvc_cache_update_fn fn)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    authsvc_rl_backoff_t b;
    streak_t s;

    s.base = authsvc_config_backoff_base(c);
    if (s.base == 0) {
        return;
    }
    s.max = authsvc_config_backoff_max(c);
    s.now = AUTHSVC_NOW();
    authsvc_cache_update(r, key_of(r, "bo", AUTHSVC_RL_IP, client_key(r)), &b, sizeof(b),
                         fn, &s);
    if (account != NULL) {
        authsvc_cache_update(r, key_of(r, "bo", AUTHSVC_RL_ACCOUNT, account), &b,
                             sizeof(b), fn, &s);
    }
}

void authsvc_abuse_backoff_fail(request_rec *r, const char *account)
{
    update_streaks(r, account, grow);
}

void authsvc_abuse_backoff_success(request_rec *r, const char *account)
{
    update_streaks(r, NULL, forgive);
    authsvc_abuse_backoff_forget(r, account);
}

void authsvc_abuse_backoff_forget(request_rec *r, const char *account)
{
    if (account != NULL && authsvc_config_backoff_base(authsvc_srv(r->server)) != 0) {
        authsvc_cache_remove(r, key_of(r, "bo", AUTHSVC_RL_ACCOUNT, account));
    }
}

/* ---- hashing cap ------------------------------------------------------------------ */

#define BUSY_AUDITS 10

static const authsvc_fail_t *busy(request_rec *r, const char *endpoint)
{
    authsvc_json_t *d;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "every password hashing slot stayed busy (AuthsvcHashConcurrency): 503");
    /* Once a minute per address, and at most BUSY_AUDITS a minute in all: a flood from
     * many addresses must not turn every refusal into an audit row (a database write
     * when the server is already saturated). */
    if (authsvc_cache_count(r, key_of(r, "hb", AUTHSVC_RL_IP, client_key(r)), 60) == 1 &&
        authsvc_cache_count(r, key_of(r, "hb", AUTHSVC_RL_IP, "*"), 60) <= BUSY_AUDITS) {
        d = authsvc_json_object(r->pool);
        authsvc_json_set_str(d, "endpoint", endpoint);
        audit(r, "hash_busy", NULL, NULL, d);
    }
    retry_after(r, 1);
    return authsvc_fail(r, "busy", "too many sign-ins at once; try again in a second");
}

const authsvc_fail_t *authsvc_abuse_hash_enter(request_rec *r, const char *endpoint,
                                               int *slot)
{
    return authsvc_hashcap_enter(r, slot) == APR_SUCCESS ? NULL : busy(r, endpoint);
}

const authsvc_fail_t *authsvc_abuse_hash_full(request_rec *r, const char *endpoint)
{
    return authsvc_hashcap_full(r) ? busy(r, endpoint) : NULL;
}

void authsvc_abuse_hash_leave(request_rec *r, int slot)
{
    authsvc_hashcap_leave(r, slot);
}

/* ---- honeypot --------------------------------------------------------------------- */

int authsvc_abuse_honeypot(request_rec *r, authsvc_json_t *body)
{
    const char *name = authsvc_config_honeypot(authsvc_srv(r->server));
    const char *v = NULL;
    apr_size_t len = 0;

    if (name == NULL || body == NULL) {
        return 0;
    }
    switch (authsvc_json_get_string(body, name, &v, &len)) {
    case AUTHSVC_JSON_OK:
        return len > 0;
    case AUTHSVC_JSON_WRONG_TYPE:
        return 1;
    default:
        return 0;
    }
}

void authsvc_abuse_honeypot_audit(request_rec *r, const char *endpoint, const char *login)
{
    authsvc_json_t *d = authsvc_json_object(r->pool);

    authsvc_json_set_str(d, "endpoint", endpoint);
    authsvc_json_set_str(d, "field", authsvc_config_honeypot(authsvc_srv(r->server)));
    audit(r, "honeypot", NULL, login, d);
}

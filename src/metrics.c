/*
 * metrics.c - the shared counters and their Prometheus text exposition.
 *
 * Why one segment in the process pool: pconf and every static of this module go at a
 * restart (httpd unloads and loads the module again), but s->process->pool lives as
 * long as the parent. The segment is found there by its userdata key, so a graceful
 * restart keeps the values; anonymous shared memory is mapped into every child at
 * fork. A module built with another layout (a new route, say) makes a new segment.
 *
 * Why atomics and no mutex: a counter is one lock-free fetch-and-add, which costs a
 * request nothing measurable and cannot be left locked by a child that dies. A
 * histogram is a set of such counters (one per bucket, not cumulative, and the sum in
 * microseconds), so a scrape may see an observation in a bucket before its sum: no
 * reader of rates can tell.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "apr_shm.h"

#include "metrics.h"
#include "problem.h"
#include "router.h"

#define SHM_KEY     "authsvc-metrics-shm"
#define NOTE_ROUTE  "authsvc-metrics-endpoint"
#define HIST_MAX    11                    /* buckets of a histogram, +Inf not counted */

/* ---- the shared segment ----------------------------------------------------------- */

typedef struct {
    _Atomic uint64_t bucket[HIST_MAX + 1]; /* observations per bucket; the last: +Inf */
    _Atomic uint64_t sum_us;
} hist_t;

typedef struct {
    uint64_t layout;                 /* layout_of() the build that made it */
    _Atomic uint64_t counter[AUTHSVC_M_NCOUNTERS];
    _Atomic int64_t gauges_at;       /* apr_time_t of the last gauge refresh, 0: never */
    _Atomic int64_t sessions_active;
    _Atomic int64_t mail_queued;
    hist_t hash;
    hist_t endpoint[];               /* one per endpoint (see endpoints below) */
} shared_t;

static shared_t *sh;

/* ---- fixed label sets ------------------------------------------------------------- */

/* Bucket bounds in microseconds, and as Prometheus prints them. */
typedef struct {
    int n;
    apr_int64_t us[HIST_MAX];
    const char *le[HIST_MAX];
} bounds_t;

static const bounds_t request_bounds = {
    11,
    {5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
     10000000},
    {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"}};

/* Argon2id takes a few ms at test parameters, tens of ms at the defaults, and more when
 * the machine is overloaded: that is what the upper buckets are for. */
static const bounds_t hash_bounds = {
    11,
    {1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000},
    {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
     "2.5"}};

static const char *const login_results[] = {"success", "failure", "mfa_required",
                                            "locked", "rate_limited", "busy",
                                            "unverified", "invalid", "error"};
static const char *const mfa_results[] = {"success", "failure"};
static const char *const guard_results[] = {"granted", "denied", "unauthenticated",
                                            "step_up", "invalid_token", "unavailable"};
static const char *const token_kinds[] = {"access", "refresh"};
static const char *const mail_results[] = {"sent", "retried", "failed"};
static const char *rl_classes[AUTHSVC_RL_NCLASSES]; /* from ratelimit.c, at post_config */

#define NVALUES(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A counter family: n slots from `first`, one per value of `label` (none: one slot). */
typedef struct {
    const char *name, *help, *label;
    const char *const *values;
    int first, n;
} family_t;

static const family_t families[] = {
    {"authsvc_logins_total",
     "Sign-in attempts (the password step, JSON and pages) by outcome.", "result",
     login_results, AUTHSVC_M_LOGIN_SUCCESS, NVALUES(login_results)},
    {"authsvc_registrations_total", "Accounts registered.", NULL, NULL,
     AUTHSVC_M_REGISTRATIONS, 1},
    {"authsvc_mfa_total",
     "Second-factor checks (TOTP or recovery code): sign-in, enrollment, sensitive changes.",
     "result", mfa_results, AUTHSVC_M_MFA_SUCCESS, NVALUES(mfa_results)},
    {"authsvc_password_resets_total", "Passwords reset through a mailed link.", NULL, NULL,
     AUTHSVC_M_PASSWORD_RESETS, 1},
    {"authsvc_rate_limited_total",
     "Requests refused by AuthsvcRateLimit (and the login back-off), by endpoint class.",
     "class", rl_classes, AUTHSVC_M_RATE_LIMITED, AUTHSVC_RL_NCLASSES},
    {"authsvc_lockouts_total", "Accounts locked after too many failed attempts.", NULL,
     NULL, AUTHSVC_M_LOCKOUTS, 1},
    {"authsvc_guard_decisions_total",
     "Requests the guard (Require authsvc) let through with an identity or refused.",
     "result", guard_results, AUTHSVC_M_GUARD_GRANTED, NVALUES(guard_results)},
    {"authsvc_tokens_issued_total", "API tokens issued (sign-in and refresh), by kind.",
     "kind", token_kinds, AUTHSVC_M_TOKENS_ACCESS, NVALUES(token_kinds)},
    {"authsvc_refresh_reuse_total",
     "Used refresh tokens presented again (their family and session revoked).", NULL, NULL,
     AUTHSVC_M_REFRESH_REUSE, 1},
    {"authsvc_mail_total", "Mail delivery attempts of the outbox, by outcome.", "result",
     mail_results, AUTHSVC_M_MAIL_SENT, NVALUES(mail_results)},
    {"authsvc_db_errors_total",
     "Failed database statements and requests that found no database connection.", NULL,
     NULL, AUTHSVC_M_DB_ERRORS, 1},
};

/* The endpoint label values: every JSON route pattern of router.c once ('*' shown as
 * {id}, as docs/api.md writes it), "page" for every HTML page, and "other" for what no
 * route matched (404, 405, CORS preflight). route_endpoint[i] is route i's. */
static apr_array_header_t *endpoints; /* const char * */
static int *route_endpoint;
static int nroutes, other_endpoint;

static const char *endpoint_name(apr_pool_t *p, const char *pattern, int page)
{
    apr_size_t n = strlen(pattern), stars = 0, i, j = 0;
    char *out;

    if (page) {
        return "page";
    }
    for (i = 0; i < n; i++) {
        stars += pattern[i] == '*';
    }
    out = apr_palloc(p, n + 3 * stars + 1);
    for (i = 0; i < n; i++) {
        if (pattern[i] == '*') {
            memcpy(out + j, "{id}", 4);
            j += 4;
        }
        else {
            out[j++] = pattern[i];
        }
    }
    out[j] = '\0';
    return out;
}

static int endpoint_index(const char *name)
{
    int i;

    for (i = 0; i < endpoints->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(endpoints, i, const char *), name) == 0) {
            return i;
        }
    }
    APR_ARRAY_PUSH(endpoints, const char *) = name;
    return endpoints->nelts - 1;
}

static void make_endpoints(apr_pool_t *pconf)
{
    int i, page;
    const char *pattern;

    for (nroutes = 0; authsvc_router_route(nroutes, &page) != NULL; nroutes++) {
    }
    endpoints = apr_array_make(pconf, nroutes + 1, sizeof(const char *));
    route_endpoint = apr_pcalloc(pconf, sizeof(int) * (apr_size_t)(nroutes + 1));
    for (i = 0; (pattern = authsvc_router_route(i, &page)) != NULL; i++) {
        route_endpoint[i] = endpoint_index(endpoint_name(pconf, pattern, page));
    }
    other_endpoint = endpoint_index("other");
    for (i = 0; i < AUTHSVC_RL_NCLASSES; i++) {
        rl_classes[i] = authsvc_ratelimit_class_name((authsvc_rl_class_t)i);
    }
}

/* ---- start-up ----------------------------------------------------------------------- */

/* FNV-1a of s into h (and of its NUL, so that "ab","c" differs from "a","bc"). */
static uint64_t fnv(uint64_t h, const char *s)
{
    do {
        h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
    } while (*s++ != '\0');
    return h;
}

/* A histogram's bucket bounds, into h. */
static uint64_t fnv_bounds(uint64_t h, apr_pool_t *p, const bounds_t *b)
{
    int i;

    for (i = 0; i < b->n; i++) {
        h = fnv(h, apr_psprintf(p, "%" APR_INT64_T_FMT, b->us[i]));
    }
    return h;
}

/* What the segment's slots mean: every family with its slots and label values, every
 * endpoint in order, the bucket bounds and the size. A build that would read the slots
 * otherwise gets a segment of its own. */
static uint64_t layout_of(apr_size_t size)
{
    apr_pool_t *p = endpoints->pool;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    int i, v;

    for (i = 0; i < NVALUES(families); i++) {
        h = fnv(h, families[i].name);
        h = fnv(h, apr_psprintf(p, "%d+%d", families[i].first, families[i].n));
        for (v = 0; families[i].label != NULL && v < families[i].n; v++) {
            h = fnv(h, families[i].values[v]);
        }
    }
    h = fnv_bounds(fnv_bounds(h, p, &request_bounds), p, &hash_bounds);
    for (i = 0; i < endpoints->nelts; i++) {
        h = fnv(h, APR_ARRAY_IDX(endpoints, i, const char *));
    }
    h = fnv(h, apr_psprintf(p, "%" APR_SIZE_T_FMT "/%d", size, HIST_MAX));
    return h ? h : 1; /* 0 is a zeroed segment's */
}

const char *authsvc_metrics_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    apr_shm_t *shm = NULL;
    apr_size_t size;
    uint64_t layout;

    sh = NULL;
    make_endpoints(pconf);
    size = sizeof(shared_t) + sizeof(hist_t) * (apr_size_t)endpoints->nelts;
    layout = layout_of(size);
    apr_pool_userdata_get((void **)&shm, SHM_KEY, pp);
    if (shm != NULL && apr_shm_size_get(shm) >= size &&
        ((shared_t *)apr_shm_baseaddr_get(shm))->layout == layout) {
        sh = apr_shm_baseaddr_get(shm);
        return NULL;
    }
    if (shm != NULL) {
        /* Another build's layout: old children keep their own mapping until they go. */
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "metrics: the module's layout changed; the counters start again");
        apr_shm_destroy(shm);
    }
    /* Anonymous: no file, inherited by every child at fork, gone when the parent is. */
    if (apr_shm_create(&shm, size, NULL, pp) != APR_SUCCESS) {
        return "metrics: cannot create the shared memory for the counters";
    }
    sh = apr_shm_baseaddr_get(shm);
    memset(sh, 0, size);
    if (!atomic_is_lock_free(&sh->counter[0]) || !atomic_is_lock_free(&sh->gauges_at)) {
        sh = NULL;
        return "metrics: 64-bit atomics are not lock-free here, so they cannot be shared "
               "between processes";
    }
    sh->layout = layout;
    apr_pool_userdata_set(shm, SHM_KEY, apr_pool_cleanup_null, pp);
    return NULL;
}

/* ---- counting ----------------------------------------------------------------------- */

void authsvc_metrics_inc(authsvc_metric_t m)
{
    if (sh != NULL && m >= 0 && m < AUTHSVC_M_NCOUNTERS) {
        atomic_fetch_add_explicit(&sh->counter[m], 1, memory_order_relaxed);
    }
}

void authsvc_metrics_login(const char *code)
{
    static const struct {
        const char *code;
        authsvc_metric_t m;
    } map[] = {{"invalid_credentials", AUTHSVC_M_LOGIN_FAILURE},
               {"mfa_required", AUTHSVC_M_LOGIN_MFA_REQUIRED},
               {"account_locked", AUTHSVC_M_LOGIN_LOCKED},
               {"rate_limited", AUTHSVC_M_LOGIN_RATE_LIMITED},
               {"busy", AUTHSVC_M_LOGIN_BUSY},
               {"verification_required", AUTHSVC_M_LOGIN_UNVERIFIED},
               {"validation_failed", AUTHSVC_M_LOGIN_INVALID}};
    int i;

    if (code == NULL) {
        authsvc_metrics_inc(AUTHSVC_M_LOGIN_SUCCESS);
        return;
    }
    for (i = 0; i < NVALUES(map); i++) {
        if (strcmp(code, map[i].code) == 0) {
            authsvc_metrics_inc(map[i].m);
            return;
        }
    }
    authsvc_metrics_inc(AUTHSVC_M_LOGIN_ERROR);
}

void authsvc_metrics_rate_limited(authsvc_rl_class_t cls)
{
    if (cls >= 0 && cls < AUTHSVC_RL_NCLASSES) {
        authsvc_metrics_inc((authsvc_metric_t)(AUTHSVC_M_RATE_LIMITED + cls));
    }
}

void authsvc_metrics_guard(request_rec *r, const char *code)
{
    authsvc_metric_t m = AUTHSVC_M_GUARD_DENIED;

    if (r->main != NULL || r->prev != NULL) {
        return;
    }
    if (code == NULL) {
        m = AUTHSVC_M_GUARD_GRANTED;
    }
    else if (strcmp(code, "unauthenticated") == 0) {
        m = AUTHSVC_M_GUARD_UNAUTHENTICATED;
    }
    else if (strcmp(code, "access_token_invalid") == 0) {
        m = AUTHSVC_M_GUARD_INVALID_TOKEN;
    }
    else if (strcmp(code, "unavailable") == 0) {
        m = AUTHSVC_M_GUARD_UNAVAILABLE;
    }
    else if (strcmp(code, "reauthentication_required") == 0 ||
             strcmp(code, "mfa_required") == 0 ||
             strcmp(code, "mfa_enrollment_required") == 0) {
        m = AUTHSVC_M_GUARD_STEP_UP;
    }
    authsvc_metrics_inc(m);
}

static void observe(hist_t *h, const bounds_t *b, apr_interval_time_t us)
{
    int i;

    if (us < 0) {
        us = 0; /* the wall clock stepped back */
    }
    for (i = 0; i < b->n && us > b->us[i]; i++) {
    }
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, (uint64_t)us, memory_order_relaxed);
}

void authsvc_metrics_hash_time(apr_time_t started)
{
    if (sh != NULL) {
        observe(&sh->hash, &hash_bounds, apr_time_now() - started);
    }
}

void authsvc_metrics_route(request_rec *r, int route)
{
    if (route >= 0 && route < nroutes) {
        apr_table_setn(r->notes, NOTE_ROUTE, apr_itoa(r->pool, route_endpoint[route]));
    }
}

/* log_transaction: a request the authsvc handler answered, timed from its first line
 * to its last byte handed to the network (the final request of internal redirects). */
static int log_request(request_rec *r)
{
    request_rec *last = r;
    const char *note;
    int ep;

    while (last->next != NULL) {
        last = last->next;
    }
    if (sh == NULL || last->handler == NULL || strcmp(last->handler, AUTHSVC_HANDLER) != 0) {
        return DECLINED;
    }
    note = apr_table_get(last->notes, NOTE_ROUTE);
    ep = note != NULL ? atoi(note) : other_endpoint;
    if (ep < 0 || ep >= endpoints->nelts) {
        ep = other_endpoint;
    }
    observe(&sh->endpoint[ep], &request_bounds, apr_time_now() - r->request_time);
    return DECLINED;
}

void authsvc_metrics_register(apr_pool_t *p)
{
    (void)p;
    ap_hook_log_transaction(log_request, NULL, NULL, APR_HOOK_MIDDLE);
}

/* ---- the gauges --------------------------------------------------------------------- */

/* The first scrape after the TTL claims the refresh by moving gauges_at (a CAS, so one
 * of a storm queries); the rest print the values they find. A scrape that fails to
 * reach the database keeps the old values until the next TTL (the error is counted in
 * authsvc_db_errors_total by the store). */
static void refresh_gauges(request_rec *r)
{
    apr_time_t now = apr_time_now();
    int64_t at = atomic_load(&sh->gauges_at);
    apr_int64_t sessions = 0, queued = 0;
    authsvc_db_t *db;

    if (now - at < apr_time_from_sec(AUTHSVC_METRICS_GAUGE_TTL) && now >= at) {
        return;
    }
    if (!atomic_compare_exchange_strong(&sh->gauges_at, &at, now)) {
        return;
    }
    if ((db = authsvc_store_db(r)) == NULL ||
        authsvc_gauges_read(db, apr_time_sec(now), &sessions, &queued) != APR_SUCCESS) {
        return;
    }
    atomic_store(&sh->sessions_active, sessions);
    atomic_store(&sh->mail_queued, queued);
}

/* ---- the exposition ----------------------------------------------------------------- */

static void header(request_rec *r, const char *name, const char *type, const char *help)
{
    ap_rprintf(r, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint64_t load(_Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void write_family(request_rec *r, const family_t *f)
{
    int i;

    header(r, f->name, "counter", f->help);
    if (f->label == NULL) {
        ap_rprintf(r, "%s %" APR_UINT64_T_FMT "\n", f->name, load(&sh->counter[f->first]));
        return;
    }
    for (i = 0; i < f->n; i++) {
        ap_rprintf(r, "%s{%s=\"%s\"} %" APR_UINT64_T_FMT "\n", f->name, f->label,
                   f->values[i], load(&sh->counter[f->first + i]));
    }
}

/* One histogram's series; label is `name="value"` or NULL (the label values are ours:
 * route patterns and fixed words, nothing that needs escaping). */
static void write_hist(request_rec *r, const char *name, const char *label, hist_t *h,
                       const bounds_t *b)
{
    const char *sep = label ? "," : "", *open = label ? "{" : "", *close = label ? "}" : "";
    uint64_t cum = 0, sum = load(&h->sum_us);
    int i;

    if (label == NULL) {
        label = "";
    }
    for (i = 0; i <= b->n; i++) {
        cum += load(&h->bucket[i]);
        ap_rprintf(r, "%s_bucket{%s%sle=\"%s\"} %" APR_UINT64_T_FMT "\n", name, label, sep,
                   i < b->n ? b->le[i] : "+Inf", cum);
    }
    ap_rprintf(r, "%s_sum%s%s%s %" APR_UINT64_T_FMT ".%06" APR_UINT64_T_FMT "\n", name, open,
               label, close, sum / 1000000, sum % 1000000);
    ap_rprintf(r, "%s_count%s%s%s %" APR_UINT64_T_FMT "\n", name, open, label, close, cum);
}

int authsvc_metrics_write(request_rec *r)
{
    int i;

    if (sh == NULL) {
        return authsvc_problem_send(r, "unavailable", "the metrics are not initialised");
    }
    refresh_gauges(r);
    r->status = HTTP_OK;
    ap_set_content_type(r, AUTHSVC_METRICS_CONTENT_TYPE);
    for (i = 0; i < NVALUES(families); i++) {
        write_family(r, &families[i]);
    }
    header(r, "authsvc_sessions_active", "gauge",
           "Live sessions (as users see them listed), read from the database at most every "
           APR_STRINGIFY(AUTHSVC_METRICS_GAUGE_TTL) " seconds.");
    ap_rprintf(r, "authsvc_sessions_active %" APR_INT64_T_FMT "\n",
               (apr_int64_t)atomic_load(&sh->sessions_active));
    header(r, "authsvc_mail_queue_depth", "gauge",
           "Messages waiting in the outbox, read from the database at most every "
           APR_STRINGIFY(AUTHSVC_METRICS_GAUGE_TTL) " seconds.");
    ap_rprintf(r, "authsvc_mail_queue_depth %" APR_INT64_T_FMT "\n",
               (apr_int64_t)atomic_load(&sh->mail_queued));
    header(r, "authsvc_request_duration_seconds", "histogram",
           "Time to answer a request of SetHandler authsvc, by endpoint (route pattern, "
           "page for the HTML pages, other for no route).");
    for (i = 0; i < endpoints->nelts; i++) {
        write_hist(r, "authsvc_request_duration_seconds",
                   apr_psprintf(r->pool, "endpoint=\"%s\"",
                                APR_ARRAY_IDX(endpoints, i, const char *)),
                   &sh->endpoint[i], &request_bounds);
    }
    header(r, "authsvc_password_hash_seconds", "histogram",
           "Time of one password hash or check (Argon2id, or an older format on sign-in).");
    write_hist(r, "authsvc_password_hash_seconds", NULL, &sh->hash, &hash_bounds);
    return OK;
}

/*
 * h_health.c - SetHandler authsvc-health: is the service alive, and able to serve?
 *
 *   ?probe=live   the process answers; nothing else is touched (a load balancer's
 *                 liveness check must not turn a database outage into a restart loop)
 *   (default, or ?probe=ready)   readiness: the database and its schema (503 when
 *                 either fails), the cache and the mail queue (reported; a failure
 *                 there is "degraded", still 200: the node can serve sign-ins)
 */
#include "cache.h"
#include "json.h"
#include "migrate.h"
#include "problem.h"
#include "request.h"
#include "router.h"
#include "schema.h"
#include "store.h"

/* Mail queued for longer than this makes the node "degraded". */
#define MAIL_LAG_SECONDS 900

typedef struct {
    int db_ok;                 /* the database answered at the right schema */
    int degraded;              /* something else is wrong */
} health_t;

static authsvc_json_t *database(request_rec *r, authsvc_db_t **db, health_t *h,
                                int *version)
{
    authsvc_json_t *o = authsvc_json_object(r->pool);
    const dbd_cfg_t *cfg = authsvc_store_dbd_cfg(r->server);
    apr_time_t t0 = apr_time_now();

    *db = authsvc_store_db(r);
    *version = 0;
    h->db_ok = *db != NULL && authsvc_schema_ready(r, *db, version);
    authsvc_json_set_str(o, "status", h->db_ok ? "ok" : "unavailable");
    authsvc_json_set_str(o, "driver", cfg && cfg->name ? cfg->name : NULL);
    authsvc_json_set_int(o, "latency_ms",
                         (long long)apr_time_as_msec(apr_time_now() - t0));
    return o;
}

static authsvc_json_t *cache(request_rec *r, health_t *h)
{
    authsvc_json_t *o = authsvc_json_object(r->pool);
    int probe = authsvc_cache_probe(r);

    authsvc_json_set_str(o, "status", probe < 0 ? "off" : probe ? "ok" : "unavailable");
    authsvc_json_set_str(o, "provider", authsvc_cache_provider_name());
    if (probe == 0) {
        h->degraded = 1;
    }
    return o;
}

/* The outbox's backlog: how many messages wait, and the oldest one's age. */
static authsvc_json_t *mail(request_rec *r, authsvc_db_t *db, health_t *h)
{
    authsvc_json_t *o = authsvc_json_object(r->pool);
    apr_int64_t queued = 0, oldest = 0, age = 0;

    if (!h->db_ok || authsvc_outbox_backlog(db, &queued, &oldest) != APR_SUCCESS) {
        authsvc_json_set_str(o, "status", "unknown");
        authsvc_json_set_str(o, "queued", NULL);
        authsvc_json_set_str(o, "oldest_age_seconds", NULL);
        return o;
    }
    if (queued > 0) {
        age = AUTHSVC_NOW() - oldest;
        age = age < 0 ? 0 : age;
    }
    authsvc_json_set_str(o, "status", age > MAIL_LAG_SECONDS ? "delayed" : "ok");
    authsvc_json_set_int(o, "queued", (long long)queued);
    if (queued > 0) {
        authsvc_json_set_int(o, "oldest_age_seconds", (long long)age);
    }
    else {
        authsvc_json_set_str(o, "oldest_age_seconds", NULL);
    }
    h->degraded |= age > MAIL_LAG_SECONDS;
    return o;
}

/* The schema version this build needs on the server's database driver. */
static int latest(request_rec *r)
{
    const dbd_cfg_t *cfg = authsvc_store_dbd_cfg(r->server);

    return cfg != NULL && cfg->name != NULL ? authsvc_migrate_latest(cfg->name) : 0;
}

static int live(request_rec *r)
{
    authsvc_json_t *out = authsvc_json_object(r->pool);

    authsvc_json_set_str(out, "status", "ok");
    authsvc_json_set_str(out, "probe", "live");
    authsvc_json_set_str(out, "time", authsvc_request_iso8601(r->pool, AUTHSVC_NOW()));
    return authsvc_request_send_json(r, HTTP_OK, out);
}

int authsvc_h_health(request_rec *r)
{
    const char *probe = authsvc_request_query(r, "probe");
    authsvc_json_t *out, *dbj;
    authsvc_db_t *db;
    health_t h = {0, 0};
    int version;

    if (probe != NULL && strcmp(probe, "live") == 0) {
        return live(r);
    }
    if (probe != NULL && strcmp(probe, "ready") != 0) {
        apr_array_header_t *errs = NULL;
        authsvc_problem_field(r, &errs, "probe", "invalid", "probe is live or ready");
        return authsvc_problem_send_fields(r, "validation_failed", NULL, errs);
    }
    out = authsvc_json_object(r->pool);
    dbj = database(r, &db, &h, &version);
    authsvc_json_set(out, "database", dbj);
    if (db != NULL) {
        authsvc_json_set_int(out, "schema_version", version);
    }
    else {
        authsvc_json_set_str(out, "schema_version", NULL);
    }
    authsvc_json_set_int(out, "schema_expected", latest(r));
    authsvc_json_set(out, "cache", cache(r, &h));
    authsvc_json_set(out, "mail", mail(r, db, &h));
    authsvc_json_set_str(out, "status",
                         !h.db_ok ? "unavailable" : h.degraded ? "degraded" : "ok");
    authsvc_json_set_str(out, "probe", "ready");
    authsvc_json_set_str(out, "time", authsvc_request_iso8601(r->pool, AUTHSVC_NOW()));
    if (!h.db_ok) {
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
    }
    return authsvc_request_send_json(r, h.db_ok ? HTTP_OK : HTTP_SERVICE_UNAVAILABLE, out);
}

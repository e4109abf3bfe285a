/*
 * h_health.c - SetHandler authsvc-health: is the service able to serve?
 */
#include "json.h"
#include "request.h"
#include "router.h"
#include "schema.h"
#include "store.h"

int authsvc_h_health(request_rec *r)
{
    authsvc_json_t *out = authsvc_json_object(r->pool);
    authsvc_json_t *dbj = authsvc_json_object(r->pool);
    apr_time_t t0 = apr_time_now();
    authsvc_db_t *db = authsvc_store_db(r);
    int version = 0, ok = db != NULL && authsvc_schema_ready(r, db, &version);

    authsvc_json_set_str(dbj, "status", ok ? "ok" : "unavailable");
    authsvc_json_set_int(dbj, "latency_ms", (long long)apr_time_as_msec(apr_time_now() - t0));
    authsvc_json_set_str(out, "status", ok ? "ok" : "unavailable");
    authsvc_json_set(out, "database", dbj);
    if (db != NULL) {
        authsvc_json_set_int(out, "schema_version", version);
    }
    else {
        authsvc_json_set_str(out, "schema_version", NULL);
    }
    authsvc_json_set_str(out, "time", authsvc_request_iso8601(r->pool, AUTHSVC_NOW()));
    if (!ok) {
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
    }
    return authsvc_request_send_json(r, ok ? HTTP_OK : HTTP_SERVICE_UNAVAILABLE, out);
}

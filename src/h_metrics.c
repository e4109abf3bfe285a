/*
 * h_metrics.c - SetHandler authsvc-metrics: every series in Prometheus text format.
 */
#include "metrics.h"
#include "problem.h"

int authsvc_h_metrics(request_rec *r)
{
    /* A HEAD is refused too: a scraper only ever GETs, and a HEAD would cost a gauge
     * refresh for nothing. */
    if (r->method_number != M_GET || r->header_only) {
        apr_table_setn(r->err_headers_out, "Allow", "GET");
        return authsvc_problem_send(r, "method_not_allowed",
                                    apr_psprintf(r->pool, "%s is not allowed here; use GET",
                                                 r->method));
    }
    return authsvc_metrics_write(r);
}

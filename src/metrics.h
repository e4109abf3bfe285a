/*
 * metrics.h - counters, gauges and histograms for Prometheus (SetHandler
 * authsvc-metrics, docs/monitoring.md).
 *
 * Every series lives in one anonymous shared-memory segment that the parent makes
 * once, before the first children fork, and keeps in its process pool: every child of
 * every generation adds to the same counters (C11 atomics, lock-free), so the numbers
 * are the whole server's and a graceful restart keeps them. Label values are fixed
 * sets, so every series is a fixed slot; a series nothing has moved is printed as 0.
 *
 * The counting functions cost one atomic add and never fail: before post_config (or if
 * the segment could not be made) they do nothing.
 */
#ifndef AUTHSVC_METRICS_H
#define AUTHSVC_METRICS_H

#include "authsvc.h"
#include "ratelimit.h"
#include "store.h"

/* SetHandler authsvc-metrics */
#define AUTHSVC_HANDLER_METRICS "authsvc-metrics"

/* Prometheus text exposition format 0.0.4. */
#define AUTHSVC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Seconds a scrape reuses the gauges read from the database (sessions, mail queue):
 * a scrape storm costs the database one query per this many seconds. */
#define AUTHSVC_METRICS_GAUGE_TTL 5

/* The counter slots: each label value of a counter family is one slot. */
typedef enum {
    /* authsvc_logins_total{result}: authsvc_metrics_login() picks the slot */
    AUTHSVC_M_LOGIN_SUCCESS = 0,
    AUTHSVC_M_LOGIN_FAILURE,
    AUTHSVC_M_LOGIN_MFA_REQUIRED,
    AUTHSVC_M_LOGIN_LOCKED,
    AUTHSVC_M_LOGIN_RATE_LIMITED,
    AUTHSVC_M_LOGIN_BUSY,
    AUTHSVC_M_LOGIN_UNVERIFIED,
    AUTHSVC_M_LOGIN_INVALID,
    AUTHSVC_M_LOGIN_ERROR,
    AUTHSVC_M_REGISTRATIONS,
    /* authsvc_mfa_total{result} */
    AUTHSVC_M_MFA_SUCCESS,
    AUTHSVC_M_MFA_FAILURE,
    AUTHSVC_M_PASSWORD_RESETS,
    /* authsvc_rate_limited_total{class}: one slot per class, authsvc_metrics_rate_limited */
    AUTHSVC_M_RATE_LIMITED,
    AUTHSVC_M_LOCKOUTS = AUTHSVC_M_RATE_LIMITED + AUTHSVC_RL_NCLASSES,
    /* authsvc_guard_decisions_total{result}: authsvc_metrics_guard() picks the slot */
    AUTHSVC_M_GUARD_GRANTED,
    AUTHSVC_M_GUARD_DENIED,
    AUTHSVC_M_GUARD_UNAUTHENTICATED,
    AUTHSVC_M_GUARD_STEP_UP,
    AUTHSVC_M_GUARD_INVALID_TOKEN,
    AUTHSVC_M_GUARD_UNAVAILABLE,
    /* authsvc_tokens_issued_total{kind} */
    AUTHSVC_M_TOKENS_ACCESS,
    AUTHSVC_M_TOKENS_REFRESH,
    AUTHSVC_M_REFRESH_REUSE,
    /* authsvc_mail_total{result} */
    AUTHSVC_M_MAIL_SENT,
    AUTHSVC_M_MAIL_RETRIED,
    AUTHSVC_M_MAIL_FAILED,
    AUTHSVC_M_DB_ERRORS,
    AUTHSVC_M_NCOUNTERS
} authsvc_metric_t;

/* register_hooks: the log hook that times the requests of SetHandler authsvc. */
void authsvc_metrics_register(apr_pool_t *p);

/* post_config: the endpoint set (from the route table), and the shared segment, made
 * on the first start and found again in the process pool on every restart. NULL, or
 * an error for the log (no shared memory; atomics that are not lock-free). */
const char *authsvc_metrics_post_config(apr_pool_t *pconf, server_rec *s);

/* Count one event. */
void authsvc_metrics_inc(authsvc_metric_t m);

/* A sign-in's first step (the password) ended with failure `code`, or succeeded (code
 * NULL): one of authsvc_logins_total{result}. */
void authsvc_metrics_login(const char *code);

/* A request refused by class cls of AuthsvcRateLimit (or the login back-off). */
void authsvc_metrics_rate_limited(authsvc_rl_class_t cls);

/* The guard let r through with an identity (code NULL) or turned it away with the
 * catalogue code of its refusal. Sub-requests and internal redirects are not counted:
 * one decision per request the client sent. */
void authsvc_metrics_guard(request_rec *r, const char *code);

/* One password hash or check that began at `started` has ended. */
void authsvc_metrics_hash_time(apr_time_t started);

/* Request r is served by route `route` (its index in router.c's table): its duration
 * goes to that route's endpoint. */
void authsvc_metrics_route(request_rec *r, int route);

/* SetHandler authsvc-metrics (h_metrics.c): GET only, else 405. */
int authsvc_h_metrics(request_rec *r);

/* For the handler: refresh the database gauges if they are older than
 * AUTHSVC_METRICS_GAUGE_TTL (one scrape does it, the others use the old values; a
 * database failure keeps them), then write every series to r. Returns OK. */
int authsvc_metrics_write(request_rec *r);

/* The gauges' query (store_metrics.c): live sessions (as a user's list counts them)
 * and queued mail. APR_SUCCESS, or APR_EGENERAL (logged). */
apr_status_t authsvc_gauges_read(authsvc_db_t *db, apr_int64_t now,
                                 apr_int64_t *sessions, apr_int64_t *queued);

#endif

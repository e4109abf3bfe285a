/*
 * flow_newdevice.c - new-device sign-in alerts (AuthsvcNewDeviceWindow).
 *
 * A device, for an account, is either of two keys (docs/operations.md, "New-device
 * alerts"):
 *  - its device cookie: a long-lived random value this module sets at the first sign-in
 *    of a browser that has none (HttpOnly, Secure as the session cookie, SameSite=Lax);
 *  - its coarse agent and network: the browser family and operating system read from
 *    User-Agent (or the client's product name), and the client's IPv4 /24 or IPv6 /64.
 * A sign-in whose keys were neither seen for the account within the window is a new
 * device: mail new_device and audit new_device. Both keys are then recorded (hashed
 * with the account id: SHA-256), so an API client without cookies alerts once per
 * agent and network, and a browser that keeps its cookie is known on any network.
 */
#include "apr_lib.h"

#include "audit.h"
#include "config.h"
#include "crypto.h"
#include "flow.h"
#include "json.h"
#include "ratelimit.h"
#include "request.h"

/* A row that says "this account has signed in before" (kept until the account goes):
 * a sign-in of a long-unused account is still an alert, while accounts from before
 * this feature learn their first device quietly. */
#define ACCOUNT_MARK "account"
#define FOREVER      APR_INT64_C(253402300799) /* 9999-12-31 */

/* The device cookie lives as long as browsers keep one (Chrome caps at 400 days). */
#define DEVICE_COOKIE_AGE (400 * 86400)

static const char *device_cookie(request_rec *r)
{
    return apr_pstrcat(r->pool, authsvc_session_cookie_name(r), "-device", NULL);
}

/* Which of the names occurs first in ua (case-sensitive), or NULL. */
static const char *first_of(const char *ua, const char *const *needles,
                            const char *const *names)
{
    int i;

    for (i = 0; needles[i] != NULL; i++) {
        if (strstr(ua, needles[i]) != NULL) {
            return names[i];
        }
    }
    return NULL;
}

/* "Firefox on Windows", "Chrome on Android", "curl": coarse on purpose (a version
 * update is no new device). Other clients: their first product name, letters only. */
static const char *coarse_agent(apr_pool_t *p, const char *ua)
{
    /* Order matters: Edge and Opera say Chrome, Chrome says Safari, Android Linux. */
    static const char *const browsers[] = {"Edg/", "OPR/", "Firefox/", "Chrome/",
                                           "CriOS/", "Safari/", NULL};
    static const char *const bnames[] = {"Edge", "Opera", "Firefox", "Chrome",
                                         "Chrome", "Safari"};
    static const char *const systems[] = {"Android", "iPhone", "iPad", "CrOS",
                                          "Windows", "Mac OS X", "Linux", NULL};
    static const char *const snames[] = {"Android", "iOS", "iOS", "ChromeOS",
                                         "Windows", "macOS", "Linux"};
    const char *b, *os;
    apr_size_t n = 0;

    if (ua == NULL || *ua == '\0') {
        return "unknown";
    }
    b = first_of(ua, browsers, bnames);
    os = first_of(ua, systems, snames);
    if (b != NULL) {
        return apr_pstrcat(p, b, " on ", os ? os : "another system", NULL);
    }
    while (n < 32 && (apr_isalpha(ua[n]) || ua[n] == '-' || ua[n] == '_')) {
        n++;
    }
    return n ? apr_pstrmemdup(p, ua, n) : "unknown";
}

/* The client's network: "192.0.2.0/24", "2001:db8:1:2::/64" (the rate limits' own
 * reading of the address, IPv4-mapped ones included, cut shorter for IPv4). */
static const char *coarse_network(apr_pool_t *p, const char *ip)
{
    const char *k = authsvc_ratelimit_ip_key(p, ip, 64);
    const char *dot;

    if (k == NULL) {
        return "unknown";
    }
    if (strchr(k, '/') == NULL && (dot = strrchr(k, '.')) != NULL) {
        return apr_pstrcat(p, apr_pstrmemdup(p, k, (apr_size_t)(dot - k)), ".0/24", NULL);
    }
    return k;
}

static const char *key(request_rec *r, const authsvc_user_t *u, const char *kind,
                       const char *v)
{
    const char *s = apr_pstrcat(r->pool, u->id, "\n", kind, "\n", v, NULL);

    return authsvc_crypto_sha256_hex(r->pool, s, strlen(s));
}

/* The browser's device cookie, or a new one (set on the answer); NULL without
 * randomness. *kept: the client keeps cookies (it sent this one, or is on the HTML
 * pages, or sent any Cookie header), so that the id is worth a row: a client that keeps
 * none would add a row on each of its sign-ins, for nothing (its agent and network key
 * stands for it). */
static const char *device_id(request_rec *r, int *kept)
{
    const char *v = authsvc_cookie_get(r, device_cookie(r));

    *kept = 1;
    if (v != NULL && authsvc_crypto_token_plausible(v, strlen(v))) {
        return v;
    }
    *kept = apr_table_get(r->notes, AUTHSVC_NOTE_BROWSER) != NULL ||
            apr_table_get(r->headers_in, "Cookie") != NULL;
    if ((v = authsvc_crypto_token(r->pool, AUTHSVC_TOKEN_BYTES)) != NULL) {
        authsvc_cookie_set(r, device_cookie(r), v, DEVICE_COOKIE_AGE, "Lax", 0);
    }
    return v;
}

/* The alert: an audit row and a mail, in the caller's transaction. */
static apr_status_t alert(request_rec *r, authsvc_db_t *db, const authsvc_user_t *u,
                          const char *agent, const char *network)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    authsvc_json_t *d = authsvc_json_object(r->pool);
    apr_table_t *vars = authsvc_flow_mail_vars(r, u);
    apr_status_t rv;

    authsvc_json_set_str(d, "agent", agent);
    authsvc_json_set_str(d, "network", network);
    if ((rv = authsvc_audit(r, db, "new_device", u->id, NULL, d)) != APR_SUCCESS) {
        return rv;
    }
    apr_table_setn(vars, "agent", agent);
    apr_table_setn(vars, "link", c->public_url ? apr_pstrcat(r->pool, c->public_url,
                                                             "/forgot-password", NULL)
                                               : "");
    return authsvc_flow_notify(r, db, u, "new_device", u->email, vars);
}

apr_status_t authsvc_flow_new_device(request_rec *r, authsvc_db_t *db,
                                     const authsvc_user_t *u, int alerting)
{
    apr_int64_t window = authsvc_config_new_device_window(authsvc_srv(r->server));
    const authsvc_client_t *cl = authsvc_request_client(r);
    const char *agent, *network, *k_cookie = NULL, *k_agent, *id;
    apr_int64_t now = AUTHSVC_NOW();
    int seen = 0, known = 0, kept = 0;
    apr_status_t rv;

    if (window == 0) {
        return APR_SUCCESS;
    }
    agent = coarse_agent(r->pool, cl->user_agent);
    network = coarse_network(r->pool, cl->ip);
    k_agent = key(r, u, "agent", apr_pstrcat(r->pool, agent, "\n", network, NULL));
    if ((id = device_id(r, &kept)) != NULL) {
        k_cookie = key(r, u, "cookie", id);
    }
    if (alerting &&
        (rv = authsvc_devices_seen(db, u->id, k_agent, k_cookie, now - window, &seen,
                                   &known)) != APR_SUCCESS) {
        return rv;
    }
    /* An account without any row yet (created before this feature) learns its first
     * device without an alert. */
    if (alerting && known && !seen && (rv = alert(r, db, u, agent, network)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = authsvc_devices_put(db, u->id, ACCOUNT_MARK, now, FOREVER)) != APR_SUCCESS ||
        (rv = authsvc_devices_put(db, u->id, k_agent, now, now + window)) != APR_SUCCESS ||
        k_cookie == NULL || !kept) {
        return rv;
    }
    return authsvc_devices_put(db, u->id, k_cookie, now, now + window);
}

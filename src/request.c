/*
 * request.c - body reading with a cap, client identity, JSON responses.
 */
#include "apr_lib.h"

#include "json.h"
#include "request.h"
#include "util_script.h"

/* Content types accepted as JSON: application/json and any application/...+json,
 * with or without parameters (charset is ignored: JSON is UTF-8, RFC 8259). */
int authsvc_request_has_body(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");

    return (cl != NULL && strcmp(cl, "0") != 0) ||
           apr_table_get(r->headers_in, "Transfer-Encoding") != NULL;
}

int authsvc_request_is_json(const char *ct)
{
    const char *semi, *plus;
    apr_size_t n;

    if (ct == NULL) {
        return 0;
    }
    semi = ap_strchr_c(ct, ';');
    n = semi ? (apr_size_t)(semi - ct) : strlen(ct);
    while (n > 0 && apr_isspace(ct[n - 1])) {
        n--;
    }
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0) {
        return 1;
    }
    plus = n >= 5 ? ct + n - 5 : NULL;
    return plus != NULL && strncasecmp(ct, "application/", 12) == 0 &&
           strncasecmp(plus, "+json", 5) == 0;
}

static const char *too_large(request_rec *r, apr_size_t max, const char **detail)
{
    r->connection->keepalive = AP_CONN_CLOSE;
    *detail = apr_psprintf(r->pool, "the body may be at most %" APR_SIZE_T_FMT " bytes",
                           max);
    return "payload_too_large";
}

/* Reads at most max+1 bytes so that "too large" is known without reading the rest; the
 * connection is then closed rather than drained (the client may be sending gigabytes).
 * The buffer is sized by Content-Length when there is one, and grows for chunked bodies,
 * so a large AuthsvcMaxBodySize does not cost every request that much memory. */
static const char *read_body(request_rec *r, apr_size_t max, char **buf, apr_size_t *len,
                             const char **detail)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t declared = -1;
    apr_size_t got = 0, size;
    long n;
    char *b;

    if (cl != NULL && apr_strtoff(&declared, cl, NULL, 10) == APR_SUCCESS &&
        declared > (apr_off_t)max) {
        return too_large(r, max, detail);
    }
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK) {
        *detail = "the request body could not be read";
        return "invalid_json";
    }
    size = declared >= 0 ? (apr_size_t)declared + 1 : (max < 4096 ? max : 4096) + 1;
    b = apr_palloc(r->pool, size + 1);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, b + got, size - got)) > 0) {
            got += (apr_size_t)n;
            if (got > max) {
                return too_large(r, max, detail);
            }
            if (got == size) { /* full: grow (chunked, or a body longer than declared) */
                size = size * 2 > max + 1 ? max + 1 : size * 2; /* > got: got <= max */
                char *nb = apr_palloc(r->pool, size + 1);
                memcpy(nb, b, got);
                b = nb;
            }
        }
        if (n < 0) {
            r->connection->keepalive = AP_CONN_CLOSE;
            *detail = "the request body could not be read";
            return "invalid_json";
        }
    }
    b[got] = '\0';
    *buf = b;
    *len = got;
    return NULL;
}

/* The body, at most max_body bytes (or httpd's own LimitRequestBody, when lower: it is
 * the real limit, and the client should hear payload_too_large rather than a read
 * error). NULL, or the problem code with *detail. */
static const char *body(request_rec *r, apr_size_t max_body, char **buf, apr_size_t *len,
                        const char **detail)
{
    if (ap_get_limit_req_body(r) > 0 && (apr_off_t)max_body >= ap_get_limit_req_body(r)) {
        /* one under: reading max+1 bytes to detect "too large" must stay within it */
        max_body = (apr_size_t)ap_get_limit_req_body(r) - 1;
    }
    return read_body(r, max_body, buf, len, detail);
}

static int is_form_type(const char *ct)
{
    apr_size_t n = ct ? strcspn(ct, "; \t") : 0;

    return n == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

/* name=value&... into an object of strings: a name twice, bad %-encoding or a value
 * that is not UTF-8 is refused (NULL, *detail). */
static authsvc_json_t *parse_form(request_rec *r, char *buf, const char **detail)
{
    authsvc_json_t *o = authsvc_json_object(r->pool);
    char *last = NULL, *pair;
    const char *v;
    apr_size_t n;

    for (pair = apr_strtok(buf, "&", &last); pair; pair = apr_strtok(NULL, "&", &last)) {
        char *val = strchr(pair, '=');
        if (val != NULL) {
            *val++ = '\0';
        }
        if (ap_unescape_urlencoded(pair) != OK ||
            (val != NULL && ap_unescape_urlencoded(val) != OK)) {
            *detail = "the form is not valid URL encoding";
            return NULL;
        }
        if (authsvc_json_get_string(o, pair, &v, &n) != AUTHSVC_JSON_MISSING) {
            *detail = apr_psprintf(r->pool, "the field '%s' is sent twice", pair);
            return NULL;
        }
        if (authsvc_json_set_str(o, pair, val ? val : "") != 0) {
            *detail = "the form is not UTF-8";
            return NULL;
        }
    }
    return o;
}

const char *authsvc_request_fields(request_rec *r, apr_size_t max_body, authsvc_json_t **out,
                                   const char **detail)
{
    char *buf = NULL;
    apr_size_t len = 0;
    const char *code;

    if (!is_form_type(apr_table_get(r->headers_in, "Content-Type"))) {
        return authsvc_request_json(r, max_body, out, detail);
    }
    if ((code = body(r, max_body, &buf, &len, detail)) != NULL) {
        return code;
    }
    if (strlen(buf) != len) {
        *detail = "the form has a NUL byte";
        return "invalid_json";
    }
    return (*out = parse_form(r, buf, detail)) == NULL ? "invalid_json" : NULL;
}

const char *authsvc_request_json(request_rec *r, apr_size_t max_body, authsvc_json_t **out,
                                 const char **detail)
{
    const char *code, *err = NULL;
    char *buf = NULL;
    apr_size_t len = 0;

    if (!authsvc_request_is_json(apr_table_get(r->headers_in, "Content-Type"))) {
        *detail = "send the body as Content-Type: application/json";
        return "unsupported_media_type";
    }
    if ((code = body(r, max_body, &buf, &len, detail)) != NULL) {
        return code;
    }
    if (len == 0) {
        *detail = "the request body is empty; a JSON object is expected";
        return "invalid_json";
    }
    *out = authsvc_json_parse(r->pool, buf, len, &err);
    if (*out == NULL) {
        *detail = apr_pstrcat(r->pool, "malformed JSON: ", err, NULL);
        return "invalid_json";
    }
    return NULL;
}

/* User agents are client-controlled: keep printable ASCII only, and not too much of it. */
static const char *clean_agent(apr_pool_t *p, const char *ua)
{
    char *s;
    apr_size_t i, n;

    if (ua == NULL || *ua == '\0') {
        return NULL;
    }
    n = strlen(ua);
    if (n > 256) {
        n = 256;
    }
    s = apr_pstrmemdup(p, ua, n);
    for (i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
            s[i] = '?';
        }
    }
    return s;
}

const authsvc_client_t *authsvc_request_client(request_rec *r)
{
    authsvc_client_t *c = apr_pcalloc(r->pool, sizeof(*c));
    const request_rec *m = r->main ? r->main : r;

    c->ip = r->useragent_ip;
    c->user_agent = clean_agent(r->pool, apr_table_get(m->headers_in, "User-Agent"));
    c->request_id = apr_table_get(m->subprocess_env, "UNIQUE_ID");
    return c;
}

int authsvc_request_send(request_rec *r, int status, const char *content_type,
                         authsvc_json_t *body)
{
    const char *s = authsvc_json_dump(r->pool, body);

    r->status = status;
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    ap_set_content_type(r, content_type);
    if (s == NULL) {
        s = "{}";
    }
    ap_rputs(s, r);
    return OK;
}

int authsvc_request_send_json(request_rec *r, int status, authsvc_json_t *body)
{
    return authsvc_request_send(r, status, "application/json", body);
}

int authsvc_request_send_empty(request_rec *r, int status)
{
    r->status = status;
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    return OK;
}

const char *authsvc_request_iso8601(apr_pool_t *p, apr_int64_t secs)
{
    apr_time_exp_t t;
    char buf[32];
    apr_size_t n = 0;

    apr_time_exp_gmt(&t, apr_time_from_sec(secs));
    apr_strftime(buf, &n, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &t);
    return apr_pstrmemdup(p, buf, n);
}

const char *authsvc_request_query(request_rec *r, const char *name)
{
    static const char key[] = "authsvc-query";
    apr_table_t *q = NULL;

    /* Parsed once per request: handlers ask for several parameters. */
    apr_pool_userdata_get((void **)&q, key, r->pool);
    if (q == NULL) {
        ap_args_to_table(r, &q);
        if (q == NULL) {
            q = apr_table_make(r->pool, 1);
        }
        apr_pool_userdata_setn(q, key, NULL, r->pool);
    }
    return apr_table_get(q, name);
}

/*
 * session.c - session tokens, cookies and lookups.
 */
#include "apr_lib.h"
#include "apr_thread_mutex.h"
#include <openssl/crypto.h>
#include "http_ssl.h"

#include "cache.h"
#include "config.h"
#include "crypto.h"
#include "request.h"
#include "session.h"

#define TOKEN_BYTES AUTHSVC_TOKEN_BYTES
#define TOKEN_CHARS AUTHSVC_TOKEN_CHARS
#define PUBLIC_ID_BYTES 16

/* Secure when configured so, else when the request came over TLS. */
static int cookie_secure(request_rec *r, const authsvc_srv_cfg_t *c)
{
    if (c->cookie_secure != AUTHSVC_UNSET) {
        return c->cookie_secure;
    }
    return ap_ssl_conn_is_ssl(r->connection) || strcmp(ap_http_scheme(r), "https") == 0;
}

const char *authsvc_session_cookie_name(request_rec *r)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);

    if (c->cookie_name != NULL) {
        return c->cookie_name;
    }
    if (!cookie_secure(r, c)) {
        return AUTHSVC_COOKIE_NAME_PLAIN;
    }
    /* __Host- forbids a Domain attribute; __Secure- allows one. */
    return c->cookie_domain ? AUTHSVC_COOKIE_NAME_DOMAIN : AUTHSVC_COOKIE_NAME_SECURE;
}

static const char *cookie_attrs(request_rec *r)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const char *samesite = "Lax";

    if (c->cookie_samesite == AUTHSVC_SAMESITE_STRICT) {
        samesite = "Strict";
    }
    else if (c->cookie_samesite == AUTHSVC_SAMESITE_NONE) {
        samesite = "None";
    }
    return apr_pstrcat(r->pool, "Path=/; HttpOnly; SameSite=", samesite,
                       cookie_secure(r, c) ? "; Secure" : "",
                       c->cookie_domain ? "; Domain=" : "",
                       c->cookie_domain ? c->cookie_domain : "", NULL);
}

/* Written here rather than with ap_cookie_write(), which logs the cookie value (our
 * token) at debug level. */
void authsvc_session_set_cookie(request_rec *r, const char *token)
{
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_pstrcat(r->pool, authsvc_session_cookie_name(r), "=", token, "; ",
                               cookie_attrs(r), NULL));
}

void authsvc_session_clear_cookie(request_rec *r)
{
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_pstrcat(r->pool, authsvc_session_cookie_name(r),
                               "=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; ",
                               cookie_attrs(r), NULL));
}

apr_status_t authsvc_session_create(request_rec *r, authsvc_db_t *db,
                                    const authsvc_user_t *u, const authsvc_authn_t *how,
                                    authsvc_session_t **out, const char **token)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const authsvc_client_t *cl = authsvc_request_client(r);
    authsvc_session_t *s = apr_pcalloc(r->pool, sizeof(*s));
    apr_int64_t now = AUTHSVC_NOW();
    const char *t = authsvc_crypto_token(r->pool, TOKEN_BYTES);
    apr_status_t rv;

    s->id = authsvc_crypto_token(r->pool, PUBLIC_ID_BYTES);
    if (t == NULL || s->id == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "no randomness for a session token");
        return APR_EGENERAL;
    }
    s->token_hash = authsvc_crypto_sha256_hex(r->pool, t, strlen(t));
    s->user_id = u->id;
    s->created_at = now;
    s->last_seen_at = now;
    s->expires_at = now + authsvc_config_max_age(c);
    s->idle_expires_at = now + authsvc_config_idle_timeout(c);
    if (s->idle_expires_at > s->expires_at) {
        s->idle_expires_at = s->expires_at;
    }
    s->ip = cl->ip;
    s->user_agent = cl->user_agent;
    s->auth_at = how->auth_at;
    s->mfa_at = how->mfa_at;
    s->amr = how->amr;
    rv = authsvc_sessions_insert(db, s);
    if (rv == APR_SUCCESS) {
        *out = s;
        *token = t;
    }
    return rv;
}

/* Scanning Cookie header lines for our cookie: "name=value" pairs separated by ';'
 * (',' too, from old RFC 2965 clients). Every occurrence is considered: the same name
 * with two different values is a conflict. */
typedef struct {
    const char *name;
    apr_size_t nlen;
    const char *v; /* points into the header line: nothing is copied while scanning */
    apr_size_t n;
    int found;
    int conflict;
} cookie_scan_t;

static int cookie_scan(void *baton, const char *key, const char *line)
{
    cookie_scan_t *c = baton;
    const char *p = line;

    (void)key;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';' || *p == ',') {
            p++;
        }
        if (strncmp(p, c->name, c->nlen) == 0 && p[c->nlen] == '=') {
            const char *val = p + c->nlen + 1;
            apr_size_t len = strcspn(val, ";,");
            if (c->found && (len != c->n || strncmp(val, c->v, len) != 0)) {
                c->conflict = 1;
            }
            c->v = val;
            c->n = len;
            c->found = 1;
        }
        p += strcspn(p, ";,");
    }
    return 1;
}

/* Our session cookie's value in r->pool, or NULL when absent or sent twice with
 * different values (a cookie-tossing attempt: neither is trusted). This runs on every
 * guarded request, so unlike ap_cookie_read() it copies nothing until it has a match
 * (and never logs the value). */
static const char *cookie_value(request_rec *r)
{
    cookie_scan_t c;

    c.name = authsvc_session_cookie_name(r);
    c.nlen = strlen(c.name);
    c.v = NULL;
    c.n = 0;
    c.found = 0;
    c.conflict = 0;
    apr_table_do(cookie_scan, &c, r->headers_in, "Cookie", NULL);
    if (!c.found || c.conflict) {
        if (c.conflict) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "two different session cookies sent: neither is used");
        }
        return NULL;
    }
    return apr_pstrmemdup(r->pool, c.v, c.n);
}

/* last_seen is written at most once a minute; with idle timeouts under two minutes, at
 * most every half timeout, so that activity still keeps a short session alive. */
static apr_int64_t touch_interval(const authsvc_srv_cfg_t *c)
{
    apr_int64_t idle = authsvc_config_idle_timeout(c);
    return idle < 120 ? idle / 2 : 60;
}

/* ---- cache entries -----------------------------------------------------------------
 * A live entry is a fixed header and up to ENTRY_STRINGS NUL-terminated strings (bit i
 * of `present` says string i is not NULL); a dead entry (tombstone) is the header alone.
 * Decoding copies into the request pool and checks every length. */

#define ENTRY_LIVE    0x41533032u /* "AS02" (AS01 had no authentication record) */
#define ENTRY_DEAD    0x41534430u /* "ASD0" */
#define ENTRY_MAX     4096
#define ENTRY_STRINGS 11
#define ENTRY_NUMS    10

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t present;
    apr_int64_t nums[ENTRY_NUMS];
} entry_head_t;

static void entry_fields(authsvc_identity_t *id, const char ***strs, apr_int64_t **nums)
{
    authsvc_session_t *s = id->session;
    authsvc_user_t *u = id->user;

    strs[0] = &s->id;      strs[1] = &s->user_id;  strs[2] = &u->email;
    strs[3] = &u->username; strs[4] = &u->first_name; strs[5] = &u->last_name;
    strs[6] = &u->roles;   strs[7] = &u->status;   strs[8] = &s->ip;
    strs[9] = &s->user_agent; strs[10] = &s->amr;
    nums[0] = &s->created_at;      nums[1] = &s->last_seen_at;
    nums[2] = &s->idle_expires_at; nums[3] = &s->expires_at;
    nums[4] = &u->email_verified_at; nums[5] = &u->created_at; nums[6] = &u->updated_at;
    nums[7] = &s->auth_at; nums[8] = &s->mfa_at; nums[9] = &u->mfa_enabled_at;
}

/* Returns the encoded length, or 0 when it does not fit (then it is not cached). */
static unsigned int entry_encode(authsvc_identity_t *id, unsigned char *buf)
{
    const char **strs[ENTRY_STRINGS];
    apr_int64_t *nums[ENTRY_NUMS];
    entry_head_t h;
    unsigned int off = sizeof(h);
    int i;

    entry_fields(id, strs, nums);
    h.magic = ENTRY_LIVE;
    h.present = 0;
    for (i = 0; i < ENTRY_NUMS; i++) {
        h.nums[i] = *nums[i];
    }
    for (i = 0; i < ENTRY_STRINGS; i++) {
        apr_size_t n;
        if (*strs[i] == NULL) {
            continue;
        }
        n = strlen(*strs[i]) + 1;
        if (off + n > ENTRY_MAX) {
            return 0;
        }
        memcpy(buf + off, *strs[i], n);
        off += (unsigned int)n;
        h.present |= 1u << i;
    }
    memcpy(buf, &h, sizeof(h));
    return off;
}

/* NULL for a tombstone or anything malformed. */
static authsvc_identity_t *entry_decode(request_rec *r, const unsigned char *buf,
                                        unsigned int len, const char *token_hash)
{
    authsvc_identity_t *id;
    const char **strs[ENTRY_STRINGS];
    apr_int64_t *nums[ENTRY_NUMS];
    entry_head_t h;
    unsigned int off = sizeof(h);
    int i;

    if (len < sizeof(h)) {
        return NULL;
    }
    memcpy(&h, buf, sizeof(h));
    if (h.magic != ENTRY_LIVE) {
        return NULL;
    }
    id = apr_palloc(r->pool, sizeof(*id));
    id->session = apr_pcalloc(r->pool, sizeof(*id->session));
    id->user = apr_pcalloc(r->pool, sizeof(*id->user));
    entry_fields(id, strs, nums);
    for (i = 0; i < ENTRY_NUMS; i++) {
        *nums[i] = h.nums[i];
    }
    for (i = 0; i < ENTRY_STRINGS; i++) {
        const unsigned char *end;
        if (!(h.present & (1u << i))) {
            continue;
        }
        end = off < len ? memchr(buf + off, '\0', len - off) : NULL;
        if (end == NULL) {
            return NULL;
        }
        *strs[i] = apr_pstrmemdup(r->pool, (const char *)buf + off,
                                  (apr_size_t)(end - (buf + off)));
        off = (unsigned int)(end - buf) + 1;
    }
    if (id->session->id == NULL || id->session->user_id == NULL || id->user->email == NULL) {
        return NULL;
    }
    id->session->token_hash = token_hash;
    id->user->id = id->session->user_id;
    if (id->user->roles == NULL) {
        id->user->roles = "";
    }
    if (id->session->amr == NULL) {
        id->session->amr = "pwd";
    }
    return id;
}

static int is_tombstone(const unsigned char *value, unsigned int len)
{
    apr_uint32_t magic;

    if (len < sizeof(magic)) {
        return 0;
    }
    memcpy(&magic, value, sizeof(magic));
    return magic == ENTRY_DEAD;
}

static const char *cache_key(request_rec *r, const char *token_hash)
{
    return apr_pstrcat(r->pool, "s:", authsvc_srv(r->server)->realm, ":", token_hash,
                       NULL);
}

/* Cache a live identity until the next of: the cache TTL, its idle or absolute expiry.
 * Never over a tombstone. */
static void cache_live(request_rec *r, authsvc_identity_t *id, apr_int64_t now)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    unsigned char buf[ENTRY_MAX];
    unsigned int len = entry_encode(id, buf);
    apr_int64_t until = now + authsvc_config_cache_ttl(c);

    if (len == 0) {
        return;
    }
    if (until > id->session->idle_expires_at) {
        until = id->session->idle_expires_at;
    }
    if (until > id->session->expires_at) {
        until = id->session->expires_at;
    }
    authsvc_cache_put_unless(r, cache_key(r, id->session->token_hash), buf, len,
                             apr_time_from_sec(until), is_tombstone);
}

static void cache_dead(request_rec *r, const char *token_hash)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    entry_head_t h;

    memset(&h, 0, sizeof(h));
    h.magic = ENTRY_DEAD;
    authsvc_cache_put(r, cache_key(r, token_hash), (unsigned char *)&h, sizeof(h),
                      apr_time_now() + apr_time_from_sec(authsvc_config_cache_ttl(c)));
}

void authsvc_session_forget(request_rec *r, const char *token_hash)
{
    authsvc_cache_bump();
    cache_dead(r, token_hash);
}

apr_status_t authsvc_session_refresh_user(request_rec *r, authsvc_db_t *db,
                                          const char *user_id)
{
    apr_array_header_t *live = NULL;
    apr_status_t rv;
    int i;

    if (!authsvc_cache_enabled()) {
        return APR_SUCCESS;
    }
    authsvc_cache_bump();
    rv = authsvc_sessions_list(db, user_id, AUTHSVC_NOW(), &live);
    for (i = 0; rv == APR_SUCCESS && i < live->nelts; i++) {
        authsvc_cache_remove(r, cache_key(r, APR_ARRAY_IDX(live, i,
                                                           authsvc_session_t).token_hash));
    }
    return rv;
}

/* Record activity (at most once per touch interval): a database write even on a cache
 * hit, the only one the guard ever makes. A failure costs the session a little idle
 * time, never the request. */
static void touch(request_rec *r, authsvc_identity_t *id, apr_int64_t now, int *changed)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    authsvc_session_t *s = id->session;
    apr_int64_t idle;
    authsvc_db_t *db;

    *changed = 0;
    if (now - s->last_seen_at < touch_interval(c) || (db = authsvc_store_db(r)) == NULL) {
        return;
    }
    idle = now + authsvc_config_idle_timeout(c);
    if (idle > s->expires_at) {
        idle = s->expires_at;
    }
    if (authsvc_sessions_touch(db, s->token_hash, now, idle, now - touch_interval(c)) ==
        APR_SUCCESS) {
        s->last_seen_at = now;
        s->idle_expires_at = idle;
        *changed = 1;
    }
}

/* ---- per-process copies (L1) ------------------------------------------------------
 * Most guarded requests come back with a cookie this process saw a moment ago. A small
 * direct-mapped table keyed by the raw token (compared in constant time) answers them
 * without hashing the token or taking the cache mutex. A copy is trusted for L1_TTL
 * seconds at most, and only while the revocation generation (bumped in shared memory
 * by every revocation and account change on this machine) is the one it was made
 * under; so only with shmcb, where every revocation happens on this machine. */

#define L1_SLOTS     256
#define L1_MAX_ENTRY 1024
#define L1_TTL       5

typedef struct {
    const char *realm; /* the server's cache realm (a pointer into pconf) */
    char token[TOKEN_CHARS];
    char hash[65];
    apr_uint32_t generation;
    apr_int64_t until;
    unsigned int len;
    unsigned char entry[L1_MAX_ENTRY];
} l1_slot_t;

static l1_slot_t *l1;
#if APR_HAS_THREADS
static apr_thread_mutex_t *l1_lock;
#endif

void authsvc_session_child_init(apr_pool_t *pchild)
{
    l1 = apr_pcalloc(pchild, L1_SLOTS * sizeof(*l1));
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&l1_lock, APR_THREAD_MUTEX_DEFAULT, pchild) !=
        APR_SUCCESS) {
        l1 = NULL;
    }
#endif
}

static l1_slot_t *l1_slot(const char *token)
{
    return &l1[((unsigned char)token[0] * 31u + (unsigned char)token[1]) % L1_SLOTS];
}

static int l1_lock_(void)
{
#if APR_HAS_THREADS
    return apr_thread_mutex_lock(l1_lock) == APR_SUCCESS;
#else
    return 1;
#endif
}

static void l1_unlock(void)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(l1_lock);
#endif
}

/* Copy out a fresh entry for token; 0 when there is none. */
static int l1_get(const char *realm, const char *token, apr_int64_t now,
                  apr_uint32_t gen, char *hash, unsigned char *buf, unsigned int *len)
{
    l1_slot_t *sl;
    int hit = 0;

    if (l1 == NULL || gen == 0 || !authsvc_cache_local_only() || !l1_lock_()) {
        return 0;
    }
    sl = l1_slot(token);
    if (sl->until > now && sl->generation == gen && sl->realm == realm &&
        CRYPTO_memcmp(sl->token, token, TOKEN_CHARS) == 0) {
        memcpy(hash, sl->hash, sizeof(sl->hash));
        memcpy(buf, sl->entry, sl->len);
        *len = sl->len;
        hit = 1;
    }
    l1_unlock();
    return hit;
}

static void l1_put(const char *realm, const char *token, const char *hash,
                   const unsigned char *entry, unsigned int len, apr_uint32_t gen,
                   apr_int64_t until)
{
    l1_slot_t *sl;

    if (l1 == NULL || gen == 0 || len > L1_MAX_ENTRY || !authsvc_cache_local_only() ||
        !l1_lock_()) {
        return;
    }
    sl = l1_slot(token);
    sl->realm = realm;
    memcpy(sl->token, token, TOKEN_CHARS);
    memcpy(sl->hash, hash, sizeof(sl->hash));
    memcpy(sl->entry, entry, len);
    sl->len = len;
    sl->generation = gen;
    sl->until = until;
    l1_unlock();
}

/* The cached identity for this token: 1 and *out set on a live hit, 1 and *out NULL on
 * a tombstone or an expired entry, 0 on a miss (ask the database). */
static int from_cache(request_rec *r, const char *hash, apr_int64_t now,
                      authsvc_identity_t **out)
{
    unsigned char buf[ENTRY_MAX];
    unsigned int len = sizeof(buf);
    authsvc_identity_t *id;

    *out = NULL;
    if (authsvc_cache_get(r, cache_key(r, hash), buf, &len) != APR_SUCCESS) {
        return 0;
    }
    if (is_tombstone(buf, len)) {
        return 1;
    }
    id = entry_decode(r, buf, len, hash);
    if (id == NULL) {
        return 0;
    }
    if (now >= id->session->expires_at || now >= id->session->idle_expires_at) {
        return 1;
    }
    *out = id;
    return 1;
}

/* Keep a copy of a live identity in this process (see L1 above). */
static void remember(request_rec *r, authsvc_identity_t *id, const char *token,
                     apr_uint32_t gen, apr_int64_t now)
{
    unsigned char buf[ENTRY_MAX];
    unsigned int len = entry_encode(id, buf);
    apr_int64_t ttl = authsvc_config_cache_ttl(authsvc_srv(r->server));
    apr_int64_t until = now + (ttl < L1_TTL ? ttl : L1_TTL);

    if (until > id->session->idle_expires_at) {
        until = id->session->idle_expires_at;
    }
    if (len > 0) {
        l1_put(authsvc_srv(r->server)->realm, token, id->session->token_hash, buf, len,
               gen, until);
    }
}

/* From this process's copy, when it is fresh and needs no last_seen write. */
static authsvc_identity_t *from_l1(request_rec *r, const char *token, apr_int64_t now,
                                   apr_uint32_t gen)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    unsigned char buf[L1_MAX_ENTRY];
    unsigned int len = 0;
    char hash[65];
    authsvc_identity_t *id;

    if (!l1_get(authsvc_srv(r->server)->realm, token, now, gen, hash, buf, &len)) {
        return NULL;
    }
    id = entry_decode(r, buf, len, apr_pstrmemdup(r->pool, hash, 64));
    if (id == NULL || now >= id->session->expires_at ||
        now >= id->session->idle_expires_at ||
        now - id->session->last_seen_at >= touch_interval(c)) {
        return NULL;
    }
    return id;
}

apr_status_t authsvc_session_current(request_rec *r, authsvc_identity_t **out)
{
    const char *val = NULL, *hash;
    authsvc_session_t *s = NULL;
    authsvc_user_t *u = NULL;
    authsvc_identity_t *id = NULL;
    apr_int64_t now = AUTHSVC_NOW();
    apr_uint32_t gen = authsvc_cache_generation(); /* read before any lookup */
    authsvc_db_t *db;
    int changed = 0;

    *out = NULL;
    if ((val = cookie_value(r)) == NULL || !authsvc_crypto_token_plausible(val, strlen(val))) {
        return APR_SUCCESS;
    }
    if ((id = from_l1(r, val, now, gen)) != NULL) {
        *out = id;
        return APR_SUCCESS;
    }
    hash = authsvc_crypto_sha256_hex(r->pool, val, strlen(val));
    /* A cached answer stands until last_seen is due (once a minute): then the session
     * is read from the database again, so that a revocation or a disabled account
     * made there directly is seen within that interval, however long the cache TTL. */
    if (from_cache(r, hash, now, &id) &&
        (id == NULL || now - id->session->last_seen_at < touch_interval(authsvc_srv(r->server)))) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, "session cache hit (%s)",
                      id ? "live" : "dead");
        if (id != NULL) {
            remember(r, id, val, gen, now);
        }
        *out = id;
        return APR_SUCCESS;
    }
    if ((db = authsvc_store_db(r)) == NULL ||
        authsvc_sessions_lookup(db, hash, now, &s, &u) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (s == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "session cookie names no live session");
        cache_dead(r, hash);
        return APR_SUCCESS;
    }
    id = apr_palloc(r->pool, sizeof(*id));
    id->session = s;
    id->user = u;
    touch(r, id, now, &changed);
    cache_live(r, id, now);
    remember(r, id, val, gen, now);
    *out = id;
    return APR_SUCCESS;
}

apr_int64_t authsvc_session_fresh_at(const authsvc_identity_t *id)
{
    const authsvc_session_t *s = id->session;

    if (id->user->mfa_enabled_at == 0) {
        return s->auth_at;
    }
    return s->mfa_at < s->auth_at ? s->mfa_at : s->auth_at;
}

apr_status_t authsvc_session_revoke(request_rec *r, authsvc_db_t *db,
                                    const authsvc_session_t *s)
{
    (void)r;
    return authsvc_sessions_revoke(db, s->token_hash, AUTHSVC_NOW());
}

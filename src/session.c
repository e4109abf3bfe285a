/*
 * session.c - session tokens, cookies and lookups.
 */
#include "apr_lib.h"
#include "http_ssl.h"

#include "cache.h"
#include "config.h"
#include "credparse.h"
#include "crypto.h"
#include "l1.h"
#include "request.h"
#include "session.h"

#define TOKEN_BYTES AUTHSVC_TOKEN_BYTES
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

const char *authsvc_device_cookie_name(request_rec *r)
{
    return apr_pstrcat(r->pool, authsvc_session_cookie_name(r), "_device", NULL);
}

/* Written here rather than with ap_cookie_write(), which logs the cookie value (a token
 * of ours) at debug level. */
void authsvc_cookie_set(request_rec *r, const char *name, const char *value,
                        apr_int64_t max_age, const char *samesite, int domain)
{
    authsvc_cookie_set_path(r, name, value, max_age, samesite, domain, "/");
}

void authsvc_cookie_set_path(request_rec *r, const char *name, const char *value,
                             apr_int64_t max_age, const char *samesite, int domain,
                             const char *path)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const char *dom = domain ? c->cookie_domain : NULL;
    const char *age = max_age > 0 ? apr_psprintf(r->pool, "; Max-Age=%" APR_INT64_T_FMT,
                                                 max_age)
                      : max_age == 0 ? "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
                                     : "";

    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_pstrcat(r->pool, name, "=", value ? value : "", age, "; Path=", path,
                               "; HttpOnly; SameSite=", samesite,
                               cookie_secure(r, c) ? "; Secure" : "", dom ? "; Domain=" : "",
                               dom ? dom : "", NULL));
}

const char *authsvc_cookie_samesite(request_rec *r)
{
    int s = authsvc_srv(r->server)->cookie_samesite;

    return s == AUTHSVC_SAMESITE_STRICT ? "Strict" : s == AUTHSVC_SAMESITE_NONE ? "None"
                                                                                : "Lax";
}

void authsvc_session_set_cookie(request_rec *r, const char *token)
{
    authsvc_cookie_set(r, authsvc_session_cookie_name(r), token, -1,
                       authsvc_cookie_samesite(r), 1);
}

void authsvc_session_clear_cookie(request_rec *r)
{
    authsvc_cookie_set(r, authsvc_session_cookie_name(r), "", 0, authsvc_cookie_samesite(r),
                       1);
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
    s->idle_expires_at = authsvc_session_idle_until(r, s, now);
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

/* Scanning the Cookie header lines for one cookie (credparse.c reads each line). */
typedef struct {
    const char *name;
    apr_size_t nlen;
    authsvc_cookie_find_t f;
} cookie_scan_t;

static int cookie_scan(void *baton, const char *key, const char *line)
{
    cookie_scan_t *c = baton;

    (void)key;
    authsvc_credparse_cookie_scan(line, c->name, c->nlen, &c->f);
    return 1;
}

int authsvc_cookie_secure(request_rec *r)
{
    return cookie_secure(r, authsvc_srv(r->server));
}

/* This runs on every guarded request, so unlike ap_cookie_read() it copies nothing
 * until it has a match (and never logs the value). */
const char *authsvc_cookie_get(request_rec *r, const char *name)
{
    cookie_scan_t c;

    memset(&c, 0, sizeof(c));
    c.name = name;
    c.nlen = strlen(c.name);
    apr_table_do(cookie_scan, &c, r->headers_in, "Cookie", NULL);
    if (!c.f.found || c.f.conflict) {
        if (c.f.conflict) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "two different %s cookies sent: neither is used", name);
        }
        return NULL;
    }
    return apr_pstrmemdup(r->pool, c.f.value, c.f.len);
}

const char *authsvc_session_cookie_token(request_rec *r)
{
    return authsvc_cookie_get(r, authsvc_session_cookie_name(r));
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
#define ENTRY_SID     0x41534c30u /* "ASL0": an access token's session is live */
#define ENTRY_MAX     AUTHSVC_SESSION_ENTRY_MAX
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

unsigned int authsvc_session_encode(authsvc_identity_t *id, unsigned char *buf)
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
authsvc_identity_t *authsvc_session_decode(request_rec *r, const unsigned char *buf,
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
    return apr_pstrcat(r->pool, "s:", authsvc_config_cache_realm(authsvc_srv(r->server)),
                       ":", token_hash, NULL);
}

/* Cache a live identity until the next of: the cache TTL, its idle or absolute expiry.
 * Never over a tombstone. */
static void cache_live(request_rec *r, authsvc_identity_t *id, apr_int64_t now)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    unsigned char buf[ENTRY_MAX];
    unsigned int len = authsvc_session_encode(id, buf);
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

static void cache_dead(request_rec *r, const char *key)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    entry_head_t h;

    memset(&h, 0, sizeof(h));
    h.magic = ENTRY_DEAD;
    authsvc_cache_put(r, key, (unsigned char *)&h, sizeof(h),
                      apr_time_now() + apr_time_from_sec(authsvc_config_cache_ttl(c)));
}

/* The cache key of a session's public id: what an access token's sid is checked by. */
static const char *sid_key(request_rec *r, const char *sid)
{
    return apr_pstrcat(r->pool, "b:", authsvc_config_cache_realm(authsvc_srv(r->server)),
                       ":", sid, NULL);
}

void authsvc_session_forget(request_rec *r, const authsvc_session_t *s)
{
    /* Tombstones first, then the generation: a reader that sees the new generation
     * (read before its lookups) finds them; one that saw the old one caches nothing
     * that outlives the bump. */
    cache_dead(r, cache_key(r, s->token_hash));
    if (s->id != NULL) {
        cache_dead(r, sid_key(r, s->id));
    }
    authsvc_cache_bump();
}

/* A live sid's cache entry: the magic, then its user's id (NUL-terminated). */
#define SID_ENTRY_MAX 256

apr_status_t authsvc_session_id_live(request_rec *r, const char *sid, const char *user_id,
                                     int *live)
{
    const apr_uint32_t magic = ENTRY_SID;
    unsigned char buf[SID_ENTRY_MAX];
    unsigned int len = sizeof(buf) - 1;
    const char *key = sid_key(r, sid);
    authsvc_session_t *s = NULL;
    authsvc_user_t *u = NULL;
    apr_int64_t now = AUTHSVC_NOW(), until;
    apr_size_t n;
    authsvc_db_t *db;

    *live = 0;
    if (authsvc_cache_get(r, key, buf, &len) == APR_SUCCESS) {
        if (len > sizeof(magic) && memcmp(buf, &magic, sizeof(magic)) == 0) {
            buf[len] = '\0';
            *live = strcmp((const char *)buf + sizeof(magic), user_id) == 0;
            return APR_SUCCESS;
        }
        if (is_tombstone(buf, len)) {
            return APR_SUCCESS;
        }
    }
    if ((db = authsvc_store_db(r)) == NULL ||
        authsvc_sessions_lookup_token(db, NULL, sid, now, &s, &u) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (s == NULL) {
        cache_dead(r, key);
        return APR_SUCCESS;
    }
    *live = strcmp(s->user_id, user_id) == 0; /* a token's sub must be its session's */
    until = now + authsvc_config_cache_ttl(authsvc_srv(r->server));
    if (until > s->expires_at) {
        until = s->expires_at;
    }
    n = strlen(s->user_id);
    if (sizeof(magic) + n + 1 <= sizeof(buf)) {
        memcpy(buf, &magic, sizeof(magic));
        memcpy(buf + sizeof(magic), s->user_id, n + 1);
        authsvc_cache_put_unless(r, key, buf, (unsigned int)(sizeof(magic) + n + 1),
                                 apr_time_from_sec(until), is_tombstone);
    }
    return APR_SUCCESS;
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

apr_int64_t authsvc_session_idle_until(request_rec *r, const authsvc_session_t *s,
                                       apr_int64_t now)
{
    apr_int64_t idle = now + authsvc_config_idle_timeout(authsvc_srv(r->server));

    return idle < s->expires_at ? idle : s->expires_at;
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
    idle = authsvc_session_idle_until(r, s, now);
    if (authsvc_sessions_touch(db, s->token_hash, now, idle, now - touch_interval(c)) ==
        APR_SUCCESS) {
        s->last_seen_at = now;
        s->idle_expires_at = idle;
        *changed = 1;
    }
}

/* ---- per-process copies (L1, see l1.h) ------------------------------------------ */

void authsvc_session_child_init(apr_pool_t *pchild)
{
    authsvc_l1_child_init(pchild);
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
    id = authsvc_session_decode(r, buf, len, hash);
    if (id == NULL) {
        return 0;
    }
    if (now >= id->session->expires_at || now >= id->session->idle_expires_at) {
        return 1;
    }
    *out = id;
    return 1;
}

/* Keep a copy of a live identity in this process. */
static void remember(request_rec *r, authsvc_identity_t *id, const unsigned char *digest,
                     apr_uint32_t gen, apr_int64_t now)
{
    unsigned char buf[ENTRY_MAX];
    unsigned int len = authsvc_session_encode(id, buf);
    apr_int64_t until = authsvc_l1_until(now, authsvc_config_cache_ttl(authsvc_srv(r->server)),
                                         id->session->idle_expires_at);

    if (len > 0) {
        authsvc_l1_put(authsvc_srv(r->server), digest, buf, len, gen, until);
    }
}

/* From this process's copy, when it is fresh and needs no last_seen write. */
static authsvc_identity_t *from_l1(request_rec *r, const unsigned char *digest,
                                   apr_int64_t now, apr_uint32_t gen)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    unsigned char buf[AUTHSVC_L1_MAX_ENTRY];
    unsigned int len = 0;
    authsvc_identity_t *id;

    if (!authsvc_l1_get(c, digest, now, gen, buf, &len)) {
        return NULL;
    }
    id = authsvc_session_decode(r, buf, len, authsvc_crypto_hex(r->pool, digest, 32));
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
    unsigned char digest[32];
    int changed = 0;

    *out = NULL;
    if ((val = authsvc_session_cookie_token(r)) == NULL ||
        !authsvc_crypto_token_plausible(val, strlen(val)) ||
        !authsvc_crypto_sha256(val, strlen(val), digest)) {
        return APR_SUCCESS;
    }
    if ((id = from_l1(r, digest, now, gen)) != NULL) {
        *out = id;
        return APR_SUCCESS;
    }
    hash = authsvc_crypto_hex(r->pool, digest, 32);
    /* A cached answer stands until last_seen is due (once a minute): then the session
     * is read from the database again, so that a revocation or a disabled account
     * made there directly is seen within that interval, however long the cache TTL. */
    if (from_cache(r, hash, now, &id) &&
        (id == NULL || now - id->session->last_seen_at < touch_interval(authsvc_srv(r->server)))) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, "session cache hit (%s)",
                      id ? "live" : "dead");
        if (id != NULL) {
            remember(r, id, digest, gen, now);
        }
        *out = id;
        return APR_SUCCESS;
    }
    if ((db = authsvc_store_db(r)) == NULL ||
        authsvc_sessions_lookup(db, hash, now, &s, &u) != APR_SUCCESS) {
        /* The database is down: a live cached entry still stands until it expires
         * (AuthsvcCacheTTL at most), so signed-in users ride out a short outage. */
        if (id != NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          "database unreachable: the cached session stands");
            *out = id;
            return APR_SUCCESS;
        }
        return APR_EGENERAL;
    }
    if (s == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "session cookie names no live session");
        cache_dead(r, cache_key(r, hash));
        return APR_SUCCESS;
    }
    id = apr_palloc(r->pool, sizeof(*id));
    id->session = s;
    id->user = u;
    touch(r, id, now, &changed);
    cache_live(r, id, now);
    remember(r, id, digest, gen, now);
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

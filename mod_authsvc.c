/*
 * mod_authsvc - accounts, sessions and their JSON API inside Apache httpd.
 *
 * This file is the module record and its hooks, and nothing else: configuration is in
 * src/config.c, routing in src/router.c, the use cases in src/flow_*.c.
 */
#include "http_core.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "src/authsvc.h"
#include "src/abuse.h"
#include "src/cache.h"
#include "src/config.h"
#include "src/outbox.h"
#include "src/crypto.h"
#include "src/flow.h"
#include "src/guard.h"
#include "src/hashcap.h"
#include "src/metrics.h"
#include "src/password.h"
#include "src/router.h"
#include "src/schema.h"
#include "src/session.h"
#include "src/totp.h"
#include "src/store.h"

/* The handlers. Every response of ours is uncacheable: it is about one user. */
static int authsvc_handler(request_rec *r)
{
    if (r->handler == NULL) {
        return DECLINED;
    }
    if (strcmp(r->handler, AUTHSVC_HANDLER) == 0) {
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
        return authsvc_router_dispatch(r);
    }
    if (strcmp(r->handler, AUTHSVC_HANDLER_HEALTH) == 0) {
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
        return authsvc_h_health(r);
    }
    if (strcmp(r->handler, AUTHSVC_HANDLER_METRICS) == 0) {
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
        return authsvc_h_metrics(r);
    }
    return DECLINED;
}

/* A hash of 32 random bytes at each server's parameters, for logins with an unknown
 * name (see flow_login.c). Computed once per configuration, inherited by children. */
static apr_status_t make_dummy_hashes(apr_pool_t *pconf, server_rec *s)
{
    server_rec *sp;

    for (sp = s; sp != NULL; sp = sp->next) {
        authsvc_srv_cfg_t *c = authsvc_srv(sp);
        unsigned char pw[32];
        apr_status_t rv;

        if (authsvc_crypto_random(pw, sizeof(pw)) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        rv = authsvc_password_hash(pconf, (const char *)pw, sizeof(pw),
                                   authsvc_config_argon2(c), &c->dummy_hash);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

static int authsvc_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    authsvc_cache_pre_config(pconf);
    return OK;
}

/* Argon2id takes ~19 MiB per hash. glibc raises its mmap threshold after the first
 * such block is freed, so later ones come from per-thread arenas and stay resident:
 * an event-MPM child that hashed on 25 threads kept ~1 GiB. A fixed threshold keeps
 * every large block mmap'd, returned to the system when the hash is done. */
static void release_large_blocks(void)
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
#endif
}

static void authsvc_child_init(apr_pool_t *pchild, server_rec *s)
{
    release_large_blocks();
    authsvc_cache_child_init(pchild, s);
    authsvc_hashcap_child_init(pchild, s);
    authsvc_session_child_init(pchild);
}

/* Rules that span directives, checked where `apachectl configtest` sees them too. */
static int authsvc_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                                server_rec *s)
{
    const char *err;
    server_rec *sp;

    (void)pconf;
    (void)plog;
    if ((err = authsvc_store_init()) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (sp = s; sp != NULL; sp = sp->next) {
        if ((err = authsvc_config_check(ptemp, sp)) != NULL) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, sp, "%s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if ((err = authsvc_schema_check_config(ptemp, s)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* A server's place in the configuration, for messages. */
static const char *where(apr_pool_t *p, const server_rec *s)
{
    if (s->defn_name != NULL) {
        return apr_psprintf(p, "the virtual host at %s:%u", s->defn_name,
                            s->defn_line_number);
    }
    return "the main server";
}

/* Each server's cache realm: its database's identity (see config.h). Two servers on
 * different databases under one AuthsvcCacheRealm (set once in the main server, say,
 * and inherited) would each take the other's cached sessions for its own: refused. */
static const char *make_realms(apr_pool_t *pconf, server_rec *s)
{
    apr_hash_t *named = apr_hash_make(pconf); /* AuthsvcCacheRealm: its first server */
    server_rec *sp, *first;

    for (sp = s; sp != NULL; sp = sp->next) {
        authsvc_srv_cfg_t *c = authsvc_srv(sp);
        const dbd_cfg_t *cfg = authsvc_store_dbd_cfg(sp);
        const char *id = apr_pstrcat(pconf, cfg && cfg->name ? cfg->name : "-", "\n",
                                     cfg && cfg->params ? cfg->params : "-", NULL);
        const char *hex = authsvc_crypto_sha256_hex(pconf, id, strlen(id));

        c->realm = hex ? apr_pstrndup(pconf, hex, 16) : "-";
        if (c->cache_realm == NULL || !authsvc_store_dbd_given(cfg)) {
            continue; /* no name, or no database */
        }
        if ((first = apr_hash_get(named, c->cache_realm, APR_HASH_KEY_STRING)) == NULL) {
            apr_hash_set(named, c->cache_realm, APR_HASH_KEY_STRING, sp);
        }
        else if (strcmp(authsvc_srv(first)->realm, c->realm) != 0) {
            return apr_psprintf(pconf,
                                "AuthsvcCacheRealm %s is used by %s and %s, whose "
                                "databases (DBDriver, DBDParams) differ: each would take "
                                "the other's cached sessions for its own; give each "
                                "database its own AuthsvcCacheRealm",
                                c->cache_realm, where(pconf, first), where(pconf, sp));
        }
    }
    return NULL;
}

static int authsvc_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    const char *err;
    server_rec *sp;

    (void)plog;
    authsvc_crypto_init(pconf);
    if (authsvc_totp_init() != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "liboath failed to initialise");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    authsvc_router_find_mounts(pconf);
    /* Registration must precede mod_dbd's post_config, which reads the statements. */
    authsvc_store_prepare(ptemp, s);
    /* The first pass only checks the configuration: no database, no hashing. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    for (sp = s; sp != NULL; sp = sp->next) {
        if (authsvc_srv(sp)->keyring == NULL) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, sp,
                         "two-step sign-in (MFA) is unavailable on %s:%u: no "
                         "AuthsvcSecretKeyFile", sp->server_hostname ? sp->server_hostname
                                                                     : "-",
                         (unsigned)sp->port);
        }
        authsvc_flow_passkey_startup(sp);
    }
    if ((err = authsvc_cache_post_config(pconf, s)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((err = make_realms(pconf, s)) != NULL ||
        (err = authsvc_config_defaults(pconf, s)) != NULL ||
        (err = authsvc_abuse_post_config(pconf, s)) != NULL ||
        (err = authsvc_outbox_post_config(pconf, s)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* Counting is not worth refusing to serve sign-ins for. */
    if ((err = authsvc_metrics_post_config(pconf, s)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "%s; SetHandler authsvc-metrics "
                     "answers 503", err);
    }
    if (make_dummy_hashes(pconf, s) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "cannot compute password hashes");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((err = authsvc_schema_startup(pconf, ptemp, s)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static void authsvc_register_hooks(apr_pool_t *p)
{
    static const char *const before_dbd[] = {"mod_dbd.c", NULL};

    ap_hook_pre_config(authsvc_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(authsvc_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(authsvc_post_config, NULL, before_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(authsvc_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(authsvc_handler, NULL, NULL, APR_HOOK_MIDDLE);
    authsvc_guard_register(p);
    authsvc_metrics_register(p);
}

module AP_MODULE_DECLARE_DATA authsvc_module = {
    STANDARD20_MODULE_STUFF,
    authsvc_config_create_dir,
    authsvc_config_merge_dir,
    authsvc_config_create_srv,
    authsvc_config_merge_srv,
    authsvc_cmds,
    authsvc_register_hooks
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    , AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};

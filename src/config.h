/*
 * config.h - the module's configuration: per-server and per-directory records, their
 * create/merge functions, and the directive table.
 *
 * Every field has an "unset" value (-1 or NULL) so that merging is the Apache way: the
 * more specific section wins where it said something. Accessors resolve unset fields to
 * the documented defaults, so no caller ever sees a sentinel.
 */
#ifndef AUTHSVC_CONFIG_H
#define AUTHSVC_CONFIG_H

#include "authsvc.h"
#include "mail.h"
#include "mail_transport.h"
#include "password.h"
#include "policy.h"
#include "ratelimit.h"

typedef struct authsvc_hashcap authsvc_hashcap_t;
typedef struct authsvc_keyring authsvc_keyring_t;
typedef struct authsvc_jwt_keyset authsvc_jwt_keyset_t;
typedef struct authsvc_pages authsvc_pages_t;
typedef struct authsvc_i18n authsvc_i18n_t;

#define AUTHSVC_UNSET (-1)

/* Defaults, as documented in docs/directives.md. */
#define AUTHSVC_DEFAULT_PW_MIN        12
#define AUTHSVC_DEFAULT_PW_MAX        128
#define AUTHSVC_DEFAULT_IDLE_TIMEOUT  (30 * 60)
#define AUTHSVC_DEFAULT_MAX_AGE       (12 * 60 * 60)
#define AUTHSVC_DEFAULT_MAX_BODY      (16 * 1024)
#define AUTHSVC_DEFAULT_CACHE_TTL     30
#define AUTHSVC_DEFAULT_VERIFY_TTL    (24 * 60 * 60)
#define AUTHSVC_DEFAULT_RESET_TTL     (30 * 60)
#define AUTHSVC_DEFAULT_MAIL_TRANSPORT "sendmail:/usr/sbin/sendmail -t -i"
#define AUTHSVC_DEFAULT_RETRY_BASE    30
#define AUTHSVC_DEFAULT_RETRY_MAX     (60 * 60)
#define AUTHSVC_DEFAULT_RETRY_GIVEUP  (2 * 24 * 60 * 60)
#define AUTHSVC_DEFAULT_V6_PREFIX     64
#define AUTHSVC_DEFAULT_BACKOFF_BASE  1
#define AUTHSVC_DEFAULT_BACKOFF_MAX   (5 * 60)
#define AUTHSVC_DEFAULT_LOCK_THRESHOLD 10
#define AUTHSVC_DEFAULT_LOCK_WINDOW   (15 * 60)
#define AUTHSVC_DEFAULT_LOCK_DURATION (15 * 60)
#define AUTHSVC_DEFAULT_LOCK_MAX      (24 * 60 * 60)
#define AUTHSVC_DEFAULT_HONEYPOT      "website"
#define AUTHSVC_DEFAULT_TOTP_WINDOW   1
#define AUTHSVC_DEFAULT_FRESH_AUTH    (10 * 60)
#define AUTHSVC_DEFAULT_ACCESS_TTL    (15 * 60)
#define AUTHSVC_DEFAULT_REFRESH_TTL   (30 * 86400)
#define AUTHSVC_DEFAULT_REUSE_GRACE   0
#define AUTHSVC_DEFAULT_CLOCK_SKEW    30
/* issue 11: email code sign-in, new-device alerts */
#define AUTHSVC_DEFAULT_EMAIL_CODE_LENGTH 6
#define AUTHSVC_DEFAULT_EMAIL_CODE_TTL    (10 * 60)
#define AUTHSVC_DEFAULT_NEW_DEVICE_WINDOW (90 * 86400)
#define AUTHSVC_REMEMBER_DAYS_MAX     365
#define AUTHSVC_COOKIE_NAME_SECURE    "__Host-authsvc"
#define AUTHSVC_COOKIE_NAME_PLAIN     "authsvc"
#define AUTHSVC_COOKIE_NAME_DOMAIN    "__Secure-authsvc" /* Secure, with a Domain */

typedef enum {
    AUTHSVC_SAMESITE_UNSET = 0,
    AUTHSVC_SAMESITE_STRICT,
    AUTHSVC_SAMESITE_LAX,
    AUTHSVC_SAMESITE_NONE
} authsvc_samesite_t;

/* AuthsvcAuditLog: where audit events go (bits). */
#define AUTHSVC_AUDIT_TO_DB  1
#define AUTHSVC_AUDIT_TO_LOG 2

/* Per virtual host. */
typedef struct {
    int auto_migrate;                 /* AuthsvcAutoMigrate */
    int argon2_set;
    authsvc_argon2_params_t argon2;   /* AuthsvcPasswordHash */
    int pw_min;                       /* AuthsvcPasswordMinLength */
    int pw_max;                       /* AuthsvcPasswordMaxLength */
    const char *cookie_name;          /* AuthsvcCookieName */
    authsvc_samesite_t cookie_samesite; /* AuthsvcCookieSameSite */
    int cookie_secure;                /* AuthsvcCookieSecure; unset = auto (HTTPS) */
    const char *cookie_domain;        /* AuthsvcCookieDomain */
    apr_int64_t idle_timeout;         /* AuthsvcSessionIdleTimeout, seconds */
    apr_int64_t max_age;              /* AuthsvcSessionMaxAge, seconds */
    apr_int64_t cache_ttl;            /* AuthsvcCacheTTL, seconds */
    const char *cache_realm;          /* AuthsvcCacheRealm */
    int require_verified;             /* AuthsvcRequireVerifiedEmail */
    apr_int64_t verify_ttl;           /* AuthsvcVerifyTokenTTL, seconds */
    apr_int64_t reset_ttl;            /* AuthsvcResetTokenTTL, seconds */
    const char *public_url;           /* AuthsvcPublicURL, no trailing slash */
    const char *public_host;          /* ... its host name (mail calls the site so) */
    const char *public_origin;        /* ... its origin (scheme://host[:port]) */
    int blocklist_set;                /* AuthsvcPasswordBlocklist given */
    const authsvc_blocklist_t *blocklist; /* ... NULL for "none" */
    int pw_complexity;                /* AuthsvcPasswordComplexity */
    int pw_history;                   /* AuthsvcPasswordHistory */
    int breach_set;                   /* AuthsvcPasswordBreachCorpus given */
    const authsvc_breach_t *breach;   /* ... NULL for "none" */
    int breach_min;                   /* AuthsvcPasswordBreachMinCount */
    int audit_to;                     /* AuthsvcAuditLog: AUTHSVC_AUDIT_TO_* bits */
    int audit_days;                   /* AuthsvcAuditRetention, days; 0 keeps all */
    int admin_mfa;                    /* AuthsvcAdminRequireMFA */
    const char *mail_from;            /* AuthsvcMailFrom address */
    const char *mail_from_name;       /* ... and display name (may be NULL) */
    authsvc_mail_transport_t *mail_transport; /* AuthsvcMailTransport */
    const char *mail_transport_key;   /* its description: the outbox's transport */
    authsvc_mail_tpls_t *mail_templates; /* AuthsvcMailTemplates (+ built-in) */
    apr_int64_t retry_base;           /* AuthsvcMailRetry BASE MAX GIVEUP */
    apr_int64_t retry_max;
    apr_int64_t retry_giveup;
    /* AuthsvcRateLimit: rl_set says which [class][key] a line set (else inherited,
     * else the built-in default); a count of 0 is "off". */
    char rl_set[AUTHSVC_RL_NCLASSES][AUTHSVC_RL_NKEYS];
    authsvc_rl_limit_t rl[AUTHSVC_RL_NCLASSES][AUTHSVC_RL_NKEYS];
    int v6_prefix;                    /* AuthsvcRateLimitIPv6Prefix */
    apr_int64_t backoff_base;         /* AuthsvcLoginBackoff BASE (0: off) */
    apr_int64_t backoff_max;          /* ... MAX */
    authsvc_hashcap_t *hashcap;       /* AuthsvcHashConcurrency (NULL: the default) */
    int lock_threshold;               /* AuthsvcLockout THRESHOLD (0: off) */
    apr_int64_t lock_window;          /* ... WINDOW */
    apr_int64_t lock_duration;        /* ... DURATION */
    apr_int64_t lock_max;             /* ... MAXDURATION */
    int lock_reveal;                  /* AuthsvcLockoutReveal */
    const char *honeypot;             /* AuthsvcHoneypotField ("": none) */
    authsvc_keyring_t *keyring;       /* AuthsvcSecretKeyFile (NULL: MFA unavailable) */
    const char *mfa_issuer;           /* AuthsvcMFAIssuer */
    int totp_window;                  /* AuthsvcTOTPWindow */
    apr_int64_t fresh_max_age;        /* AuthsvcFreshAuthMaxAge (0: off) */
    int remember_days;                /* AuthsvcMFARememberDays (0: off) */
    authsvc_jwt_keyset_t *jwt_keys;   /* AuthsvcTokenSigningKey (NULL: no tokens) */
    const char *token_issuer;         /* AuthsvcTokenIssuer */
    const char *token_audience;       /* AuthsvcTokenAudience */
    apr_int64_t access_ttl;           /* AuthsvcAccessTokenTTL, seconds */
    apr_int64_t refresh_ttl;          /* AuthsvcRefreshTokenTTL, seconds */
    apr_int64_t reuse_grace;          /* AuthsvcRefreshReuseGrace, seconds */
    apr_int64_t clock_skew;           /* AuthsvcClockSkew, seconds */
    authsvc_pages_t *pages;           /* AuthsvcTemplates (+ built-in) */
    authsvc_i18n_t *i18n;             /* AuthsvcI18nDir (+ built-in catalogues) */
    apr_array_header_t *languages;    /* AuthsvcLanguages (NULL: every catalogue) */
    const char *default_lang;         /* AuthsvcDefaultLanguage (en) */
    const char *const *offered;       /* post_config: the languages pages offer */
    apr_array_header_t *return_to_allow; /* AuthsvcReturnToAllow: host[:port] */
    const char *login_success_url;    /* AuthsvcLoginSuccessURL */
    apr_array_header_t *trusted_origins; /* AuthsvcTrustedOrigin: scheme://host[:port] */
    apr_array_header_t *cors_origins; /* AuthsvcCORS: scheme://host[:port] */
    int email_code_login;             /* AuthsvcEmailCodeLogin */
    int email_code_length;            /* AuthsvcEmailCodeLength, digits */
    apr_int64_t email_code_ttl;       /* AuthsvcEmailCodeLifetime, seconds */
    apr_int64_t new_device_window;    /* AuthsvcNewDeviceWindow, seconds (0: off) */
    /* issue 11: passkeys (AuthsvcWebAuthn*) */
    const char *webauthn_rp_id;       /* AuthsvcWebAuthnRPID (NULL: AuthsvcPublicURL's host) */
    const char *webauthn_rp_name;     /* AuthsvcWebAuthnRPName */
    int webauthn_uv;                  /* AuthsvcWebAuthnUserVerification: AUTHSVC_UV_* */
    apr_int64_t webauthn_timeout;     /* AuthsvcWebAuthnTimeout, seconds */
    /* Computed in post_config, not a directive: a hash of a random password at the
     * current parameters, verified against when the login name is unknown so that
     * unknown and known names cost the same time. */
    const char *dummy_hash;
    /* Computed in post_config: a short digest of this server's DBDriver and DBDParams.
     * Cache keys carry it, so that virtual hosts with different databases never
     * answer from each other's cached sessions. */
    const char *realm;
} authsvc_srv_cfg_t;

typedef enum {
    AUTHSVC_REMOTE_USER_UNSET = 0,
    AUTHSVC_REMOTE_USER_EMAIL,
    AUTHSVC_REMOTE_USER_USERNAME,
    AUTHSVC_REMOTE_USER_ID
} authsvc_remote_user_t;

typedef enum {
    AUTHSVC_UNAUTH_UNSET = 0,
    AUTHSVC_UNAUTH_REDIRECT, /* browsers to AuthsvcLoginURL, API clients 401 */
    AUTHSVC_UNAUTH_401,      /* everyone 401 */
    AUTHSVC_UNAUTH_PASS      /* let the request through without identity */
} authsvc_unauth_t;

/* Per directory / location. */
typedef struct {
    int registration;                 /* AuthsvcRegistration */
    apr_int64_t max_body;             /* AuthsvcMaxBodySize, bytes */
    authsvc_remote_user_t remote_user; /* AuthsvcRemoteUser */
    int pass_headers;                 /* AuthsvcPassHeaders */
    const char *header_prefix;        /* AuthsvcHeaderPrefix */
    int strip_cookie;                 /* AuthsvcStripCookie */
    const char *login_url;            /* AuthsvcLoginURL */
    authsvc_unauth_t unauth;          /* AuthsvcUnauthAction */
    int mfa_required;                 /* AuthsvcMFARequired */
    int bearer;                       /* AuthsvcBearer */
    int introspect;                   /* AuthsvcIntrospect */
} authsvc_dir_cfg_t;

extern const command_rec authsvc_cmds[];

void *authsvc_config_create_srv(apr_pool_t *p, server_rec *s);
void *authsvc_config_merge_srv(apr_pool_t *p, void *basev, void *addv);
void *authsvc_config_create_dir(apr_pool_t *p, char *dir);
void *authsvc_config_merge_dir(apr_pool_t *p, void *basev, void *addv);

/* Cross-directive checks for one server, run from post_config. NULL or a message. */
const char *authsvc_config_check(apr_pool_t *p, server_rec *s);

/* The records for a request / server. */
#define authsvc_srv(s) \
    ((authsvc_srv_cfg_t *)ap_get_module_config((s)->module_config, &authsvc_module))
#define authsvc_dir(r) \
    ((authsvc_dir_cfg_t *)ap_get_module_config((r)->per_dir_config, &authsvc_module))

/* Resolved values (defaults applied). */
const authsvc_argon2_params_t *authsvc_config_argon2(const authsvc_srv_cfg_t *c);
int authsvc_config_pw_min(const authsvc_srv_cfg_t *c);
int authsvc_config_pw_max(const authsvc_srv_cfg_t *c);
apr_int64_t authsvc_config_idle_timeout(const authsvc_srv_cfg_t *c);
apr_int64_t authsvc_config_max_age(const authsvc_srv_cfg_t *c);
apr_int64_t authsvc_config_cache_ttl(const authsvc_srv_cfg_t *c);
/* The prefix of this server's socache keys: AuthsvcCacheRealm, else the digest of its
 * database connection (realm). Nodes sharing a Redis and a database need the same. */
const char *authsvc_config_cache_realm(const authsvc_srv_cfg_t *c);
int authsvc_config_require_verified(const authsvc_srv_cfg_t *c);
apr_int64_t authsvc_config_verify_ttl(const authsvc_srv_cfg_t *c);
apr_int64_t authsvc_config_reset_ttl(const authsvc_srv_cfg_t *c);
/* The password policy in force (lengths, complexity, blocklist). */
void authsvc_config_policy(const authsvc_srv_cfg_t *c, authsvc_policy_t *pol);
int authsvc_config_pw_history(const authsvc_srv_cfg_t *c);
/* AuthsvcAuditLog as AUTHSVC_AUDIT_TO_* bits (default both). */
int authsvc_config_audit_to(const authsvc_srv_cfg_t *c);
/* AuthsvcAuditRetention in days; 0 (the default) keeps every row. */
int authsvc_config_audit_days(const authsvc_srv_cfg_t *c);
/* AuthsvcAdminRequireMFA: 1 (the default) when the admin API wants a second factor. */
int authsvc_config_admin_mfa(const authsvc_srv_cfg_t *c);
/* post_config: resolve the defaults that need loading (mail transport, templates,
 * sender; page templates) of every server. NULL or an error for the admin. */
const char *authsvc_config_defaults(apr_pool_t *p, server_rec *s);
/* The limit of class c for key k (count 0: none). */
const authsvc_rl_limit_t *authsvc_config_rate_limit(const authsvc_srv_cfg_t *c,
                                                    authsvc_rl_class_t cls,
                                                    authsvc_rl_key_t k);
/* AuthsvcRateLimitIPv6Prefix: the bits of an IPv6 address one counter covers. */
int authsvc_config_v6_prefix(const authsvc_srv_cfg_t *c);
/* AuthsvcLoginBackoff: 0 when off. */
apr_int64_t authsvc_config_backoff_base(const authsvc_srv_cfg_t *c);
apr_int64_t authsvc_config_backoff_max(const authsvc_srv_cfg_t *c);
/* AuthsvcLockout, resolved: threshold 0 when off. */
void authsvc_config_lockout(const authsvc_srv_cfg_t *c, authsvc_lockout_t *out);
/* AuthsvcLockoutReveal: 1 when a locked account answers 423 account_locked. */
int authsvc_config_lock_reveal(const authsvc_srv_cfg_t *c);
/* The honeypot field name, or NULL when none. */
const char *authsvc_config_honeypot(const authsvc_srv_cfg_t *c);
/* AuthsvcMFAIssuer, else the server's name. */
const char *authsvc_config_mfa_issuer(const server_rec *s);
int authsvc_config_totp_window(const authsvc_srv_cfg_t *c);
/* AuthsvcFreshAuthMaxAge in seconds, 0 when off. */
apr_int64_t authsvc_config_fresh_max_age(const authsvc_srv_cfg_t *c);
/* AuthsvcMFARememberDays: how long a browser may skip the second step, 0 when off. */
int authsvc_config_remember_days(const authsvc_srv_cfg_t *c);
#define authsvc_config_mfa_required(d) ((d)->mfa_required == 1)
/* Passkeys: the relying party in force (AuthsvcWebAuthn*, AuthsvcPublicURL). rp_id and
 * origin are NULL when AuthsvcPublicURL is not set, or when the RP ID is not the
 * origin's host or a parent domain of it: passkeys are then unavailable. */
enum { AUTHSVC_UV_DISCOURAGED = 0, AUTHSVC_UV_PREFERRED, AUTHSVC_UV_REQUIRED };
#define AUTHSVC_DEFAULT_WEBAUTHN_TIMEOUT 120
typedef struct {
    const char *rp_id, *rp_name, *origin;
    int uv;                 /* AUTHSVC_UV_* */
    apr_int64_t timeout;    /* seconds */
} authsvc_webauthn_cfg_t;
void authsvc_config_webauthn(const server_rec *s, authsvc_webauthn_cfg_t *out);
/* Tokens (AuthsvcTokenSigningKey ...): resolved values. The issuer is
 * AuthsvcTokenIssuer, else AuthsvcPublicURL; the audience AuthsvcTokenAudience, else
 * the issuer. */
const char *authsvc_config_token_issuer(const authsvc_srv_cfg_t *c);
const char *authsvc_config_token_audience(const authsvc_srv_cfg_t *c);
apr_int64_t authsvc_config_access_ttl(const authsvc_srv_cfg_t *c);
apr_int64_t authsvc_config_refresh_ttl(const authsvc_srv_cfg_t *c);
apr_int64_t authsvc_config_reuse_grace(const authsvc_srv_cfg_t *c);
apr_int64_t authsvc_config_clock_skew(const authsvc_srv_cfg_t *c);
/* AuthsvcEmailCodeLogin, AuthsvcEmailCodeLength, AuthsvcEmailCodeLifetime,
 * AuthsvcNewDeviceWindow (0: no alerts), resolved. */
int authsvc_config_email_code_login(const authsvc_srv_cfg_t *c);
int authsvc_config_email_code_length(const authsvc_srv_cfg_t *c);
apr_int64_t authsvc_config_email_code_ttl(const authsvc_srv_cfg_t *c);
apr_int64_t authsvc_config_new_device_window(const authsvc_srv_cfg_t *c);
#define authsvc_config_bearer(d)     ((d)->bearer != 0)
#define authsvc_config_introspect(d) ((d)->introspect == 1)
int authsvc_config_registration(const authsvc_dir_cfg_t *d);
apr_size_t authsvc_config_max_body(const authsvc_dir_cfg_t *d);
authsvc_remote_user_t authsvc_config_remote_user(const authsvc_dir_cfg_t *d);
const char *authsvc_config_header_prefix(const authsvc_dir_cfg_t *d);
authsvc_unauth_t authsvc_config_unauth(const authsvc_dir_cfg_t *d);
#define authsvc_config_pass_headers(d)  ((d)->pass_headers == 1)
#define authsvc_config_strip_cookie(d)  ((d)->strip_cookie != 0)

#endif

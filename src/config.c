/*
 * config.c - configuration records, merging, and the directive table.
 *
 * Order as in httpd's own modules: records, create/merge, setters, command table.
 * Setters validate at configuration time and name the directive in their errors;
 * nothing here is re-parsed per request.
 */
#include <errno.h>

#include "apr_lib.h"
#include "apr_uri.h"
#include "util_cookies.h"

#include "cache.h"
#include "config.h"
#include "i18n.h"
#include "jwt.h"
#include "mail.h"
#include "page.h"
#include "returnto.h"
#include "secretbox.h"
#include "hashcap.h"
#include "store.h"

/* ---- records ---------------------------------------------------------------------- */

void *authsvc_config_create_srv(apr_pool_t *p, server_rec *s)
{
    authsvc_srv_cfg_t *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->auto_migrate = AUTHSVC_UNSET;
    c->pw_min = AUTHSVC_UNSET;
    c->pw_max = AUTHSVC_UNSET;
    c->cookie_secure = AUTHSVC_UNSET;
    c->idle_timeout = AUTHSVC_UNSET;
    c->max_age = AUTHSVC_UNSET;
    c->cache_ttl = AUTHSVC_UNSET;
    c->require_verified = AUTHSVC_UNSET;
    c->verify_ttl = AUTHSVC_UNSET;
    c->reset_ttl = AUTHSVC_UNSET;
    c->pw_complexity = AUTHSVC_UNSET;
    c->pw_history = AUTHSVC_UNSET;
    c->breach_min = AUTHSVC_UNSET;
    c->audit_to = AUTHSVC_UNSET;
    c->audit_days = AUTHSVC_UNSET;
    c->admin_mfa = AUTHSVC_UNSET;
    c->retry_base = AUTHSVC_UNSET;
    c->retry_max = AUTHSVC_UNSET;
    c->retry_giveup = AUTHSVC_UNSET;
    c->v6_prefix = AUTHSVC_UNSET;
    c->backoff_base = AUTHSVC_UNSET;
    c->backoff_max = AUTHSVC_UNSET;
    c->lock_threshold = AUTHSVC_UNSET;
    c->lock_window = AUTHSVC_UNSET;
    c->lock_duration = AUTHSVC_UNSET;
    c->lock_max = AUTHSVC_UNSET;
    c->lock_reveal = AUTHSVC_UNSET;
    c->totp_window = AUTHSVC_UNSET;
    c->fresh_max_age = AUTHSVC_UNSET;
    c->remember_days = AUTHSVC_UNSET;
    c->webauthn_uv = AUTHSVC_UNSET;
    c->webauthn_timeout = AUTHSVC_UNSET;
    c->access_ttl = AUTHSVC_UNSET;
    c->refresh_ttl = AUTHSVC_UNSET;
    c->reuse_grace = AUTHSVC_UNSET;
    c->clock_skew = AUTHSVC_UNSET;
    c->email_code_login = AUTHSVC_UNSET;
    c->email_code_length = AUTHSVC_UNSET;
    c->email_code_ttl = AUTHSVC_UNSET;
    c->new_device_window = AUTHSVC_UNSET;
    return c;
}

#define MERGE_INT(f) n->f = (add->f != AUTHSVC_UNSET) ? add->f : base->f
#define MERGE_PTR(f) n->f = (add->f != NULL) ? add->f : base->f

void *authsvc_config_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    const authsvc_srv_cfg_t *base = basev, *add = addv;
    authsvc_srv_cfg_t *n = apr_pcalloc(p, sizeof(*n));

    MERGE_INT(auto_migrate);
    n->argon2_set = add->argon2_set || base->argon2_set;
    n->argon2 = add->argon2_set ? add->argon2 : base->argon2;
    MERGE_INT(pw_min);
    MERGE_INT(pw_max);
    MERGE_PTR(cookie_name);
    n->cookie_samesite = add->cookie_samesite ? add->cookie_samesite
                                              : base->cookie_samesite;
    MERGE_INT(cookie_secure);
    MERGE_PTR(cookie_domain);
    MERGE_INT(idle_timeout);
    MERGE_INT(max_age);
    MERGE_INT(cache_ttl);
    MERGE_PTR(cache_realm);
    MERGE_INT(require_verified);
    MERGE_INT(verify_ttl);
    MERGE_INT(reset_ttl);
    MERGE_PTR(public_url);
    n->public_host = add->public_url ? add->public_host : base->public_host;
    n->public_origin = add->public_url ? add->public_origin : base->public_origin;
    n->blocklist_set = add->blocklist_set || base->blocklist_set;
    n->blocklist = add->blocklist_set ? add->blocklist : base->blocklist;
    MERGE_INT(pw_complexity);
    MERGE_INT(pw_history);
    n->breach_set = add->breach_set || base->breach_set;
    n->breach = add->breach_set ? add->breach : base->breach;
    MERGE_INT(breach_min);
    MERGE_INT(audit_to);
    MERGE_INT(audit_days);
    MERGE_INT(admin_mfa);
    n->mail_from = add->mail_from ? add->mail_from : base->mail_from;
    n->mail_from_name = add->mail_from ? add->mail_from_name : base->mail_from_name;
    n->mail_transport = add->mail_transport ? add->mail_transport : base->mail_transport;
    MERGE_PTR(mail_transport_key);
    MERGE_PTR(mail_templates);
    MERGE_INT(retry_base);
    MERGE_INT(retry_max);
    MERGE_INT(retry_giveup);
    {
        int i, k;
        for (i = 0; i < AUTHSVC_RL_NCLASSES; i++) {
            for (k = 0; k < AUTHSVC_RL_NKEYS; k++) {
                const authsvc_srv_cfg_t *from = add->rl_set[i][k] ? add : base;
                n->rl_set[i][k] = from->rl_set[i][k];
                n->rl[i][k] = from->rl[i][k];
            }
        }
    }
    MERGE_INT(v6_prefix);
    /* BASE and MAX (and the lockout's four values) come from one line: merged as one. */
    n->backoff_base = add->backoff_base != AUTHSVC_UNSET ? add->backoff_base
                                                         : base->backoff_base;
    n->backoff_max = add->backoff_base != AUTHSVC_UNSET ? add->backoff_max
                                                        : base->backoff_max;
    MERGE_PTR(hashcap);
    {
        const authsvc_srv_cfg_t *from = add->lock_threshold != AUTHSVC_UNSET ? add : base;
        n->lock_threshold = from->lock_threshold;
        n->lock_window = from->lock_window;
        n->lock_duration = from->lock_duration;
        n->lock_max = from->lock_max;
    }
    MERGE_INT(lock_reveal);
    MERGE_PTR(honeypot);
    MERGE_PTR(keyring);
    MERGE_PTR(mfa_issuer);
    MERGE_INT(totp_window);
    MERGE_INT(fresh_max_age);
    MERGE_INT(remember_days);
    MERGE_PTR(webauthn_rp_id);
    MERGE_PTR(webauthn_rp_name);
    MERGE_INT(webauthn_uv);
    MERGE_INT(webauthn_timeout);
    MERGE_PTR(jwt_keys);
    MERGE_PTR(token_issuer);
    MERGE_PTR(token_audience);
    MERGE_INT(access_ttl);
    MERGE_INT(refresh_ttl);
    MERGE_INT(reuse_grace);
    MERGE_INT(clock_skew);
    MERGE_INT(email_code_login);
    MERGE_INT(email_code_length);
    MERGE_INT(email_code_ttl);
    MERGE_INT(new_device_window);
    MERGE_PTR(pages);
    MERGE_PTR(i18n);
    MERGE_PTR(languages);
    MERGE_PTR(default_lang);
    MERGE_PTR(return_to_allow);
    MERGE_PTR(login_success_url);
    MERGE_PTR(trusted_origins);
    MERGE_PTR(cors_origins);
    n->dummy_hash = add->dummy_hash ? add->dummy_hash : base->dummy_hash;
    n->realm = add->realm ? add->realm : base->realm;
    return n;
}

void *authsvc_config_create_dir(apr_pool_t *p, char *dir)
{
    authsvc_dir_cfg_t *d = apr_pcalloc(p, sizeof(*d));

    (void)dir;
    d->registration = AUTHSVC_UNSET;
    d->max_body = AUTHSVC_UNSET;
    d->pass_headers = AUTHSVC_UNSET;
    d->strip_cookie = AUTHSVC_UNSET;
    d->mfa_required = AUTHSVC_UNSET;
    d->bearer = AUTHSVC_UNSET;
    d->introspect = AUTHSVC_UNSET;
    return d;
}

void *authsvc_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    const authsvc_dir_cfg_t *base = basev, *add = addv;
    authsvc_dir_cfg_t *n = apr_pcalloc(p, sizeof(*n));

    MERGE_INT(registration);
    MERGE_INT(max_body);
    n->remote_user = add->remote_user ? add->remote_user : base->remote_user;
    MERGE_INT(pass_headers);
    MERGE_PTR(header_prefix);
    MERGE_INT(strip_cookie);
    MERGE_PTR(login_url);
    n->unauth = add->unauth ? add->unauth : base->unauth;
    MERGE_INT(mfa_required);
    MERGE_INT(bearer);
    MERGE_INT(introspect);
    return n;
}

/* ---- resolved values -------------------------------------------------------------- */

const authsvc_argon2_params_t *authsvc_config_argon2(const authsvc_srv_cfg_t *c)
{
    static const authsvc_argon2_params_t defaults = {
        AUTHSVC_ARGON2_M_DEFAULT, AUTHSVC_ARGON2_T_DEFAULT, AUTHSVC_ARGON2_P_DEFAULT};
    return c->argon2_set ? &c->argon2 : &defaults;
}

#define DEFAULTED(v, d) (((v) == AUTHSVC_UNSET) ? (d) : (v))

int authsvc_config_pw_min(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->pw_min, AUTHSVC_DEFAULT_PW_MIN);
}

int authsvc_config_pw_max(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->pw_max, AUTHSVC_DEFAULT_PW_MAX);
}

apr_int64_t authsvc_config_idle_timeout(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->idle_timeout, AUTHSVC_DEFAULT_IDLE_TIMEOUT);
}

apr_int64_t authsvc_config_max_age(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->max_age, AUTHSVC_DEFAULT_MAX_AGE);
}

apr_int64_t authsvc_config_cache_ttl(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->cache_ttl, AUTHSVC_DEFAULT_CACHE_TTL);
}

const char *authsvc_config_cache_realm(const authsvc_srv_cfg_t *c)
{
    if (c->cache_realm != NULL) {
        return c->cache_realm;
    }
    return c->realm ? c->realm : "-";
}

int authsvc_config_audit_to(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->audit_to, AUTHSVC_AUDIT_TO_DB | AUTHSVC_AUDIT_TO_LOG);
}

int authsvc_config_audit_days(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->audit_days, 0);
}

int authsvc_config_admin_mfa(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->admin_mfa, 1);
}

int authsvc_config_require_verified(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->require_verified, 0);
}

apr_int64_t authsvc_config_verify_ttl(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->verify_ttl, AUTHSVC_DEFAULT_VERIFY_TTL);
}

apr_int64_t authsvc_config_reset_ttl(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->reset_ttl, AUTHSVC_DEFAULT_RESET_TTL);
}

void authsvc_config_policy(const authsvc_srv_cfg_t *c, authsvc_policy_t *pol)
{
    memset(pol, 0, sizeof(*pol));
    pol->min_length = authsvc_config_pw_min(c);
    pol->max_length = authsvc_config_pw_max(c);
    pol->complexity = DEFAULTED(c->pw_complexity, 0);
    pol->blocklist = c->blocklist_set ? c->blocklist : authsvc_blocklist_builtin();
    pol->breach = c->breach;
    pol->breach_min = DEFAULTED(c->breach_min, 1);
}

int authsvc_config_pw_history(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->pw_history, 0);
}

const authsvc_rl_limit_t *authsvc_config_rate_limit(const authsvc_srv_cfg_t *c,
                                                    authsvc_rl_class_t cls,
                                                    authsvc_rl_key_t k)
{
    return c->rl_set[cls][k] ? &c->rl[cls][k] : authsvc_ratelimit_default(cls, k);
}

int authsvc_config_v6_prefix(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->v6_prefix, AUTHSVC_DEFAULT_V6_PREFIX);
}

apr_int64_t authsvc_config_backoff_base(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->backoff_base, AUTHSVC_DEFAULT_BACKOFF_BASE);
}

apr_int64_t authsvc_config_backoff_max(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->backoff_max, AUTHSVC_DEFAULT_BACKOFF_MAX);
}

void authsvc_config_lockout(const authsvc_srv_cfg_t *c, authsvc_lockout_t *out)
{
    if (c->lock_threshold == AUTHSVC_UNSET) {
        out->threshold = AUTHSVC_DEFAULT_LOCK_THRESHOLD;
        out->window = AUTHSVC_DEFAULT_LOCK_WINDOW;
        out->duration = AUTHSVC_DEFAULT_LOCK_DURATION;
        out->max = AUTHSVC_DEFAULT_LOCK_MAX;
        return;
    }
    out->threshold = c->lock_threshold;
    out->window = c->lock_window;
    out->duration = c->lock_duration;
    out->max = c->lock_max;
}

int authsvc_config_lock_reveal(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->lock_reveal, 0);
}

const char *authsvc_config_mfa_issuer(const server_rec *s)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(s);

    if (c->mfa_issuer != NULL) {
        return c->mfa_issuer;
    }
    return s->server_hostname ? s->server_hostname : "mod_authsvc";
}

int authsvc_config_totp_window(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->totp_window, AUTHSVC_DEFAULT_TOTP_WINDOW);
}

apr_int64_t authsvc_config_fresh_max_age(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->fresh_max_age, AUTHSVC_DEFAULT_FRESH_AUTH);
}

int authsvc_config_email_code_login(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->email_code_login, 0);
}

int authsvc_config_email_code_length(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->email_code_length, AUTHSVC_DEFAULT_EMAIL_CODE_LENGTH);
}

apr_int64_t authsvc_config_email_code_ttl(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->email_code_ttl, AUTHSVC_DEFAULT_EMAIL_CODE_TTL);
}

apr_int64_t authsvc_config_new_device_window(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->new_device_window, AUTHSVC_DEFAULT_NEW_DEVICE_WINDOW);
}

int authsvc_config_remember_days(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->remember_days, 0);
}

void authsvc_config_webauthn(const server_rec *s, authsvc_webauthn_cfg_t *out)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(s);
    const char *host = c->public_host, *id = c->webauthn_rp_id ? c->webauthn_rp_id : host;
    apr_size_t hn = host ? strlen(host) : 0, in = id ? strlen(id) : 0;

    out->rp_id = NULL;
    out->origin = NULL;
    /* The RP ID must be the origin's host or a domain it is under (WebAuthn 5.1.3), and
     * a name: browsers take no IP address (no letter: IPv4; a ':': IPv6). */
    if (host != NULL && in > 0 && strchr(id, ':') == NULL &&
        strpbrk(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL &&
        (strcasecmp(host, id) == 0 ||
         (hn > in && host[hn - in - 1] == '.' && strcasecmp(host + hn - in, id) == 0))) {
        out->rp_id = id;
        out->origin = c->public_origin;
    }
    out->rp_name = c->webauthn_rp_name ? c->webauthn_rp_name : authsvc_config_mfa_issuer(s);
    out->uv = DEFAULTED(c->webauthn_uv, AUTHSVC_UV_PREFERRED);
    out->timeout = DEFAULTED(c->webauthn_timeout, AUTHSVC_DEFAULT_WEBAUTHN_TIMEOUT);
}

const char *authsvc_config_token_issuer(const authsvc_srv_cfg_t *c)
{
    return c->token_issuer ? c->token_issuer : c->public_url;
}

const char *authsvc_config_token_audience(const authsvc_srv_cfg_t *c)
{
    return c->token_audience ? c->token_audience : authsvc_config_token_issuer(c);
}

apr_int64_t authsvc_config_access_ttl(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->access_ttl, AUTHSVC_DEFAULT_ACCESS_TTL);
}

apr_int64_t authsvc_config_refresh_ttl(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->refresh_ttl, AUTHSVC_DEFAULT_REFRESH_TTL);
}

apr_int64_t authsvc_config_reuse_grace(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->reuse_grace, AUTHSVC_DEFAULT_REUSE_GRACE);
}

apr_int64_t authsvc_config_clock_skew(const authsvc_srv_cfg_t *c)
{
    return DEFAULTED(c->clock_skew, AUTHSVC_DEFAULT_CLOCK_SKEW);
}

const char *authsvc_config_honeypot(const authsvc_srv_cfg_t *c)
{
    const char *name = c->honeypot ? c->honeypot : AUTHSVC_DEFAULT_HONEYPOT;
    return *name ? name : NULL;
}

/* The languages of server s: the catalogues (built-in unless AuthsvcI18nDir), the
 * offered list (AuthsvcLanguages, else every catalogue) and the default, checked
 * against each other; and every {{@id}} of its pages and mail templates known, with
 * the placeholders of its texts, in every language, names the template has. */
static int offered_has(const char *const *offered, const char *lang)
{
    for (; *offered != NULL; offered++) {
        if (strcmp(*offered, lang) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *config_languages(apr_pool_t *p, server_rec *s, authsvc_srv_cfg_t *c,
                                    authsvc_i18n_t **builtin)
{
    const char *err, *host = s->server_hostname ? s->server_hostname : "the server";
    int i;

    if (c->i18n == NULL) {
        if (*builtin == NULL && (err = authsvc_i18n_load(p, NULL, builtin)) != NULL) {
            return err;
        }
        c->i18n = *builtin;
    }
    if (c->languages != NULL) {
        for (i = 0; i < c->languages->nelts; i++) {
            const char *l = APR_ARRAY_IDX(c->languages, i, const char *);
            if (!authsvc_i18n_has(c->i18n, l)) {
                return apr_psprintf(p, "AuthsvcLanguages for %s: no catalogue for \"%s\" "
                                    "(built in: en de fr es; more with AuthsvcI18nDir)",
                                    host, l);
            }
        }
        apr_size_t n = (apr_size_t)c->languages->nelts;
        c->offered = apr_pcalloc(p, sizeof(const char *) * (n + 1));
        memcpy((void *)c->offered, c->languages->elts,
               sizeof(const char *) * n);
    }
    else {
        c->offered = authsvc_i18n_languages(c->i18n);
    }
    if (c->default_lang == NULL) {
        c->default_lang = c->languages != NULL && !offered_has(c->offered, "en")
                              ? c->offered[0]
                              : "en";
    }
    else if (!offered_has(c->offered, c->default_lang)) {
        return apr_psprintf(p, "AuthsvcDefaultLanguage for %s: \"%s\" is not among the "
                            "languages offered (%s)", host, c->default_lang,
                            c->languages ? "AuthsvcLanguages" : "the catalogues");
    }
    if ((err = authsvc_pages_check_msgs(p, c->pages, c->i18n)) != NULL ||
        (err = authsvc_mail_templates_check_msgs(p, c->mail_templates, c->i18n)) != NULL) {
        return apr_psprintf(p, "%s: %s", host, err);
    }
    return NULL;
}

/* Servers without their own mail settings get the defaults, parsed once. */
const char *authsvc_config_defaults(apr_pool_t *p, server_rec *s)
{
    authsvc_mail_transport_t *dflt = NULL;
    authsvc_mail_tpls_t *tpls = NULL;
    authsvc_pages_t *pages = NULL;
    authsvc_i18n_t *i18n = NULL;
    server_rec *first = s;
    const char *err;

    for (; s != NULL; s = s->next) {
        authsvc_srv_cfg_t *c = authsvc_srv(s);
        if (c->mail_transport == NULL) {
            if (dflt == NULL &&
                (err = authsvc_mail_transport_parse(p, AUTHSVC_DEFAULT_MAIL_TRANSPORT, NULL,
                                                    &dflt)) != NULL) {
                return err;
            }
            c->mail_transport = dflt;
            c->mail_transport_key = authsvc_mail_transport_describe(dflt);
        }
        if (c->mail_templates == NULL) {
            if (tpls == NULL &&
                (err = authsvc_mail_templates_load(p, NULL, &tpls)) != NULL) {
                return err;
            }
            c->mail_templates = tpls;
        }
        if (c->pages == NULL) {
            if (pages == NULL && (err = authsvc_pages_load(p, NULL, &pages)) != NULL) {
                return err;
            }
            c->pages = pages;
        }
        if ((err = config_languages(p, s, c, &i18n)) != NULL) {
            return err;
        }
        if (c->mail_from == NULL) {
            c->mail_from = apr_pstrcat(p, "noreply@",
                                       s->server_hostname ? s->server_hostname
                                                          : "localhost", NULL);
        }
        if (c->public_url == NULL && authsvc_store_dbd_cfg(s) != NULL &&
            (s == first || authsvc_srv(first)->public_url != NULL)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         "AuthsvcPublicURL is not set for %s: mail will carry codes but "
                         "no links", s->server_hostname ? s->server_hostname : "the server");
        }
        if (c->retry_base == AUTHSVC_UNSET) {
            c->retry_base = AUTHSVC_DEFAULT_RETRY_BASE;
            c->retry_max = AUTHSVC_DEFAULT_RETRY_MAX;
            c->retry_giveup = AUTHSVC_DEFAULT_RETRY_GIVEUP;
        }
    }
    return NULL;
}

int authsvc_config_registration(const authsvc_dir_cfg_t *d)
{
    return DEFAULTED(d->registration, 1);
}

apr_size_t authsvc_config_max_body(const authsvc_dir_cfg_t *d)
{
    return (apr_size_t)DEFAULTED(d->max_body, AUTHSVC_DEFAULT_MAX_BODY);
}

authsvc_remote_user_t authsvc_config_remote_user(const authsvc_dir_cfg_t *d)
{
    return d->remote_user ? d->remote_user : AUTHSVC_REMOTE_USER_EMAIL;
}

const char *authsvc_config_header_prefix(const authsvc_dir_cfg_t *d)
{
    return d->header_prefix ? d->header_prefix : "Remote-";
}

/* Without a login page to send browsers to, "redirect" can only mean 401. */
authsvc_unauth_t authsvc_config_unauth(const authsvc_dir_cfg_t *d)
{
    return d->unauth ? d->unauth : AUTHSVC_UNAUTH_REDIRECT;
}

/* ---- value parsers ---------------------------------------------------------------- */

/* "<digits>[unit]" with units from `units` (each a letter and a multiplier); the
 * result must lie in [min, max]. */
typedef struct {
    char unit;
    apr_int64_t mult;
} unit_t;

static const unit_t duration_units[] = {
    {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {0, 0}};
static const unit_t size_units[] = {{'k', 1024}, {'m', 1024 * 1024}, {0, 0}};
static const unit_t no_units[] = {{0, 0}};

static const char *parse_scaled(cmd_parms *cmd, const char *arg, const unit_t *units,
                                apr_int64_t min, apr_int64_t max, apr_int64_t *out)
{
    char *end = NULL;
    apr_int64_t v, mult = 1;
    const unit_t *u;

    if (!apr_isdigit(arg[0])) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a number",
                            cmd->directive->directive, arg);
    }
    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno != 0) {
        return apr_psprintf(cmd->pool, "%s: '%s' is out of range",
                            cmd->directive->directive, arg);
    }
    if (*end != '\0') {
        for (u = units; u->unit != 0; u++) {
            if (apr_tolower(*end) == u->unit && end[1] == '\0') {
                mult = u->mult;
                break;
            }
        }
        if (u->unit == 0) {
            return apr_psprintf(cmd->pool, "%s: unknown unit in '%s'",
                                cmd->directive->directive, arg);
        }
    }
    if (v > max / mult || v * mult < min || v * mult > max) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' must be between %" APR_INT64_T_FMT
                            " and %" APR_INT64_T_FMT,
                            cmd->directive->directive, arg, min, max);
    }
    *out = v * mult;
    return NULL;
}

/* One keyword of a directive's fixed set -> its enum value (case-insensitive). */
typedef struct {
    const char *word;
    int value;
} keyword_t;

static const char *parse_keyword(cmd_parms *cmd, const char *arg, const keyword_t *words,
                                 const char *choices, int *out)
{
    for (; words->word != NULL; words++) {
        if (strcasecmp(arg, words->word) == 0) {
            *out = words->value;
            return NULL;
        }
    }
    return apr_psprintf(cmd->pool, "%s must be %s", cmd->directive->directive, choices);
}

/* ---- setters ---------------------------------------------------------------------- */

#define SRV(cmd) authsvc_srv((cmd)->server)

static const char *set_auto_migrate(cmd_parms *cmd, void *dcfg, int on)
{
    (void)dcfg;
    SRV(cmd)->auto_migrate = on;
    return NULL;
}

static const char *set_password_hash(cmd_parms *cmd, void *dcfg, const char *args)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    const char *err;

    (void)dcfg;
    c->argon2.m_cost_kib = AUTHSVC_ARGON2_M_DEFAULT;
    c->argon2.t_cost = AUTHSVC_ARGON2_T_DEFAULT;
    c->argon2.parallelism = AUTHSVC_ARGON2_P_DEFAULT;
    err = authsvc_password_parse_params(cmd->pool, args, &c->argon2);
    if (err != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->directive->directive, err);
    }
    c->argon2_set = 1;
    return NULL;
}

static const char *set_pw_length(cmd_parms *cmd, void *dcfg, const char *arg)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    apr_int64_t v;
    const char *err = parse_scaled(cmd, arg, no_units, 1, 4096, &v);

    (void)dcfg;
    if (err != NULL) {
        return err;
    }
    if (cmd->info == (void *)0) {
        c->pw_min = (int)v;
    }
    else {
        c->pw_max = (int)v;
    }
    return NULL;
}

static const char *set_cookie_name(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *p;

    (void)dcfg;
    if (ap_cookie_check_string(arg) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid cookie name",
                            cmd->directive->directive, arg);
    }
    for (p = arg; *p; p++) {
        /* RFC 6265 token: visible ASCII minus separators. */
        if (*p <= 0x20 || *p >= 0x7f || ap_strchr_c("()<>@,;:\\\"/[]?={}", *p)) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a valid cookie name",
                                cmd->directive->directive, arg);
        }
    }
    SRV(cmd)->cookie_name = arg;
    return NULL;
}

static const char *set_cookie_samesite(cmd_parms *cmd, void *dcfg, const char *arg)
{
    static const keyword_t words[] = {{"Strict", AUTHSVC_SAMESITE_STRICT},
                                      {"Lax", AUTHSVC_SAMESITE_LAX},
                                      {"None", AUTHSVC_SAMESITE_NONE},
                                      {NULL, 0}};
    int v = 0;
    const char *err = parse_keyword(cmd, arg, words, "Strict, Lax or None", &v);

    (void)dcfg;
    SRV(cmd)->cookie_samesite = (authsvc_samesite_t)v;
    return err;
}

static const char *set_cookie_secure(cmd_parms *cmd, void *dcfg, int on)
{
    (void)dcfg;
    SRV(cmd)->cookie_secure = on;
    return NULL;
}

static const char *set_cookie_domain(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *p;

    (void)dcfg;
    for (p = arg; *p; p++) {
        if (!apr_isalnum(*p) && *p != '.' && *p != '-') {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a domain name",
                                cmd->directive->directive, arg);
        }
    }
    if (*arg == '\0') {
        return apr_psprintf(cmd->pool, "%s needs a domain", cmd->directive->directive);
    }
    SRV(cmd)->cookie_domain = arg;
    return NULL;
}

static const char *set_session_time(cmd_parms *cmd, void *dcfg, const char *arg)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    apr_int64_t v;
    const char *err = parse_scaled(cmd, arg, duration_units, 1, 366 * 86400, &v);

    (void)dcfg;
    if (err != NULL) {
        return err;
    }
    if (cmd->info == (void *)0) {
        c->idle_timeout = v;
    }
    else {
        c->max_age = v;
    }
    return NULL;
}

static const char *set_cache_ttl(cmd_parms *cmd, void *dcfg, const char *arg)
{
    (void)dcfg;
    return parse_scaled(cmd, arg, duration_units, 1, 3600, &SRV(cmd)->cache_ttl);
}

/* A name shared by every node of one deployment: letters, digits, '.', '_', '-'. */
static const char *set_cache_realm(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *p;

    (void)dcfg;
    for (p = arg; *p; p++) {
        if (!apr_isalnum(*p) && !ap_strchr_c("._-", *p)) {
            break;
        }
    }
    if (*p != '\0' || p == arg || p - arg > 64) {
        return apr_psprintf(cmd->pool, "%s: '%s' must be 1 to 64 letters, digits, '.', "
                            "'_' or '-'", cmd->directive->directive, arg);
    }
    SRV(cmd)->cache_realm = arg;
    return NULL;
}

static const char *set_require_verified(cmd_parms *cmd, void *dcfg, int on)
{
    (void)dcfg;
    SRV(cmd)->require_verified = on;
    return NULL;
}

static const char *set_token_ttl(cmd_parms *cmd, void *dcfg, const char *arg)
{
    authsvc_srv_cfg_t *c = SRV(cmd);

    (void)dcfg;
    return parse_scaled(cmd, arg, duration_units, 1, 30 * 86400,
                        cmd->info == (void *)0 ? &c->verify_ttl : &c->reset_ttl);
}

/* Characters that could end a URL in a mail or split a header. */
static const char *no_space_or_control(cmd_parms *cmd, const char *arg)
{
    const char *p;

    for (p = arg; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            return apr_psprintf(cmd->pool, "%s: spaces and control characters are "
                                "not allowed", cmd->directive->directive);
        }
    }
    return NULL;
}

/* The mount's external URL: absolute http(s), no query or fragment; a trailing slash
 * is dropped so that links are URL + "/verify-email". */
static const char *set_public_url(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = no_space_or_control(cmd, arg);
    apr_uri_t uri;
    char *u;
    apr_size_t n;

    (void)dcfg;
    if (err != NULL) {
        return err;
    }
    if ((strncasecmp(arg, "https://", 8) != 0 && strncasecmp(arg, "http://", 7) != 0) ||
        apr_uri_parse(cmd->pool, arg, &uri) != APR_SUCCESS || uri.hostname == NULL ||
        uri.query != NULL || uri.fragment != NULL || strpbrk(arg, "<>\"'") != NULL) {
        return apr_psprintf(cmd->pool, "%s must be an absolute http(s) URL without "
                            "query or fragment, e.g. https://example.com/api",
                            cmd->directive->directive);
    }
    u = apr_pstrdup(cmd->pool, arg);
    for (n = strlen(u); n > 0 && u[n - 1] == '/'; n--) {
        u[n - 1] = '\0';
    }
    SRV(cmd)->public_url = u;
    /* Host names are case-insensitive, but an RP ID (taken from here by default) must
     * be lower case for browsers to accept it. */
    ap_str_tolower(uri.hostname);
    SRV(cmd)->public_host = uri.hostname;
    SRV(cmd)->public_origin = authsvc_return_to_origin(
        cmd->pool, apr_pstrcat(cmd->pool, uri.scheme, "://", uri.hostinfo, NULL));
    return NULL;
}

static const char *set_blocklist(cmd_parms *cmd, void *dcfg, const char *arg)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    authsvc_blocklist_t *bl = NULL;
    const char *err;

    (void)dcfg;
    c->blocklist_set = 1;
    if (strcasecmp(arg, "none") == 0) {
        c->blocklist = NULL;
        return NULL;
    }
    if (strcasecmp(arg, "builtin") == 0) {
        c->blocklist = authsvc_blocklist_builtin();
        return NULL;
    }
    err = authsvc_blocklist_load(cmd->pool, ap_server_root_relative(cmd->pool, arg), &bl);
    if (err != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->directive->directive, err);
    }
    c->blocklist = bl;
    return NULL;
}

/* AuthsvcPasswordBreachCorpus: mapped and checked here, at configuration time, so
 * that a missing, damaged or unsorted file stops httpd from starting. The mapping
 * lives in the configuration pool: children inherit it, a restart maps the file anew. */
static const char *set_breach_corpus(cmd_parms *cmd, void *dcfg, const char *arg)
{
    authsvc_breach_t *b = NULL;
    const char *err = NULL;

    (void)dcfg;
    if (strcasecmp(arg, "none") != 0) {
        err = authsvc_breach_open(cmd->pool, ap_server_root_relative(cmd->pool, arg), &b);
    }
    SRV(cmd)->breach_set = 1;
    SRV(cmd)->breach = b;
    return err ? apr_psprintf(cmd->pool, "%s: %s", cmd->directive->directive, err) : NULL;
}

static const char *set_pw_count(cmd_parms *cmd, void *dcfg, const char *arg)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    apr_int64_t v;
    const char *err = parse_scaled(cmd, arg, no_units, 0, cmd->info == (void *)0 ? 4 : 24,
                                   &v);

    (void)dcfg;
    if (err == NULL) {
        *(cmd->info == (void *)0 ? &c->pw_complexity : &c->pw_history) = (int)v;
    }
    return err;
}

static const char *set_audit_log(cmd_parms *cmd, void *dcfg, const char *arg)
{
    static const keyword_t words[] = {
        {"db", AUTHSVC_AUDIT_TO_DB},
        {"log", AUTHSVC_AUDIT_TO_LOG},
        {"both", AUTHSVC_AUDIT_TO_DB | AUTHSVC_AUDIT_TO_LOG},
        {NULL, 0}};
    int v = 0;
    const char *err = parse_keyword(cmd, arg, words, "db, log or both", &v);

    (void)dcfg;
    SRV(cmd)->audit_to = v;
    return err;
}

/* A whole number (no unit) for an int of the server config: cmd->info says which
 * field and its range. */
typedef struct {
    size_t offset;
    int min, max;
} int_slot_t;

static const char *set_int_slot(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const int_slot_t *slot = cmd->info;
    apr_int64_t v;
    const char *err = parse_scaled(cmd, arg, no_units, slot->min, slot->max, &v);

    (void)dcfg;
    if (err == NULL) {
        *(int *)((char *)SRV(cmd) + slot->offset) = (int)v;
    }
    return err;
}

/* AuthsvcAuditRetention: days, 0 to keep everything; at most 100 years. */
static const int_slot_t audit_days_slot = {APR_OFFSETOF(authsvc_srv_cfg_t, audit_days), 0,
                                           36500};
/* AuthsvcRateLimitIPv6Prefix: the bits of an IPv6 address a rate limit counts by. */
/* AuthsvcPasswordBreachMinCount: how often a password must appear in the corpus. */
static const int_slot_t breach_min_slot = {APR_OFFSETOF(authsvc_srv_cfg_t, breach_min), 1,
                                           1000000000};
static const int_slot_t v6_prefix_slot = {APR_OFFSETOF(authsvc_srv_cfg_t, v6_prefix), 1,
                                          128};
/* AuthsvcMFARememberDays: days a remembered browser skips the second step; 0 is off. */
static const int_slot_t remember_days_slot = {APR_OFFSETOF(authsvc_srv_cfg_t, remember_days),
                                              0, AUTHSVC_REMEMBER_DAYS_MAX};

static const char *set_mail_from(cmd_parms *cmd, void *dcfg, const char *addr,
                                 const char *name)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    const char *err = authsvc_mail_check_address(cmd->pool, addr);

    (void)dcfg;
    if (err == NULL && name != NULL && strpbrk(name, "\r\n") != NULL) {
        err = "the display name must be one line";
    }
    if (err != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->directive->directive, err);
    }
    c->mail_from = addr;
    c->mail_from_name = name;
    return NULL;
}

static const char *set_mail_transport(cmd_parms *cmd, void *dcfg, const char *spec,
                                      const char *authfile)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    authsvc_mail_transport_t *t = NULL;
    const char *err;

    (void)dcfg;
    err = authsvc_mail_transport_parse(cmd->pool, spec,
                                       authfile ? ap_server_root_relative(cmd->pool,
                                                                          authfile)
                                                : NULL,
                                       &t);
    if (err != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->directive->directive, err);
    }
    c->mail_transport = t;
    c->mail_transport_key = authsvc_mail_transport_describe(t);
    return NULL;
}

static const char *set_templates(cmd_parms *cmd, void *dcfg, const char *dir)
{
    authsvc_pages_t *t = NULL;
    const char *err = authsvc_pages_load(cmd->pool, ap_server_root_relative(cmd->pool, dir),
                                         &t);

    (void)dcfg;
    if (err != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->directive->directive, err);
    }
    SRV(cmd)->pages = t;
    return NULL;
}

/* AuthsvcTrustedOrigin / AuthsvcCORS ORIGIN... (cmd->info: 0 trusted, 1 CORS) */
static const char *set_origin(cmd_parms *cmd, void *dcfg, const char *arg)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    apr_array_header_t **list = cmd->info ? &c->cors_origins : &c->trusted_origins;
    const char *o = authsvc_return_to_origin(cmd->pool, arg);

    (void)dcfg;
    if (o == NULL || strcmp(arg, "*") == 0) {
        return apr_psprintf(cmd->pool, "%s: \"%s\" is not an origin such as "
                            "https://app.example.com (scheme, host and port only; never *)",
                            cmd->directive->directive, arg);
    }
    if (strncmp(o, "http://", 7) == 0 && strcmp(o + 7, "localhost") != 0 &&
        strncmp(o + 7, "localhost:", 10) != 0 && strncmp(o + 7, "127.", 4) != 0 &&
        strncmp(o + 7, "[::1]", 5) != 0) {
        /* Anyone on the network path can speak for a plain-HTTP origin. */
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                     "%s %s: a plain-HTTP origin is trusted with the session cookie; "
                     "anyone on its network path can send requests as it",
                     cmd->directive->directive, o);
    }
    if (*list == NULL) {
        *list = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(*list, const char *) = o;
    return NULL;
}

/* AuthsvcReturnToAllow HOST[:PORT]... */
static const char *set_return_to_allow(cmd_parms *cmd, void *dcfg, const char *arg)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    const char *colon = strchr(arg, ':');
    apr_size_t hl = colon ? (apr_size_t)(colon - arg) : strlen(arg);
    char *lower;

    (void)dcfg;
    if (hl == 0 || arg[strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789.-:")] != '\0' ||
        (colon != NULL && (colon[1] == '\0' || strspn(colon + 1, "0123456789") !=
                                                   strlen(colon + 1) || atoi(colon + 1) < 1 ||
                           atoi(colon + 1) > 65535))) {
        return apr_psprintf(cmd->pool, "%s: \"%s\" is not a host name or host:port",
                            cmd->directive->directive, arg);
    }
    if (c->return_to_allow == NULL) {
        c->return_to_allow = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    lower = apr_pstrdup(cmd->pool, arg);
    ap_str_tolower(lower);
    APR_ARRAY_PUSH(c->return_to_allow, const char *) = lower;
    return NULL;
}

static const char *set_i18n_dir(cmd_parms *cmd, void *dcfg, const char *dir)
{
    authsvc_i18n_t *t = NULL;
    const char *err = authsvc_i18n_load(cmd->pool, ap_server_root_relative(cmd->pool, dir),
                                        &t);

    (void)dcfg;
    if (err != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->directive->directive, err);
    }
    SRV(cmd)->i18n = t;
    return NULL;
}

/* AuthsvcLanguages (each tag) and AuthsvcDefaultLanguage: lower-cased, well-formed;
 * whether a catalogue has them is checked once every directive is read. */
static const char *set_language(cmd_parms *cmd, void *dcfg, const char *tag)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    char *lower = apr_pstrdup(cmd->pool, tag);
    const char *why;

    (void)dcfg;
    ap_str_tolower(lower);
    if ((why = authsvc_i18n_tag_check(lower)) != NULL) {
        return apr_psprintf(cmd->pool, "%s: \"%s\": %s", cmd->directive->directive, tag, why);
    }
    if (cmd->info == NULL) {
        c->default_lang = lower;
        return NULL;
    }
    if (c->languages == NULL) {
        c->languages = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(c->languages, const char *) = lower;
    return NULL;
}

static const char *set_mail_templates(cmd_parms *cmd, void *dcfg, const char *dir)
{
    authsvc_mail_tpls_t *t = NULL;
    const char *err = authsvc_mail_templates_load(
        cmd->pool, ap_server_root_relative(cmd->pool, dir), &t);

    (void)dcfg;
    if (err != NULL) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->directive->directive, err);
    }
    SRV(cmd)->mail_templates = t;
    return NULL;
}

static const char *set_mail_retry(cmd_parms *cmd, void *dcfg, const char *base,
                                  const char *max, const char *giveup)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    const char *err;

    (void)dcfg;
    if ((err = parse_scaled(cmd, base, duration_units, 1, 86400, &c->retry_base)) ||
        (err = parse_scaled(cmd, max, duration_units, 1, 7 * 86400, &c->retry_max)) ||
        (err = parse_scaled(cmd, giveup, duration_units, 1, 30 * 86400,
                            &c->retry_giveup))) {
        return err;
    }
    if (c->retry_base > c->retry_max || c->retry_max > c->retry_giveup) {
        return apr_psprintf(cmd->pool, "%s: expected BASE <= MAX <= GIVEUP",
                            cmd->directive->directive);
    }
    return NULL;
}

/* AuthsvcRateLimit CLASS COUNT/WINDOW|off [ip|account|both] */
static const char *set_rate_limit(cmd_parms *cmd, void *dcfg, const char *cls,
                                  const char *spec, const char *key)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    int i = authsvc_ratelimit_class(cls), k;
    authsvc_rl_limit_t lim = {0, 0};
    apr_int64_t count, window;
    const char *slash, *err;

    (void)dcfg;
    if (i < 0) {
        return apr_psprintf(cmd->pool, "%s: unknown class '%s' (login, register, forgot, "
                            "verify, mfa or refresh)", cmd->directive->directive, cls);
    }
    if (strcasecmp(spec, "off") != 0) {
        if ((slash = ap_strchr_c(spec, '/')) == NULL) {
            return apr_psprintf(cmd->pool, "%s: expected COUNT/WINDOW (10/1m) or off, "
                                "not '%s'", cmd->directive->directive, spec);
        }
        if ((err = parse_scaled(cmd, apr_pstrmemdup(cmd->temp_pool, spec,
                                                    (apr_size_t)(slash - spec)),
                                no_units, 1, 1000000, &count)) != NULL ||
            (err = parse_scaled(cmd, slash + 1, duration_units, 1, 86400, &window)) != NULL) {
            return err;
        }
        lim.count = (apr_uint32_t)count;
        lim.window = window;
    }
    if (key != NULL && strcasecmp(key, "ip") && strcasecmp(key, "account") &&
        strcasecmp(key, "both")) {
        return apr_psprintf(cmd->pool, "%s: the key must be ip, account or both, not '%s'",
                            cmd->directive->directive, key);
    }
    for (k = 0; k < AUTHSVC_RL_NKEYS; k++) {
        if (key == NULL || !strcasecmp(key, "both") ||
            !strcasecmp(key, k == AUTHSVC_RL_IP ? "ip" : "account")) {
            c->rl_set[i][k] = 1;
            c->rl[i][k] = lim;
        }
    }
    return NULL;
}

/* AuthsvcLoginBackoff BASE MAX | off */
static const char *set_backoff(cmd_parms *cmd, void *dcfg, const char *base,
                               const char *max)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    const char *err;

    (void)dcfg;
    if (max == NULL) {
        if (strcasecmp(base, "off") != 0) {
            return apr_psprintf(cmd->pool, "%s: expected BASE MAX (1s 5m) or off",
                                cmd->directive->directive);
        }
        c->backoff_base = 0;
        c->backoff_max = 0;
        return NULL;
    }
    if ((err = parse_scaled(cmd, base, duration_units, 1, 3600, &c->backoff_base)) ||
        (err = parse_scaled(cmd, max, duration_units, 1, 86400, &c->backoff_max))) {
        return err;
    }
    if (c->backoff_base > c->backoff_max) {
        return apr_psprintf(cmd->pool, "%s: BASE is longer than MAX",
                            cmd->directive->directive);
    }
    return NULL;
}

/* AuthsvcHashConcurrency N [WAIT]; WAIT in s (default unit) or ms. */
static const char *set_hash_concurrency(cmd_parms *cmd, void *dcfg, const char *n,
                                        const char *wait)
{
    apr_int64_t slots, ms = AUTHSVC_HASHCAP_WAIT_MS;
    apr_size_t len = wait ? strlen(wait) : 0;
    const char *err;

    (void)dcfg;
    if ((err = parse_scaled(cmd, n, no_units, 1, AUTHSVC_HASHCAP_MAX, &slots)) != NULL) {
        return err;
    }
    if (len > 2 && strcasecmp(wait + len - 2, "ms") == 0) {
        err = parse_scaled(cmd, apr_pstrmemdup(cmd->temp_pool, wait, len - 2), no_units, 0,
                           30000, &ms);
    }
    else if (wait != NULL && (err = parse_scaled(cmd, wait, duration_units, 0, 30, &ms)) ==
                                 NULL) {
        ms *= 1000;
    }
    if (err != NULL) {
        return err;
    }
    SRV(cmd)->hashcap = authsvc_hashcap_make(cmd->pool, (int)slots, ms);
    return NULL;
}

/* AuthsvcLockout THRESHOLD WINDOW DURATION [MAXDURATION] | off */
static const char *set_lockout(cmd_parms *cmd, void *dcfg, int argc, char *const argv[])
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    apr_int64_t threshold;
    const char *err;

    (void)dcfg;
    if (argc == 1 && strcasecmp(argv[0], "off") == 0) {
        c->lock_threshold = 0;
        c->lock_window = c->lock_duration = c->lock_max = 0;
        return NULL;
    }
    if (argc < 3 || argc > 4) {
        return apr_psprintf(cmd->pool, "%s: expected THRESHOLD WINDOW DURATION "
                            "[MAXDURATION] (10 15m 15m 24h) or off",
                            cmd->directive->directive);
    }
    if ((err = parse_scaled(cmd, argv[0], no_units, 1, 1000, &threshold)) ||
        (err = parse_scaled(cmd, argv[1], duration_units, 1, 86400, &c->lock_window)) ||
        (err = parse_scaled(cmd, argv[2], duration_units, 1, 30 * 86400,
                            &c->lock_duration))) {
        return err;
    }
    c->lock_max = c->lock_duration > AUTHSVC_DEFAULT_LOCK_MAX ? c->lock_duration
                                                               : AUTHSVC_DEFAULT_LOCK_MAX;
    if (argc == 4 &&
        (err = parse_scaled(cmd, argv[3], duration_units, 1, 365 * 86400, &c->lock_max))) {
        return err;
    }
    if (c->lock_max < c->lock_duration) {
        return apr_psprintf(cmd->pool, "%s: MAXDURATION is shorter than DURATION",
                            cmd->directive->directive);
    }
    c->lock_threshold = (int)threshold;
    return NULL;
}

static const char *set_lock_reveal(cmd_parms *cmd, void *dcfg, int on)
{
    (void)dcfg;
    SRV(cmd)->lock_reveal = on;
    return NULL;
}

static const char *set_admin_mfa(cmd_parms *cmd, void *dcfg, int on)
{
    (void)dcfg;
    SRV(cmd)->admin_mfa = on;
    return NULL;
}

/* A JSON member name (or form field, later): 1-64 printable ASCII, no spaces, and none
 * of the fields the endpoints read. */
static const char real_fields[] = "email\0password\0login\0username\0first_name\0"
                                  "last_name\0token\0current_password\0"
                                  "new_password\0new_email\0csrf_token\0return_to\0";

static const char *set_honeypot(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *p;

    (void)dcfg;
    if (strcasecmp(arg, "none") == 0) {
        SRV(cmd)->honeypot = "";
        return NULL;
    }
    for (p = arg; *p; p++) {
        if (!apr_isgraph(*p)) {
            break;
        }
    }
    if (*p || p == arg || p - arg > 64) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a field name (1-64 printable "
                            "characters) or none", cmd->directive->directive, arg);
    }
    /* A field real clients send would make every request a bot's. */
    for (p = real_fields; *p; p += strlen(p) + 1) {
        if (strcasecmp(arg, p) == 0) {
            return apr_psprintf(cmd->pool, "%s: '%s' is a field real clients send; pick "
                                "a name no form uses", cmd->directive->directive, arg);
        }
    }
    SRV(cmd)->honeypot = arg;
    return NULL;
}

/* Repeatable: every key opens, the last one given seals. A virtual host that names its
 * own keys does not inherit the main server's. */
static const char *set_secret_key_file(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    const char *err;

    (void)dcfg;
    if (path == NULL) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->directive->directive,
                            arg);
    }
    err = authsvc_keyring_add_file(cmd->pool, &SRV(cmd)->keyring, path);
    return err ? apr_psprintf(cmd->pool, "%s: %s", cmd->directive->directive, err) : NULL;
}

/* The issuer shows in authenticator apps, and goes into the otpauth URI's label, where
 * a ':' would end it. */
/* A name shown to users (AuthsvcMFAIssuer, AuthsvcWebAuthnRPName): 1-64 bytes, no
 * control characters, and no ':' when colon is set. */
static const char *display_name(cmd_parms *cmd, const char *arg, int colon)
{
    const char *p;

    for (p = arg; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f || (colon && *p == ':')) {
            return apr_psprintf(cmd->pool, "%s: no %scontrol characters, please",
                                cmd->directive->directive, colon ? "':' or " : "");
        }
    }
    if (*arg == '\0' || p - arg > 64) {
        return apr_psprintf(cmd->pool, "%s needs a name of 1-64 bytes",
                            cmd->directive->directive);
    }
    return NULL;
}

static const char *set_mfa_issuer(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = display_name(cmd, arg, 1);

    (void)dcfg;
    if (err == NULL) {
        SRV(cmd)->mfa_issuer = arg;
    }
    return err;
}

static const char *set_totp_window(cmd_parms *cmd, void *dcfg, const char *arg)
{
    apr_int64_t v;
    const char *err;

    (void)dcfg;
    err = parse_scaled(cmd, arg, no_units, 0, 10, &v);
    if (err == NULL) {
        SRV(cmd)->totp_window = (int)v;
    }
    return err;
}

static const char *set_fresh_max_age(cmd_parms *cmd, void *dcfg, const char *arg)
{
    (void)dcfg;
    if (strcasecmp(arg, "off") == 0) {
        SRV(cmd)->fresh_max_age = 0;
        return NULL;
    }
    return parse_scaled(cmd, arg, duration_units, 1, 366 * 86400, &SRV(cmd)->fresh_max_age);
}

/* AuthsvcEmailCodeLogin On|Off */
static const char *set_email_code_login(cmd_parms *cmd, void *dcfg, int on)
{
    (void)dcfg;
    SRV(cmd)->email_code_login = on;
    return NULL;
}

/* AuthsvcEmailCodeLength 6-8; AuthsvcEmailCodeLifetime at most 10 minutes (the code is
 * short: its life must be too); AuthsvcNewDeviceWindow 0 (off) to 10 years. */
static const char *set_email_code_num(cmd_parms *cmd, void *dcfg, const char *arg)
{
    authsvc_srv_cfg_t *c = SRV(cmd);
    apr_int64_t v;
    const char *err;

    (void)dcfg;
    if (cmd->info == (void *)0) {
        if ((err = parse_scaled(cmd, arg, no_units, 6, 8, &v)) == NULL) {
            c->email_code_length = (int)v;
        }
        return err;
    }
    if (cmd->info == (void *)1) {
        return parse_scaled(cmd, arg, duration_units, 1, 600, &c->email_code_ttl);
    }
    return parse_scaled(cmd, arg, duration_units, 0, 3650 * 86400, &c->new_device_window);
}

/* AuthsvcWebAuthnRPID: a host name (lower case letters, digits, '-' and '.'), no
 * scheme, port or IP literal (an IP address is no valid RP ID). */
static const char *set_webauthn_rp_id(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *p;
    int alpha = 0;

    (void)dcfg;
    for (p = arg; *p; p++) {
        if (!(apr_islower(*p) || apr_isdigit(*p) || *p == '-' || *p == '.')) {
            return apr_psprintf(cmd->pool, "%s needs a lower-case host name, e.g. "
                                "example.com (no scheme or port)", cmd->directive->directive);
        }
        alpha |= apr_islower(*p) != 0;
    }
    if (*arg == '\0' || *arg == '.' || p[-1] == '.' || p - arg > 253 || !alpha) {
        return apr_psprintf(cmd->pool, "%s needs a host name (not an IP address)",
                            cmd->directive->directive);
    }
    SRV(cmd)->webauthn_rp_id = arg;
    return NULL;
}

static const char *set_webauthn_rp_name(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = display_name(cmd, arg, 0);

    (void)dcfg;
    if (err == NULL) {
        SRV(cmd)->webauthn_rp_name = arg;
    }
    return err;
}

static const char *set_webauthn_uv(cmd_parms *cmd, void *dcfg, const char *arg)
{
    (void)dcfg;
    if (strcasecmp(arg, "required") == 0) {
        SRV(cmd)->webauthn_uv = AUTHSVC_UV_REQUIRED;
    }
    else if (strcasecmp(arg, "preferred") == 0) {
        SRV(cmd)->webauthn_uv = AUTHSVC_UV_PREFERRED;
    }
    else if (strcasecmp(arg, "discouraged") == 0) {
        SRV(cmd)->webauthn_uv = AUTHSVC_UV_DISCOURAGED;
    }
    else {
        return apr_psprintf(cmd->pool, "%s must be required, preferred or discouraged",
                            cmd->directive->directive);
    }
    return NULL;
}

static const char *set_webauthn_timeout(cmd_parms *cmd, void *dcfg, const char *arg)
{
    (void)dcfg;
    return parse_scaled(cmd, arg, duration_units, 10, 600, &SRV(cmd)->webauthn_timeout);
}

/* AuthsvcTokenSigningKey FILE [ALG] [verify-only] */
static const char *set_token_key(cmd_parms *cmd, void *dcfg, int argc, char *const argv[])
{
    const char *name = cmd->directive->directive, *path, *err;
    authsvc_jwt_alg_t alg = AUTHSVC_JWT_NONE;
    int verify_only = 0, i;

    (void)dcfg;
    if (argc < 1 || argc > 3) {
        return apr_psprintf(cmd->pool, "%s takes FILE [ALG] [verify-only]", name);
    }
    for (i = 1; i < argc; i++) {
        if (strcasecmp(argv[i], "verify-only") == 0 && !verify_only) {
            verify_only = 1;
        }
        else if (i == 1 && (alg = authsvc_jwt_alg_parse(argv[i])) != AUTHSVC_JWT_NONE) {
            continue;
        }
        else {
            return apr_psprintf(cmd->pool, "%s: '%s' is neither an algorithm (EdDSA, "
                                "ES256, RS256, HS256) nor verify-only", name, argv[i]);
        }
    }
    if ((path = ap_server_root_relative(cmd->pool, argv[0])) == NULL) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", name, argv[0]);
    }
    err = authsvc_jwt_keyset_add_file(cmd->pool, &SRV(cmd)->jwt_keys, path, alg,
                                      verify_only);
    return err ? apr_psprintf(cmd->pool, "%s: %s", name, err) : NULL;
}

/* AuthsvcTokenIssuer / AuthsvcTokenAudience: printable, no spaces (a URL or a name). */
static const char *set_token_name(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = no_space_or_control(cmd, arg);

    (void)dcfg;
    if (err == NULL && *arg == '\0') {
        err = apr_psprintf(cmd->pool, "%s needs a value", cmd->directive->directive);
    }
    if (err == NULL) {
        *(cmd->info == (void *)0 ? &SRV(cmd)->token_issuer : &SRV(cmd)->token_audience) =
            arg;
    }
    return err;
}

/* The token lifetimes, each with its range. */
static const struct {
    apr_size_t offset;
    apr_int64_t min, max;
} token_times[] = {
    {APR_OFFSETOF(authsvc_srv_cfg_t, access_ttl), 10, 86400},
    {APR_OFFSETOF(authsvc_srv_cfg_t, refresh_ttl), 60, 366 * 86400},
    {APR_OFFSETOF(authsvc_srv_cfg_t, reuse_grace), 0, 60},
    {APR_OFFSETOF(authsvc_srv_cfg_t, clock_skew), 0, 300},
};

static const char *set_token_time(cmd_parms *cmd, void *dcfg, const char *arg)
{
    apr_size_t i = (apr_size_t)cmd->info;

    (void)dcfg;
    return parse_scaled(cmd, arg, duration_units, token_times[i].min, token_times[i].max,
                        (apr_int64_t *)((char *)SRV(cmd) + token_times[i].offset));
}

static const char *set_mfa_required(cmd_parms *cmd, void *dcfg, int on)
{
    (void)cmd;
    ((authsvc_dir_cfg_t *)dcfg)->mfa_required = on;
    return NULL;
}

static const char *set_registration(cmd_parms *cmd, void *dcfg, int on)
{
    (void)cmd;
    ((authsvc_dir_cfg_t *)dcfg)->registration = on;
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *dcfg, const char *arg)
{
    return parse_scaled(cmd, arg, size_units, 64, 16 * 1024 * 1024,
                        &((authsvc_dir_cfg_t *)dcfg)->max_body);
}

static const char *set_remote_user(cmd_parms *cmd, void *dcfg, const char *arg)
{
    static const keyword_t words[] = {{"email", AUTHSVC_REMOTE_USER_EMAIL},
                                      {"username", AUTHSVC_REMOTE_USER_USERNAME},
                                      {"id", AUTHSVC_REMOTE_USER_ID},
                                      {NULL, 0}};
    int v = 0;
    const char *err = parse_keyword(cmd, arg, words, "email, username or id", &v);

    ((authsvc_dir_cfg_t *)dcfg)->remote_user = (authsvc_remote_user_t)v;
    return err;
}

/* The plain On|Off switches of a directory. */
static const char *set_dir_flag(cmd_parms *cmd, void *dcfg, int on)
{
    authsvc_dir_cfg_t *d = dcfg;
    int *const fields[] = {&d->pass_headers, &d->strip_cookie, &d->bearer, &d->introspect};

    *fields[(apr_size_t)cmd->info] = on;
    return NULL;
}

/* A header name prefix: RFC 9110 token characters only, so it cannot split headers. */
static const char *set_header_prefix(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *p;

    for (p = arg; *p; p++) {
        if (!apr_isalnum(*p) && !ap_strchr_c("!#$%&'*+-.^_`|~", *p)) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a header name prefix",
                                cmd->directive->directive, arg);
        }
    }
    ((authsvc_dir_cfg_t *)dcfg)->header_prefix = arg;
    return NULL;
}

/* Where a browser is sent: a local path (not "//host") or an absolute http(s) URL, no
 * control characters or blanks; `example` is a path for the message. NULL when fine. */
static const char *browser_url(cmd_parms *cmd, const char *arg, const char *example)
{
    const char *err = no_space_or_control(cmd, arg);

    if (err != NULL) {
        return err;
    }
    if (!(arg[0] == '/' && arg[1] != '/') && strncasecmp(arg, "https://", 8) != 0 &&
        strncasecmp(arg, "http://", 7) != 0) {
        return apr_psprintf(cmd->pool, "%s must be a path (%s) or an http(s) URL",
                            cmd->directive->directive, example);
    }
    return NULL;
}

static const char *set_login_url(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = browser_url(cmd, arg, "/login");

    if (err == NULL) {
        ((authsvc_dir_cfg_t *)dcfg)->login_url = arg;
    }
    return err;
}

/* AuthsvcLoginSuccessURL */
static const char *set_success_url(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = browser_url(cmd, arg, "/welcome");

    (void)dcfg;
    if (err == NULL) {
        SRV(cmd)->login_success_url = arg;
    }
    return err;
}

static const char *set_unauth(cmd_parms *cmd, void *dcfg, const char *arg)
{
    static const keyword_t words[] = {{"redirect", AUTHSVC_UNAUTH_REDIRECT},
                                      {"401", AUTHSVC_UNAUTH_401},
                                      {"pass", AUTHSVC_UNAUTH_PASS},
                                      {NULL, 0}};
    int v = 0;
    const char *err = parse_keyword(cmd, arg, words, "redirect, 401 or pass", &v);

    ((authsvc_dir_cfg_t *)dcfg)->unauth = (authsvc_unauth_t)v;
    return err;
}

/* ---- cross-directive checks ------------------------------------------------------- */

const char *authsvc_config_check(apr_pool_t *p, server_rec *s)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(s);
    const char *name = c->cookie_name;

    if (authsvc_config_pw_min(c) > authsvc_config_pw_max(c)) {
        return "AuthsvcPasswordMinLength is greater than AuthsvcPasswordMaxLength";
    }
    if (authsvc_config_idle_timeout(c) > authsvc_config_max_age(c)) {
        return "AuthsvcSessionIdleTimeout is longer than AuthsvcSessionMaxAge";
    }
    if (c->cookie_samesite == AUTHSVC_SAMESITE_NONE && c->cookie_secure != 1) {
        return "AuthsvcCookieSameSite None requires AuthsvcCookieSecure On "
               "(browsers reject SameSite=None cookies without Secure)";
    }
    if (name != NULL && strncmp(name, "__Host-", 7) == 0 && c->cookie_domain != NULL) {
        return apr_psprintf(p, "AuthsvcCookieName %s: a __Host- cookie cannot have "
                            "AuthsvcCookieDomain", name);
    }
    if (name != NULL && (strncmp(name, "__Host-", 7) == 0 ||
                         strncmp(name, "__Secure-", 9) == 0) && c->cookie_secure != 1) {
        return apr_psprintf(p, "AuthsvcCookieName %s needs AuthsvcCookieSecure On", name);
    }
    if (c->keyring == NULL && s->lookup_defaults != NULL &&
        authsvc_config_mfa_required((authsvc_dir_cfg_t *)ap_get_module_config(
            s->lookup_defaults, &authsvc_module))) {
        return "AuthsvcMFARequired On needs AuthsvcSecretKeyFile (the key that encrypts "
               "the second-factor secrets)";
    }
    if (c->jwt_keys != NULL && authsvc_jwt_keyset_signer(c->jwt_keys) == NULL) {
        return "AuthsvcTokenSigningKey: every key is verify-only; the last one that is "
               "not signs the tokens";
    }
    if (c->jwt_keys != NULL && authsvc_config_token_issuer(c) == NULL) {
        return "AuthsvcTokenSigningKey needs AuthsvcTokenIssuer or AuthsvcPublicURL (the "
               "iss of the tokens)";
    }
    return NULL;
}

/* ---- command table ---------------------------------------------------------------- */

const command_rec authsvc_cmds[] = {
    AP_INIT_FLAG("AuthsvcAutoMigrate", set_auto_migrate, NULL, RSRC_CONF,
                 "Apply pending database migrations at start-up (default Off)"),
    AP_INIT_RAW_ARGS("AuthsvcPasswordHash", set_password_hash, NULL, RSRC_CONF,
                     "argon2id [m=KiB] [t=iterations] [p=lanes] for new password hashes"),
    AP_INIT_TAKE1("AuthsvcPasswordMinLength", set_pw_length, (void *)0, RSRC_CONF,
                  "Minimum password length in characters (default 12)"),
    AP_INIT_TAKE1("AuthsvcPasswordMaxLength", set_pw_length, (void *)1, RSRC_CONF,
                  "Maximum password length in characters (default 128)"),
    AP_INIT_TAKE1("AuthsvcCookieName", set_cookie_name, NULL, RSRC_CONF,
                  "Session cookie name (default __Host-authsvc on HTTPS, else authsvc)"),
    AP_INIT_TAKE1("AuthsvcCookieSameSite", set_cookie_samesite, NULL, RSRC_CONF,
                  "SameSite attribute of the session cookie: Strict, Lax or None"),
    AP_INIT_FLAG("AuthsvcCookieSecure", set_cookie_secure, NULL, RSRC_CONF,
                 "Mark the session cookie Secure even over plain HTTP"),
    AP_INIT_TAKE1("AuthsvcCookieDomain", set_cookie_domain, NULL, RSRC_CONF,
                  "Domain attribute of the session cookie (default none: host-only)"),
    AP_INIT_TAKE1("AuthsvcSessionIdleTimeout", set_session_time, (void *)0, RSRC_CONF,
                  "End a session unused for this long (default 30m)"),
    AP_INIT_TAKE1("AuthsvcSessionMaxAge", set_session_time, (void *)1, RSRC_CONF,
                  "End every session this long after sign-in (default 12h)"),
    AP_INIT_TAKE1("AuthsvcCache", authsvc_cache_set, NULL, RSRC_CONF,
                  "Session cache: none, shmcb[:/path(bytes)], memcache:host:port, "
                  "redis:host:port (default shmcb)"),
    AP_INIT_TAKE1("AuthsvcCacheTTL", set_cache_ttl, NULL, RSRC_CONF,
                  "How long a session lookup is cached (default 30s)"),
    AP_INIT_TAKE1("AuthsvcCacheRealm", set_cache_realm, NULL, RSRC_CONF,
                  "The cache key prefix every node of a deployment shares (default: a "
                  "digest of DBDriver and DBDParams)"),
    AP_INIT_FLAG("AuthsvcRequireVerifiedEmail", set_require_verified, NULL, RSRC_CONF,
                 "Refuse sign-in until the email address is verified (default Off)"),
    AP_INIT_TAKE1("AuthsvcVerifyTokenTTL", set_token_ttl, (void *)0, RSRC_CONF,
                  "Lifetime of email verification and change links (default 24h)"),
    AP_INIT_TAKE1("AuthsvcResetTokenTTL", set_token_ttl, (void *)1, RSRC_CONF,
                  "Lifetime of password reset links (default 30m)"),
    AP_INIT_TAKE1("AuthsvcPublicURL", set_public_url, NULL, RSRC_CONF,
                  "External URL of the authsvc mount, for links in mail"),
    AP_INIT_TAKE1("AuthsvcPasswordBlocklist", set_blocklist, NULL, RSRC_CONF,
                  "Refused passwords: builtin (default), none, or a file"),
    AP_INIT_TAKE1("AuthsvcPasswordComplexity", set_pw_count, (void *)0, RSRC_CONF,
                  "Character classes a password needs, 0-4 (default 0)"),
    AP_INIT_TAKE1("AuthsvcPasswordHistory", set_pw_count, (void *)1, RSRC_CONF,
                  "Passwords remembered against reuse, 0-24 (default 0)"),
    AP_INIT_TAKE1("AuthsvcPasswordBreachCorpus", set_breach_corpus, NULL, RSRC_CONF,
                  "Pwned Passwords SHA-1 file or authsvc-admin breach-index file "
                  "(default none)"),
    AP_INIT_TAKE1("AuthsvcPasswordBreachMinCount", set_int_slot,
                  (void *)&breach_min_slot, RSRC_CONF,
                  "Refuse a password seen this often in the breach corpus (default 1)"),
    AP_INIT_TAKE1("AuthsvcAuditLog", set_audit_log, NULL, RSRC_CONF,
                  "where audit events go: db (the audit_log table), log (the error "
                  "log at info) or both"),
    AP_INIT_TAKE1("AuthsvcAuditRetention", set_int_slot, (void *)&audit_days_slot, RSRC_CONF,
                  "days audit rows are kept; 0 keeps them all"),
    AP_INIT_FLAG("AuthsvcAdminRequireMFA", set_admin_mfa, NULL, RSRC_CONF,
                 "The admin API only for a session that passed a second factor "
                 "(default On)"),
    AP_INIT_TAKE12("AuthsvcMailFrom", set_mail_from, NULL, RSRC_CONF,
                   "Sender address of mail, and an optional display name"),
    AP_INIT_TAKE12("AuthsvcMailTransport", set_mail_transport, NULL, RSRC_CONF,
                   "sendmail:COMMAND, smtp://HOST:PORT, smtps://HOST:PORT or file:DIR, "
                   "and an optional credentials file"),
    AP_INIT_TAKE1("AuthsvcMailTemplates", set_mail_templates, NULL, RSRC_CONF,
                  "Directory of mail templates overriding the built-in ones"),
    AP_INIT_TAKE1("AuthsvcTemplates", set_templates, NULL, RSRC_CONF,
                  "Directory of page templates overriding the built-in ones"),
    AP_INIT_TAKE1("AuthsvcI18nDir", set_i18n_dir, NULL, RSRC_CONF,
                  "Directory of message catalogues (LANG.json) adding languages and "
                  "overriding built-in messages"),
    AP_INIT_ITERATE("AuthsvcLanguages", set_language, (void *)1, RSRC_CONF,
                    "The languages pages and mail are offered in, in order of preference "
                    "(default: every catalogue)"),
    AP_INIT_TAKE1("AuthsvcDefaultLanguage", set_language, NULL, RSRC_CONF,
                  "The language when Accept-Language names none offered (default en)"),
    AP_INIT_ITERATE("AuthsvcReturnToAllow", set_return_to_allow, NULL, RSRC_CONF,
                    "Hosts (host or host:port) an absolute return_to may name"),
    AP_INIT_TAKE1("AuthsvcLoginSuccessURL", set_success_url, NULL, RSRC_CONF,
                  "Where a sign-in lands without a usable return_to "
                  "(default: the account page)"),
    AP_INIT_ITERATE("AuthsvcTrustedOrigin", set_origin, (void *)0, RSRC_CONF,
                    "Origins whose cookie-authenticated API requests are accepted"),
    AP_INIT_ITERATE("AuthsvcCORS", set_origin, (void *)1, RSRC_CONF,
                    "Origins answered with credentialed CORS (never *)"),
    AP_INIT_TAKE3("AuthsvcMailRetry", set_mail_retry, NULL, RSRC_CONF,
                  "Mail retry: first delay, longest delay, give up after "
                  "(default 30s 1h 2d)"),
    AP_INIT_TAKE23("AuthsvcRateLimit", set_rate_limit, NULL, RSRC_CONF,
                   "CLASS COUNT/WINDOW|off [ip|account|both]: requests per window "
                   "(classes login, register, forgot, verify, mfa, refresh)"),
    AP_INIT_TAKE1("AuthsvcRateLimitIPv6Prefix", set_int_slot, (void *)&v6_prefix_slot, RSRC_CONF,
                  "IPv6 clients are counted per prefix of this many bits (default 64)"),
    AP_INIT_TAKE12("AuthsvcLoginBackoff", set_backoff, NULL, RSRC_CONF,
                   "BASE MAX: delay after consecutive failed sign-ins, doubling "
                   "(default 1s 5m), or off"),
    AP_INIT_TAKE12("AuthsvcHashConcurrency", set_hash_concurrency, NULL, RSRC_CONF,
                   "N [WAIT]: password hashes at once on this machine (default: cores), "
                   "and how long a request waits for one (default 1s)"),
    AP_INIT_TAKE_ARGV("AuthsvcLockout", set_lockout, NULL, RSRC_CONF,
                      "THRESHOLD WINDOW DURATION [MAXDURATION]: lock an account after "
                      "failed sign-ins (default 10 15m 15m 24h), or off"),
    AP_INIT_FLAG("AuthsvcLockoutReveal", set_lock_reveal, NULL, RSRC_CONF,
                 "Answer 423 account_locked instead of a wrong-password 401 (default Off)"),
    AP_INIT_TAKE1("AuthsvcHoneypotField", set_honeypot, NULL, RSRC_CONF,
                  "Body field that only bots fill in (default website), or none"),
    AP_INIT_TAKE1("AuthsvcSecretKeyFile", set_secret_key_file, NULL, RSRC_CONF,
                  "A file with a 256-bit key sealing second-factor secrets (repeatable: "
                  "the last seals, all open)"),
    AP_INIT_TAKE1("AuthsvcMFAIssuer", set_mfa_issuer, NULL, RSRC_CONF,
                  "The name authenticator apps show for this site (default the ServerName)"),
    AP_INIT_TAKE1("AuthsvcTOTPWindow", set_totp_window, NULL, RSRC_CONF,
                  "TOTP time steps accepted either side of now, 0-10 (default 1)"),
    AP_INIT_TAKE1("AuthsvcFreshAuthMaxAge", set_fresh_max_age, NULL, RSRC_CONF,
                  "How recent a sign-in sensitive changes need, or off (default 10m)"),
    AP_INIT_TAKE1("AuthsvcMFARememberDays", set_int_slot, (void *)&remember_days_slot,
                  RSRC_CONF,
                  "Days a browser may skip the second step after the user ticked "
                  "\"remember this device\", 0-" APR_STRINGIFY(AUTHSVC_REMEMBER_DAYS_MAX)
                  " (default 0: off)"),
    AP_INIT_FLAG("AuthsvcMFARequired", set_mfa_required, NULL, OR_AUTHCFG | RSRC_CONF,
                 "Send accounts without a second factor to enrollment before guarded "
                 "locations (default Off)"),
    AP_INIT_TAKE_ARGV("AuthsvcTokenSigningKey", set_token_key, NULL, RSRC_CONF,
                      "FILE [ALG] [verify-only]: a key that signs access tokens "
                      "(repeatable: the last signs, all verify)"),
    AP_INIT_TAKE1("AuthsvcTokenIssuer", set_token_name, (void *)0, RSRC_CONF,
                  "The iss of access tokens (default AuthsvcPublicURL)"),
    AP_INIT_TAKE1("AuthsvcTokenAudience", set_token_name, (void *)1, RSRC_CONF,
                  "The aud of access tokens (default the issuer)"),
    AP_INIT_TAKE1("AuthsvcAccessTokenTTL", set_token_time, (void *)0, RSRC_CONF,
                  "How long an access token is valid (default 15m)"),
    AP_INIT_TAKE1("AuthsvcRefreshTokenTTL", set_token_time, (void *)1, RSRC_CONF,
                  "How long an unused refresh token is valid (default 30d)"),
    AP_INIT_TAKE1("AuthsvcRefreshReuseGrace", set_token_time, (void *)2, RSRC_CONF,
                  "How long a rotated refresh token may be used again (default 0)"),
    AP_INIT_TAKE1("AuthsvcClockSkew", set_token_time, (void *)3, RSRC_CONF,
                  "Clock difference tolerated on exp and nbf (default 30s)"),
    AP_INIT_FLAG("AuthsvcEmailCodeLogin", set_email_code_login, NULL, RSRC_CONF,
                 "Allow signing in with a code sent by mail (default Off)"),
    AP_INIT_TAKE1("AuthsvcEmailCodeLength", set_email_code_num, (void *)0, RSRC_CONF,
                  "Digits of a sign-in code sent by mail, 6-8 (default 6)"),
    AP_INIT_TAKE1("AuthsvcEmailCodeLifetime", set_email_code_num, (void *)1, RSRC_CONF,
                  "How long a sign-in code sent by mail works, at most 10m (default 10m)"),
    AP_INIT_TAKE1("AuthsvcNewDeviceWindow", set_email_code_num, (void *)2, RSRC_CONF,
                  "Mail an alert on a sign-in from a device not seen for this long "
                  "(default 90d; 0: off)"),
    AP_INIT_FLAG("AuthsvcBearer", set_dir_flag, (void *)2, OR_AUTHCFG | RSRC_CONF,
                 "Accept Authorization: Bearer access tokens here (default On)"),
    AP_INIT_FLAG("AuthsvcIntrospect", set_dir_flag, (void *)3, ACCESS_CONF | RSRC_CONF,
                 "Answer token introspection here (default Off; protect with Require)"),
    AP_INIT_FLAG("AuthsvcRegistration", set_registration, NULL, RSRC_CONF | ACCESS_CONF,
                 "Allow new accounts to register (default On)"),
    AP_INIT_TAKE1("AuthsvcMaxBodySize", set_max_body, NULL, RSRC_CONF | ACCESS_CONF,
                  "Largest JSON request body accepted, in bytes (k/m suffix; default 16k)"),
    AP_INIT_TAKE1("AuthsvcRemoteUser", set_remote_user, NULL, OR_AUTHCFG | RSRC_CONF,
                  "What REMOTE_USER is set to: email (default), username or id"),
    AP_INIT_FLAG("AuthsvcPassHeaders", set_dir_flag, (void *)0, OR_AUTHCFG | RSRC_CONF,
                 "Send the identity to the backend in request headers (default Off)"),
    AP_INIT_TAKE1("AuthsvcHeaderPrefix", set_header_prefix, NULL, OR_AUTHCFG | RSRC_CONF,
                  "Prefix of the identity headers (default Remote-)"),
    AP_INIT_FLAG("AuthsvcStripCookie", set_dir_flag, (void *)1, OR_AUTHCFG | RSRC_CONF,
                 "Remove the session cookie before the request reaches the backend "
                 "(default On)"),
    AP_INIT_TAKE1("AuthsvcLoginURL", set_login_url, NULL, OR_AUTHCFG | RSRC_CONF,
                  "Where browsers without a session are sent (with return_to)"),
    AP_INIT_TAKE1("AuthsvcUnauthAction", set_unauth, NULL, OR_AUTHCFG | RSRC_CONF,
                  "Without a session: redirect (browsers; API clients get 401), 401, "
                  "or pass"),
    /* issue 11: passkeys */
    AP_INIT_TAKE1("AuthsvcWebAuthnRPID", set_webauthn_rp_id, NULL, RSRC_CONF,
                  "The passkeys' relying party ID (default: AuthsvcPublicURL's host)"),
    AP_INIT_TAKE1("AuthsvcWebAuthnRPName", set_webauthn_rp_name, NULL, RSRC_CONF,
                  "The site's name shown by authenticators (default: AuthsvcMFAIssuer)"),
    AP_INIT_TAKE1("AuthsvcWebAuthnUserVerification", set_webauthn_uv, NULL, RSRC_CONF,
                  "required, preferred (default) or discouraged"),
    AP_INIT_TAKE1("AuthsvcWebAuthnTimeout", set_webauthn_timeout, NULL, RSRC_CONF,
                  "Lifetime of a passkey ceremony's challenge (default 120s; 10s-10m)"),
    {NULL}};

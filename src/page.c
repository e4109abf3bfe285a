/*
 * page.c - page templates and page responses (see page.h).
 */
#include "apr_strings.h"

#include "config.h"
#include "csrf.h"
#include "i18n.h"
#include "page.h"
#include "problem.h"
#include "router.h"
#include "template.h"

#define TEMPLATE_MAX (64 * 1024)

/* The Content-Security-Policy of every page: nothing from elsewhere, no inline script
 * or style, no framing, forms post only here. */
#define PAGE_CSP                                                                         \
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "   \
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

struct authsvc_pages {
    int n;
    authsvc_page_builtin_t *t;
};

/* The names each template may use (space-separated), after the common ones. */
#define COMMON_NAMES                                                                     \
    "site mount assets csrf_token title error notice signed_in user_email return_to "   \
    "return_to_q honeypot alerts lang"
static const struct {
    const char *file, *names;
} page_names[] = {
    {"layout.html", "body"},
    {"alerts.html", ""},
    {"login.html", "login err_login err_password err_code registration reauthenticate "
                   "ask_code prompt logged_out email_code"
                   " passkeys_available"}, /* issue 11 */
    {"mfa.html", "err_code err_recovery_code"
                 " remember_days"}, /* issue 11: remember */
    {"register.html", "email username first_name last_name err_email err_password "
                      "err_username err_first_name err_last_name password_min"},
    {"logout.html", ""},
    {"forgot_password.html", "email err_email sent"},
    {"reset_password.html", "token err_password err_token done password_min"},
    {"verify_email.html", "token done"},
    {"account.html",
     "user id email username first_name last_name email_verified created_at sessions "
     "current last_seen_at ip user_agent mfa events at event enabled pending "
     "recovery_codes_remaining enroll secret uri qr_svg recovery_codes done "
     "prompt_mfa_enroll err_username err_first_name err_last_name err_current_password "
     "err_new_password err_new_email err_password err_code err_recovery_code err_id "
     "password_min mfa_available new_recovery_codes form_profile form_password form_email "
     "form_verify form_revoke form_begin form_confirm form_codes form_disable"
     /* issue 11: remember, passkeys */
     " devices_shown devices_any devices name last_used_at expires_at err_device form_devices"
     " passkeys_available passkeys err_name form_passkey"},
    {"message.html", "heading message link_href link_text code"},
    {"email_code.html", "email err_email err_code sent"},
};

/* The names that may be inserted raw ({{&name}}): markup the module makes itself. */
static const char *const raw_names[] = {"body", "alerts", "qr_svg", NULL};

/* NULL-terminated list of the names file may use; NULL for a file that is no template
 * (the stylesheet). */
static const char *const *names_of(apr_pool_t *p, const char *file)
{
    apr_array_header_t *a;
    char *words, *last, *w;
    size_t i;

    for (i = 0; i < sizeof(page_names) / sizeof(page_names[0]); i++) {
        if (strcmp(page_names[i].file, file) != 0) {
            continue;
        }
        a = apr_array_make(p, 64, sizeof(const char *));
        words = apr_pstrcat(p, COMMON_NAMES, " ", page_names[i].names, NULL);
        for (w = apr_strtok(words, " ", &last); w != NULL; w = apr_strtok(NULL, " ", &last)) {
            APR_ARRAY_PUSH(a, const char *) = w;
        }
        APR_ARRAY_PUSH(a, const char *) = NULL;
        return (const char *const *)a->elts;
    }
    return NULL;
}

const char *authsvc_pages_load(apr_pool_t *p, const char *dir, authsvc_pages_t **out)
{
    const authsvc_page_builtin_t *b;
    authsvc_pages_t *t = apr_pcalloc(p, sizeof(*t));
    const char *err = NULL, *where, *was;
    const char *const *names;
    int i;

    if (dir != NULL && (err = authsvc_template_dir_check(p, dir)) != NULL) {
        return err;
    }
    b = authsvc_page_builtins(&t->n);
    t->t = apr_pmemdup(p, b, sizeof(*b) * (apr_size_t)t->n);
    for (i = 0; i < t->n && err == NULL; i++) {
        where = apr_pstrcat(p, "built-in ", t->t[i].name, NULL);
        was = t->t[i].text;
        if (dir != NULL) {
            const char *path = apr_pstrcat(p, dir, "/", t->t[i].name, NULL);
            err = authsvc_template_read(p, path, TEMPLATE_MAX, &t->t[i].text);
            where = t->t[i].text != was ? path : where;
        }
        names = names_of(p, t->t[i].name);
        if (err == NULL && names != NULL &&
            (err = authsvc_template_check_raw(p, t->t[i].text, names, raw_names)) != NULL) {
            err = apr_psprintf(p, "%s: %s", where, err);
        }
    }
    if (err == NULL) {
        *out = t;
    }
    return err;
}

const char *authsvc_pages_check_msgs(apr_pool_t *p, const authsvc_pages_t *t,
                                     const authsvc_i18n_t *i18n)
{
    const char *const *lang;
    const char *const *names;
    const char *err;
    int i;

    for (lang = authsvc_i18n_languages(i18n); *lang != NULL; lang++) {
        for (i = 0; i < t->n; i++) {
            names = names_of(p, t->t[i].name);
            if (names != NULL &&
                (err = authsvc_template_check_msgs(p, t->t[i].text, names, raw_names,
                                                   authsvc_i18n_msgs(p, i18n, *lang))) !=
                    NULL) {
                return apr_psprintf(p, "page template %s in language %s: %s",
                                    t->t[i].name, *lang, err);
            }
        }
    }
    return NULL;
}

const char *authsvc_pages_text(const authsvc_pages_t *t, const char *name)
{
    int i;

    for (i = 0; t != NULL && i < t->n; i++) {
        if (strcmp(t->t[i].name, name) == 0) {
            return t->t[i].text;
        }
    }
    return NULL;
}

void authsvc_page_headers(request_rec *r)
{
    apr_table_t *h = r->err_headers_out;

    apr_table_setn(h, "Content-Security-Policy", PAGE_CSP);
    apr_table_setn(h, "X-Content-Type-Options", "nosniff");
    apr_table_setn(h, "X-Frame-Options", "DENY");
    apr_table_setn(h, "Referrer-Policy", "no-referrer");
    apr_table_setn(h, "Cache-Control", "no-store");
    /* No compression: a page reflects input (return_to) next to its CSRF token, which
     * is what BREACH needs to read the token byte by byte. */
    apr_table_setn(r->subprocess_env, "no-gzip", "1");
}

const char *authsvc_page_language(request_rec *r)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const char *lang = apr_table_get(r->notes, "authsvc-lang");

    if (lang == NULL) {
        lang = c->offered == NULL ? "en"
                                  : authsvc_i18n_negotiate(r->pool,
                                                           apr_table_get(r->headers_in,
                                                                         "Accept-Language"),
                                                           c->offered, c->default_lang);
        apr_table_setn(r->notes, "authsvc-lang", lang);
    }
    return lang;
}

/* The text the C code put into data (titles, headings, notices, errors), in lang
 * when the catalogues have it (the "c." messages). */
static void translate_key(apr_pool_t *p, const authsvc_i18n_t *i18n, const char *lang,
                          authsvc_json_t *data, const char *key)
{
    authsvc_json_t *v = authsvc_json_member(data, key);

    if (v != NULL && authsvc_json_kind(v) == AUTHSVC_JSON_KIND_STRING) {
        authsvc_json_set_str(data, key,
                             authsvc_i18n_translate(i18n, lang, authsvc_json_text(p, v)));
    }
}

/* The text the C code put into data (titles, headings, notices, errors, field
 * errors), in lang when the catalogues have it (the "c." messages). */
static void translate(apr_pool_t *p, const authsvc_i18n_t *i18n, const char *lang,
                      authsvc_json_t *data)
{
    static const char *const keys[] = {"title", "heading", "message", "link_text",
                                       "notice", "error", NULL};
    static const char *const fields[] = {"login", "password", "code", "recovery_code",
                                         "email", "username", "first_name", "last_name",
                                         "token", "current_password", "new_password",
                                         "new_email", "id", "device", "name", NULL};
    int i;

    for (i = 0; keys[i] != NULL; i++) {
        translate_key(p, i18n, lang, data, keys[i]);
    }
    for (i = 0; fields[i] != NULL; i++) {
        translate_key(p, i18n, lang, data, apr_pstrcat(p, "err_", fields[i], NULL));
    }
}

static void set_default(authsvc_json_t *data, const char *key, const char *val)
{
    if (authsvc_json_member(data, key) == NULL) {
        authsvc_json_set_str(data, key, val);
    }
}

static const char *site_name(request_rec *r)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);

    if (c->mfa_issuer != NULL) {
        return c->mfa_issuer;
    }
    return c->public_host ? c->public_host : r->server->server_hostname;
}

static int send_text(request_rec *r, int status, const char *type, const char *text)
{
    r->status = status;
    ap_set_content_type(r, type);
    ap_set_content_length(r, (apr_off_t)strlen(text));
    if (!r->header_only) {
        ap_rwrite(text, (int)strlen(text), r);
    }
    return OK;
}

int authsvc_page_send(request_rec *r, int status, const char *page, const char *title,
                      authsvc_json_t *data)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(r->server);
    const char *mount = authsvc_router_mount(r);
    const char *hp = authsvc_config_honeypot(c);
    const char *tpl = authsvc_pages_text(c->pages, apr_pstrcat(r->pool, page, ".html", NULL));
    const char *layout = authsvc_pages_text(c->pages, "layout.html");
    const char *alerts = authsvc_pages_text(c->pages, "alerts.html");
    const char *body = NULL, *html = NULL, *err = NULL;
    const char *lang = authsvc_page_language(r);
    const authsvc_template_msgs_t *msgs = c->i18n ? authsvc_i18n_msgs(r->pool, c->i18n, lang)
                                                  : NULL;

    authsvc_page_headers(r);
    apr_table_setn(r->err_headers_out, "Content-Language", lang);
    apr_table_mergen(r->err_headers_out, "Vary", "Accept-Language");
    set_default(data, "lang", lang);
    set_default(data, "title", title);
    if (c->i18n != NULL) {
        translate(r->pool, c->i18n, lang, data);
    }
    set_default(data, "site", site_name(r));
    set_default(data, "mount", mount);
    set_default(data, "assets", apr_pstrcat(r->pool, mount, "/assets", NULL));
    set_default(data, "csrf_token", authsvc_csrf_token(r));
    set_default(data, "honeypot", hp ? hp : "");
    /* alerts.html is the page's notice and error, placed by each page with {{&alerts}}. */
    if (alerts != NULL &&
        (alerts = authsvc_template_render_msgs(r->pool, alerts, data, msgs, 1, &err))) {
        authsvc_json_set_str(data, "alerts", alerts);
        body = tpl != NULL ? authsvc_template_render_msgs(r->pool, tpl, data, msgs, 1, &err)
                           : NULL;
    }
    if (body != NULL && layout != NULL) {
        authsvc_json_set_str(data, "body", body);
        html = authsvc_template_render_msgs(r->pool, layout, data, msgs, 1, &err);
    }
    if (html == NULL) {
        /* Start-up checked every template: this is a bug, not bad input. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "page %s cannot be rendered: %s", page,
                      err ? err : "no such template");
        return authsvc_problem_send(r, "internal_error", NULL);
    }
    return send_text(r, status, "text/html; charset=utf-8", html);
}

int authsvc_page_message(request_rec *r, int status, const char *code, const char *heading,
                         const char *message, const char *href, const char *link_text)
{
    authsvc_json_t *d = authsvc_json_object(r->pool);

    authsvc_json_set_str(d, "heading", heading);
    authsvc_json_set_str(d, "message", message);
    authsvc_json_set_str(d, "link_href", href);
    authsvc_json_set_str(d, "link_text", link_text);
    authsvc_json_set_str(d, "code", code);
    return authsvc_page_send(r, status, "message", heading, d);
}

int authsvc_page_problem(request_rec *r, const char *code, const char *detail)
{
    int status = authsvc_problem_status(code);

    if (strcmp(code, "unavailable") == 0 || strcmp(code, "busy") == 0) {
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
    }
    return authsvc_page_message(r, status, authsvc_problem_code(code),
                                authsvc_problem_title(code),
                                detail ? detail : authsvc_problem_title(code),
                                apr_pstrcat(r->pool, authsvc_router_mount(r), "/login", NULL),
                                "Back to sign-in");
}

int authsvc_page_redirect(request_rec *r, const char *location)
{
    authsvc_page_headers(r);
    apr_table_setn(r->err_headers_out, "Location", location);
    r->status = HTTP_SEE_OTHER;
    return OK;
}

/* issue 11: the passkey script of the login and account pages (conf/templates/passkey.js). */
int authsvc_page_script(request_rec *r)
{
    const char *js = authsvc_pages_text(authsvc_srv(r->server)->pages, "passkey.js");

    authsvc_page_headers(r);
    apr_table_setn(r->err_headers_out, "Cache-Control", "public, max-age=3600");
    return send_text(r, HTTP_OK, "text/javascript; charset=utf-8", js ? js : "");
}

int authsvc_page_css(request_rec *r)
{
    const char *css = authsvc_pages_text(authsvc_srv(r->server)->pages, "authsvc.css");

    authsvc_page_headers(r);
    apr_table_setn(r->err_headers_out, "Cache-Control", "public, max-age=3600");
    return send_text(r, HTTP_OK, "text/css; charset=utf-8", css ? css : "");
}

/*
 * page.h - the HTML front end's plumbing: the page templates (built in, overridden by
 * AuthsvcTemplates), rendering a page inside the layout, and the headers every page
 * carries. The handlers are in h_pages.c.
 */
#ifndef AUTHSVC_PAGE_H
#define AUTHSVC_PAGE_H

#include "authsvc.h"
#include "json.h"

/* A shipped file as embedded from conf/templates/ by tools/embed-templates.pl. */
typedef struct {
    const char *name; /* "login.html", "authsvc.css" */
    const char *text;
} authsvc_page_builtin_t;

/* The built-in files and their number (generated src/page_data.c). */
const authsvc_page_builtin_t *authsvc_page_builtins(int *count);

typedef struct authsvc_pages authsvc_pages_t;

/* The built-in files, overridden file by file from dir (NULL: built-in only). Every
 * template is checked: UTF-8, at most 64 KiB, well-formed placeholders of the names
 * that page gets. NULL and *out, or a message for the admin naming the file. */
const char *authsvc_pages_load(apr_pool_t *p, const char *dir, authsvc_pages_t **out);

typedef struct authsvc_i18n authsvc_i18n_t;

/* NULL when every {{@id}} of the templates in t is a message of i18n and, in every
 * language, its text uses only names that template has; else a message naming the
 * template, the language and the message. */
const char *authsvc_pages_check_msgs(apr_pool_t *p, const authsvc_pages_t *t,
                                     const authsvc_i18n_t *i18n);

/* The language of the answer to r (negotiated once from Accept-Language among the
 * server's offered languages; AuthsvcDefaultLanguage when none fits). */
const char *authsvc_page_language(request_rec *r);

/* The text of file name ("login.html"), or NULL. */
const char *authsvc_pages_text(const authsvc_pages_t *t, const char *name);

/* The headers of every page: CSP, nosniff, no framing, no referrer, no-store. */
void authsvc_page_headers(request_rec *r);

/* Render template `page` ("login") with data (a JSON object the caller filled; the
 * names every page has are added here: site, mount, assets, csrf_token, honeypot,
 * lang, signed_in and user_email unless set), inside layout.html, in the negotiated
 * language (Content-Language, Vary: Accept-Language; the English title, headings,
 * notices and errors the caller passes are translated when a "c." message has them),
 * and send it with status. Returns OK. */
int authsvc_page_send(request_rec *r, int status, const char *page, const char *title,
                      authsvc_json_t *data);

/* message.html: a heading, a sentence, an optional link, and the problem code. */
int authsvc_page_message(request_rec *r, int status, const char *code, const char *heading,
                         const char *message, const char *href, const char *link_text);

/* A failure as a message page (its status and detail from the catalogue). */
int authsvc_page_problem(request_rec *r, const char *code, const char *detail);

/* 303 See Other to location (a path or URL, already validated). Returns OK. */
int authsvc_page_redirect(request_rec *r, const char *location);

/* GET M/assets/authsvc.css */
int authsvc_page_css(request_rec *r);
/* GET M/assets/passkey.js (issue 11) */
int authsvc_page_script(request_rec *r);

#endif

/*
 * i18n.h - message catalogues and language negotiation for pages and mail.
 *
 * Pure unit: apr, jansson and template.h only (unit-tested without a server).
 *
 * A catalogue is one JSON object per language, LANG.json ("en", "de", "pt-br"): keys
 * are message ids ([a-z0-9_.]+), values the message text, which may hold {{name}}
 * placeholders and nothing else of the template syntax. The shipped ones (conf/i18n/)
 * are built in; AuthsvcI18nDir adds languages and overrides messages one by one.
 * Templates insert a message with {{@id}} (template.h). A message missing from a
 * language falls back to English, and a message missing from English to its id.
 * Messages whose id starts with "c." hold text the module's C code passes to pages
 * (titles, headings, notices, errors): that text is translated by its English wording.
 */
#ifndef AUTHSVC_I18N_H
#define AUTHSVC_I18N_H

#include "apr_pools.h"

#include "template.h"

/* A shipped catalogue as embedded from conf/i18n/ by tools/embed-templates.pl. */
typedef struct {
    const char *lang; /* "de" */
    const char *json; /* the file's text */
} authsvc_i18n_builtin_t;

/* The built-in catalogues and their number (generated src/i18n_data.c). */
const authsvc_i18n_builtin_t *authsvc_i18n_builtins(int *count);

typedef struct authsvc_i18n authsvc_i18n_t;

/* The built-in catalogues, extended and overridden from dir/LANG.json (dir NULL:
 * built-in only; other files in dir are ignored, a hidden one too). Every file is
 * checked: a JSON object of at most 256 KiB, ids of the right form and known to the
 * English catalogue, non-empty string texts, placeholders well-formed and the same
 * set as the English text's. NULL and *out, or a message naming the file and key. */
const char *authsvc_i18n_load(apr_pool_t *p, const char *dir, authsvc_i18n_t **out);

/* Whether lang (lower case) has a catalogue. */
int authsvc_i18n_has(const authsvc_i18n_t *c, const char *lang);

/* The languages with a catalogue, "en" first and the others sorted; NULL-terminated. */
const char *const *authsvc_i18n_languages(const authsvc_i18n_t *c);

/* The text of id in lang exactly, or NULL. */
const char *authsvc_i18n_lookup(const authsvc_i18n_t *c, const char *lang, const char *id);

/* The text of id in lang, else in English, else id itself: never NULL nor "". */
const char *authsvc_i18n_text(const authsvc_i18n_t *c, const char *lang, const char *id);

/* english (a "c." message's English text) in lang; english itself when no message
 * has that text or lang has no translation of it. NULL stays NULL. */
const char *authsvc_i18n_translate(const authsvc_i18n_t *c, const char *lang,
                                   const char *english);

/* The template engine's view of lang (for {{@id}}), in p: lang, else English; an
 * unknown id gives NULL (the engine then shows the id). */
const authsvc_template_msgs_t *authsvc_i18n_msgs(apr_pool_t *p, const authsvc_i18n_t *c,
                                                 const char *lang);

/* The language to answer in: the one of offered (NULL-terminated, lower case, in the
 * server's order of preference) that Accept-Language value accept (NULL: absent)
 * prefers (RFC 9110 section 12.5.4: q-values, "*", a range matching a tag or a tag's
 * prefix; "de-CH" is served by "de"), ties going to the earlier range in accept, then
 * to the earlier in offered; dflt when none is acceptable. Malformed parts of accept
 * are skipped. */
const char *authsvc_i18n_negotiate(apr_pool_t *p, const char *accept,
                                   const char *const *offered, const char *dflt);

/* NULL when tag is a language tag this module can name a catalogue by (letters,
 * digits and '-', 2-3 letters first, at most 35 characters), else a reason. */
const char *authsvc_i18n_tag_check(const char *tag);

#endif

/*
 * template.h - the one template engine, for mail (mail.c) and pages (page.c).
 *
 * Pure unit: apr and json.h only, so that it is unit-tested and fuzzed without a
 * server. The syntax is a small part of mustache:
 *   {{name}}               the value, empty when missing; HTML-escaped when html is set
 *   {{&name}}              the value, never escaped (markup the module made itself)
 *   {{#name}}...{{/name}}  skipped for a missing, null, false, "" or [] value; repeated
 *                          for each element of an array, with the element as the
 *                          innermost context; else once (an object: as the context)
 *   {{^name}}...{{/name}}  kept only where {{#name}} would be skipped
 *   {{.}}                  the innermost context itself (an element of a string array)
 *   {{@id}}                the text of message id ([a-z0-9_.]+) from a catalogue (see
 *                          i18n.h), in place; the text may hold {{name}} placeholders
 *                          (nothing else), filled and escaped as above; the text itself
 *                          is template text (trusted: not escaped)
 * Names are [a-z0-9_]+, looked up from the innermost context outwards. A section tag
 * alone on its line takes the whole line with it.
 */
#ifndef AUTHSVC_TEMPLATE_H
#define AUTHSVC_TEMPLATE_H

#include "apr_pools.h"

#include "json.h"

/* Where {{@id}} finds its text: text(baton, id) is the message, or NULL when unknown. */
typedef struct {
    const char *(*text)(void *baton, const char *id);
    void *baton;
} authsvc_template_msgs_t;

/* Check the syntax of tpl; names is the NULL-terminated list of the names it may use
 * (NULL: any). NULL when it is fine, else "line N: <what is wrong>". */
const char *authsvc_template_check(apr_pool_t *p, const char *tpl, const char *const *names);

/* The same, where only the names of raw (NULL-terminated; empty: none) may be inserted
 * unescaped: "line N: only body and alerts may be inserted unescaped ({{&...}})". */
const char *authsvc_template_check_raw(apr_pool_t *p, const char *tpl,
                                       const char *const *names, const char *const *raw);

/* The same, and every {{@id}} is a message msgs knows (NULL: any id) whose text is
 * well-formed and uses only names: "message \"id\": unknown variable \"x\"". */
const char *authsvc_template_check_msgs(apr_pool_t *p, const char *tpl,
                                        const char *const *names, const char *const *raw,
                                        const authsvc_template_msgs_t *msgs);

/* tpl filled in from data (a JSON object; NULL: no values), in p. html: values are
 * escaped for HTML text and attributes (& < > " '). NULL and *err on bad syntax. */
const char *authsvc_template_render(apr_pool_t *p, const char *tpl, authsvc_json_t *data,
                                    int html, const char **err);

/* Read the UTF-8 text file path (a regular file of at most max octets, no NUL byte)
 * into *text. A missing file returns NULL and leaves *text alone (the caller keeps its
 * built-in text); anything else wrong returns a message naming the file. */
const char *authsvc_template_read(apr_pool_t *p, const char *path, apr_size_t max,
                                  const char **text);

/* NULL when dir is a directory that can be read, else a message naming it. */
const char *authsvc_template_dir_check(apr_pool_t *p, const char *dir);

/* The same, with {{@id}} from msgs (NULL, or an unknown id: the id itself). */
const char *authsvc_template_render_msgs(apr_pool_t *p, const char *tpl,
                                         authsvc_json_t *data,
                                         const authsvc_template_msgs_t *msgs, int html,
                                         const char **err);

#endif

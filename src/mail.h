/* mail.h - mail templates and the composition of a complete message.
 *
 * Pure unit: apr and apr-util only, so that it is unit-tested without a server.
 * Delivery is mail_transport.h's job; the outbox (store) sits between the two.
 *
 * Template syntax (template.h; {{@id}} inserts a message of the catalogues, i18n.h):
 *   {{name}}               the variable, empty when missing; HTML-escaped in .html
 *   {{#name}}...{{/name}}  kept only when the variable is non-empty
 *   {{^name}}...{{/name}}  kept only when the variable is empty or missing
 * A section tag alone on its line takes the whole line with it, so that templates
 * can put them on lines of their own. Names are the variables below.
 */
#ifndef AUTHSVC_MAIL_H
#define AUTHSVC_MAIL_H

#include "apr_pools.h"
#include "apr_tables.h"
#include "apr_time.h"

/* The variables a template may use (spec4.md, "Mail"). */
#define AUTHSVC_MAIL_VARS                                                                \
    "site", "email", "name", "link", "code", "expires", "new_email", "old_email",        \
        "time", "ip", "agent", "lang", "passkey"

/* One template: a one-line subject, a text part and an HTML part. */
typedef struct {
    const char *subject, *text, *html;
} authsvc_mail_tpl_t;

/* The set of templates, by name (verify_email, change_email, reset_password,
 * password_changed, email_changed, account_deleted, mfa_enabled, mfa_disabled,
 * passkey_added ...). */
typedef struct authsvc_mail_tpls authsvc_mail_tpls_t;

/* A built-in template as embedded from conf/mail/ by tools/embed-templates.pl. */
typedef struct {
    const char *name;
    authsvc_mail_tpl_t tpl;
} authsvc_mail_builtin_t;

/* The built-in templates and their number (generated src/mail_data.c). */
const authsvc_mail_builtin_t *authsvc_mail_builtins(int *count);

/* The built-in templates, overridden file by file from dir/NAME.{subject,txt,html}
 * (dir NULL: built-in only; files of other names are ignored). Every template is
 * checked: valid UTF-8, a one-line subject, well-formed placeholders of known
 * variables. Returns NULL and sets *out, or an error message for the admin naming the
 * file (unreadable, larger than 64 KiB, "{{" without "}}", unknown variable ...). */
const char *authsvc_mail_templates_load(apr_pool_t *p, const char *dir,
                                        authsvc_mail_tpls_t **out);

typedef struct authsvc_i18n authsvc_i18n_t;

/* NULL when every {{@id}} of the templates in t is a message of i18n and, in every
 * language, its text uses only the variables above; else a message naming the
 * template, part, language and message. */
const char *authsvc_mail_templates_check_msgs(apr_pool_t *p, const authsvc_mail_tpls_t *t,
                                             const authsvc_i18n_t *i18n);

/* The template called name, or NULL if there is none. */
const authsvc_mail_tpl_t *authsvc_mail_template(const authsvc_mail_tpls_t *t,
                                                const char *name);

/* NULL if addr is one bare address that cannot name a second mailbox in a header or
 * an SMTP command (exactly one '@' with text on both sides, at most 254 octets, no
 * control character, blank or any of <>,;:"\()[]), else a short reason in p. */
const char *authsvc_mail_check_address(apr_pool_t *p, const char *addr);

/* Compose a complete RFC 5322 message with CRLF line ends into *message: From, To,
 * Subject (RFC 2047 encoded-words when not plain short ASCII), Date (of now),
 * Message-ID (random, @ the domain of from_addr), MIME-Version, Auto-Submitted:
 * auto-generated and a multipart/alternative body of a text/plain and a text/html part
 * (utf-8, base64 at 76 columns). vars maps variable names to values (missing ones
 * render empty; in the HTML part every value is escaped). from_addr and to are bare
 * addresses, from_name an optional display name (NULL or "": none).
 * Returns NULL on success, else a short reason and *message is untouched: a CR or LF
 * in any value, in from_name or an address ("the value of new_email contains a line
 * break"), an address that could name more than one mailbox (space, <>,;:"\()[],
 * not exactly one '@'), a template that does not parse, no randomness. */
const char *authsvc_mail_compose(apr_pool_t *p, const authsvc_mail_tpl_t *tpl,
                                 const char *from_addr, const char *from_name,
                                 const char *to, const apr_table_t *vars, apr_time_t now,
                                 const char **message);

/* The same, in language lang (lower case; a catalogue of i18n, else English): the
 * templates' {{@id}} messages from i18n, the `expires` duration ("24 hours") said in
 * lang, and a Content-Language: lang header. authsvc_mail_compose is this with the
 * built-in catalogues (parsed on each call) and "en". */
const char *authsvc_mail_compose_in(apr_pool_t *p, const authsvc_mail_tpl_t *tpl,
                                    const authsvc_i18n_t *i18n, const char *lang,
                                    const char *from_addr, const char *from_name,
                                    const char *to, const apr_table_t *vars, apr_time_t now,
                                    const char **message);

#endif /* AUTHSVC_MAIL_H */

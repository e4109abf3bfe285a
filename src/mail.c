/*
 * mail.c - mail templates (built-in, overridden file by file) and the composition of
 * an RFC 5322 / MIME message from one of them.
 *
 * Every value put into a message comes from a user or a request, so the rules here
 * are about injection: no line break reaches a header (RFC 5322 header injection),
 * no address can name a second mailbox, and the HTML part escapes every value.
 */
#include <stdarg.h>
#include <string.h>

#include "apr_base64.h"
#include "apr_encode.h"
#include "apr_file_info.h"
#include "apr_file_io.h"
#include "apr_general.h"
#include "apr_strings.h"

#include "i18n.h"
#include "json.h"
#include "mail.h"
#include "template.h"
#include "text.h"

#define CRLF "\r\n"

#define TEMPLATE_MAX (64 * 1024) /* octets per template file */
#define B64_COLUMNS 76           /* RFC 2045 section 6.8 */
#define WORD_OCTETS 39           /* per encoded-word: 52 base64 + 12 = 64 columns */
#define HEADER_PLAIN 64          /* longer text goes into folded encoded-words */

struct authsvc_mail_tpls {
    int n;
    authsvc_mail_builtin_t *t;
};

/* ---- templates ---------------------------------------------------------------- */

static const char *const mail_vars[] = {AUTHSVC_MAIL_VARS, NULL};

static int put_var(void *obj, const char *key, const char *val)
{
    authsvc_json_set_str(obj, key, val);
    return 1;
}

/* Every value in mail comes from a user or a request: nothing is inserted raw. */
static const char *const no_raw[] = {NULL};

static const char *check(apr_pool_t *p, const char *tpl)
{
    return authsvc_template_check_raw(p, tpl, mail_vars, no_raw);
}

/* The template filled in from vars, {{@id}} from msgs; NULL and *err on bad syntax. */
static const char *render(apr_pool_t *p, const char *tpl, const apr_table_t *vars,
                          const authsvc_template_msgs_t *msgs, int html, const char **err)
{
    authsvc_json_t *data = authsvc_json_object(p);

    if ((*err = check(p, tpl)) != NULL) {
        return NULL;
    }
    apr_table_do(put_var, data, vars, NULL);
    return authsvc_template_render_msgs(p, tpl, data, msgs, html, err);
}

/* ---- templates: loading ---------------------------------------------------- */

/* The subject file is one line; its line end is not part of it. */
static const char *one_line(apr_pool_t *p, const char *where, const char **subject)
{
    size_t n = strlen(*subject);

    while (n > 0 && ((*subject)[n - 1] == '\n' || (*subject)[n - 1] == '\r')) {
        n--;
    }
    *subject = apr_pstrmemdup(p, *subject, n);
    if (strpbrk(*subject, "\r\n") != NULL) {
        return apr_psprintf(p, "%s: the subject must be one line", where);
    }
    return NULL;
}

/* Override the three parts of one template from dir (if given) and check them. */
static const char *load_one(apr_pool_t *p, const char *dir, authsvc_mail_builtin_t *b)
{
    static const char *const ext[] = {"subject", "txt", "html"};
    const char **part[] = {&b->tpl.subject, &b->tpl.text, &b->tpl.html};
    const char *where, *path, *was, *err = NULL;
    int k;

    for (k = 0; k < 3 && err == NULL; k++) {
        where = apr_pstrcat(p, "built-in ", b->name, ".", ext[k], NULL);
        was = *part[k];
        if (dir != NULL) {
            path = apr_pstrcat(p, dir, "/", b->name, ".", ext[k], NULL);
            err = authsvc_template_read(p, path, TEMPLATE_MAX, part[k]);
            where = *part[k] != was ? path : where;
        }
        if (err == NULL && k == 0) {
            err = one_line(p, where, part[k]);
        }
        if (err == NULL && (err = check(p, *part[k])) != NULL) {
            err = apr_psprintf(p, "%s: %s", where, err);
        }
    }
    return err;
}

const char *authsvc_mail_templates_load(apr_pool_t *p, const char *dir,
                                        authsvc_mail_tpls_t **out)
{
    const authsvc_mail_builtin_t *b;
    authsvc_mail_tpls_t *t = apr_pcalloc(p, sizeof(*t));
    const char *err = NULL;
    int i;

    if (dir != NULL && (err = authsvc_template_dir_check(p, dir)) != NULL) {
        return err;
    }
    b = authsvc_mail_builtins(&t->n);
    t->t = apr_pmemdup(p, b, sizeof(*b) * (apr_size_t)t->n);
    for (i = 0; i < t->n && err == NULL; i++) {
        err = load_one(p, dir, &t->t[i]);
    }
    if (err == NULL) {
        *out = t;
    }
    return err;
}

const char *authsvc_mail_templates_check_msgs(apr_pool_t *p, const authsvc_mail_tpls_t *t,
                                             const authsvc_i18n_t *i18n)
{
    static const char *const ext[] = {"subject", "txt", "html"};
    const char *const *lang;
    const char *err = NULL;
    int i, k;

    for (lang = authsvc_i18n_languages(i18n); *lang != NULL; lang++) {
        const authsvc_template_msgs_t *msgs = authsvc_i18n_msgs(p, i18n, *lang);
        for (i = 0; i < t->n; i++) {
            const char *part[] = {t->t[i].tpl.subject, t->t[i].tpl.text, t->t[i].tpl.html};
            for (k = 0; k < 3; k++) {
                err = authsvc_template_check_msgs(p, part[k], mail_vars, no_raw, msgs);
                if (err != NULL) {
                    return apr_psprintf(p, "mail template %s.%s in language %s: %s",
                                        t->t[i].name, ext[k], *lang, err);
                }
            }
        }
    }
    return NULL;
}

const authsvc_mail_tpl_t *authsvc_mail_template(const authsvc_mail_tpls_t *t,
                                                const char *name)
{
    int i;

    for (i = 0; t != NULL && name != NULL && i < t->n; i++) {
        if (strcmp(t->t[i].name, name) == 0) {
            return &t->t[i].tpl;
        }
    }
    return NULL;
}

/* ---- composition: checks ---------------------------------------------------- */

static const char *check_line(apr_pool_t *p, const char *what, const char *s)
{
    if (s != NULL && strpbrk(s, "\r\n") != NULL) {
        return apr_pstrcat(p, what, " contains a line break", NULL);
    }
    return NULL;
}

/* Minimal on purpose (the address was validated when it was stored): what matters
 * here is that it stays one mailbox in a header and in an SMTP command. */
static const char *check_address(apr_pool_t *p, const char *what, const char *a)
{
    const char *at = a ? strchr(a, '@') : NULL;
    const char *s, *err = check_line(p, what, a);

    if (err != NULL) {
        return err;
    }
    for (s = a; s != NULL && *s != '\0'; s++) {
        if ((unsigned char)*s <= ' ' || *s == 0x7f || strchr("<>,;:\"\\()[]", *s)) {
            at = NULL;
        }
    }
    if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@') != NULL ||
        strlen(a) > AUTHSVC_EMAIL_MAX) {
        return apr_pstrcat(p, what, " is not a single plain address", NULL);
    }
    return NULL;
}

const char *authsvc_mail_check_address(apr_pool_t *p, const char *addr)
{
    return check_address(p, "the address", addr);
}

typedef struct {
    apr_pool_t *p;
    const char *err;
} vars_check_t;

static int check_var(void *rec, const char *key, const char *val)
{
    vars_check_t *c = rec;

    c->err = check_line(c->p, apr_pstrcat(c->p, "the value of ", key, NULL), val);
    return c->err == NULL;
}

static const char *check_inputs(apr_pool_t *p, const char *from_addr,
                                const char *from_name, const char *to,
                                const apr_table_t *vars)
{
    vars_check_t c = {p, NULL};

    if (vars != NULL) {
        apr_table_do(check_var, &c, vars, NULL);
    }
    if (c.err == NULL) {
        c.err = check_address(p, "the sender address", from_addr);
    }
    if (c.err == NULL) {
        c.err = check_address(p, "the recipient address", to);
    }
    if (c.err == NULL) {
        c.err = check_line(p, "the sender name", from_name);
    }
    return c.err;
}

/* ---- composition: encodings ------------------------------------------------ */

/* n random bytes as lower-case hex; NULL without randomness. */
static const char *random_hex(apr_pool_t *p, apr_size_t n)
{
    unsigned char buf[32];

    if (n > sizeof(buf) || apr_generate_random_bytes(buf, n) != APR_SUCCESS) {
        return NULL;
    }
    return apr_pencode_base16_binary(p, buf, (apr_ssize_t)n, APR_ENCODE_LOWER, NULL);
}

/* Whether header text must go into encoded-words: not printable ASCII, too long to
 * stay on one line, or looking like an encoded-word itself. */
static int needs_words(const char *s)
{
    const char *c;

    for (c = s; *c != '\0'; c++) {
        if ((unsigned char)*c < ' ' || (unsigned char)*c >= 0x7f) {
            return 1;
        }
    }
    return strlen(s) > HEADER_PLAIN || strstr(s, "=?") != NULL;
}

/* RFC 2047 "B" encoded-words, each cut on a UTF-8 character boundary (section 5:
 * no multi-octet character split between words), one per folded line. */
static const char *encoded_words(apr_pool_t *p, const char *s)
{
    char b64[WORD_OCTETS * 2];
    const char *out = "";
    size_t len = strlen(s), n;

    while (len > 0) {
        n = len > WORD_OCTETS ? WORD_OCTETS : len;
        while (n > 1 && n < len && ((unsigned char)s[n] & 0xc0) == 0x80) {
            n--;
        }
        apr_base64_encode(b64, s, (int)n);
        out = apr_pstrcat(p, out, *out ? CRLF " " : "", "=?UTF-8?B?", b64, "?=", NULL);
        s += n;
        len -= n;
    }
    return out;
}

static const char *header_text(apr_pool_t *p, const char *s)
{
    return needs_words(s) ? encoded_words(p, s) : s;
}

/* A display name and the address: an encoded-word phrase, or a quoted-string. */
static const char *from_field(apr_pool_t *p, const char *addr, const char *name)
{
    char *q, *o;

    if (name == NULL || *name == '\0') {
        return addr;
    }
    if (needs_words(name)) {
        return apr_pstrcat(p, encoded_words(p, name), " <", addr, ">", NULL);
    }
    q = o = apr_palloc(p, strlen(name) * 2 + 1);
    for (; *name != '\0'; name++) {
        if (*name == '"' || *name == '\\') {
            *o++ = '\\';
        }
        *o++ = *name;
    }
    *o = '\0';
    return apr_pstrcat(p, "\"", q, "\" <", addr, ">", NULL);
}

/* RFC 5322 section 3.3: apr_rfc822_date's form, with a numeric zone instead of the
 * obsolete "GMT". */
static const char *date_field(apr_pool_t *p, apr_time_t now)
{
    char buf[APR_RFC822_DATE_LEN];

    if (apr_rfc822_date(buf, now) != APR_SUCCESS) {
        return NULL;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, buf, strlen(buf) - 3), "+0000", NULL);
}

/* Line ends made CRLF (the canonical form of text, RFC 2045 section 6.8), then
 * base64 in lines of 76 columns. */
static const char *base64_lines(apr_pool_t *p, const char *s)
{
    char *crlf = apr_palloc(p, strlen(s) * 2 + 1), *o = crlf, *b64, *out;
    size_t n, i;

    for (; *s != '\0'; s++) {
        if (*s == '\n') {
            *o++ = '\r';
        }
        if (*s != '\r') {
            *o++ = *s;
        }
    }
    b64 = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)(o - crlf)));
    apr_base64_encode(b64, crlf, (int)(o - crlf));
    n = strlen(b64);
    out = o = apr_palloc(p, n + (n / B64_COLUMNS + 1) * 2 + 1);
    for (i = 0; i < n; i += B64_COLUMNS) {
        memcpy(o, b64 + i, n - i < B64_COLUMNS ? n - i : B64_COLUMNS);
        o += n - i < B64_COLUMNS ? n - i : B64_COLUMNS;
        memcpy(o, CRLF, 2);
        o += 2;
    }
    *o = '\0';
    return out;
}

static const char *part(apr_pool_t *p, const char *boundary, const char *type,
                        const char *body)
{
    return apr_pstrcat(p, "--", boundary, CRLF "Content-Type: ", type,
                       "; charset=utf-8" CRLF
                       "Content-Transfer-Encoding: base64" CRLF CRLF,
                       base64_lines(p, body), NULL);
}

/* ---- composition ------------------------------------------------------------ */

/* The flows give `expires` in English ("24 hours", "1 minute"): in lang, from the
 * duration.<unit>.one|other messages; any other text is left as it is. */
static const char *localized_duration(apr_pool_t *p, const authsvc_i18n_t *i18n,
                                      const char *lang, const char *s)
{
    static const char *const units[] = {"day", "hour", "minute", "second", NULL};
    authsvc_json_t *data;
    const char *err, *rest, *out;
    size_t digits = s ? strspn(s, "0123456789") : 0;
    int i;

    if (digits == 0 || digits > 9 || s[digits] != ' ') {
        return s;
    }
    rest = s + digits + 1;
    for (i = 0; units[i] != NULL; i++) {
        size_t n = strlen(units[i]);
        if (strncmp(rest, units[i], n) == 0 &&
            (rest[n] == '\0' || (rest[n] == 's' && rest[n + 1] == '\0'))) {
            data = authsvc_json_object(p);
            authsvc_json_set_str(data, "n", apr_pstrmemdup(p, s, digits));
            out = authsvc_template_render(
                p,
                authsvc_i18n_text(i18n, lang,
                                  apr_pstrcat(p, "duration.", units[i],
                                              digits == 1 && *s == '1' ? ".one" : ".other",
                                              NULL)),
                data, 0, &err);
            return out ? out : s;
        }
    }
    return s;
}

const char *authsvc_mail_compose(apr_pool_t *p, const authsvc_mail_tpl_t *tpl,
                                 const char *from_addr, const char *from_name,
                                 const char *to, const apr_table_t *vars, apr_time_t now,
                                 const char **message)
{
    authsvc_i18n_t *i18n = NULL;
    const char *err = authsvc_i18n_load(p, NULL, &i18n);

    if (err != NULL) {
        return apr_pstrcat(p, "no catalogue: ", err, NULL);
    }
    return authsvc_mail_compose_in(p, tpl, i18n, "en", from_addr, from_name, to, vars, now,
                                   message);
}

const char *authsvc_mail_compose_in(apr_pool_t *p, const authsvc_mail_tpl_t *tpl,
                                    const authsvc_i18n_t *i18n, const char *lang,
                                    const char *from_addr, const char *from_name,
                                    const char *to, const apr_table_t *vars, apr_time_t now,
                                    const char **message)
{
    const char *err = check_inputs(p, from_addr, from_name, to, vars);
    const char *subject, *text, *html, *id, *boundary, *date, *expires;
    const authsvc_template_msgs_t *msgs = authsvc_i18n_msgs(p, i18n, lang);

    if (err != NULL) {
        return err;
    }
    vars = vars ? vars : apr_table_make(p, 1); /* NULL would mean "check only" */
    {
        apr_table_t *copy = apr_table_copy(p, vars);
        expires = apr_table_get(vars, "expires");
        if (expires != NULL && strcmp(lang, "en") != 0) {
            apr_table_setn(copy, "expires", localized_duration(p, i18n, lang, expires));
        }
        apr_table_setn(copy, "lang", lang);
        vars = copy;
    }
    subject = render(p, tpl->subject, vars, msgs, 0, &err);
    text = subject ? render(p, tpl->text, vars, msgs, 0, &err) : NULL;
    html = text ? render(p, tpl->html, vars, msgs, 1, &err) : NULL;
    if (html == NULL) {
        return apr_pstrcat(p, "bad template: ", err, NULL);
    }
    if ((err = check_line(p, "the subject", subject)) != NULL) {
        return err;
    }
    id = random_hex(p, 16);
    boundary = random_hex(p, 16);
    date = date_field(p, now);
    if (id == NULL || boundary == NULL || date == NULL) {
        return "no random bytes or no date for the message";
    }
    boundary = apr_pstrcat(p, "=_authsvc_", boundary, NULL);
    *message = apr_pstrcat(
        p, "From: ", from_field(p, from_addr, from_name), CRLF "To: ", to,
        CRLF "Subject: ", header_text(p, subject), CRLF "Date: ", date,
        CRLF "Message-ID: <", id, strrchr(from_addr, '@'),
        ">" CRLF "MIME-Version: 1.0" CRLF "Content-Language: ", lang,
        CRLF "Auto-Submitted: auto-generated" CRLF
        "Content-Type: multipart/alternative; boundary=\"",
        boundary, "\"" CRLF CRLF, part(p, boundary, "text/plain", text),
        part(p, boundary, "text/html", html), "--", boundary, "--" CRLF, NULL);
    return NULL;
}

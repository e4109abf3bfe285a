/* test_mail.c - mail.c (templates, composition) and mail_transport.c (parse, file:,
 * sendmail:). SMTP is left to the Apache::Test suite, which runs a sink. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "apr_base64.h"
#include "apr_file_info.h"
#include "apr_file_io.h"
#include "apr_general.h"
#include "apr_strings.h"

#include "mail.h"
#include "mail_transport.h"
#include "tap_apr.h"
#include "text.h"

#define FROM "noreply@example.com"
#define TO "anna@example.org"
#define NOW apr_time_from_sec(1700000000) /* Tue, 14 Nov 2023 22:13:20 UTC */

/* U+00FC, U+00DF, U+00F6 (2 octets each), U+1F600 (4 octets): long enough for three
 * encoded-words, and a cut at every 39th octet would fall inside an emoji. */
#define EMOJI "\xf0\x9f\x98\x80"
#define SITE_UTF8                                                                        \
    "Hallo Gr\xc3\xbc\xc3\x9f"                                                           \
    "e aus K\xc3\xb6ln: " EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI EMOJI    \
    " B\xc3\xbc"                                                                         \
    "cher f\xc3\xbcr alle"

static apr_pool_t *pool;

/* ---- helpers: messages --------------------------------------------------- */

static apr_table_t *vars(const char *k1, const char *v1, const char *k2, const char *v2)
{
    apr_table_t *t = apr_table_make(pool, 4);

    if (k1 != NULL) {
        apr_table_set(t, k1, v1);
    }
    if (k2 != NULL) {
        apr_table_set(t, k2, v2);
    }
    return t;
}

static const char *compose(const authsvc_mail_tpl_t *tpl, const char *from_name,
                           const apr_table_t *v, const char **err)
{
    const char *msg = NULL;

    *err = authsvc_mail_compose(pool, tpl, FROM, from_name, TO, v, NOW, &msg);
    return msg;
}

static const char *header_block(const char *msg)
{
    const char *end = msg ? strstr(msg, "\r\n\r\n") : NULL;

    return end ? apr_pstrmemdup(pool, msg, (apr_size_t)(end - msg + 2)) : "";
}

/* How many header lines start with name (continuation lines do not count). */
static int count_header(const char *head, const char *name)
{
    const char *s = head;
    int n = 0;

    while (s != NULL && *s != '\0') {
        n += strncmp(s, name, strlen(name)) == 0;
        s = strstr(s, "\r\n");
        s = s ? s + 2 : NULL;
    }
    return n;
}

/* One header's value, unfolded (each CRLF before a blank removed). */
static const char *header_value(const char *head, const char *name)
{
    const char *s = strstr(head, apr_pstrcat(pool, "\r\n", name, NULL)), *e;
    char *v, *o, *i;

    if (strncmp(head, name, strlen(name)) == 0) {
        s = head + strlen(name);
    }
    else if (s != NULL) {
        s += 2 + strlen(name);
    }
    else {
        return NULL;
    }
    for (e = s; (e = strstr(e, "\r\n")) != NULL && (e[2] == ' ' || e[2] == '\t');
         e += 2) {
    }
    v = apr_pstrmemdup(pool, s, e ? (apr_size_t)(e - s) : strlen(s));
    for (i = o = v; *i != '\0'; i++) {
        if (i[0] == '\r' && i[1] == '\n') {
            i++;
            continue;
        }
        *o++ = *i;
    }
    *o = '\0';
    return v;
}

/* The text of RFC 2047 "B" encoded-words separated by blanks; NULL if anything else
 * is there, a word is longer than 75 characters or does not hold whole characters
 * (section 5: a multi-octet character is never split between words). */
static const char *decode_words(const char *s)
{
    const char *out = "", *end;
    char *buf;
    int n;

    for (s += strspn(s, " "); *s != '\0'; s += strspn(s, " ")) {
        if (strncmp(s, "=?UTF-8?B?", 10) != 0 || (end = strstr(s + 10, "?=")) == NULL ||
            end + 2 - s > 75) {
            return NULL;
        }
        buf = apr_pstrmemdup(pool, s + 10, (apr_size_t)(end - s - 10));
        n = apr_base64_decode(buf, buf);
        if (authsvc_text_utf8_length(buf, (size_t)n) < 0) {
            return NULL;
        }
        out = apr_pstrcat(pool, out, apr_pstrmemdup(pool, buf, (apr_size_t)n), NULL);
        s = end + 2;
    }
    return out;
}

/* The decoded body of the part of this type; NULL if absent or a line is too long. */
static const char *decode_part(const char *msg, const char *type)
{
    const char *s = strstr(msg, apr_pstrcat(pool, "Content-Type: ", type,
                                            "; charset=utf-8\r\n"
                                            "Content-Transfer-Encoding: base64\r\n\r\n",
                                            NULL));
    const char *e;
    char *b64 = NULL, *out;
    int n;

    s = s ? strstr(s, "\r\n\r\n") + 4 : NULL;
    for (; s != NULL && strncmp(s, "--", 2) != 0; s = e + 2) {
        e = strstr(s, "\r\n");
        if (e == NULL || e - s > 76) {
            return NULL;
        }
        b64 = apr_pstrcat(pool, b64 ? b64 : "",
                          apr_pstrmemdup(pool, s, (apr_size_t)(e - s)), NULL);
    }
    if (s == NULL) {
        return NULL;
    }
    b64 = b64 ? b64 : "";
    out = apr_palloc(pool, (apr_size_t)apr_base64_decode_len(b64) + 1);
    n = apr_base64_decode(out, b64);
    out[n] = '\0';
    return out;
}

/* Every line ends with CRLF (no bare CR or LF) and has at most 998 octets. */
static int lines_ok(const char *msg)
{
    const char *s, *line = msg;

    for (s = msg; *s != '\0'; s++) {
        if ((*s == '\r' && s[1] != '\n') || (*s == '\n' && (s == msg || s[-1] != '\r'))) {
            return 0;
        }
        if (*s == '\n') {
            if (s - 1 - line > 998) {
                return 0;
            }
            line = s + 1;
        }
    }
    return line == s && s != msg;
}

/* ---- helpers: files ------------------------------------------------------ */

static int write_file(const char *path, const char *text, apr_fileperms_t perms)
{
    apr_file_t *f;
    apr_status_t rv = apr_file_open(
        &f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE, perms, pool);

    if (rv == APR_SUCCESS) {
        rv = apr_file_write_full(f, text, strlen(text), NULL);
        apr_file_close(f);
    }
    return rv == APR_SUCCESS;
}

static const char *read_file(const char *path)
{
    char *text = NULL;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t got = 0;

    if (apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, pool) !=
            APR_SUCCESS ||
        apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        return NULL;
    }
    text = apr_palloc(pool, (apr_size_t)fi.size + 1);
    apr_file_read_full(f, text, (apr_size_t)fi.size, &got);
    text[got] = '\0';
    apr_file_close(f);
    return text;
}

static const char *make_temp_dir(void)
{
    const char *tmp = "/tmp";
    char *dir;

    apr_temp_dir_get(&tmp, pool);
    dir = apr_pstrcat(pool, tmp, "/test_mail.XXXXXX", NULL);
    return mkdtemp(dir);
}

/* The names in dir (not . and ..), space-separated in directory order. */
static const char *list_dir(const char *dir, int *count)
{
    const char *names = "";
    apr_dir_t *d;
    apr_finfo_t fi;

    *count = 0;
    if (apr_dir_open(&d, dir, pool) != APR_SUCCESS) {
        return NULL;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        if (strcmp(fi.name, ".") != 0 && strcmp(fi.name, "..") != 0) {
            names = apr_pstrcat(pool, names, *names ? " " : "", fi.name, NULL);
            (*count)++;
        }
    }
    apr_dir_close(d);
    return names;
}

static void remove_dir(const char *dir)
{
    int n;
    char *names = apr_pstrdup(pool, list_dir(dir, &n)), *last, *name;

    for (name = apr_strtok(names, " ", &last); name;
         name = apr_strtok(NULL, " ", &last)) {
        apr_file_remove(apr_pstrcat(pool, dir, "/", name, NULL), pool);
    }
    apr_dir_remove(dir, pool);
}

/* ---- templates ----------------------------------------------------------- */

static void test_builtin(void)
{
    static const char *const names[] = {"verify_email",   "change_email",
                                        "reset_password", "password_changed",
                                        "email_changed",  "account_deleted",
                                        "mfa_enabled",    "mfa_disabled"};
    authsvc_mail_tpls_t *t = NULL;
    const authsvc_mail_tpl_t *tpl;
    const char *err = authsvc_mail_templates_load(pool, NULL, &t), *msg, *text;
    size_t i;

    is_str(err, NULL, "built-in templates load");
    for (i = 0; t != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
        tpl = authsvc_mail_template(t, names[i]);
        ok(tpl && *tpl->subject && *tpl->text && *tpl->html, "%s is built in", names[i]);
        if (tpl == NULL) {
            continue;
        }
        ok(strpbrk(tpl->subject, "\r\n") == NULL, "%s: subject is one line", names[i]);
        msg = compose(tpl, "Example", vars("code", "TOKEN-123_abc", "site", "Example"),
                      &err);
        is_str(err, NULL, "%s composes", names[i]);
        text = msg ? decode_part(msg, "text/plain") : NULL;
        if (i < 3) {
            ok(text && strstr(text, "\r\nCode: TOKEN-123_abc\r\n"),
               "%s: the text part has a line 'Code: <token>'", names[i]);
        }
        ok(text && !strstr(text, "{{"), "%s: no placeholder left", names[i]);
    }
    ok(authsvc_mail_template(t, "nope") == NULL, "unknown template name: NULL");
}

static void test_builtin_link(void)
{
    authsvc_mail_tpls_t *t = NULL;
    const authsvc_mail_tpl_t *tpl;
    const char *err, *msg, *text, *html;
    const char *link = "https://example.com/api/verify-email?token=T0k&x=1";

    authsvc_mail_templates_load(pool, NULL, &t);
    tpl = authsvc_mail_template(t, "verify_email");
    msg = tpl ? compose(tpl, NULL, vars("code", "T0k", "link", link), &err) : NULL;
    text = msg ? decode_part(msg, "text/plain") : NULL;
    html = msg ? decode_part(msg, "text/html") : NULL;
    ok(text && strstr(text, link), "verify_email with a link: link in the text");
    ok(html && strstr(html,
                      "href=\"https://example.com/api/verify-email?token=T0k&amp;x=1\""),
       "verify_email with a link: escaped href in the HTML");
    msg = tpl ? compose(tpl, NULL, vars("code", "T0k", NULL, NULL), &err) : NULL;
    text = msg ? decode_part(msg, "text/plain") : NULL;
    html = msg ? decode_part(msg, "text/html") : NULL;
    ok(text && !strstr(text, "http") && strstr(text, "Code: T0k"),
       "verify_email without a link: code only");
    ok(html && !strstr(html, "href"), "verify_email without a link: no href in the HTML");
}

static const char *render_text(const char *text, const apr_table_t *v)
{
    authsvc_mail_tpl_t tpl = {"s", text, ""};
    const char *err, *msg = compose(&tpl, NULL, v, &err);

    if (err != NULL) {
        diag("compose: %s", err);
    }
    return msg ? decode_part(msg, "text/plain") : NULL;
}

static void test_fill(void)
{
    const char *both = "A{{#link}}[{{link}}]{{/link}}B{{^link}}(none){{/link}}";
    const char *lines = "x\n{{#link}}\n  L {{link}}\n{{/link}}\ny {{ip}}.\n";

    is_str(render_text("Hello {{name}}, {{site}}!", vars("name", "Anna", "site", "Ex")),
           "Hello Anna, Ex!", "placeholders filled");
    is_str(render_text("Hello {{name}}!", vars("site", "Ex", NULL, NULL)), "Hello !",
           "missing variable is empty");
    is_str(render_text("{{name}}", vars("name", "{{site}}", "site", "no")), "{{site}}",
           "a value is not a template");
    is_str(render_text(both, vars("link", "u", NULL, NULL)), "A[u]B",
           "{{#link}} kept, {{^link}} dropped with a link");
    is_str(render_text(both, vars("link", "", NULL, NULL)), "AB(none)",
           "{{#link}} dropped, {{^link}} kept with an empty link");
    is_str(render_text(both, NULL), "AB(none)", "no variables at all");
    is_str(render_text(lines, vars("link", "u", "ip", "1.2.3.4")),
           "x\r\n  L u\r\ny 1.2.3.4.\r\n", "standalone section lines vanish (kept)");
    is_str(render_text(lines, vars("ip", "", NULL, NULL)), "x\r\ny .\r\n",
           "standalone section lines vanish (dropped)");
}

static void test_headers(void)
{
    authsvc_mail_tpl_t tpl = {"Welcome to {{site}}", "t", "h"};
    const char *err, *msg = compose(&tpl, "Example Site", vars("site", "Ex", 0, 0), &err);
    const char *head = header_block(msg), *again, *id;
    static const char *const once[] = {
        "From: ",       "To: ",           "Subject: ",        "Date: ",
        "Message-ID: ", "MIME-Version: ", "Auto-Submitted: ", "Content-Type: "};
    size_t i;

    is_str(err, NULL, "plain message composes");
    for (i = 0; i < sizeof(once) / sizeof(once[0]); i++) {
        is_int(count_header(head, once[i]), 1, "exactly one %s header", once[i]);
    }
    is_str(header_value(head, "From: "), "\"Example Site\" <" FROM ">", "From");
    is_str(header_value(head, "To: "), TO, "To");
    is_str(header_value(head, "Subject: "), "Welcome to Ex", "ASCII subject as is");
    is_str(header_value(head, "Date: "), "Tue, 14 Nov 2023 22:13:20 +0000",
           "Date in RFC 5322 form, numeric zone");
    is_str(header_value(head, "MIME-Version: "), "1.0", "MIME-Version");
    is_str(header_value(head, "Auto-Submitted: "), "auto-generated", "Auto-Submitted");
    id = header_value(head, "Message-ID: ");
    ok(id && id[0] == '<' && strlen(id) > 20 && !strcmp(strchr(id, '@'), "@example.com>"),
       "Message-ID <random@domain of From>: %s", id ? id : "NULL");
    ok(strstr(header_value(head, "Content-Type: "), "multipart/alternative; boundary=\""),
       "multipart/alternative");
    ok(lines_ok(msg), "CRLF line ends, lines <= 998 octets");
    ok(msg && strstr(msg, "Content-Type: text/plain; charset=utf-8\r\n"
                          "Content-Transfer-Encoding: base64\r\n"),
       "text/plain part in base64");
    again = compose(&tpl, NULL, NULL, &err);
    ok(again && strcmp(header_value(header_block(again), "Message-ID: "), id) != 0 &&
           strcmp(header_value(header_block(again), "Content-Type: "),
                  header_value(head, "Content-Type: ")) != 0,
       "Message-ID and boundary differ between messages");
    is_str(again ? header_value(header_block(again), "From: ") : NULL, FROM,
           "no display name: bare From");
}

static void test_encoded_words(void)
{
    authsvc_mail_tpl_t tpl = {"{{site}}", "t", "h"};
    const char *err,
        *msg = compose(&tpl, "J\xc3\xbcrgen \"Q\"", vars("site", SITE_UTF8, 0, 0), &err);
    const char *head = header_block(msg), *from;
    const char *subject = header_value(head, "Subject: ");

    is_str(err, NULL, "non-ASCII subject composes");
    ok(subject && strncmp(subject, "=?UTF-8?B?", 10) == 0, "subject is encoded-words");
    ok(strstr(head, "?=\r\n =?UTF-8?B?") != NULL, "long subject folded over lines");
    is_str(subject ? decode_words(subject) : NULL, SITE_UTF8,
           "encoded-words decode back to the subject");
    ok(lines_ok(msg) && !strstr(head, "\xc3"), "no raw 8-bit octet in the header");
    from = header_value(head, "From: ");
    ok(from && strncmp(from, "=?UTF-8?B?", 10) == 0 &&
           !strcmp(strstr(from, " <"), " <" FROM ">"),
       "non-ASCII display name encoded: %s", from ? from : "NULL");
    msg = compose(&tpl, "Ann \"Q\" \\", vars("site", "=?x?", 0, 0), &err);
    head = header_block(msg);
    is_str(header_value(head, "From: "), "\"Ann \\\"Q\\\" \\\\\" <" FROM ">",
           "ASCII display name quoted, quotes and backslashes escaped");
    is_str(decode_words(header_value(head, "Subject: ")), "=?x?",
           "a subject that looks like an encoded-word is encoded");
}

static void test_escaping(void)
{
    authsvc_mail_tpl_t tpl = {"s", "T: {{name}}", "<p title=\"{{name}}\">{{name}}</p>"};
    const char *name = "<b>\"Tom\" & 'Jerry'</b>";
    const char *err, *msg = compose(&tpl, NULL, vars("name", name, 0, 0), &err);
    const char *text = msg ? decode_part(msg, "text/plain") : NULL;
    const char *html = msg ? decode_part(msg, "text/html") : NULL;
    const char *esc = "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;";

    is_str(text, apr_pstrcat(pool, "T: ", name, NULL), "text part: value as is");
    is_str(html, apr_pstrcat(pool, "<p title=\"", esc, "\">", esc, "</p>", NULL),
           "html part: & < > \" ' escaped");
}

static void test_long_lines(void)
{
    authsvc_mail_tpl_t tpl = {"s", "{{name}}\n{{name}}", "{{name}}"};
    char *big = apr_palloc(pool, 3001);
    const char *err, *msg;

    memset(big, 'x', 3000);
    big[3000] = '\0';
    msg = compose(&tpl, NULL, vars("name", big, 0, 0), &err);
    ok(msg && lines_ok(msg), "a 3000-octet value: lines still <= 998, CRLF");
    is_str(msg ? decode_part(msg, "text/plain") : NULL,
           apr_pstrcat(pool, big, "\r\n", big, NULL), "text part: LF became CRLF");
}

static void refused(const char *from, const char *name, const char *to,
                    const apr_table_t *v, const char *want, const char *what)
{
    authsvc_mail_tpl_t tpl = {"s {{name}}", "t", "h"};
    const char *msg = NULL;
    const char *err = authsvc_mail_compose(pool, &tpl, from, name, to, v, NOW, &msg);

    ok(err && strstr(err, want) && msg == NULL, "refused: %s (%s)", what,
       err ? err : "accepted");
}

static void test_injection(void)
{
    static const char *const bad_values[] = {"x\r\nBcc: e@vil.example", "x\nBcc: e",
                                             "x\r"};
    static const char *const bad_addrs[] = {"a@b.c, x@y.z", "a@b.c\r\nBcc: x@y.z",
                                            "<a@b>",        "a@b@c",
                                            "ab.c",         "a b@c.d",
                                            "\"a\"@b.c",    "a@b.c;x@y.z",
                                            "a\\@b.c",      "@b.c",
                                            "a@",           "",
                                            "a:b@c.d",      "a(b)@c.d",
                                            "a\t@b.c"};
    size_t i;

    for (i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        refused(FROM, NULL, TO, vars("site", "x", "new_email", bad_values[i]),
                "the value of new_email contains a line break", "line break in a value");
    }
    refused(FROM, "Ex\r\nBcc: e", TO, NULL, "line break",
            "line break in the display name");
    refused(FROM "\r\nBcc: e@vil.example", NULL, TO, NULL, "line break",
            "line break in From");
    for (i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
        refused(FROM, NULL, bad_addrs[i], NULL, "recipient", bad_addrs[i]);
        refused(bad_addrs[i], NULL, TO, NULL, "sender", bad_addrs[i]);
    }
    refused(FROM, NULL, NULL, NULL, "recipient", "no recipient");
    is_str(authsvc_mail_check_address(pool, "a.b+c@example.co.uk"), NULL,
           "check_address: plain address accepted");
    ok(authsvc_mail_check_address(pool, "a@b.c, x@y.z") != NULL,
       "check_address: two addresses refused");
}

/* ---- templates from a directory ------------------------------------------ */

static const char *load_with(const char *dir, const char *file, const char *text)
{
    authsvc_mail_tpls_t *t = NULL;
    const char *path = apr_pstrcat(pool, dir, "/", file, NULL);
    const char *err;

    write_file(path, text, APR_FPROT_OS_DEFAULT);
    err = authsvc_mail_templates_load(pool, dir, &t);
    apr_file_remove(path, pool);
    return err;
}

static void bad_template(const char *dir, const char *text, const char *want,
                         const char *what)
{
    const char *err = load_with(dir, "reset_password.txt", text);

    ok(err && strstr(err, "reset_password.txt") && strstr(err, want),
       "template refused: %s (%s)", what, err ? err : "accepted");
}

static void test_override(void)
{
    const char *dir = make_temp_dir(), *err;
    authsvc_mail_tpls_t *builtin = NULL, *t = NULL;
    const authsvc_mail_tpl_t *a, *b;

    authsvc_mail_templates_load(pool, NULL, &builtin);
    ok(dir &&
           write_file(apr_pstrcat(pool, dir, "/verify_email.subject", NULL),
                      "Custom {{site}}\r\n", APR_FPROT_OS_DEFAULT) &&
           write_file(apr_pstrcat(pool, dir, "/unknown.txt", NULL), "{{broken",
                      APR_FPROT_OS_DEFAULT),
       "temp dir with verify_email.subject and unknown.txt");
    err = dir ? authsvc_mail_templates_load(pool, dir, &t) : "no dir";
    is_str(err, NULL, "override loads (unknown file ignored)");
    a = authsvc_mail_template(t, "verify_email");
    b = authsvc_mail_template(builtin, "verify_email");
    is_str(a ? a->subject : NULL, "Custom {{site}}",
           "subject overridden, line end dropped");
    ok(a && b && !strcmp(a->text, b->text) && !strcmp(a->html, b->html),
       "text and html of the same template stay built in");
    ok(b && strcmp(b->subject, "Custom {{site}}") != 0, "built-in set unchanged");
    bad_template(dir, "Code: {{code", "\"{{\" without \"}}\"", "unclosed {{");
    bad_template(dir, "a\nb {{nme}}", "line 2: unknown variable \"nme\"",
                 "unknown variable");
    bad_template(dir, "{{ code }}", "bad placeholder", "blanks in a placeholder");
    bad_template(dir, "a\n{{&code}}", "line 2: values are always escaped here",
                 "a raw value ({{&code}}): mail values come from users");
    bad_template(dir, "{{#link}}x", "without \"{{/link}}\"", "unclosed section");
    bad_template(dir, "x{{/link}}", "closes no open section", "stray close");
    bad_template(dir, "{{#link}}{{/code}}", "closes no open section", "crossed sections");
    bad_template(dir, "caf\xe9", "not UTF-8", "Latin-1 text");
    err = load_with(dir, "reset_password.subject", "one\ntwo\n");
    ok(err && strstr(err, "one line"), "two-line subject refused (%s)", err ? err : "");
    err = authsvc_mail_templates_load(pool, "/nonexistent/mail", &t);
    ok(err && strstr(err, "/nonexistent/mail"), "missing directory refused (%s)",
       err ? err : "");
    remove_dir(dir);
}

/* ---- transport ----------------------------------------------------------- */

static void parse_ok(const char *spec, const char *authfile, const char *what)
{
    authsvc_mail_transport_t *t = NULL;
    const char *err = authsvc_mail_transport_parse(pool, spec, authfile, &t);

    ok(err == NULL && t != NULL, "transport accepted: %s%s%s", what, err ? " - " : "",
       err ? err : "");
}

static void parse_bad(const char *spec, const char *authfile, const char *want,
                      const char *what)
{
    authsvc_mail_transport_t *t = NULL;
    const char *err = authsvc_mail_transport_parse(pool, spec, authfile, &t);

    ok(err && strstr(err, want) && t == NULL, "transport refused: %s (%s)", what,
       err ? err : "accepted");
}

static void test_parse(void)
{
    const char *dir = make_temp_dir();
    const char *good = apr_pstrcat(pool, dir, "/auth", NULL);
    const char *bad = apr_pstrcat(pool, dir, "/bad", NULL);
    authsvc_mail_transport_t *t = NULL;
    const char *d;

    write_file(good, "alice:s3cr:et\n", APR_FPROT_UREAD | APR_FPROT_UWRITE);
    write_file(bad, "alice\n", APR_FPROT_UREAD | APR_FPROT_UWRITE);
    parse_ok("sendmail:/usr/sbin/sendmail -t -i", NULL, "sendmail with arguments");
    parse_ok("smtp://localhost:25", NULL, "smtp");
    parse_ok("smtp://[::1]:2525", NULL, "smtp to IPv6");
    parse_ok("smtps://mail.example.com:465", NULL, "smtps");
    parse_ok("file:/var/spool/authsvc", NULL, "file");
    parse_ok("smtp://mail.example.com:587", good, "smtp with an AUTHFILE");
    parse_bad("sendmail:sendmail -t", NULL, "absolute", "sendmail relative");
    parse_bad("sendmail:", NULL, "needs a command", "sendmail without command");
    parse_bad("file:spool/mail", NULL, "absolute", "file relative");
    parse_bad("ftp://x", NULL, "unknown transport", "unknown scheme");
    parse_bad("/usr/sbin/sendmail", NULL, "unknown transport", "no scheme");
    parse_bad("smtp://user:pw@host:25", NULL, "AUTHFILE", "credentials in the URL");
    parse_bad("smtp://host:25/x", NULL, "HOST:PORT", "path in the URL");
    parse_bad("smtp://host:99999", NULL, "HOST:PORT", "bad port");
    parse_bad("file:/tmp", good, "only with smtp", "AUTHFILE with file:");
    parse_bad("sendmail:/usr/sbin/sendmail", good, "only with smtp",
              "AUTHFILE, sendmail");
    parse_bad("smtp://h:25", bad, "user:password", "AUTHFILE without colon");
    parse_bad("smtp://h:25", "/nonexistent/auth", "cannot read", "AUTHFILE missing");
    authsvc_mail_transport_parse(pool, "smtp://h:587", good, &t);
    d = authsvc_mail_transport_describe(t);
    ok(d && strstr(d, "alice") && strstr(d, "STARTTLS required") && !strstr(d, "s3cr"),
       "describe: user and STARTTLS, no password (%s)", d ? d : "NULL");
    authsvc_mail_transport_parse(pool, "smtp://h:25", NULL, &t);
    d = authsvc_mail_transport_describe(t);
    ok(d && strstr(d, "STARTTLS if offered"), "describe without AUTHFILE (%s)",
       d ? d : "NULL");
    remove_dir(dir);
}

static const char *test_message(void)
{
    authsvc_mail_tpl_t tpl = {"Hi", "line one\nline two\n", "<p>x</p>\n"};
    const char *err;

    return compose(&tpl, NULL, NULL, &err);
}

static void test_file_transport(void)
{
    const char *dir = make_temp_dir(), *msg = test_message(), *err = NULL, *names;
    authsvc_mail_transport_t *t = NULL;
    apr_finfo_t fi;
    int n = 0;

    authsvc_mail_transport_parse(pool, apr_pstrcat(pool, "file:", dir, NULL), NULL, &t);
    is_int(authsvc_mail_transport_send(pool, t, FROM, TO, msg, &err), APR_SUCCESS,
           "file: sent (%s)", err ? err : "ok");
    names = list_dir(dir, &n);
    is_int(n, 1, "file: exactly one file (%s)", names ? names : "");
    ok(names && strlen(names) > 4 && !strcmp(names + strlen(names) - 4, ".eml"),
       "file: it is a .eml, no .tmp left");
    names = names ? apr_pstrcat(pool, dir, "/", names, NULL) : "";
    is_str(read_file(names), msg, "file: the message as is, CRLF kept");
    ok(apr_stat(&fi, names, APR_FINFO_PROT, pool) == APR_SUCCESS &&
           !(fi.protection & (APR_FPROT_WREAD | APR_FPROT_WWRITE | APR_FPROT_GWRITE)),
       "file: not world-readable, not group-writable");
    ok(authsvc_mail_transport_send(pool, t, FROM, "a@b\r\nRCPT TO:<e@vil>", msg, &err) !=
           APR_SUCCESS,
       "envelope with a line break refused");
    remove_dir(dir);
}

/* A stand-in sendmail: a shell script in the temp dir. */
static const authsvc_mail_transport_t *fake_sendmail(const char *dir, const char *script,
                                                     const char *args)
{
    const char *path = apr_pstrcat(pool, dir, "/sendmail", NULL);
    authsvc_mail_transport_t *t = NULL;

    write_file(path, script, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE);
    authsvc_mail_transport_parse(
        pool, apr_pstrcat(pool, "sendmail:", path, " ", args, NULL), NULL, &t);
    return t;
}

static void test_sendmail_transport(void)
{
    const char *dir = make_temp_dir(), *msg = test_message(), *err = NULL, *got;
    const char *out = apr_pstrcat(pool, dir, "/out", NULL);
    const authsvc_mail_transport_t *t;
    apr_status_t rv;

    t = fake_sendmail(dir,
                      "#!/bin/sh\n[ \"$1\" = -t ] && [ \"$2\" = -i ] && cat > \"$3\"\n",
                      apr_pstrcat(pool, "-t -i '", out, "'", NULL));
    rv = authsvc_mail_transport_send(pool, t, FROM, TO, msg, &err);
    is_int(rv, APR_SUCCESS, "sendmail: sent (%s)", err ? err : "ok");
    got = read_file(out);
    ok(got && !strchr(got, '\r') && strstr(got, "\nSubject: Hi\n"),
       "sendmail: got the message with LF line ends");
    ok(got && msg && strlen(got) + (size_t)count_header(msg, "") == strlen(msg),
       "sendmail: one octet less per line, nothing else lost");

    t = fake_sendmail(dir, "#!/bin/sh\ncat > /dev/null\nexit 75\n", "");
    rv = authsvc_mail_transport_send(pool, t, FROM, TO, msg, &err);
    ok(rv != APR_SUCCESS && err && !strcmp(err, "sendmail exited with status 75"),
       "sendmail exiting 75 is an error (%s)", err ? err : "NULL");

    t = fake_sendmail(dir, "#!/bin/sh\nexit 75\n", "");
    rv = authsvc_mail_transport_send(pool, t, FROM, TO, msg, &err);
    ok(rv != APR_SUCCESS && err && strstr(err, "status 75"),
       "sendmail exiting without reading: its status, not a broken pipe (%s)",
       err ? err : "NULL");

    t = NULL;
    authsvc_mail_transport_parse(pool, "sendmail:/nonexistent/sendmail -t", NULL,
                                 (authsvc_mail_transport_t **)&t);
    rv = authsvc_mail_transport_send(pool, t, FROM, TO, msg, &err);
    ok(rv != APR_SUCCESS && err && strstr(err, "/nonexistent/sendmail"),
       "missing sendmail command (%s)", err ? err : "NULL");
    remove_dir(dir);
}

int main(void)
{
    pool = tap_apr_start();
    signal(SIGPIPE, SIG_IGN); /* as in httpd: see mail_transport.h */
    test_builtin();
    test_builtin_link();
    test_fill();
    test_headers();
    test_encoded_words();
    test_escaping();
    test_long_lines();
    test_injection();
    test_override();
    test_parse();
    test_file_transport();
    test_sendmail_transport();
    return tap_apr_end(pool);
}

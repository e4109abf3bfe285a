/* test_i18n.c - i18n.c and {{@id}}: the shipped catalogues against the shipped
 * templates (every id used is in every catalogue, no id is unused, placeholders
 * agree, the "c." texts are the C code's own), the lookup and its fallbacks, loading
 * from a directory (a new language, an override, every kind of broken file), the
 * Accept-Language negotiation, and a mail composed in German.
 * Run from the repository root (t/unit/run.sh does): it reads conf/ and src/.
 */
#include <stdlib.h>
#include <string.h>

#include "apr_base64.h"
#include "apr_file_info.h"
#include "apr_file_io.h"
#include "apr_general.h"
#include "apr_hash.h"
#include "apr_strings.h"

#include "i18n.h"
#include "json.h"
#include "mail.h"
#include "tap_apr.h"
#include "template.h"

static apr_pool_t *pool;
static authsvc_i18n_t *builtin;

/* ---- helpers ------------------------------------------------------------- */

static const char *slurp(const char *path)
{
    const char *text = NULL, *err = authsvc_template_read(pool, path, 1 << 20, &text);

    if (err != NULL || text == NULL) {
        printf("Bail out! cannot read %s: %s\n", path, err ? err : "missing");
        exit(2);
    }
    return text;
}

/* The C source of path with adjacent string literals joined ("a " "b" -> "a b"). */
static const char *c_source(const char *path)
{
    const char *s = slurp(path), *q;
    char *out = apr_palloc(pool, strlen(s) + 1), *o = out;

    while (*s != '\0') {
        if (*s == '"') {
            q = s + 1 + strspn(s + 1, " \t\r\n");
            if (*q == '"' && q > s + 1) {
                s = q + 1;
                continue;
            }
        }
        *o++ = *s++;
    }
    *o = '\0';
    return out;
}

/* Add the {{@id}} ids of text to used. */
static void collect_ids(apr_hash_t *used, const char *text)
{
    const char *q = text, *e;

    while ((q = strstr(q, "{{@")) != NULL && (e = strstr(q, "}}")) != NULL) {
        apr_hash_set(used, apr_pstrmemdup(pool, q + 3, (apr_size_t)(e - q - 3)),
                     APR_HASH_KEY_STRING, "");
        q = e + 2;
    }
}

static apr_hash_t *used_ids(void)
{
    apr_hash_t *used = apr_hash_make(pool);
    const char *dirs[] = {"conf/templates", "conf/mail"};
    apr_dir_t *d;
    apr_finfo_t fi;
    int i;

    for (i = 0; i < 2; i++) {
        if (apr_dir_open(&d, dirs[i], pool) != APR_SUCCESS) {
            printf("Bail out! cannot open %s\n", dirs[i]);
            exit(2);
        }
        while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS) {
            if (fi.filetype == APR_REG && fi.name[0] != '.' &&
                strcmp(fi.name, "README.md") != 0) {
                collect_ids(used, slurp(apr_pstrcat(pool, dirs[i], "/", fi.name, NULL)));
            }
        }
        apr_dir_close(d);
    }
    return used;
}

static const char *write_file(const char *dir, const char *name, const char *text)
{
    const char *path = apr_pstrcat(pool, dir, "/", name, NULL);
    apr_file_t *f;

    apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
                  APR_FPROT_OS_DEFAULT, pool);
    apr_file_puts(text, f);
    apr_file_close(f);
    return path;
}

static const char *temp_dir(void)
{
    char *dir = apr_pstrdup(pool, "/tmp/authsvc-i18n-XXXXXX");

    if (mkdtemp(dir) == NULL) {
        printf("Bail out! mkdtemp\n");
        exit(2);
    }
    return dir;
}

/* Load a directory holding one file (name, text); NULL or the error. */
static const char *load_one(const char *name, const char *text, authsvc_i18n_t **out)
{
    const char *dir = temp_dir();

    write_file(dir, name, text);
    return authsvc_i18n_load(pool, dir, out);
}

static int contains(const char *s, const char *part)
{
    return s != NULL && strstr(s, part) != NULL;
}

/* ---- the shipped catalogues ------------------------------------------------- */

static void test_shipped(void)
{
    static const char *const langs[] = {"en", "de", "fr", "es", NULL};
    static const char *const sources[] = {"src/h_pages.c", "src/problem.c",
                                          "src/flow_login.c", "src/flow_mfa.c",
                                          "src/flow_register.c", "src/flow_common.c",
                                          "src/flow_mail.c", "src/flow_account.c",
                                          "src/flow_profile.c", "src/text.c",
                                          "src/policy.c", NULL};
    apr_hash_t *used = used_ids();
    apr_hash_index_t *hi;
    const char *const *l;
    const char *src = "";
    int i, missing, unused;
    authsvc_mail_tpls_t *mails = NULL;

    ok(apr_hash_count(used) > 100, "the templates use %u message ids",
       apr_hash_count(used));
    for (i = 0; sources[i] != NULL; i++) {
        src = apr_pstrcat(pool, src, c_source(sources[i]), NULL);
    }
    for (i = 0; langs[i] != NULL; i++) {
        ok(authsvc_i18n_has(builtin, langs[i]), "%s is built in", langs[i]);
        missing = 0;
        for (hi = apr_hash_first(pool, used); hi; hi = apr_hash_next(hi)) {
            if (authsvc_i18n_lookup(builtin, langs[i], apr_hash_this_key(hi)) == NULL) {
                diag("%s: no message %s", langs[i], (const char *)apr_hash_this_key(hi));
                missing++;
            }
        }
        is_int(missing, 0, "%s has every message the templates use", langs[i]);
    }
    /* Every English id is used by a template, or is one the C code uses. */
    unused = 0;
    for (l = authsvc_i18n_languages(builtin); *l != NULL; l++) {
        is_int(strcmp(*l, "en") == 0 || strcmp(*l, "de") == 0 || strcmp(*l, "fr") == 0 ||
                   strcmp(*l, "es") == 0,
               1, "language %s is one of the shipped", *l);
    }
    {
        /* the English catalogue's ids, from its file */
        const char *err = NULL;
        authsvc_json_t *en = authsvc_json_parse(pool, slurp("conf/i18n/en.json"),
                                                strlen(slurp("conf/i18n/en.json")), &err);
        const char *dump = en ? authsvc_json_dump_sorted(pool, en) : "";
        const char *q = dump;
        ok(en != NULL, "en.json parses");
        while ((q = strstr(q, "\"")) != NULL) {
            const char *e = strstr(q + 1, "\":");
            const char *next = strstr(q + 1, "\"");
            if (e == NULL || next != e) {
                q = next ? next + 1 : q + 1;
                continue;
            }
            {
                const char *id = apr_pstrmemdup(pool, q + 1, (apr_size_t)(e - q - 1));
                const char *text = authsvc_i18n_lookup(builtin, "en", id);
                if (strncmp(id, "c.", 2) == 0) {
                    if (text == NULL || !contains(src, apr_pstrcat(pool, "\"", text, "\"",
                                                                   NULL))) {
                        diag("c. message %s is not a string of the C code: %s", id,
                             text ? text : "?");
                        unused++;
                    }
                }
                else if (strncmp(id, "duration.", 9) != 0 &&
                         apr_hash_get(used, id, APR_HASH_KEY_STRING) == NULL) {
                    diag("message %s is used by no template", id);
                    unused++;
                }
                for (i = 1; langs[i] != NULL; i++) {
                    if (authsvc_i18n_lookup(builtin, langs[i], id) == NULL) {
                        diag("%s lacks %s", langs[i], id);
                        unused++;
                    }
                }
            }
            q = e + 2;
        }
    }
    is_int(unused, 0, "no unused English id, every c. text is the C code's, every "
                      "language complete");
    is_str(authsvc_mail_templates_load(pool, NULL, &mails), NULL, "built-in mail loads");
    is_str(mails ? authsvc_mail_templates_check_msgs(pool, mails, builtin) : "no mail", NULL,
           "every mail's messages are known, with mail variables only, in every language");
}

/* ---- lookup ----------------------------------------------------------------- */

static void test_lookup(void)
{
    is_str(authsvc_i18n_text(builtin, "de", "common.sign_in"), "Anmelden", "de text");
    is_str(authsvc_i18n_text(builtin, "xx", "common.sign_in"), "Sign in",
           "an unknown language falls back to English");
    is_str(authsvc_i18n_text(builtin, NULL, "common.sign_in"), "Sign in", "NULL: English");
    is_str(authsvc_i18n_text(builtin, "de", "no.such.id"), "no.such.id",
           "an unknown id: the id itself");
    is_str(authsvc_i18n_lookup(builtin, "de", "no.such.id"), NULL, "lookup: NULL");
    is_str(authsvc_i18n_translate(builtin, "fr", "Sign in"), "Connexion",
           "C text translated by its English wording");
    is_str(authsvc_i18n_translate(builtin, "fr", "is required"), "est obligatoire",
           "a field error fragment");
    is_str(authsvc_i18n_translate(builtin, "fr", "not a known text"), "not a known text",
           "other text stays as it is");
    is_str(authsvc_i18n_translate(builtin, "fr", NULL), NULL, "NULL stays NULL");
    is_str(authsvc_i18n_translate(builtin, "fr", "Leave this empty"), "Leave this empty",
           "only c. messages translate C text");
    is_str(authsvc_i18n_languages(builtin)[0], "en", "English listed first");
}

/* ---- {{@id}} in templates ------------------------------------------------ */

static const char *render(const char *lang, const char *tpl, const char *json, int html)
{
    const char *err = NULL;
    authsvc_json_t *d = json ? authsvc_json_parse(pool, json, strlen(json), &err) : NULL;
    const char *out = authsvc_template_render_msgs(
        pool, tpl, d, lang ? authsvc_i18n_msgs(pool, builtin, lang) : NULL, html, &err);

    return out ? out : apr_pstrcat(pool, "ERROR: ", err, NULL);
}

static void test_template(void)
{
    static const char *const names[] = {"user_email", "x", NULL};
    static const char *const none[] = {NULL};
    const authsvc_template_msgs_t *de = authsvc_i18n_msgs(pool, builtin, "de");

    is_str(render("de", "<b>{{@common.sign_in}}</b>", NULL, 1), "<b>Anmelden</b>",
           "{{@id}} in German");
    is_str(render("en", "{{@common.signed_in_as}}", "{\"user_email\":\"<a&b>\"}", 1),
           "You are signed in as <strong>&lt;a&amp;b&gt;</strong>.",
           "message markup kept, its placeholder escaped");
    is_str(render("en", "{{@common.signed_in_as}}", "{\"user_email\":\"<a&b>\"}", 0),
           "You are signed in as <strong><a&b></strong>.", "not escaped in text");
    is_str(render("es", "{{#x}}{{@common.sign_out}}{{/x}}", "{\"x\":true}", 1),
           "Cerrar sesión", "inside a section");
    is_str(render("de", "[{{@no.such}}]", NULL, 1), "[no.such]", "unknown id: the id");
    is_str(render(NULL, "[{{@common.sign_in}}]", NULL, 1), "[common.sign_in]",
           "no catalogue: the id");
    is_str(authsvc_template_check_msgs(pool, "{{@common.signed_in_as}}", names, none, de),
           NULL, "check: a known id whose placeholders the template has");
    ok(contains(authsvc_template_check_msgs(pool, "a\n{{@no.such}}", names, none, de),
                "line 2: unknown message \"no.such\""),
       "check: an unknown id, with its line");
    ok(contains(authsvc_template_check_msgs(pool, "{{@common.password_min}}", names, none,
                                            de),
                "message \"common.password_min\": unknown variable \"password_min\""),
       "check: a placeholder the template does not have, naming the message");
    ok(contains(authsvc_template_check_msgs(pool, "{{@Bad}}", NULL, none, NULL),
                "bad message id"),
       "check: an id with a capital");
    ok(contains(authsvc_template_check_msgs(pool, "{{@.x}}", NULL, none, NULL),
                "bad message id"),
       "check: an id starting with a dot");
    ok(contains(authsvc_template_check_msgs(pool, "{{@}}", NULL, none, NULL),
                "bad message id"),
       "check: an empty id");
    is_str(authsvc_template_check_msgs(pool, "{{@any.id}}", NULL, none, NULL), NULL,
           "check without catalogue: any id");
}

/* ---- loading from a directory ---------------------------------------------- */

static void test_load(void)
{
    static const struct {
        const char *what, *text, *want;
    } broken[] = {
        {"broken JSON", "{\"common.sign_in\": \"x\",}", "de.json: line 1:"},
        {"not an object", "[\"x\"]", "not a JSON object"},
        {"an unknown id", "{\"nope.nope\": \"x\"}", "key \"nope.nope\": unknown message id"},
        {"a bad id", "{\"Bad\": \"x\"}", "key \"Bad\": not a message id"},
        {"an empty text", "{\"common.sign_in\": \"\"}",
         "key \"common.sign_in\": the text must be a non-empty string"},
        {"a number", "{\"common.sign_in\": 3}", "non-empty string"},
        {"other placeholders", "{\"common.password_min\": \"mind. {{n}} Zeichen\"}",
         "placeholders {n} differ from the English text's {password_min}"},
        {"a placeholder dropped", "{\"common.password_min\": \"mind. Zeichen\"}",
         "placeholders {} differ"},
        {"a section", "{\"common.sign_in\": \"{{#x}}a{{/x}}\"}", "bad placeholder \"{{#x}}\""},
        {"an unclosed placeholder", "{\"common.sign_in\": \"a {{x\"}", "without"},
        {"a duplicate key", "{\"a.b\": \"x\", \"a.b\": \"y\"}", "de.json: line 1:"},
        {"a NUL character", "{\"common.sign_in\": \"\\u0000\"}", "de.json: line 1:"},
    };
    authsvc_i18n_t *c = NULL;
    const char *err, *dir;
    size_t i;

    err = load_one("de.json", "{\"common.sign_in\": \"Einloggen\"}", &c);
    is_str(err, NULL, "an override loads");
    is_str(c ? authsvc_i18n_text(c, "de", "common.sign_in") : NULL, "Einloggen",
           "... the message overridden");
    is_str(c ? authsvc_i18n_text(c, "de", "common.sign_out") : NULL, "Abmelden",
           "... the others kept");
    err = load_one("pt-br.json", "{\"common.sign_in\": \"Entrar\"}", &c);
    is_str(err, NULL, "a new language loads");
    ok(c && authsvc_i18n_has(c, "pt-br"), "... pt-br is there");
    is_str(c ? authsvc_i18n_text(c, "pt-br", "common.sign_out") : NULL, "Sign out",
           "... its missing messages in English");
    err = load_one("en.json", "{\"site.tagline\": \"Hello {{site}}\"}", &c);
    is_str(err, NULL, "English may add a message id");
    dir = temp_dir();
    write_file(dir, "en.json", "{\"site.tagline\": \"Hello {{site}}\"}");
    write_file(dir, "de.json", "{\"site.tagline\": \"Hallo {{site}}\"}");
    write_file(dir, "README.txt", "not a catalogue");
    is_str(authsvc_i18n_load(pool, dir, &c), NULL, "... and another language translate it");
    is_str(c ? authsvc_i18n_text(c, "de", "site.tagline") : NULL, "Hallo {{site}}",
           "... translated");

    for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        err = load_one("de.json", broken[i].text, &c);
        ok(contains(err, broken[i].want), "refused: %s (%s)", broken[i].what,
           err ? err : "loaded");
    }
    err = authsvc_i18n_load(pool, "/nonexistent/i18n", &c);
    ok(contains(err, "/nonexistent/i18n"), "a missing directory (%s)", err);
}

/* ---- negotiation ------------------------------------------------------------ */

static void test_negotiate(void)
{
    static const char *const all[] = {"en", "de", "es", "fr", NULL};
    static const char *const two[] = {"fr", "de", NULL};
    struct {
        const char *accept, *want;
    } cases[] = {
        {NULL, "en"},
        {"", "en"},
        {"de", "de"},
        {"DE", "de"},
        {"de-CH", "de"},
        {"de-ch, fr;q=0.9", "de"},
        {"fr;q=0.5, de;q=0.8", "de"},
        {"fr, de", "fr"},
        {"fr;q=0.8, de;q=0.8", "fr"},
        {"ja, es;q=0.1", "es"},
        {"ja", "en"},
        {"*", "en"},
        {"ja, *;q=0.5", "en"},
        {"de;q=0, *", "en"},
        {"en;q=0, de;q=0.1", "de"},
        {"en;q=0, *;q=0.3", "de"},
        {"fr;q=1.0", "fr"},
        {"fr;q=1.5, de;q=0.1", "de"},
        {"fr;q=abc, es;q=0.2", "es"},
        {"fr;q=0.0001, es;q=0.2", "es"},
        {"fr ; q = 0.9 , es;q=0.2", "fr"},
        {"e$, de", "de"},
        {",,,", "en"},
        {"es-419", "es"},
        {"zh-Hant-TW, de-AT-x-foo;q=0.3", "de"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        is_str(authsvc_i18n_negotiate(pool, cases[i].accept, all, "en"), cases[i].want,
               "Accept-Language: %s", cases[i].accept ? cases[i].accept : "(none)");
    }
    is_str(authsvc_i18n_negotiate(pool, "es, en", two, "fr"), "fr",
           "only the offered languages: none acceptable, the default");
    is_str(authsvc_i18n_negotiate(pool, "*", two, "de"), "de", "*: the default wins a tie");
    is_str(authsvc_i18n_negotiate(pool, "es, de;q=0.5", two, "fr"), "de",
           "an offered one with a lower q");
    is_str(authsvc_i18n_tag_check("de"), NULL, "tag de");
    is_str(authsvc_i18n_tag_check("pt-br"), NULL, "tag pt-br");
    ok(authsvc_i18n_tag_check("d") != NULL, "tag d refused");
    ok(authsvc_i18n_tag_check("de-") != NULL, "tag de- refused");
    ok(authsvc_i18n_tag_check("de--ch") != NULL, "tag de--ch refused");
    ok(authsvc_i18n_tag_check("../x") != NULL, "tag ../x refused");
    ok(authsvc_i18n_tag_check("De") != NULL, "tag De refused (lower case only)");
}

/* ---- mail in German ----------------------------------------------------- */

static void test_mail(void)
{
    authsvc_mail_tpls_t *t = NULL;
    const authsvc_mail_tpl_t *tpl;
    apr_table_t *v = apr_table_make(pool, 8);
    const char *msg = NULL, *err;

    authsvc_mail_templates_load(pool, NULL, &t);
    tpl = authsvc_mail_template(t, "verify_email");
    apr_table_setn(v, "site", "example.com");
    apr_table_setn(v, "name", "Eve");
    apr_table_setn(v, "code", "TOKEN");
    apr_table_setn(v, "expires", "24 hours");
    err = authsvc_mail_compose_in(pool, tpl, builtin, "de", "noreply@example.com", NULL,
                                  "eve@example.com", v, apr_time_now(), &msg);
    is_str(err, NULL, "a German mail composes");
    ok(contains(msg, "\r\nContent-Language: de\r\n"), "... Content-Language: de");
    ok(contains(msg, "Subject: =?UTF-8?B?"), "... its subject as encoded-words (ä, ü)");
    {
        /* the text part, base64: decode it */
        const char *b = strstr(msg ? msg : "", "text/plain");
        const char *body = b ? strstr(b, "\r\n\r\n") : NULL;
        char *plain = NULL, *src;
        if (body != NULL) {
            src = apr_pstrdup(pool, body + 4);
            *strstr(src, "--") = '\0';
            {
                char *o = src, *s = src;
                for (; *s; s++) {
                    if (*s != '\r' && *s != '\n') {
                        *o++ = *s;
                    }
                }
                *o = '\0';
            }
            plain = apr_palloc(pool, (apr_size_t)apr_base64_decode_len(src));
            plain[apr_base64_decode(plain, src)] = '\0';
        }
        ok(contains(plain, "Hallo Eve,"), "... greets in German");
        ok(contains(plain, "Code: TOKEN"), "... the code");
        ok(contains(plain, "läuft in 24 Stunden ab"), "... the duration in German");
    }
    err = authsvc_mail_compose(pool, tpl, "noreply@example.com", NULL, "eve@example.com", v,
                               apr_time_now(), &msg);
    ok(err == NULL && contains(msg, "\r\nContent-Language: en\r\n") &&
           contains(msg, "Subject: Confirm your email address for example.com\r\n"),
       "authsvc_mail_compose: English");
}

int main(void)
{
    const char *err;

    pool = tap_apr_start();
    err = authsvc_i18n_load(pool, NULL, &builtin);
    is_str(err, NULL, "the built-in catalogues load");
    if (builtin == NULL) {
        printf("Bail out! no catalogues\n");
        return 2;
    }
    test_shipped();
    test_lookup();
    test_template();
    test_load();
    test_negotiate();
    test_mail();
    return tap_apr_end(pool);
}

/* test_template.c - template.c: the engine shared by the mail and the pages. Values
 * ({{x}}, {{&x}}), HTML escaping, sections over every kind of JSON value, inverted
 * sections, standalone lines, the nesting limit, every syntax error (with its line),
 * the allowed-names list, and reading a template file. A few cases follow the spirit of
 * the mustache spec's "sections" and "inverted" suites (written here, not copied).
 */
#include <stdlib.h>
#include <string.h>

#include "apr_file_info.h"
#include "apr_file_io.h"
#include "apr_general.h"
#include "apr_strings.h"

#include "json.h"
#include "tap_apr.h"
#include "template.h"

static apr_pool_t *pool;

/* ---- helpers ------------------------------------------------------------- */

/* A JSON object from its text (NULL: no data); bails out on a typo in a test. */
static authsvc_json_t *data(const char *json)
{
    const char *err = NULL;
    authsvc_json_t *d;

    if (json == NULL) {
        return NULL;
    }
    d = authsvc_json_parse(pool, json, strlen(json), &err);
    if (d == NULL) {
        printf("Bail out! bad test JSON %s: %s\n", json, err ? err : "?");
        exit(2);
    }
    return d;
}

/* The rendering of tpl with json, or "ERROR: <message>". */
static const char *render(const char *tpl, const char *json, int html)
{
    const char *err = NULL;
    const char *out = authsvc_template_render(pool, tpl, data(json), html, &err);

    if (out == NULL) {
        return apr_pstrcat(pool, "ERROR: ", err ? err : "(no message)", NULL);
    }
    return out;
}

static void renders(const char *tpl, const char *json, const char *want, const char *what)
{
    is_str(render(tpl, json, 1), want, "render: %s", what);
}

static void renders_text(const char *tpl, const char *json, const char *want,
                         const char *what)
{
    is_str(render(tpl, json, 0), want, "render (text): %s", what);
}

/* check(tpl, names) fails with a message holding want and "line N". */
static void check_fails(const char *tpl, const char *const *names, const char *want,
                        int line, const char *what)
{
    const char *err = authsvc_template_check(pool, tpl, names);
    char at[32];

    snprintf(at, sizeof(at), "line %d:", line);
    ok(err != NULL && strstr(err, want) != NULL && strstr(err, at) != NULL,
       "check refuses %s: wants '%s' at %s (got %s)", what, want, at,
       err ? err : "accepted");
}

/* render(tpl) fails too, NULL with the same kind of message. */
static void render_fails(const char *tpl, const char *json, const char *want,
                         const char *what)
{
    const char *err = NULL;
    const char *out = authsvc_template_render(pool, tpl, data(json), 1, &err);

    ok(out == NULL && err != NULL && strstr(err, want) != NULL,
       "render refuses %s (got %s)", what, out ? out : err ? err : "NULL, no message");
}

/* ---- values -------------------------------------------------------------- */

static void test_values(void)
{
    const char *esc1 = "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;";
    const char *esc2 = "&lt;b&gt;&quot;Tom&quot; &amp; &#x27;Jerry&#x27;&lt;/b&gt;";
    const char *got;

    renders("Hello {{name}}!", "{\"name\": \"Anna\"}", "Hello Anna!", "a plain value");
    got = render("<p title=\"{{x}}\">{{x}}</p>", "{\"x\": \"<b>\\\"Tom\\\" & 'Jerry'</b>\"}",
                 1);
    ok(!strcmp(got, apr_pstrcat(pool, "<p title=\"", esc1, "\">", esc1, "</p>", NULL)) ||
           !strcmp(got, apr_pstrcat(pool, "<p title=\"", esc2, "\">", esc2, "</p>", NULL)),
       "html: & < > \" ' escaped in {{x}} (got %s)", got);
    renders("{{x}}", "{\"x\": \"&amp;\"}", "&amp;amp;", "an entity in a value is escaped again");
    renders_text("{{x}}", "{\"x\": \"<b>\\\"Tom\\\" & 'Jerry'</b>\"}",
                 "<b>\"Tom\" & 'Jerry'</b>", "html off: values as they are");
    renders("<div>{{&svg}}</div>", "{\"svg\": \"<svg a=\\\"1\\\">&amp;'</svg>\"}",
            "<div><svg a=\"1\">&amp;'</svg></div>", "{{&x}} is never escaped");
    renders_text("{{&x}}", "{\"x\": \"<i>\"}", "<i>", "{{&x}} with html off");
    renders("{{n}}|{{m}}|{{z}}", "{\"n\": 42, \"m\": -7, \"z\": 0}", "42|-7|0",
            "integers in decimal");
    renders("{{f}}", "{\"f\": 1.5}", "1.5", "a real number");
    renders("{{t}}", "{\"t\": true}", "true", "true renders \"true\"");
    renders("[{{nothing}}]", "{\"x\": 1}", "[]", "a missing name is empty");
    renders("[{{nothing}}]", NULL, "[]", "no data at all: empty");
    renders("[{{n}}]", "{\"n\": null}", "[]", "null is empty");
    renders("{{x}}", "{\"x\": \"{{y}}\", \"y\": \"no\"}", "{{y}}",
            "a value is not expanded again");
    renders("{{x}}", "{\"x\": \"gr\xc3\xbc\xc3\x9f " "\xf0\x9f\x98\x80\"}",
            "gr\xc3\xbc\xc3\x9f \xf0\x9f\x98\x80", "UTF-8 passes through");
    renders("a {{x}} b\nc", "{\"x\": \"1\"}", "a 1 b\nc", "text around values kept");
    renders("no tags at all\n", NULL, "no tags at all\n", "plain text");
    renders("", NULL, "", "empty template");
    renders("one } and { two }", NULL, "one } and { two }", "single braces are text");
}

/* ---- sections ------------------------------------------------------------ */

static void test_sections(void)
{
    static const struct {
        const char *json, *what;
        int shown;
    } v[] = {
        {"{}", "missing", 0},
        {"{\"x\": false}", "false", 0},
        {"{\"x\": null}", "null", 0},
        {"{\"x\": \"\"}", "empty string", 0},
        {"{\"x\": []}", "empty array", 0},
        {"{\"x\": true}", "true", 1},
        {"{\"x\": \"yes\"}", "non-empty string", 1},
        {"{\"x\": {}}", "empty object", 1},
        {"{\"x\": {\"a\": 1}}", "object", 1},
        {"{\"x\": 1}", "number", 1},
    };
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        renders("<{{#x}}Y{{/x}}>", v[i].json, v[i].shown ? "<Y>" : "<>",
                apr_psprintf(pool, "{{#x}} over %s: %s", v[i].what,
                             v[i].shown ? "once" : "skipped"));
        renders("<{{^x}}N{{/x}}>", v[i].json, v[i].shown ? "<>" : "<N>",
                apr_psprintf(pool, "{{^x}} over %s: %s", v[i].what,
                             v[i].shown ? "skipped" : "once"));
    }

    /* an object is the innermost context: its names first, then the outer ones */
    renders("{{#user}}{{email}} on {{site}}{{/user}} / {{email}}",
            "{\"user\": {\"email\": \"a@b.example\"}, \"email\": \"outer\", \"site\": \"S\"}",
            "a@b.example on S / outer", "object section: inner name first, then outer");
    renders("{{#user}}[{{missing}}]{{/user}}", "{\"user\": {\"a\": 1}}", "[]",
            "object section: a name nowhere is empty");
    renders("{{#user}}{{email}}{{/user}}", "{\"user\": {\"email\": \"<x>\"}}", "&lt;x&gt;",
            "values in a section are escaped too");
    renders("{{#notice}}<p>{{notice}}</p>{{/notice}}", "{\"notice\": \"Saved & done\"}",
            "<p>Saved &amp; done</p>", "string section: the string is still reachable");
    renders("{{#signed_in}}{{user_email}}{{/signed_in}}",
            "{\"signed_in\": true, \"user_email\": \"u@example.org\"}", "u@example.org",
            "true section keeps the outer context");

    /* arrays of objects: once per element, the element innermost */
    renders("{{#sessions}}<{{id}}{{#current}}*{{/current}}>{{/sessions}}",
            "{\"sessions\": [{\"id\": \"s1\", \"current\": true},"
            " {\"id\": \"s2\", \"current\": false}, {\"id\": \"s3\"}]}",
            "<s1*><s2><s3>", "array of objects: once per element");
    renders("{{#rows}}{{current}}{{/rows}}",
            "{\"current\": \"outer\", \"rows\": [{\"current\": \"in\"}, {}, {\"current\": \"\"}]}",
            "inouter", "array of objects: element names shadow outer ones, else outer");
    renders("{{#rows}}{{#current}}C{{/current}}{{^current}}-{{/current}}{{/rows}}",
            "{\"current\": true, \"rows\": [{\"current\": false}, {}, {\"current\": true}]}",
            "-CC", "a false in the element hides a true outside");
    renders("{{#rows}}{{site}}{{/rows}}", "{\"site\": \"S\", \"rows\": [{}, {}]}", "SS",
            "array elements see the outer context");
    renders("{{#rows}}{{v}}{{/rows}}", "{\"rows\": [{\"v\": \"<\"}]}", "&lt;",
            "array element values escaped");

    /* arrays of strings: {{.}} */
    renders("<ul>{{#recovery_codes}}<li>{{.}}</li>{{/recovery_codes}}</ul>",
            "{\"recovery_codes\": [\"aaaa-bbbb\", \"c<d\"]}",
            "<ul><li>aaaa-bbbb</li><li>c&lt;d</li></ul>", "array of strings with {{.}}");
    renders_text("{{#l}}{{.}},{{/l}}", "{\"l\": [\"<\", \"&\"]}", "<,&,",
                 "{{.}} not escaped with html off");
    renders("{{#l}}[{{.}}|{{site}}]{{/l}}", "{\"site\": \"S\", \"l\": [\"a\", \"b\"]}",
            "[a|S][b|S]", "string elements: outer names still found");
    renders("{{#l}}{{&.}}{{/l}}", "{\"l\": [\"<b>\"]}", "<b>", "{{&.}} raw");
    renders("{{.}}", "{\"a\": 1}", "", "{{.}} at the top is empty (an object)");

    /* nested sections */
    renders("{{#user}}{{#sessions}}{{id}}@{{email}};{{/sessions}}{{/user}}",
            "{\"user\": {\"email\": \"e\", \"sessions\": [{\"id\": 1}, {\"id\": 2}]}}",
            "1@e;2@e;", "array inside an object: both contexts searched");
    renders("{{#a}}{{^b}}not b{{/b}}{{/a}}", "{\"a\": {\"b\": false}}", "not b",
            "inverted inside an object");
    renders("{{#a}}{{^b}}not b{{/b}}{{/a}}", "{\"a\": {}, \"b\": true}", "",
            "inverted inside an object: an outer true counts");
    renders("{{^x}}{{y}}{{/x}}", "{\"y\": \"kept\"}", "kept",
            "inverted section keeps the context");
    renders("{{#x}}1{{/x}}{{#x}}2{{/x}}", "{\"x\": true}", "12", "the same section twice");
    /* inside {{#x}} over ["a", "b"] the element is a string, which has no members:
     * the inner {{#x}} finds the outer array again and repeats too */
    renders("{{#x}}{{#x}}.{{/x}}{{/x}}", "{\"x\": [\"a\", \"b\"]}", "....",
            "a section name found outside again: 2 x 2 repetitions");
}

/* ---- mustache-like cases ------------------------------------------------- */

static void test_mustache_like(void)
{
    /* "sections" suite in spirit */
    renders("\"{{#boolean}}This should be rendered.{{/boolean}}\"", "{\"boolean\": true}",
            "\"This should be rendered.\"", "sections: truthy");
    renders("\"{{#boolean}}This should not be rendered.{{/boolean}}\"",
            "{\"boolean\": false}", "\"\"", "sections: falsey");
    renders("\"{{#context}}Hi {{name}}.{{/context}}\"", "{\"context\": {\"name\": \"Joe\"}}",
            "\"Hi Joe.\"", "sections: context");
    renders("{{#a}}{{one}}{{#b}}{{one}}{{two}}{{one}}{{#c}}{{one}}{{two}}{{three}}{{two}}"
            "{{one}}{{/c}}{{/b}}{{/a}}",
            "{\"a\": {\"one\": 1}, \"b\": {\"two\": 2}, \"c\": {\"three\": 3}}",
            "1121" "12321", "sections: deeply nested contexts");
    renders("\"{{#list}}{{item}}{{/list}}\"",
            "{\"list\": [{\"item\": 1}, {\"item\": 2}, {\"item\": 3}]}", "\"123\"",
            "sections: list");
    renders("\"{{#list}}Yay lists!{{/list}}\"", "{\"list\": []}", "\"\"",
            "sections: empty list");
    renders("{{#bool}}\n* first\n{{/bool}}\n* {{two}}\n{{#bool}}\n* third\n{{/bool}}\n",
            "{\"bool\": true, \"two\": \"second\"}", "* first\n* second\n* third\n",
            "sections: doubled");
    renders("| A {{#bool}}B {{#bool}}C{{/bool}} D{{/bool}} E |", "{\"bool\": true}",
            "| A B C D E |", "sections: nested (truthy)");
    renders("| A {{#bool}}B {{#bool}}C{{/bool}} D{{/bool}} E |", "{\"bool\": false}",
            "| A  E |", "sections: nested (falsey)");
    renders("[{{#missing}}Found key 'missing'!{{/missing}}]", "{}", "[]",
            "sections: context misses");
    renders("\"{{#list}}({{.}}){{/list}}\"", "{\"list\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}",
            "\"(a)(b)(c)(d)(e)\"", "sections: implicit iterator (string)");
    renders("\"{{#list}}({{.}}){{/list}}\"", "{\"list\": [1, 2, 3, 4, 5]}",
            "\"(1)(2)(3)(4)(5)\"", "sections: implicit iterator (integer)");
    renders(" | {{#boolean}}\t|\t{{/boolean}} | \n", "{\"boolean\": true}", " | \t|\t | \n",
            "sections: surrounding whitespace");
    renders(" {{#boolean}}YES{{/boolean}}\n {{#boolean}}GOOD{{/boolean}}\n",
            "{\"boolean\": true}", " YES\n GOOD\n", "sections: indented inline sections");
    renders("| This Is\n{{#boolean}}\n|\n{{/boolean}}\n| A Line\n", "{\"boolean\": true}",
            "| This Is\n|\n| A Line\n", "sections: standalone lines");
    renders("| This Is\n  {{#boolean}}\n|\n  {{/boolean}}\n| A Line\n",
            "{\"boolean\": true}", "| This Is\n|\n| A Line\n",
            "sections: indented standalone lines");
    renders("|\r\n{{#boolean}}\r\n{{/boolean}}\r\n|", "{\"boolean\": true}", "|\r\n|",
            "sections: standalone line endings");
    renders("  {{#boolean}}\n#{{/boolean}}\n/", "{\"boolean\": true}", "#\n/",
            "sections: standalone without previous line");
    renders("#{{#boolean}}\n/\n  {{/boolean}}", "{\"boolean\": true}", "#\n/\n",
            "sections: standalone without newline");

    /* "inverted" suite in spirit */
    renders("\"{{^boolean}}This should be rendered.{{/boolean}}\"", "{\"boolean\": false}",
            "\"This should be rendered.\"", "inverted: falsey");
    renders("\"{{^boolean}}This should not be rendered.{{/boolean}}\"",
            "{\"boolean\": true}", "\"\"", "inverted: truthy");
    renders("\"{{^context}}Hi {{name}}.{{/context}}\"", "{\"context\": {\"name\": \"Joe\"}}",
            "\"\"", "inverted: context");
    renders("\"{{^list}}{{n}}{{/list}}\"",
            "{\"list\": [{\"n\": 1}, {\"n\": 2}, {\"n\": 3}]}", "\"\"", "inverted: list");
    renders("\"{{^list}}Yay lists!{{/list}}\"", "{\"list\": []}", "\"Yay lists!\"",
            "inverted: empty list");
    renders("{{^bool}}\n* first\n{{/bool}}\n* {{two}}\n{{^bool}}\n* third\n{{/bool}}\n",
            "{\"bool\": false, \"two\": \"second\"}", "* first\n* second\n* third\n",
            "inverted: doubled");
    renders("| A {{^bool}}B {{^bool}}C{{/bool}} D{{/bool}} E |", "{\"bool\": false}",
            "| A B C D E |", "inverted: nested (falsey)");
    renders("| A {{^bool}}B {{^bool}}C{{/bool}} D{{/bool}} E |", "{\"bool\": true}",
            "| A  E |", "inverted: nested (truthy)");
    renders("[{{^missing}}Found key 'missing'!{{/missing}}]", "{}",
            "[Found key 'missing'!]", "inverted: context misses");
    renders("| This Is\n{{^boolean}}\n|\n{{/boolean}}\n| A Line\n", "{\"boolean\": false}",
            "| This Is\n|\n| A Line\n", "inverted: standalone lines");
    renders("|\r\n{{^boolean}}\r\n{{/boolean}}\r\n|", "{\"boolean\": false}", "|\r\n|",
            "inverted: standalone line endings");
    renders("  {{^boolean}}\n^{{/boolean}}\n/", "{\"boolean\": false}", "^\n/",
            "inverted: standalone without previous line");
}

/* ---- standalone lines ---------------------------------------------------- */

static void test_standalone(void)
{
    const char *lf = "<ul>\n{{#l}}\n  <li>{{.}}</li>\n{{/l}}\n</ul>\n";
    const char *crlf = "<ul>\r\n{{#l}}\r\n  <li>{{.}}</li>\r\n{{/l}}\r\n</ul>\r\n";

    renders(lf, "{\"l\": [\"a\", \"b\"]}", "<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>\n",
            "LF: section tag lines removed, the body repeated");
    renders(lf, "{\"l\": []}", "<ul>\n</ul>\n", "LF: skipped section leaves no blank line");
    renders(crlf, "{\"l\": [\"a\", \"b\"]}",
            "<ul>\r\n  <li>a</li>\r\n  <li>b</li>\r\n</ul>\r\n",
            "CRLF: section tag lines removed with their CRLF");
    renders(crlf, "{\"l\": []}", "<ul>\r\n</ul>\r\n", "CRLF: skipped section");
    renders("a\n\t {{#x}} \t\nb\n  {{/x}}\nc\n", "{\"x\": true}", "a\nb\nc\n",
            "blanks and tabs around a standalone tag go with the line");
    renders("a\n{{^x}}\nnone\n{{/x}}\nc\n", "{\"x\": false}", "a\nnone\nc\n",
            "inverted section tags are standalone too");
    renders("{{#x}}\nb\n{{/x}}\n", "{\"x\": true}", "b\n", "standalone on the first line");
    renders("a\n{{#x}}\nb\n{{/x}}", "{\"x\": true}", "a\nb\n",
            "standalone on the last line without a line end");
    renders("a {{#x}}\nb\n{{/x}}\n", "{\"x\": true}", "a \nb\n",
            "text before the tag: not standalone");
    renders("a\n{{#x}} b\n{{/x}}\n", "{\"x\": true}", "a\n b\n",
            "text after the tag: not standalone");
    renders("a\n{{v}}\nb", "{}", "a\n\nb", "a value tag is never standalone");
    renders("a\n{{#x}}{{/x}}\nb", "{\"x\": true}", "a\n\nb",
            "two tags on one line: not standalone");
}

/* ---- nesting limit ------------------------------------------------------- */

/* n nested sections, each open tag on its own line (line k opens a<k>). */
static const char *nested(int n, char sigil)
{
    const char *tpl = "";
    int i;

    for (i = 1; i <= n; i++) {
        tpl = apr_psprintf(pool, "%s{{%ca%d}}\n", tpl, sigil, i);
    }
    tpl = apr_pstrcat(pool, tpl, "x\n", NULL);
    for (i = n; i >= 1; i--) {
        tpl = apr_psprintf(pool, "%s{{/a%d}}\n", tpl, i);
    }
    return tpl;
}

static void test_nesting(void)
{
    const char *all_true = "{\"a1\": true, \"a2\": true, \"a3\": true, \"a4\": true,"
                           " \"a5\": true, \"a6\": true, \"a7\": true, \"a8\": true,"
                           " \"a9\": true}";

    is_str(authsvc_template_check(pool, nested(8, '#'), NULL), NULL,
           "8 nested sections: accepted");
    renders(nested(8, '#'), all_true, "x\n", "8 nested sections render");
    renders(nested(8, '^'), "{}", "x\n", "8 nested inverted sections render");
    check_fails(nested(9, '#'), NULL, "nested too deep", 9, "9 nested sections");
    check_fails(nested(9, '^'), NULL, "nested too deep", 9, "9 nested inverted sections");
    render_fails(nested(9, '#'), all_true, "nested too deep", "9 nested sections");
    render_fails(nested(9, '#'), "{}", "nested too deep",
                 "9 nested sections, even when the outer one is skipped");
    is_str(authsvc_template_check(pool,
                                  apr_pstrcat(pool, nested(8, '#'), nested(8, '^'), NULL),
                                  NULL),
           NULL, "two 8-deep nests one after the other: the depth comes back down");
}

/* ---- syntax errors ------------------------------------------------------- */

static void test_errors(void)
{
    static const char *const some[] = {"site", "user", "email", NULL};

    check_fails("a\nb\nc {{x", NULL, "\"{{\" without \"}}\"", 3, "{{ without }}");
    check_fails("{{x}}\n{{y}", NULL, "\"{{\" without \"}}\"", 2, "{{ with one brace }");
    check_fails("a\n{{x}}", some, "unknown variable \"x\"", 2, "an unknown variable");
    check_fails("{{site}}\n\n{{#x}}{{/x}}", some, "unknown variable \"x\"", 3,
                "an unknown section name");
    check_fails("{{site}}\n{{^x}}{{/x}}", some, "unknown variable \"x\"", 2,
                "an unknown inverted section name");
    check_fails("{{site}}\n{{&x}}", some, "unknown variable \"x\"", 2,
                "an unknown raw name");
    check_fails("a\n\nb{{/x}}", NULL, "\"{{/x}}\" closes no open section", 3,
                "a stray close");
    check_fails("{{#a}}\n{{/b}}\n{{/a}}", NULL, "\"{{/b}}\" closes no open section", 2,
                "a close of another section");
    check_fails("{{#a}}{{#b}}\n{{/a}}{{/b}}", NULL, "\"{{/a}}\" closes no open section", 2,
                "crossed sections");
    check_fails("x\n{{#link}}\ny\n", NULL, "\"{{#link}}\" without \"{{/link}}\"", 2,
                "an unclosed section (its opening line)");
    check_fails("x\n{{^link}}\ny\nz", NULL, "without \"{{/link}}\"", 2,
                "an unclosed inverted section (its opening line)");
    check_fails("{{ code }}", NULL, "bad placeholder \"{{ code }}\"", 1, "blanks inside");
    check_fails("\n{{Code}}", NULL, "bad placeholder \"{{Code}}\"", 2, "an upper-case name");
    check_fails("{{}}", NULL, "bad placeholder \"{{}}\"", 1, "an empty tag");
    check_fails("{{#}}{{/}}", NULL, "bad placeholder", 1, "an empty section name");
    check_fails("{{a-b}}", NULL, "bad placeholder \"{{a-b}}\"", 1, "a dash");
    check_fails("{{user.email}}", NULL, "bad placeholder", 1, "a dotted name");
    check_fails("{{!comment}}", NULL, "bad placeholder", 1, "a comment tag");
    check_fails("{{>partial}}", NULL, "bad placeholder", 1, "a partial tag");
    check_fails("{{{x}}}", NULL, "bad placeholder", 1, "triple braces");
    check_fails("{{=<% %>=}}", NULL, "bad placeholder", 1, "a delimiter change");
    check_fails("a\r\nb\r\n{{X}}", NULL, "bad placeholder", 3, "CRLF lines are counted");
    check_fails("{{#a}}\n{{/a}}\n{{bad-}}", NULL, "bad placeholder", 3,
                "lines after standalone tags still counted");
    check_fails("{{#x}}\n{{#y}}\n{{bad}}\n{{/y}}\n{{/x}}", some, "unknown variable \"x\"", 1,
                "the first error is reported");

    render_fails("{{#x}}{{bad!}}{{/x}}", "{\"x\": false}", "bad placeholder",
                 "bad syntax inside a skipped section");
    render_fails("{{^x}}{{/y}}{{/x}}", "{\"x\": true}", "closes no open section",
                 "bad syntax inside a skipped inverted section");
    render_fails("{{#l}}{{x}}", "{\"l\": [1, 2]}", "without",
                 "an unclosed section over an array");
    render_fails("{{#l}}{{x}}", "{\"l\": []}", "without",
                 "an unclosed section over an empty array");
    render_fails("ok {{x", "{}", "without", "{{ without }} at render");
}

/* ---- allowed names ------------------------------------------------------- */

static void test_names(void)
{
    static const char *const names[] = {"site", "user", "email", "recovery_codes",
                                        "csrf_token", NULL};
    static const char *const none[] = {NULL};
    const char *tpl = "{{site}} {{&site}}\n{{#user}}{{email}}{{/user}}\n"
                      "{{^user}}-{{/user}}\n{{#recovery_codes}}{{.}}{{/recovery_codes}}\n"
                      "<input name=\"csrf_token\" value=\"{{csrf_token}}\">\n";

    is_str(authsvc_template_check(pool, tpl, names), NULL, "every name listed: accepted");
    is_str(authsvc_template_check(pool, tpl, NULL), NULL, "NULL list: any name");
    is_str(authsvc_template_check(pool, "{{anything_9}}{{#z}}{{/z}}", NULL), NULL,
           "NULL list: unlisted names fine");
    is_str(authsvc_template_check(pool, "{{#recovery_codes}}{{.}}{{/recovery_codes}}",
                                  names),
           NULL, "{{.}} needs no entry in the list");
    is_str(authsvc_template_check(pool, "plain text, no tags", none), NULL,
           "empty list: plain text fine");
    check_fails("{{site}}", none, "unknown variable \"site\"", 1, "empty list: any name");
    check_fails("{{sit}}", names, "unknown variable \"sit\"", 1, "a prefix of a name");
    check_fails("{{sites}}", names, "unknown variable \"sites\"", 1, "a name plus a letter");
    check_fails("ok\n{{#users}}{{/users}}", names, "unknown variable \"users\"", 2,
                "section name checked");
    is_str(render("{{x}}", "{\"x\": \"rendered\"}", 1), "rendered",
           "render itself takes any name (the list is for check)");
}

/* Which names may be raw ({{&x}}): any (check), those listed, or none. */
static void test_raw_names(void)
{
    static const char *const raw[] = {"body", "alerts", "qr_svg", NULL};
    static const char *const none[] = {NULL};
    const char *err;

    is_str(authsvc_template_check_raw(pool, "{{&body}}{{alerts}}{{&qr_svg}}", NULL, raw),
           NULL, "raw list: listed names may be raw, any may be escaped");
    err = authsvc_template_check_raw(pool, "ok\n{{&login}}", NULL, raw);
    ok(err && strstr(err, "line 2: only body, alerts and qr_svg may be inserted unescaped"),
       "raw list: another name refused at its line (%s)", err ? err : "accepted");
    err = authsvc_template_check_raw(pool, "{{&code}}", NULL, none);
    ok(err && strstr(err, "line 1: values are always escaped here"),
       "empty raw list: no raw value (%s)", err ? err : "accepted");
    is_str(authsvc_template_check_raw(pool, "{{code}}", NULL, none), NULL,
           "empty raw list: escaped values fine");
    is_str(authsvc_template_check(pool, "{{&anything}}", NULL), NULL,
           "authsvc_template_check: raw allowed for any name");
}

/* ---- reading files ------------------------------------------------------- */

static int write_bytes(const char *path, const char *bytes, apr_size_t len)
{
    apr_file_t *f;
    apr_status_t rv = apr_file_open(
        &f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE | APR_FOPEN_BINARY,
        APR_FPROT_OS_DEFAULT, pool);

    if (rv == APR_SUCCESS) {
        rv = apr_file_write_full(f, bytes, len, NULL);
        apr_file_close(f);
    }
    return rv == APR_SUCCESS;
}

static const char *make_temp_dir(void)
{
    const char *tmp = "/tmp";
    char *dir;

    apr_temp_dir_get(&tmp, pool);
    dir = apr_pstrcat(pool, tmp, "/test_template.XXXXXX", NULL);
    return mkdtemp(dir);
}

static void read_fails(const char *path, apr_size_t max, const char *what)
{
    const char *text = "untouched";
    const char *err = authsvc_template_read(pool, path, max, &text);

    ok(err != NULL && strstr(err, path) != NULL, "read refuses %s, naming the file (%s)",
       what, err ? err : "accepted");
}

static void test_read(void)
{
    const char *dir = make_temp_dir(), *text, *err;
    const char *good, *big, *latin1, *nul, *empty, *sub;
    static const char utf8[] = "<p>Gr\xc3\xbc\xc3\x9f{{site}} \xf0\x9f\x98\x80</p>\r\n";

    if (dir == NULL) {
        ok(0, "temp dir");
        return;
    }
    good = apr_pstrcat(pool, dir, "/good.html", NULL);
    big = apr_pstrcat(pool, dir, "/big.html", NULL);
    latin1 = apr_pstrcat(pool, dir, "/latin1.html", NULL);
    nul = apr_pstrcat(pool, dir, "/nul.html", NULL);
    empty = apr_pstrcat(pool, dir, "/empty.html", NULL);
    sub = apr_pstrcat(pool, dir, "/sub.html", NULL);
    ok(write_bytes(good, utf8, sizeof(utf8) - 1) && write_bytes(big, "0123456789A", 11) &&
           write_bytes(latin1, "caf\xe9", 4) && write_bytes(nul, "a\0b", 3) &&
           write_bytes(empty, "", 0) &&
           apr_dir_make(sub, APR_FPROT_OS_DEFAULT, pool) == APR_SUCCESS,
       "temp files written");

    text = "untouched";
    err = authsvc_template_read(pool, apr_pstrcat(pool, dir, "/missing.html", NULL), 100,
                                &text);
    is_str(err, NULL, "missing file: no error");
    is_str(text, "untouched", "missing file: text left alone");
    text = NULL;
    is_str(authsvc_template_read(pool, good, 100, &text), NULL, "UTF-8 file read");
    is_str(text, utf8, "UTF-8 file: the text as it is (CRLF kept)");
    text = NULL;
    is_str(authsvc_template_read(pool, big, 11, &text), NULL, "a file of exactly max octets");
    is_str(text, "0123456789A", "exactly max: whole text");
    text = NULL;
    is_str(authsvc_template_read(pool, empty, 10, &text), NULL, "an empty file is fine");
    is_str(text, "", "empty file: empty text");
    read_fails(big, 10, "a file one octet over max");
    read_fails(sub, 1 << 20, "a directory");
    read_fails(latin1, 100, "Latin-1 text (not UTF-8)");
    read_fails(nul, 100, "a NUL byte inside");
    text = "untouched";
    authsvc_template_read(pool, latin1, 100, &text);
    is_str(text, "untouched", "refused file: text left alone");

    is_str(authsvc_template_dir_check(pool, dir), NULL, "dir_check: a directory");
    err = authsvc_template_dir_check(pool, apr_pstrcat(pool, dir, "/nodir", NULL));
    ok(err != NULL && strstr(err, "/nodir") != NULL,
       "dir_check: a missing directory, named (%s)", err ? err : "accepted");
    err = authsvc_template_dir_check(pool, good);
    ok(err != NULL && strstr(err, good) != NULL && strstr(err, "not a directory") != NULL,
       "dir_check: a file is not a directory (%s)", err ? err : "accepted");

    apr_file_remove(good, pool);
    apr_file_remove(big, pool);
    apr_file_remove(latin1, pool);
    apr_file_remove(nul, pool);
    apr_file_remove(empty, pool);
    apr_dir_remove(sub, pool);
    apr_dir_remove(dir, pool);
}

int main(void)
{
    pool = tap_apr_start();
    test_values();
    test_sections();
    test_mustache_like();
    test_standalone();
    test_nesting();
    test_errors();
    test_names();
    test_raw_names();
    test_read();
    return tap_apr_end(pool);
}

/*
 * template.c - the template engine (see template.h): one walker both checks and
 * renders, so that what start-up accepts is exactly what a request can render.
 */
#include <stdarg.h>
#include <string.h>

#include "apr_file_info.h"
#include "apr_file_io.h"
#include "apr_strings.h"

#include "template.h"
#include "text.h"

#define SECTION_DEPTH 8 /* nested {{#x}} sections */

typedef struct {
    apr_pool_t *p;
    const char *start;         /* the whole template: line numbers, line starts */
    const char *const *names;  /* allowed names, or NULL */
    const char *const *raw;    /* names allowed unescaped ({{&x}}), or NULL: any */
    int html;                  /* escape values for HTML */
    const authsvc_template_msgs_t *msgs; /* {{@id}} texts, or NULL: the id itself */
    const char *msg;           /* the id of the message being walked, or NULL */
    int depth;
    authsvc_json_t *ctx[SECTION_DEPTH + 1]; /* contexts, innermost last */
    apr_array_header_t *out;   /* const char * pieces */
    const char *err;
} walker_t;

typedef struct {
    char sigil; /* 0, '#', '^', '/', '&' or '@' */
    const char *name;
    const char *at, *next; /* the "{{" and just after the "}}" */
} tag_t;

static const char *fail(walker_t *w, const char *at, const char *fmt, ...)
{
    const char *s;
    int line = 1;
    va_list ap;

    for (s = w->start; s < at; s++) {
        line += *s == '\n';
    }
    va_start(ap, fmt);
    w->err = apr_pvsprintf(w->p, fmt, ap);
    va_end(ap);
    w->err = w->msg != NULL ? apr_psprintf(w->p, "message \"%s\": %s", w->msg, w->err)
                            : apr_psprintf(w->p, "line %d: %s", line, w->err);
    return NULL;
}

/* name is in the NULL-terminated list (NULL: every name is) */
static int listed(const char *const *list, const char *name)
{
    if (list == NULL) {
        return 1;
    }
    for (; *list != NULL; list++) {
        if (strcmp(*list, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* "body, alerts and qr_svg" (or "none") for a message. */
static const char *raw_list(apr_pool_t *p, const char *const *raw)
{
    const char *s = NULL;
    int i;

    for (i = 0; raw[i] != NULL; i++) {
        s = s == NULL ? raw[i]
                      : apr_pstrcat(p, s, raw[i + 1] != NULL ? ", " : " and ", raw[i], NULL);
    }
    return s;
}

/* Parse the tag at q ("{{"): an optional sigil and an allowed name. */
static int parse_tag(walker_t *w, const char *q, tag_t *t)
{
    const char *end = strstr(q + 2, "}}");
    const char *name = q + 2;

    if (end == NULL) {
        fail(w, q, "\"{{\" without \"}}\"");
        return 0;
    }
    t->sigil = *name != '\0' && strchr("#^/&@", *name) != NULL ? *name++ : 0;
    t->name = apr_pstrmemdup(w->p, name, (apr_size_t)(end - name));
    t->at = q;
    t->next = end + 2;
    if (w->msg != NULL && t->sigil != 0) {
        fail(w, q, "a message holds only {{name}} placeholders");
        return 0;
    }
    if (t->sigil == '@') {
        /* A message id: [a-z0-9_.]+, not starting with a dot. */
        if (*t->name == '\0' || *t->name == '.' ||
            t->name[strspn(t->name, "abcdefghijklmnopqrstuvwxyz0123456789_.")]) {
            fail(w, q, "bad message id \"%s\"",
                 apr_pstrmemdup(w->p, q, (apr_size_t)(t->next - q)));
            return 0;
        }
        return 1;
    }
    if (strcmp(t->name, ".") != 0 &&
        (*t->name == '\0' || t->name[strspn(t->name, "abcdefghijklmnopqrstuvwxyz0123456789_")])) {
        fail(w, q, "bad placeholder \"%s\"",
             apr_pstrmemdup(w->p, q, (apr_size_t)(t->next - q)));
        return 0;
    }
    if (strcmp(t->name, ".") != 0 && !listed(w->names, t->name)) {
        fail(w, q, "unknown variable \"%s\"", t->name);
        return 0;
    }
    if (t->sigil == '&' && !listed(w->raw, t->name)) {
        if (*w->raw == NULL) {
            fail(w, q, "values are always escaped here ({{&...}} is not allowed)");
        }
        else {
            fail(w, q, "only %s may be inserted unescaped ({{&...}})", raw_list(w->p, w->raw));
        }
        return 0;
    }
    return 1;
}

/* A section tag alone on its line (but for blanks) takes the line with it: returns
 * where that line starts and moves t->next past its line end; NULL if not alone. */
static const char *standalone(const walker_t *w, tag_t *t)
{
    const char *b = t->at, *e = t->next + strspn(t->next, " \t");

    while (b > w->start && (b[-1] == ' ' || b[-1] == '\t')) {
        b--;
    }
    if (b > w->start && b[-1] != '\n') {
        return NULL;
    }
    if (e[0] == '\r' && e[1] == '\n') {
        e += 2;
    }
    else if (*e == '\n') {
        e++;
    }
    else if (*e != '\0') {
        return NULL;
    }
    t->next = e;
    return b;
}

/* Quotes and apostrophes too: a value may end up inside an attribute. */
static const char *html_escape(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 6 + 1), *o = out;
    const char *e;

    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\'': e = "&#39;"; break;
        default: *o++ = *s; continue;
        }
        memcpy(o, e, strlen(e));
        o += strlen(e);
    }
    *o = '\0';
    return out;
}

/* The value of name in the innermost context that has it, or NULL. */
static authsvc_json_t *lookup(const walker_t *w, const char *name)
{
    int i;

    if (strcmp(name, ".") == 0) {
        return w->ctx[w->depth];
    }
    for (i = w->depth; i >= 0; i--) {
        authsvc_json_t *v = authsvc_json_member(w->ctx[i], name);
        if (v != NULL) {
            return v;
        }
    }
    return NULL;
}

static int truthy(const authsvc_json_t *v)
{
    switch (authsvc_json_kind(v)) {
    case AUTHSVC_JSON_KIND_NULL:
    case AUTHSVC_JSON_KIND_FALSE: return 0;
    case AUTHSVC_JSON_KIND_STRING: return *authsvc_json_text(NULL, v) != '\0';
    case AUTHSVC_JSON_KIND_ARRAY: return authsvc_json_size(v) > 0;
    default: return 1;
    }
}

static void emit(walker_t *w, int on, const char *s, const char *end)
{
    if (on && end > s) {
        APR_ARRAY_PUSH(w->out, const char *) = apr_pstrmemdup(w->p, s, (apr_size_t)(end - s));
    }
}

static void emit_value(walker_t *w, int on, const tag_t *t)
{
    const char *v;

    if (!on) {
        return;
    }
    v = authsvc_json_text(w->p, lookup(w, t->name));
    if (*v != '\0') {
        APR_ARRAY_PUSH(w->out, const char *) =
            w->html && t->sigil != '&' ? html_escape(w->p, v) : v;
    }
}

static const char *walk(walker_t *w, const char *s, const tag_t *open, int on);

/* {{@id}}: the message's text in place, its {{name}} placeholders filled from the
 * current contexts (escaped as any value); the text itself is the template's own, so
 * it is not escaped. Checking (on 0) with msgs set refuses an unknown id; rendering
 * falls back to the id itself, never to nothing. */
static int emit_message(walker_t *w, int on, const tag_t *t)
{
    const char *text = w->msgs ? w->msgs->text(w->msgs->baton, t->name) : NULL;
    const char *start = w->start;

    if (text == NULL) {
        if (!on && w->msgs != NULL) {
            fail(w, t->at, "unknown message \"%s\"", t->name);
            return 0;
        }
        emit(w, on, t->name, t->name + strlen(t->name));
        return 1;
    }
    w->msg = t->name;
    w->start = text;
    text = walk(w, text, NULL, on);
    w->msg = NULL;
    w->start = start;
    return text != NULL;
}

/* The section opened by t, from s: rendered once per element of an array, once with
 * an object (or any other true value) as the context, or walked silently. */
static const char *section(walker_t *w, const char *s, const tag_t *t, int on)
{
    authsvc_json_t *v = on ? lookup(w, t->name) : NULL;
    int show = on && (t->sigil == '#') == truthy(v);
    const char *end = NULL;
    apr_size_t i, n;

    if (w->depth >= SECTION_DEPTH) {
        return fail(w, t->at, "sections nested too deep");
    }
    w->depth++;
    if (!show) {
        w->ctx[w->depth] = NULL;
        end = walk(w, s, t, 0);
    }
    else if (t->sigil == '#' && authsvc_json_kind(v) == AUTHSVC_JSON_KIND_ARRAY) {
        n = authsvc_json_size(v);
        for (i = 0; i < n && (i == 0 || end != NULL); i++) {
            w->ctx[w->depth] = authsvc_json_at(v, i);
            end = walk(w, s, t, 1);
        }
    }
    else {
        /* {{^x}} and plain true values keep the enclosing context. */
        w->ctx[w->depth] = t->sigil == '#' && authsvc_json_kind(v) != AUTHSVC_JSON_KIND_TRUE
                               ? v
                               : NULL;
        end = walk(w, s, t, 1);
    }
    w->depth--;
    return end;
}

/* Render from s to the tag that closes section `open` (NULL: to the end of the
 * template); with on 0 nothing is output but the syntax is still checked. Returns where
 * it stopped (after the closing tag), NULL with w->err set on a syntax error. */
static const char *walk(walker_t *w, const char *s, const tag_t *open, int on)
{
    const char *q, *line;
    tag_t t;

    while ((q = strstr(s, "{{")) != NULL) {
        if (!parse_tag(w, q, &t)) {
            return NULL;
        }
        line = t.sigil == '#' || t.sigil == '^' || t.sigil == '/' ? standalone(w, &t) : NULL;
        emit(w, on, s, line ? line : q);
        s = t.next;
        if (t.sigil == 0 || t.sigil == '&') {
            emit_value(w, on, &t);
        }
        else if (t.sigil == '@') {
            if (!emit_message(w, on, &t)) {
                return NULL;
            }
        }
        else if (t.sigil == '/') {
            if (open == NULL || strcmp(open->name, t.name) != 0) {
                return fail(w, q, "\"{{/%s}}\" closes no open section", t.name);
            }
            return s;
        }
        else if ((s = section(w, s, &t, on)) == NULL) {
            return NULL;
        }
    }
    if (open != NULL) {
        return fail(w, open->at, "\"{{%c%s}}\" without \"{{/%s}}\"", open->sigil, open->name,
                    open->name);
    }
    emit(w, on, s, s + strlen(s));
    return s + strlen(s);
}

static const char *run(apr_pool_t *p, const char *tpl, const char *const *names,
                       const char *const *raw, const authsvc_template_msgs_t *msgs,
                       authsvc_json_t *data, int html, int on, const char **err)
{
    walker_t w;

    memset(&w, 0, sizeof(w));
    w.p = p;
    w.msgs = msgs;
    w.start = tpl;
    w.names = names;
    w.raw = raw;
    w.html = html;
    w.ctx[0] = data;
    w.out = apr_array_make(p, 32, sizeof(const char *));
    if (walk(&w, tpl, NULL, on) == NULL) {
        *err = w.err;
        return NULL;
    }
    return apr_array_pstrcat(p, w.out, 0);
}

const char *authsvc_template_check(apr_pool_t *p, const char *tpl, const char *const *names)
{
    return authsvc_template_check_raw(p, tpl, names, NULL);
}

const char *authsvc_template_check_raw(apr_pool_t *p, const char *tpl,
                                       const char *const *names, const char *const *raw)
{
    return authsvc_template_check_msgs(p, tpl, names, raw, NULL);
}

const char *authsvc_template_check_msgs(apr_pool_t *p, const char *tpl,
                                        const char *const *names, const char *const *raw,
                                        const authsvc_template_msgs_t *msgs)
{
    const char *err = NULL;

    return run(p, tpl, names, raw, msgs, NULL, 0, 0, &err) != NULL ? NULL : err;
}

const char *authsvc_template_render(apr_pool_t *p, const char *tpl, authsvc_json_t *data,
                                    int html, const char **err)
{
    return authsvc_template_render_msgs(p, tpl, data, NULL, html, err);
}

const char *authsvc_template_render_msgs(apr_pool_t *p, const char *tpl,
                                         authsvc_json_t *data,
                                         const authsvc_template_msgs_t *msgs, int html,
                                         const char **err)
{
    return run(p, tpl, NULL, NULL, msgs, data, html, 1, err);
}

const char *authsvc_template_read(apr_pool_t *p, const char *path, apr_size_t max,
                                  const char **text)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t got = 0;
    char *buf = NULL;
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                                    APR_FPROT_OS_DEFAULT, p);

    if (APR_STATUS_IS_ENOENT(rv)) {
        return NULL;
    }
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
        if (rv == APR_SUCCESS && (fi.filetype != APR_REG || (apr_size_t)fi.size > max)) {
            apr_file_close(f);
            return apr_psprintf(p, "%s: not a regular file of at most %" APR_SIZE_T_FMT
                                " octets", path, max);
        }
        if (rv == APR_SUCCESS) {
            buf = apr_palloc(p, (apr_size_t)fi.size + 1);
            rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, &got);
            buf[got] = '\0';
        }
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return apr_psprintf(p, "cannot read %s: %pm", path, &rv);
    }
    if (strlen(buf) != got || authsvc_text_utf8_length(buf, got) < 0) {
        return apr_psprintf(p, "%s is not UTF-8 text", path);
    }
    *text = buf;
    return NULL;
}

const char *authsvc_template_dir_check(apr_pool_t *p, const char *dir)
{
    apr_finfo_t fi;
    apr_status_t rv = apr_stat(&fi, dir, APR_FINFO_TYPE, p);

    if (rv != APR_SUCCESS) {
        return apr_psprintf(p, "cannot read %s: %pm", dir, &rv);
    }
    return fi.filetype == APR_DIR ? NULL : apr_psprintf(p, "%s is not a directory", dir);
}

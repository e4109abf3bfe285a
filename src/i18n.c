/*
 * i18n.c - message catalogues and language negotiation (see i18n.h).
 *
 * The catalogues are read with jansson directly: json.h has no walk over an object's
 * members, which a catalogue needs, and nothing else here touches request JSON.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apr_file_info.h"
#include "apr_hash.h"
#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_tables.h"

#include "i18n.h"

#define CATALOGUE_MAX (256 * 1024)
#define ID_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_."
#define NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_"
#define TAG_MAX 35

struct authsvc_i18n {
    apr_pool_t *p;
    apr_hash_t *langs;   /* lang -> apr_hash_t (id -> text) */
    apr_hash_t *english; /* English text of a "c." message -> its id */
    const char **list;   /* the languages, "en" first, NULL-terminated */
};

const char *authsvc_i18n_tag_check(const char *tag)
{
    size_t n = strspn(tag, "abcdefghijklmnopqrstuvwxyz");
    const char *s;

    if (n < 2 || n > 3 || strlen(tag) > TAG_MAX) {
        return "a language tag starts with 2 or 3 letters and has at most 35 characters";
    }
    for (s = tag + n; *s != '\0'; s++) {
        if (!(apr_islower(*s) || apr_isdigit(*s) || (*s == '-' && s[1] != '\0' &&
                                                     s[1] != '-'))) {
            return "a language tag is lower-case letters, digits and single '-' between "
                   "them";
        }
    }
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The placeholders of text as a canonical string (sorted, distinct, space-separated)
 * in *set; NULL, or what is wrong with them. */
static const char *placeholders(apr_pool_t *p, const char *text, const char **set)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    const char *s = text, *q, *e, *out = "";
    size_t n;
    int i;

    while ((q = strstr(s, "{{")) != NULL) {
        if ((e = strstr(q + 2, "}}")) == NULL) {
            return "\"{{\" without \"}}\"";
        }
        n = (size_t)(e - (q + 2));
        if (n == 0 || strspn(q + 2, NAME_CHARS) < n) {
            return apr_psprintf(p, "bad placeholder \"%s\" (a message holds {{name}} only)",
                                apr_pstrmemdup(p, q, n + 4));
        }
        APR_ARRAY_PUSH(a, const char *) = apr_pstrmemdup(p, q + 2, n);
        s = e + 2;
    }
    qsort(a->elts, (size_t)a->nelts, sizeof(const char *), cmp_str);
    for (i = 0; i < a->nelts; i++) {
        const char *name = APR_ARRAY_IDX(a, i, const char *);
        if (i == 0 || strcmp(name, APR_ARRAY_IDX(a, i - 1, const char *)) != 0) {
            out = *out ? apr_pstrcat(p, out, " ", name, NULL) : name;
        }
    }
    *set = out;
    return NULL;
}

/* One catalogue file (its text and length) for lang, merged over what c has.
 * where names it in messages. */
static const char *add_catalogue(authsvc_i18n_t *c, const char *lang, const char *text,
                                 size_t len, const char *where)
{
    apr_pool_t *p = c->p;
    apr_hash_t *msgs = apr_hash_get(c->langs, lang, APR_HASH_KEY_STRING);
    apr_hash_t *en = apr_hash_get(c->langs, "en", APR_HASH_KEY_STRING);
    const char *key, *err = NULL, *have, *want, *was;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *val;

    if (root == NULL) {
        return apr_psprintf(p, "%s: line %d: %s", where, jerr.line, jerr.text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return apr_psprintf(p, "%s: not a JSON object of message id: text", where);
    }
    if (msgs == NULL) {
        msgs = apr_hash_make(p);
        apr_hash_set(c->langs, apr_pstrdup(p, lang), APR_HASH_KEY_STRING, msgs);
        en = en ? en : msgs;
    }
    json_object_foreach(root, key, val) {
        const char *id = apr_pstrdup(p, key), *msg;
        if (*id == '\0' || *id == '.' || id[strspn(id, ID_CHARS)] != '\0') {
            err = apr_psprintf(p, "%s: key \"%s\": not a message id ([a-z0-9_.]+)", where,
                               id);
            break;
        }
        if (!json_is_string(val) || *json_string_value(val) == '\0') {
            err = apr_psprintf(p, "%s: key \"%s\": the text must be a non-empty string",
                               where, id);
            break;
        }
        msg = apr_pstrdup(p, json_string_value(val));
        if ((err = placeholders(p, msg, &have)) != NULL) {
            err = apr_psprintf(p, "%s: key \"%s\": %s", where, id, err);
            break;
        }
        /* Placeholders are the contract with the templates: a translation (or an
         * override of an English text) uses exactly the English text's. */
        was = apr_hash_get(en, id, APR_HASH_KEY_STRING);
        if (was == NULL && en != msgs) {
            err = apr_psprintf(p, "%s: key \"%s\": unknown message id (not in the English "
                               "catalogue)", where, id);
            break;
        }
        if (was != NULL && (err = placeholders(p, was, &want)) == NULL &&
            strcmp(have, want) != 0) {
            err = apr_psprintf(p, "%s: key \"%s\": placeholders {%s} differ from the English "
                               "text's {%s}", where, id, have, want);
        }
        if (err != NULL) {
            break;
        }
        apr_hash_set(msgs, id, APR_HASH_KEY_STRING, msg);
        if (msgs == en && strncmp(id, "c.", 2) == 0) {
            apr_hash_set(c->english, msg, APR_HASH_KEY_STRING, id);
        }
    }
    json_decref(root);
    return err;
}

/* "de.json" -> "de"; NULL for a file that is no catalogue. */
static const char *lang_of(apr_pool_t *p, const char *file)
{
    size_t n = strlen(file);
    const char *lang;

    if (n <= 5 || strcmp(file + n - 5, ".json") != 0) {
        return NULL;
    }
    lang = apr_pstrmemdup(p, file, n - 5);
    return authsvc_i18n_tag_check(lang) == NULL ? lang : NULL;
}

/* The catalogues of dir, English first (the others are checked against it). */
static const char *load_dir(authsvc_i18n_t *c, const char *dir)
{
    apr_pool_t *p = c->p;
    apr_array_header_t *files = apr_array_make(p, 8, sizeof(const char *));
    apr_dir_t *d;
    apr_finfo_t fi;
    const char *err = NULL, *text, *lang, *path;
    apr_status_t rv = apr_dir_open(&d, dir, p);
    int i;

    if (rv != APR_SUCCESS) {
        return apr_psprintf(p, "cannot read %s: %pm", dir, &rv);
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS) {
        if (fi.name[0] != '.' && fi.filetype == APR_REG && lang_of(p, fi.name) != NULL) {
            APR_ARRAY_PUSH(files, const char *) = apr_pstrdup(p, fi.name);
        }
    }
    apr_dir_close(d);
    qsort(files->elts, (size_t)files->nelts, sizeof(const char *), cmp_str);
    for (i = -1; i < files->nelts && err == NULL; i++) {
        const char *file = i < 0 ? "en.json" : APR_ARRAY_IDX(files, i, const char *);
        if (i >= 0 && strcmp(file, "en.json") == 0) {
            continue;
        }
        path = apr_pstrcat(p, dir, "/", file, NULL);
        if (i < 0 && apr_stat(&fi, path, APR_FINFO_TYPE, p) != APR_SUCCESS) {
            continue; /* no English overrides */
        }
        lang = lang_of(p, file);
        text = NULL;
        if ((err = authsvc_template_read(p, path, CATALOGUE_MAX, &text)) == NULL &&
            text != NULL) {
            err = add_catalogue(c, lang, text, strlen(text), path);
        }
    }
    return err;
}

const char *authsvc_i18n_load(apr_pool_t *p, const char *dir, authsvc_i18n_t **out)
{
    authsvc_i18n_t *c = apr_pcalloc(p, sizeof(*c));
    const authsvc_i18n_builtin_t *b;
    apr_array_header_t *list;
    apr_hash_index_t *hi;
    const char *err = NULL;
    int n, i, pass;

    c->p = p;
    c->langs = apr_hash_make(p);
    c->english = apr_hash_make(p);
    b = authsvc_i18n_builtins(&n);
    /* English first: the others are checked against it. */
    for (pass = 0; pass < 2 && err == NULL; pass++) {
        for (i = 0; i < n && err == NULL; i++) {
            if ((strcmp(b[i].lang, "en") == 0) == (pass == 0)) {
                err = add_catalogue(c, b[i].lang, b[i].json, strlen(b[i].json),
                                    apr_pstrcat(p, "built-in ", b[i].lang, ".json", NULL));
            }
        }
        if (pass == 0 && err == NULL && !authsvc_i18n_has(c, "en")) {
            err = "no built-in English catalogue";
        }
    }
    if (err == NULL && dir != NULL) {
        err = load_dir(c, dir);
    }
    if (err != NULL) {
        return err;
    }
    list = apr_array_make(p, 8, sizeof(const char *));
    for (hi = apr_hash_first(p, c->langs); hi != NULL; hi = apr_hash_next(hi)) {
        const char *lang = apr_hash_this_key(hi);
        if (strcmp(lang, "en") != 0) {
            APR_ARRAY_PUSH(list, const char *) = lang;
        }
    }
    qsort(list->elts, (size_t)list->nelts, sizeof(const char *), cmp_str);
    c->list = apr_pcalloc(p, sizeof(const char *) * (size_t)(list->nelts + 2));
    c->list[0] = "en";
    memcpy(c->list + 1, list->elts, sizeof(const char *) * (size_t)list->nelts);
    *out = c;
    return NULL;
}

int authsvc_i18n_has(const authsvc_i18n_t *c, const char *lang)
{
    return lang != NULL && apr_hash_get(c->langs, lang, APR_HASH_KEY_STRING) != NULL;
}

const char *const *authsvc_i18n_languages(const authsvc_i18n_t *c)
{
    return c->list;
}

const char *authsvc_i18n_lookup(const authsvc_i18n_t *c, const char *lang, const char *id)
{
    apr_hash_t *msgs = lang ? apr_hash_get(c->langs, lang, APR_HASH_KEY_STRING) : NULL;

    return msgs ? apr_hash_get(msgs, id, APR_HASH_KEY_STRING) : NULL;
}

const char *authsvc_i18n_text(const authsvc_i18n_t *c, const char *lang, const char *id)
{
    const char *s = authsvc_i18n_lookup(c, lang, id);

    s = s ? s : authsvc_i18n_lookup(c, "en", id);
    return s ? s : id;
}

const char *authsvc_i18n_translate(const authsvc_i18n_t *c, const char *lang,
                                   const char *english)
{
    const char *id = english ? apr_hash_get(c->english, english, APR_HASH_KEY_STRING) : NULL;
    const char *s = id ? authsvc_i18n_lookup(c, lang, id) : NULL;

    return s ? s : english;
}

typedef struct {
    const authsvc_i18n_t *c;
    const char *lang;
} msgs_baton_t;

static const char *msgs_text(void *baton, const char *id)
{
    const msgs_baton_t *b = baton;
    const char *s = authsvc_i18n_lookup(b->c, b->lang, id);

    return s ? s : authsvc_i18n_lookup(b->c, "en", id);
}

const authsvc_template_msgs_t *authsvc_i18n_msgs(apr_pool_t *p, const authsvc_i18n_t *c,
                                                 const char *lang)
{
    authsvc_template_msgs_t *m = apr_palloc(p, sizeof(*m));
    msgs_baton_t *b = apr_palloc(p, sizeof(*b));

    b->c = c;
    b->lang = lang;
    m->text = msgs_text;
    m->baton = b;
    return m;
}

/* ---- negotiation --------------------------------------------------------------- */

/* How well range (lower case) matches tag: 4 the same, 3 range a prefix of tag
 * ("de" for "de-ch"), 2 tag a prefix of range ("de-ch" served by "de"), 1 "*", 0 no. */
static int match(const char *range, const char *tag)
{
    size_t r = strlen(range), t = strlen(tag);

    if (strcmp(range, tag) == 0) {
        return 4;
    }
    if (r < t && strncmp(range, tag, r) == 0 && tag[r] == '-') {
        return 3;
    }
    if (t < r && strncmp(range, tag, t) == 0 && range[t] == '-') {
        return 2;
    }
    return strcmp(range, "*") == 0;
}

/* "q=0.5" and friends (RFC 9110 section 12.4.2) in thousandths, or -1. */
static int qvalue(const char *s)
{
    int q = 0, i;

    if ((s[0] != '0' && s[0] != '1') || (s[1] != '\0' && s[1] != '.')) {
        return -1;
    }
    q = (s[0] - '0') * 1000;
    if (s[1] == '.') {
        for (i = 2; s[i] != '\0'; i++) {
            if (i > 4 || !apr_isdigit(s[i])) {
                return -1;
            }
            q += (s[i] - '0') * (i == 2 ? 100 : i == 3 ? 10 : 1);
        }
    }
    return q <= 1000 ? q : -1;
}

typedef struct {
    const char *range;
    int q;
} lang_range_t;

static apr_array_header_t *parse_ranges(apr_pool_t *p, const char *accept)
{
    apr_array_header_t *a = apr_array_make(p, 8, sizeof(lang_range_t));
    char *copy = apr_pstrdup(p, accept), *last, *item;

    for (item = apr_strtok(copy, ",", &last); item != NULL;
         item = apr_strtok(NULL, ",", &last)) {
        char *params = strchr(item, ';'), *plast, *param;
        lang_range_t r = {NULL, 1000};
        if (params != NULL) {
            *params++ = '\0';
        }
        apr_collapse_spaces(item, item); /* returns the end of the string */
        r.range = item;
        for (param = params ? apr_strtok(params, ";", &plast) : NULL; param != NULL;
             param = apr_strtok(NULL, ";", &plast)) {
            apr_collapse_spaces(param, param);
            if ((param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
                r.q = qvalue(param + 2);
            }
        }
        if (r.q < 0 || *r.range == '\0' ||
            r.range[strspn(r.range, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789-*")] != '\0') {
            continue;
        }
        {
            char *lower = (char *)r.range;
            for (; *lower; lower++) {
                *lower = (char)apr_tolower(*lower);
            }
        }
        APR_ARRAY_PUSH(a, lang_range_t) = r;
    }
    return a;
}

const char *authsvc_i18n_negotiate(apr_pool_t *p, const char *accept,
                                   const char *const *offered, const char *dflt)
{
    apr_array_header_t *ranges;
    const char *best = NULL;
    int best_q = 0, best_pos = 0, j, i, pass;

    if (accept == NULL || offered == NULL) {
        return dflt;
    }
    ranges = parse_ranges(p, accept);
    /* The default first, so that it wins a tie ("*", or no preference). */
    for (pass = 0; pass < 2; pass++) {
        for (j = 0; offered[j] != NULL; j++) {
            int kind = 0, q = 0, pos = 0;
            if ((strcmp(offered[j], dflt) == 0) != (pass == 0)) {
                continue;
            }
            for (i = 0; i < ranges->nelts; i++) {
                const lang_range_t *r = &APR_ARRAY_IDX(ranges, i, lang_range_t);
                int k = match(r->range, offered[j]);
                if (k > kind) {
                    kind = k;
                    q = r->q;
                    pos = i;
                }
            }
            if (kind > 0 && q > 0 &&
                (best == NULL || q > best_q || (q == best_q && pos < best_pos))) {
                best = offered[j];
                best_q = q;
                best_pos = pos;
            }
        }
    }
    return best ? best : dflt;
}

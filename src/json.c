/*
 * json.c - jansson, bound to APR pools. The only file that includes <jansson.h>.
 */
#include <stdlib.h>
#include <string.h>

#include "apr_strings.h"
#include <jansson.h>

#include "json.h"

static apr_status_t json_release(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

/* Hand a new reference to p: the pool cleanup drops it. */
static authsvc_json_t *pool_bind(apr_pool_t *p, json_t *v)
{
    if (v != NULL) {
        apr_pool_cleanup_register(p, v, json_release, apr_pool_cleanup_null);
    }
    return v;
}

/* Decoding flags: refuse duplicate keys (two values for "password" is an attack or a
 * bug, never something to pick from) and keep NUL bytes out unless escaped, in which
 * case jansson reports the length and callers check it. */
authsvc_json_t *authsvc_json_parse(apr_pool_t *p, const char *buf, apr_size_t len,
                                   const char **err)
{
    json_error_t jerr;
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);

    if (v == NULL) {
        /* jansson quotes the input near the error ("near 'hunter2...'"): that may be a
         * password, and this text reaches the client and the debug log. Cut it off. */
        char *near = strstr(jerr.text, " near '");
        if (near != NULL) {
            *near = '\0';
        }
        *err = apr_psprintf(p, "%s (line %d, column %d)", jerr.text, jerr.line,
                            jerr.column);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        *err = "the body must be a JSON object";
        return NULL;
    }
    return pool_bind(p, v);
}

authsvc_json_t *authsvc_json_object(apr_pool_t *p)
{
    return pool_bind(p, json_object());
}

authsvc_json_t *authsvc_json_array(apr_pool_t *p)
{
    return pool_bind(p, json_array());
}

authsvc_json_found_t authsvc_json_get_string(authsvc_json_t *obj, const char *key,
                                             const char **val, apr_size_t *len)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL) {
        return AUTHSVC_JSON_MISSING;
    }
    if (json_is_null(v)) {
        return AUTHSVC_JSON_NULL;
    }
    if (!json_is_string(v)) {
        return AUTHSVC_JSON_WRONG_TYPE;
    }
    *val = json_string_value(v);
    *len = json_string_length(v);
    return AUTHSVC_JSON_OK;
}

/* What is at key, before its type is looked at: MISSING, NULL or OK with *v set. */
static authsvc_json_found_t lookup(authsvc_json_t *obj, const char *key, json_t **v)
{
    *v = json_object_get(obj, key);
    if (*v == NULL) {
        return AUTHSVC_JSON_MISSING;
    }
    return json_is_null(*v) ? AUTHSVC_JSON_NULL : AUTHSVC_JSON_OK;
}

authsvc_json_found_t authsvc_json_get_int(authsvc_json_t *obj, const char *key,
                                          long long *v)
{
    json_t *j;
    authsvc_json_found_t f = lookup(obj, key, &j);

    if (f != AUTHSVC_JSON_OK) {
        return f;
    }
    if (!json_is_integer(j)) {
        return AUTHSVC_JSON_WRONG_TYPE;
    }
    *v = (long long)json_integer_value(j);
    return AUTHSVC_JSON_OK;
}

authsvc_json_found_t authsvc_json_get_bool(authsvc_json_t *obj, const char *key, int *v)
{
    json_t *j;
    authsvc_json_found_t f = lookup(obj, key, &j);

    if (f != AUTHSVC_JSON_OK) {
        return f;
    }
    if (!json_is_boolean(j)) {
        return AUTHSVC_JSON_WRONG_TYPE;
    }
    *v = json_is_true(j) ? 1 : 0;
    return AUTHSVC_JSON_OK;
}

authsvc_json_kind_t authsvc_json_kind(const authsvc_json_t *v)
{
    switch (v != NULL ? json_typeof(v) : JSON_NULL) {
    case JSON_FALSE: return AUTHSVC_JSON_KIND_FALSE;
    case JSON_TRUE: return AUTHSVC_JSON_KIND_TRUE;
    case JSON_INTEGER:
    case JSON_REAL: return AUTHSVC_JSON_KIND_NUMBER;
    case JSON_STRING: return AUTHSVC_JSON_KIND_STRING;
    case JSON_ARRAY: return AUTHSVC_JSON_KIND_ARRAY;
    case JSON_OBJECT: return AUTHSVC_JSON_KIND_OBJECT;
    default: return AUTHSVC_JSON_KIND_NULL;
    }
}

authsvc_json_t *authsvc_json_member(authsvc_json_t *obj, const char *key)
{
    return json_is_object(obj) ? json_object_get(obj, key) : NULL;
}

apr_size_t authsvc_json_size(const authsvc_json_t *arr)
{
    return json_is_array(arr) ? json_array_size(arr) : 0;
}

authsvc_json_t *authsvc_json_at(authsvc_json_t *arr, apr_size_t i)
{
    return json_is_array(arr) ? json_array_get(arr, i) : NULL;
}

const char *authsvc_json_text(apr_pool_t *p, const authsvc_json_t *v)
{
    switch (authsvc_json_kind(v)) {
    case AUTHSVC_JSON_KIND_STRING: return json_string_value(v);
    case AUTHSVC_JSON_KIND_TRUE: return "true";
    case AUTHSVC_JSON_KIND_FALSE: return "false";
    case AUTHSVC_JSON_KIND_NUMBER:
        return json_is_integer(v) ? apr_psprintf(p, "%" APR_INT64_T_FMT,
                                                 (apr_int64_t)json_integer_value(v))
                                  : apr_psprintf(p, "%.17g", json_real_value(v));
    default: return "";
    }
}

/* A string that C code can compare: one without a NUL byte inside. */
static const char *plain_string(json_t *v)
{
    const char *s = json_string_value(v);

    return s != NULL && strlen(s) == json_string_length(v) ? s : NULL;
}

authsvc_json_found_t authsvc_json_get_strings(apr_pool_t *p, authsvc_json_t *obj,
                                              const char *key, apr_array_header_t **out)
{
    json_t *j, *item;
    apr_array_header_t *arr;
    authsvc_json_found_t f = lookup(obj, key, &j);
    size_t i, n;

    if (f != AUTHSVC_JSON_OK) {
        return f;
    }
    if (!json_is_string(j) && !json_is_array(j)) {
        return AUTHSVC_JSON_WRONG_TYPE;
    }
    /* A plain string is walked as an array of one. */
    n = json_is_string(j) ? 1 : json_array_size(j);
    arr = apr_array_make(p, (int)(n > 0 ? n : 1), sizeof(const char *));
    for (i = 0; i < n; i++) {
        item = json_is_string(j) ? j : json_array_get(j, i);
        if (!json_is_string(item) || plain_string(item) == NULL) {
            return AUTHSVC_JSON_WRONG_TYPE;
        }
        APR_ARRAY_PUSH(arr, const char *) = plain_string(item);
    }
    *out = arr;
    return AUTHSVC_JSON_OK;
}

int authsvc_json_only_keys(authsvc_json_t *obj, const char *const *allowed,
                           const char **unknown)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v) {
        const char *const *a;
        (void)v;
        for (a = allowed; *a != NULL; a++) {
            if (strcmp(*a, key) == 0) {
                break;
            }
        }
        if (*a == NULL) {
            *unknown = key;
            return 0;
        }
    }
    return 1;
}

int authsvc_json_set_str(authsvc_json_t *obj, const char *key, const char *val)
{
    return json_object_set_new(obj, key, val ? json_string(val) : json_null());
}

void authsvc_json_remove(authsvc_json_t *obj, const char *key)
{
    json_object_del(obj, key);
}

int authsvc_json_set_int(authsvc_json_t *obj, const char *key, long long val)
{
    return json_object_set_new(obj, key, json_integer(val));
}

int authsvc_json_set_bool(authsvc_json_t *obj, const char *key, int val)
{
    return json_object_set_new(obj, key, json_boolean(val));
}

int authsvc_json_set(authsvc_json_t *obj, const char *key, authsvc_json_t *val)
{
    return json_object_set(obj, key, val);
}

int authsvc_json_update(authsvc_json_t *obj, authsvc_json_t *src)
{
    return json_object_update(obj, src);
}

authsvc_json_t *authsvc_json_words(apr_pool_t *p, const char *list)
{
    authsvc_json_t *arr = authsvc_json_array(p);
    char *words = apr_pstrdup(p, list ? list : ""), *last = NULL, *w;

    for (w = apr_strtok(words, " ", &last); w != NULL; w = apr_strtok(NULL, " ", &last)) {
        authsvc_json_append_str(arr, w);
    }
    return arr;
}

int authsvc_json_append_str(authsvc_json_t *arr, const char *val)
{
    return json_array_append_new(arr, json_string(val));
}

int authsvc_json_append(authsvc_json_t *arr, authsvc_json_t *val)
{
    return json_array_append(arr, val);
}

/* json_dumps' malloc()ed text, copied into p. */
static const char *dump_flags(apr_pool_t *p, authsvc_json_t *val, size_t flags)
{
    char *s = json_dumps(val, flags);
    const char *out;

    if (s == NULL) {
        return NULL;
    }
    out = apr_pstrdup(p, s);
    free(s);
    return out;
}

const char *authsvc_json_dump(apr_pool_t *p, authsvc_json_t *val)
{
    return dump_flags(p, val, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
}

const char *authsvc_json_dump_sorted(apr_pool_t *p, authsvc_json_t *val)
{
    return dump_flags(p, val, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

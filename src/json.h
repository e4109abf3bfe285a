/*
 * json.h - the module's only door to jansson (pure: no httpd headers).
 *
 * Values are bound to an APR pool: a pool cleanup drops the reference, so a JSON value
 * lives exactly as long as the request (or whatever pool) that made it. Callers see an
 * opaque authsvc_json_t and never include <jansson.h>.
 */
#ifndef AUTHSVC_JSON_H
#define AUTHSVC_JSON_H

#include "apr_pools.h"
#include "apr_tables.h"

struct json_t;
typedef struct json_t authsvc_json_t;

/* What a typed field lookup found. */
typedef enum {
    AUTHSVC_JSON_OK = 0,
    AUTHSVC_JSON_MISSING,   /* the key is absent */
    AUTHSVC_JSON_NULL,      /* present, and JSON null */
    AUTHSVC_JSON_WRONG_TYPE /* present, of another type */
} authsvc_json_found_t;

/* Parse buf[0..len) as one JSON object (duplicate keys and a non-object top level are
 * refused, and so is nesting deeper than jansson's limit). On failure returns NULL and
 * sets *err to a short, client-safe description with the position. */
authsvc_json_t *authsvc_json_parse(apr_pool_t *p, const char *buf, apr_size_t len,
                                   const char **err);

/* A new empty object / array owned by p. */
authsvc_json_t *authsvc_json_object(apr_pool_t *p);
authsvc_json_t *authsvc_json_array(apr_pool_t *p);

/* Look up key as a string. On OK, *val is the UTF-8 value (valid, as jansson checked it;
 * it may contain NUL: *len says how long) and stays valid while obj lives. */
authsvc_json_found_t authsvc_json_get_string(authsvc_json_t *obj, const char *key,
                                             const char **val, apr_size_t *len);

/* Look up key as a JSON integer (a real such as 1.5 or 1e3 is WRONG_TYPE, and so is a
 * string of digits). */
authsvc_json_found_t authsvc_json_get_int(authsvc_json_t *obj, const char *key,
                                          long long *v);

/* Look up key as true or false: *v 1 or 0. */
authsvc_json_found_t authsvc_json_get_bool(authsvc_json_t *obj, const char *key, int *v);

/* Look up key as a string, or an array of strings (each must be a string without a NUL
 * byte, else WRONG_TYPE; an empty array is OK): on OK *out is a new array of
 * const char * in p (one element for a plain string), valid while obj lives. */
authsvc_json_found_t authsvc_json_get_strings(apr_pool_t *p, authsvc_json_t *obj,
                                              const char *key, apr_array_header_t **out);

/* Number of keys in obj; and whether every key is in the NULL-terminated list allowed
 * (*unknown is set to the first key that is not). */
int authsvc_json_only_keys(authsvc_json_t *obj, const char *const *allowed,
                           const char **unknown);

/* Setters. A NULL string value is stored as JSON null. Each returns 0 on success, -1 on
 * allocation failure. set_new takes over the reference of a value from this unit that
 * was created in the same pool-bound way (it adds its own reference). */
int authsvc_json_set_str(authsvc_json_t *obj, const char *key, const char *val);
int authsvc_json_set_int(authsvc_json_t *obj, const char *key, long long val);
int authsvc_json_set_bool(authsvc_json_t *obj, const char *key, int val);
int authsvc_json_set(authsvc_json_t *obj, const char *key, authsvc_json_t *val);
int authsvc_json_append_str(authsvc_json_t *arr, const char *val);
/* A new array of the words of a space-separated list (NULL: empty), e.g. roles. */
authsvc_json_t *authsvc_json_words(apr_pool_t *p, const char *list);
/* Take the member key out of object obj (none: nothing happens). Strings read from it
 * before are freed with it. */
void authsvc_json_remove(authsvc_json_t *obj, const char *key);
/* Copy every member of object src into object obj (replacing same-named ones). */
int authsvc_json_update(authsvc_json_t *obj, authsvc_json_t *src);
int authsvc_json_append(authsvc_json_t *arr, authsvc_json_t *val);

/* Generic reading, for walkers such as the template engine. Every value is borrowed
 * from its container and lives as long as it does. */
typedef enum {
    AUTHSVC_JSON_KIND_NULL = 0, /* also: a NULL value */
    AUTHSVC_JSON_KIND_FALSE,
    AUTHSVC_JSON_KIND_TRUE,
    AUTHSVC_JSON_KIND_NUMBER,
    AUTHSVC_JSON_KIND_STRING,
    AUTHSVC_JSON_KIND_ARRAY,
    AUTHSVC_JSON_KIND_OBJECT
} authsvc_json_kind_t;
authsvc_json_kind_t authsvc_json_kind(const authsvc_json_t *v);
/* The member key of object obj, or NULL (absent, or obj not an object). */
authsvc_json_t *authsvc_json_member(authsvc_json_t *obj, const char *key);
/* Elements of an array (0 for anything else) and element i (NULL past the end). */
apr_size_t authsvc_json_size(const authsvc_json_t *arr);
authsvc_json_t *authsvc_json_at(authsvc_json_t *arr, apr_size_t i);
/* A scalar as text in p: a string as it is (up to a NUL inside), numbers in decimal,
 * "true"/"false"; "" for null, arrays and objects. */
const char *authsvc_json_text(apr_pool_t *p, const authsvc_json_t *v);

/* Compact serialisation in p (no trailing newline); NULL on failure. */
const char *authsvc_json_dump(apr_pool_t *p, authsvc_json_t *val);

/* The same with the keys of every object sorted and UTF-8 left unescaped: the canonical
 * form of RFC 7638 (JWK thumbprints). NULL on failure. */
const char *authsvc_json_dump_sorted(apr_pool_t *p, authsvc_json_t *val);

#endif

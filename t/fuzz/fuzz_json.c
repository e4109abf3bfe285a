/* fuzz_json.c - the JSON request-body reader (json.c: authsvc_json_parse) and what the
 * handlers do next with a body: typed field lookups, the allowed-keys check, dumps; and
 * the field validators of text.c (email normalisation, name check, UTF-8, digits). */
#include "fuzz.h"
#include "json.h"
#include "text.h"

FUZZ_PLAIN_INIT

static void fields(apr_pool_t *p, authsvc_json_t *o)
{
    static const char *const keys[] = {"email", "password", "name", "code", "roles",
                                       "remember", "ttl", NULL};
    const char *unknown, *s, *norm;
    apr_size_t len;
    long long n;
    int b;
    apr_array_header_t *arr;
    int i;

    authsvc_json_only_keys(o, keys, &unknown);
    for (i = 0; keys[i]; i++) {
        if (authsvc_json_get_string(o, keys[i], &s, &len) == AUTHSVC_JSON_OK) {
            authsvc_text_utf8_length(s, len);
            authsvc_text_has_control(s, len);
            authsvc_text_email_normalize(p, s, len, &norm);
            authsvc_text_check_name(p, s, len, 100);
            authsvc_text_digits(s, '\0', &norm);
        }
        authsvc_json_get_int(o, keys[i], &n);
        authsvc_json_get_bool(o, keys[i], &b);
        authsvc_json_get_strings(p, o, keys[i], &arr);
        authsvc_json_text(p, authsvc_json_member(o, keys[i]));
    }
    authsvc_json_dump(p, o);
    authsvc_json_dump_sorted(p, o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *err, *norm;
    authsvc_json_t *o;

    apr_pool_create(&p, NULL);
    o = authsvc_json_parse(p, (const char *)data, size, &err);
    if (o != NULL) {
        fields(p, o);
    }
    /* The raw input as a field value too (the validators take any bytes). */
    authsvc_text_email_normalize(p, (const char *)data, size, &norm);
    authsvc_text_check_name(p, (const char *)data, size, 64);
    authsvc_text_utf8_length((const char *)data, size);
    apr_pool_destroy(p);
    return 0;
}

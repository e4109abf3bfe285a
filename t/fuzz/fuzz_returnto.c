/* fuzz_returnto.c - return_to validation (returnto.c): with no allow list (local paths
 * only) and with an allow list of origins; Origin headers as the CSRF and CORS checks
 * compare them (authsvc_return_to_origin). */
#include "apr_lib.h"

#include "fuzz.h"
#include "returnto.h"

static apr_array_header_t *allow;

/* An Origin header as compared: NULL, or an http(s) origin in lower case with nothing
 * after the host and port; taken as an Origin again, the same. */
static void origin(apr_pool_t *p, const char *v)
{
    const char *o = authsvc_return_to_origin(p, v), *again, *rest, *c;

    if (o == NULL) {
        return;
    }
    rest = strncmp(o, "https://", 8) == 0 ? o + 8 : strncmp(o, "http://", 7) == 0 ? o + 7 : NULL;
    if (rest == NULL || *rest == '\0' || rest[strcspn(rest, "/?#@\\ \t\r\n")] != '\0') {
        abort();
    }
    for (c = o; *c; c++) {
        if (apr_isupper(*c)) {
            abort();
        }
    }
    again = authsvc_return_to_origin(p, o);
    if (again == NULL || strcmp(again, o) != 0) {
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    allow = apr_array_make(fuzz_global, 2, sizeof(const char *));
    APR_ARRAY_PUSH(allow, const char *) = "https://app.example.com";
    APR_ARRAY_PUSH(allow, const char *) = "http://localhost:8080";
    return fuzz_ready();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *v;

    apr_pool_create(&p, NULL);
    v = apr_pstrmemdup(p, (const char *)data, size);
    authsvc_return_to_check(p, v, NULL);
    authsvc_return_to_check(p, v, allow);
    origin(p, v);
    apr_pool_destroy(p);
    return 0;
}

/* fuzz_breach.c - the breached-password corpus reader (breach.c): the input is written
 * to a temporary file (authsvc_breach_open takes a path and maps it), opened as text
 * or index by its magic, checked, and searched for a few digests (the SHA-1 of
 * "password", all zeroes, all 0xff, and the input's own first 20 octets); the same
 * input is also run through the index builder (authsvc_breach_index). */
#include <unistd.h>

#include "fuzz.h"
#include "breach.h"

static char dir[] = "/tmp/fuzz_breach.XXXXXX";
static const char *in_path, *out_path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    fuzz_tmpdir(dir);
    in_path = apr_pstrcat(fuzz_global, dir, "/corpus", NULL);
    out_path = apr_pstrcat(fuzz_global, dir, "/index", NULL);
    return fuzz_ready();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char sha1[20];
    apr_pool_t *p;
    authsvc_breach_t *b;
    FILE *f;
    int i;

    f = fopen(in_path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        abort();
    }
    apr_pool_create(&p, NULL);
    if (authsvc_breach_open(p, in_path, &b) == NULL) {
        authsvc_breach_format(b);
        authsvc_breach_count(b, "password", 8);
        for (i = 0; i < 3; i++) {
            memset(sha1, i == 0 ? 0 : i == 1 ? 0xff : 0, sizeof(sha1));
            if (i == 2) {
                memcpy(sha1, data, size < 20 ? size : 20);
            }
            authsvc_breach_lookup(b, sha1);
        }
    }
    if (authsvc_breach_index(p, in_path, out_path, NULL, NULL) == NULL &&
        authsvc_breach_open(p, out_path, &b) == NULL) {
        authsvc_breach_count(b, "password", 8);
    }
    apr_pool_destroy(p);
    unlink(out_path);
    return 0;
}

/* fuzz_crypto.c - the helpers that decode untrusted text: base64url decoding and the
 * token shape checks (crypto.c), and the key-file / sealed-secret decoding of
 * secretbox.c (authsvc_keyfile_decode, authsvc_secretbox_open with a fixed key). */
#include "fuzz.h"
#include "crypto.h"
#include "secretbox.h"

static authsvc_keyring_t *kr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    authsvc_crypto_init(fuzz_global);
    if (authsvc_keyring_add_key(fuzz_global, &kr,
                                (const unsigned char *)"0123456789abcdef0123456789abcdef")
        != NULL) {
        abort();
    }
    return fuzz_ready();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s = (const char *)data;
    apr_size_t n;
    unsigned char key[64], *pt;

    apr_pool_create(&p, NULL);
    authsvc_crypto_b64url_decode(p, s, size, &n);
    authsvc_crypto_is_b64url(s, size);
    authsvc_crypto_token_plausible(s, size);
    authsvc_crypto_streq(apr_pstrmemdup(p, s, size), "abc");
    authsvc_keyfile_decode(s, size, key, sizeof(key), &n);
    authsvc_secretbox_open(p, kr, apr_pstrmemdup(p, s, size), "user-1", &pt, &n);
    apr_pool_destroy(p);
    return 0;
}

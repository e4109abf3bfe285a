/* fuzz_totp.c - codes as users type them (totp.c): TOTP normalisation and verification
 * against a fixed secret, and recovery-code normalisation; the otpauth URI built from an
 * issuer and an account name. */
#include "fuzz.h"
#include "totp.h"

/* The otpauth URI of an issuer (AuthsvcTOTPIssuer) and an account (the user's email):
 * the input cut at its first NUL into the two. Everything of theirs is percent-encoded,
 * so the URI holds nothing but unreserved characters, '%' and its own delimiters. */
static void uri(apr_pool_t *p, const uint8_t *data, size_t size)
{
    const char *parts[2], *u;
    size_t lens[2];

    fuzz_split(p, data, size, '\0', 2, parts, lens);
    u = authsvc_totp_uri(p, parts[0], parts[1], "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    if (u == NULL || strncmp(u, "otpauth://totp/", 15) != 0 ||
        u[strspn(u, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                    "-._~%:/?=&")] != '\0') {
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    if (authsvc_totp_init() != APR_SUCCESS) {
        abort();
    }
    return fuzz_ready();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char secret[AUTHSVC_TOTP_SECRET_BYTES] = "12345678901234567890";
    apr_pool_t *p;
    const char *s = (const char *)data, *code;
    int replay;

    apr_pool_create(&p, NULL);
    code = authsvc_totp_normalize(p, s, size);
    if (code != NULL) {
        authsvc_totp_verify(secret, sizeof(secret), 1111111109, 1, 0, code, strlen(code),
                            &replay);
    }
    /* verify takes the raw bytes too (it is documented to refuse what is not a code). */
    authsvc_totp_verify(secret, sizeof(secret), 1111111109, 1, 0, s, size, &replay);
    authsvc_recovery_code_normalize(p, s, size);
    uri(p, data, size);
    apr_pool_destroy(p);
    return 0;
}

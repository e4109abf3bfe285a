/* fuzz_jwt.c - JWT parsing and verification (jwt.c): a compact JWS verified against a
 * key set of one HS256, one EdDSA and one ES256 key (header, base64url, JSON, kid and
 * alg selection, signature check), then the registered claims of any payload that
 * verified; and a JWK public key parsed (authsvc_jwt_keyset_add_jwk). The first byte
 * selects: even -> token, odd -> JWK. */
#include "fuzz.h"
#include "jwt.h"

static authsvc_jwt_keyset_t *ks;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const unsigned char secret[32] = "0123456789abcdef0123456789abcdef";
    const authsvc_jwt_alg_t algs[] = {AUTHSVC_JWT_EDDSA, AUTHSVC_JWT_ES256};
    const char *pem, *err;
    size_t i;

    (void)argc;
    (void)argv;
    fuzz_init();
    err = authsvc_jwt_keyset_add_secret(fuzz_global, &ks, secret, sizeof(secret), 0);
    for (i = 0; err == NULL && i < sizeof(algs) / sizeof(algs[0]); i++) {
        err = authsvc_jwt_keygen(fuzz_global, algs[i], &pem);
        if (err == NULL) {
            err = authsvc_jwt_keyset_add_pem(fuzz_global, &ks, pem, strlen(pem), algs[i], 0);
        }
    }
    if (err != NULL) {
        fprintf(stderr, "fuzz_jwt: key setup: %s\n", err);
        abort();
    }
    return fuzz_ready();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    authsvc_json_t *payload = NULL;
    const authsvc_jwt_key_t *key = NULL;
    authsvc_jwt_keyset_t *jks = NULL;
    const char *why, *s;

    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, NULL);
    s = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    if ((data[0] & 1) == 0) {
        if (authsvc_jwt_verify(p, ks, s, size - 1, &payload, &key, &why) == APR_SUCCESS &&
            payload != NULL) {
            authsvc_jwt_check_claims(payload, "https://issuer", "aud", 1700000000, 60, &why);
        }
        /* The claims checker on any JSON object, signed or not. */
        payload = authsvc_json_parse(p, s, size - 1, &why);
        if (payload != NULL) {
            authsvc_jwt_check_claims(payload, "https://issuer", "aud", 1700000000, 60, &why);
        }
    }
    else if (authsvc_jwt_keyset_add_jwk(p, &jks, s, "kid1") == NULL) {
        authsvc_jwt_jwks(p, jks);
    }
    apr_pool_destroy(p);
    return 0;
}

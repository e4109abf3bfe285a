/* test_jwt.c - jwt.c: the published vectors of RFC 7515 A.1-A.3 (HS256, RS256, ES256),
 * RFC 8037 A.1-A.5 (Ed25519) and RFC 7638 3.1 (thumbprint); the header rules of
 * verification (alg none, algorithm confusion, kid, crit, typ) and malformed tokens;
 * the registered claims with clock skew; key files (modes, types, sizes); keygen;
 * key rotation; and the json.c helpers jwt.c uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apr_encode.h"
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "crypto.h"
#include "json.h"
#include "jwt.h"
#include "keyfile.h"
#include "tap_apr.h"

/* ---- the published vectors --------------------------------------------------------- */

/* RFC 7515 A.1: the JWS Signing Input's exact bytes (header with CRLF and a space). */
#define A1_INPUT                                                                         \
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"                                           \
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"                  \
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
#define A1_KEY                                                                           \
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9" \
    "CAow"
#define A1_SIG "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

/* RFC 7515 A.2 and A.3 share the payload of A.1 under their own headers. */
#define A_PAYLOAD                                                                        \
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb2" \
    "90Ijp0cnVlfQ"
#define A2_INPUT "eyJhbGciOiJSUzI1NiJ9." A_PAYLOAD
#define A2_SIG                                                                           \
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"                   \
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"                   \
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"                   \
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"                   \
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"                   \
    "p0igcN_IoypGlUPQGe77Rw"
#define A2_N                                                                             \
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx"                         \
    "HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs"                         \
    "D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH"                         \
    "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV"                         \
    "MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8"                         \
    "NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define A2_E "AQAB"
#define A2_D                                                                             \
    "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97I"                         \
    "jlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0"                         \
    "BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn"                         \
    "439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYT"                         \
    "CBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLh"                         \
    "BOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ"
#define A2_P                                                                             \
    "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdi"                         \
    "YrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPG"                         \
    "BY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc"
#define A2_Q                                                                             \
    "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxa"                         \
    "ewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA"                         \
    "-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc"
#define A2_DP                                                                            \
    "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3Q"                          \
    "CLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb"                         \
    "34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0"
#define A2_DQ                                                                            \
    "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa"                          \
    "7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-ky"                         \
    "NlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU"
#define A2_QI                                                                            \
    "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2o"                          \
    "y26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLU"                         \
    "W0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"

#define A3_INPUT "eyJhbGciOiJFUzI1NiJ9." A_PAYLOAD
#define A3_SIG                                                                           \
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6" \
    "NU1Q"
#define A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define A3_D "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"

/* RFC 8037 A.1 (key), A.2 (public JWK), A.3 (thumbprint), A.4 (signature). */
#define ED_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define ED_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define ED_KID "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
#define ED_INPUT "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
#define ED_SIG                                                                           \
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM" \
    "0KAg"

/* RFC 7638 3.1. */
#define T_N                                                                              \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6" \
    "tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5" \
    "v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD0" \
    "8qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU" \
    "8awapJzKnqDKgw"
#define T_THUMB "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

/* ---- helpers ----------------------------------------------------------------------- */

static const unsigned char *unb64(apr_pool_t *p, const char *s, apr_size_t *len)
{
    const unsigned char *b = authsvc_crypto_b64url_decode(p, s, strlen(s), len);

    if (b == NULL) {
        diag("test vector is not base64url: %.20s...", s);
        *len = 0;
        return (const unsigned char *)"";
    }
    return b;
}

static const char *b64(apr_pool_t *p, const char *s)
{
    return apr_pencode_base64(p, s, APR_ENCODE_STRING, APR_ENCODE_BASE64URL, NULL);
}

static BIGNUM *bn(apr_pool_t *p, const char *s)
{
    apr_size_t len;
    const unsigned char *b = unb64(p, s, &len);

    return BN_bin2bn(b, (int)len, NULL);
}

/* PEM (PKCS#8, or the traditional format) of pkey, in p; pkey is freed. */
static const char *pem(apr_pool_t *p, EVP_PKEY *pkey, int traditional)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    const char *out = NULL;
    long n;
    int r;

    if (bio != NULL && pkey != NULL) {
        r = traditional ? PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0,
                                                               NULL, NULL)
                        : PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
        if (r == 1 && (n = BIO_get_mem_data(bio, &data)) > 0) {
            out = apr_pstrmemdup(p, data, (apr_size_t)n);
        }
    }
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    if (out == NULL) {
        diag("cannot write a test key as PEM");
    }
    return out != NULL ? out : "";
}

/* A private key from OpenSSL parameters (bld freed). */
static EVP_PKEY *fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;

    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1) {
        diag("cannot build a %s test key", type);
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* RFC 7515 A.2's private key from its JWK members. */
static const char *a2_pem(apr_pool_t *p)
{
    static const char *const names[] = {
        OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
        OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
        OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    const char *values[] = {A2_N, A2_E, A2_D, A2_P, A2_Q, A2_DP, A2_DQ, A2_QI};
    BIGNUM *b[8];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey;
    int i;

    for (i = 0; i < 8; i++) {
        b[i] = bn(p, values[i]);
        OSSL_PARAM_BLD_push_BN(bld, names[i], b[i]);
    }
    pkey = fromdata("RSA", bld);
    for (i = 0; i < 8; i++) {
        BN_free(b[i]);
    }
    return pem(p, pkey, 0);
}

/* RFC 7515 A.3's P-256 private key. */
static const char *a3_pem(apr_pool_t *p, int traditional)
{
    unsigned char point[65];
    apr_size_t n;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *d = bn(p, A3_D);
    EVP_PKEY *pkey;

    point[0] = 4;
    memcpy(point + 1, unb64(p, A3_X, &n), 32);
    memcpy(point + 33, unb64(p, A3_Y, &n), 32);
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
    pkey = fromdata("EC", bld);
    BN_free(d);
    return pem(p, pkey, traditional);
}

/* RFC 8037 A.1's Ed25519 private key. */
static const char *ed_pem(apr_pool_t *p)
{
    apr_size_t n;
    const unsigned char *d = unb64(p, ED_D, &n);

    return pem(p, EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d, n), 0);
}

static const char *gen_pem(apr_pool_t *p, EVP_PKEY *pkey)
{
    return pem(p, pkey, 0);
}

/* A key set of one key from PEM text (alg NONE: inferred), or NULL with a failed test. */
static authsvc_jwt_keyset_t *one_key(apr_pool_t *p, const char *text,
                                     authsvc_jwt_alg_t alg)
{
    authsvc_jwt_keyset_t *ks = NULL;
    const char *err = authsvc_jwt_keyset_add_pem(p, &ks, text, strlen(text), alg, 0);

    if (err != NULL) {
        ok(0, "test key loads (%s)", err);
    }
    return ks;
}

/* header.payload.signature with any header and payload text, signed by k. */
static const char *forge(apr_pool_t *p, const char *header, const char *payload,
                         const authsvc_jwt_key_t *k)
{
    const char *input = apr_pstrcat(p, b64(p, header), ".", b64(p, payload), NULL);
    const char *sig = k != NULL ? authsvc_jwt_sign_input(p, k, input, strlen(input)) : "";

    return apr_pstrcat(p, input, ".", sig != NULL ? sig : "", NULL);
}

/* verify() of token: the reason of a refusal, or NULL when it was accepted. */
static const char *refused(apr_pool_t *p, const authsvc_jwt_keyset_t *ks,
                           const char *token)
{
    authsvc_json_t *payload;
    const authsvc_jwt_key_t *k;
    const char *why = "?";
    apr_status_t rv = authsvc_jwt_verify(p, ks, token, strlen(token), &payload, &k, &why);

    if (rv == APR_SUCCESS) {
        return payload != NULL && k != NULL && why == NULL ? NULL : "bad success";
    }
    return rv == APR_EINVAL && payload == NULL && k == NULL && why != NULL
               ? why
               : "bad failure";
}

static int has(const char *s, const char *part)
{
    return s != NULL && strstr(s, part) != NULL;
}

/* ---- algorithm names --------------------------------------------------------------- */

static void test_names(void)
{
    static const char *const names[] = {"EdDSA", "ES256", "RS256", "HS256"};
    int i;

    for (i = 0; i < 4; i++) {
        is_int(authsvc_jwt_alg_parse(names[i]), AUTHSVC_JWT_EDDSA + i, "alg: parse %s",
               names[i]);
        is_str(authsvc_jwt_alg_name(authsvc_jwt_alg_parse(names[i])), names[i],
               "alg: name %s", names[i]);
    }
    is_int(authsvc_jwt_alg_parse("eddsa"), AUTHSVC_JWT_NONE, "alg: case-sensitive");
    is_int(authsvc_jwt_alg_parse("none"), AUTHSVC_JWT_NONE, "alg: none is no alg");
    is_int(authsvc_jwt_alg_parse("ES384"), AUTHSVC_JWT_NONE, "alg: ES384 unknown");
    is_int(authsvc_jwt_alg_parse(NULL), AUTHSVC_JWT_NONE, "alg: NULL");
    is_str(authsvc_jwt_alg_name(AUTHSVC_JWT_NONE), NULL, "alg: NONE has no name");
    is_str(authsvc_jwt_alg_name((authsvc_jwt_alg_t)99), NULL, "alg: 99 has no name");
}

/* ---- RFC 7515 A.1: HS256 ----------------------------------------------------------- */

static void test_rfc7515_a1(apr_pool_t *p)
{
    authsvc_jwt_keyset_t *ks = NULL;
    const authsvc_jwt_key_t *k;
    apr_size_t n;
    const unsigned char *key = unb64(p, A1_KEY, &n);
    const char *kid;

    is_str(authsvc_jwt_keyset_add_secret(p, &ks, key, n, 0), NULL,
           "a1: the 64-byte JWK secret loads");
    k = authsvc_jwt_keyset_signer(ks);
    is_int(authsvc_jwt_key_alg(k), AUTHSVC_JWT_HS256, "a1: an HS256 key");
    is_str(authsvc_jwt_sign_input(p, k, A1_INPUT, strlen(A1_INPUT)), A1_SIG,
           "a1: HMAC of the exact signing input is the published signature");
    is_int(authsvc_jwt_verify_input(p, k, A1_INPUT, strlen(A1_INPUT), A1_SIG,
                                    strlen(A1_SIG)),
           APR_SUCCESS, "a1: the published signature verifies");
    is_int(authsvc_jwt_verify_input(p, k, A1_INPUT, strlen(A1_INPUT) - 1, A1_SIG,
                                    strlen(A1_SIG)),
           APR_EINVAL, "a1: ... not over other bytes");
    is_str(refused(p, ks, A1_INPUT "." A1_SIG), "header: no kid",
           "a1: the token itself has no kid: verify() refuses it");
    kid = authsvc_jwt_key_kid(k);
    ok(kid != NULL && strncmp(kid, "hs-", 3) == 0 && strlen(kid) == 19 &&
           authsvc_crypto_is_b64url(kid + 3, 16),
       "a1: kid is hs- and 16 base64url characters (%s)", kid ? kid : "NULL");
    is_str(authsvc_jwt_thumbprint(p, k), kid, "a1: thumbprint() gives the kid");
    is_str(authsvc_json_dump(p, authsvc_jwt_jwks(p, ks)), "{\"keys\":[]}",
           "a1: an HS256 key is not published");
}

/* ---- RFC 7515 A.2: RS256 ----------------------------------------------------------- */

static void test_rfc7515_a2(apr_pool_t *p)
{
    authsvc_jwt_keyset_t *pub = NULL, *ks;
    const authsvc_jwt_key_t *k, *pk;
    const char *jwks;

    is_str(authsvc_jwt_keyset_add_jwk(
               p, &pub, "{\"kty\":\"RSA\",\"n\":\"" A2_N "\",\"e\":\"AQAB\"}", "a2"),
           NULL, "a2: the public JWK loads");
    pk = authsvc_jwt_keyset_find(pub, "a2");
    is_int(authsvc_jwt_key_alg(pk), AUTHSVC_JWT_RS256, "a2: an RS256 key");
    ok(authsvc_jwt_keyset_signer(pub) == NULL, "a2: a JWK key is verify-only: no signer");
    is_int(authsvc_jwt_verify_input(p, pk, A2_INPUT, strlen(A2_INPUT), A2_SIG,
                                    strlen(A2_SIG)),
           APR_SUCCESS, "a2: the published signature verifies with the public JWK");
    is_int(authsvc_jwt_verify_input(p, pk, A2_INPUT, strlen(A2_INPUT) - 1, A2_SIG,
                                    strlen(A2_SIG)),
           APR_EINVAL, "a2: ... not over other bytes");
    is_str(authsvc_jwt_sign_input(p, pk, A2_INPUT, strlen(A2_INPUT)), NULL,
           "a2: a public key does not sign");
    is_str(refused(p, pub, A2_INPUT "." A2_SIG), "header: no kid",
           "a2: the published token has no kid: verify() refuses it");

    ks = one_key(p, a2_pem(p), AUTHSVC_JWT_NONE);
    k = authsvc_jwt_keyset_signer(ks);
    is_int(authsvc_jwt_key_alg(k), AUTHSVC_JWT_RS256, "a2: the private key is RS256");
    is_str(authsvc_jwt_sign_input(p, k, A2_INPUT, strlen(A2_INPUT)), A2_SIG,
           "a2: PKCS#1 v1.5 is deterministic: the published signature again");
    is_str(authsvc_jwt_key_kid(k), authsvc_jwt_thumbprint(p, pk),
           "a2: the private key's kid is the public JWK's thumbprint");
    is_str(refused(p, pub, forge(p, "{\"alg\":\"RS256\",\"kid\":\"a2\"}", "{}", k)), NULL,
           "a2: signed with the private key, verified with the JWK");
    jwks = authsvc_json_dump(p, authsvc_jwt_jwks(p, ks));
    ok(has(jwks, "\"n\":\"" A2_N "\"") && has(jwks, "\"e\":\"AQAB\"") &&
           has(jwks, "\"kty\":\"RSA\""),
       "a2: jwks publishes n and e exactly as the JWK has them");
    ok(!has(jwks, "\"d\"") && !has(jwks, A2_P), "a2: ... and nothing private");
}

/* ---- RFC 7515 A.3: ES256 ----------------------------------------------------------- */

/* The r||s signature sig re-encoded as OpenSSL's DER, base64url. */
static const char *as_der(apr_pool_t *p, const char *sig)
{
    apr_size_t n;
    const unsigned char *rs = unb64(p, sig, &n);
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *d = NULL;
    const char *out;
    int len;

    ECDSA_SIG_set0(es, BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL));
    len = i2d_ECDSA_SIG(es, &d);
    out = apr_pencode_base64_binary(p, d, len, APR_ENCODE_BASE64URL, NULL);
    OPENSSL_free(d);
    ECDSA_SIG_free(es);
    return out;
}

static void test_rfc7515_a3(apr_pool_t *p)
{
    authsvc_jwt_keyset_t *pub = NULL, *ks, *trad;
    const authsvc_jwt_key_t *k, *pk;
    const char *sig, *sig2, *jwks;
    char bad[sizeof(A3_SIG)];

    is_str(authsvc_jwt_keyset_add_jwk(p, &pub,
                                      "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X
                                      "\",\"y\":\"" A3_Y "\",\"d\":\"" A3_D "\"}",
                                      "a3"),
           NULL, "a3: the JWK loads (its private member ignored)");
    pk = authsvc_jwt_keyset_find(pub, "a3");
    is_int(authsvc_jwt_key_alg(pk), AUTHSVC_JWT_ES256, "a3: an ES256 key");
    is_int(authsvc_jwt_verify_input(p, pk, A3_INPUT, strlen(A3_INPUT), A3_SIG,
                                    strlen(A3_SIG)),
           APR_SUCCESS, "a3: the published r||s signature verifies");
    strcpy(bad, A3_SIG);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    is_int(authsvc_jwt_verify_input(p, pk, A3_INPUT, strlen(A3_INPUT), bad, strlen(bad)),
           APR_EINVAL, "a3: one character changed: refused");
    is_int(authsvc_jwt_verify_input(p, pk, A3_INPUT, strlen(A3_INPUT), A3_SIG,
                                    strlen(A3_SIG) - 2),
           APR_EINVAL, "a3: 63 bytes: refused");
    sig = as_der(p, A3_SIG);
    is_int(authsvc_jwt_verify_input(p, pk, A3_INPUT, strlen(A3_INPUT), sig, strlen(sig)),
           APR_EINVAL, "a3: the same signature in DER: refused");

    ks = one_key(p, a3_pem(p, 0), AUTHSVC_JWT_ES256);
    k = authsvc_jwt_keyset_signer(ks);
    is_str(authsvc_jwt_key_kid(k), authsvc_jwt_thumbprint(p, pk),
           "a3: the private key's kid is the JWK's thumbprint");
    sig = authsvc_jwt_sign_input(p, k, A3_INPUT, strlen(A3_INPUT));
    sig2 = authsvc_jwt_sign_input(p, k, A3_INPUT, strlen(A3_INPUT));
    is_int(sig ? strlen(sig) : 0, 86, "a3: our signature is r||s, 64 bytes");
    ok(sig && sig2 && strcmp(sig, sig2) != 0, "a3: two ECDSA signatures differ");
    is_int(authsvc_jwt_verify_input(p, pk, A3_INPUT, strlen(A3_INPUT), sig,
                                    sig ? strlen(sig) : 0),
           APR_SUCCESS, "a3: our signature verifies with the public JWK");
    jwks = authsvc_json_dump(p, authsvc_jwt_jwks(p, ks));
    ok(has(jwks, "\"x\":\"" A3_X "\"") && has(jwks, "\"y\":\"" A3_Y "\"") &&
           has(jwks, "\"crv\":\"P-256\"") && has(jwks, "\"kty\":\"EC\"") &&
           has(jwks, "\"alg\":\"ES256\""),
       "a3: jwks has the published x and y (%s)", jwks ? jwks : "NULL");
    ok(!has(jwks, A3_D), "a3: ... and not d");
    trad = one_key(p, a3_pem(p, 1), AUTHSVC_JWT_NONE);
    is_str(authsvc_jwt_key_kid(authsvc_jwt_keyset_signer(trad)), authsvc_jwt_key_kid(k),
           "a3: the traditional PEM form (BEGIN EC PRIVATE KEY) loads the same key");
}

/* ---- RFC 8037: Ed25519 ------------------------------------------------------------- */

static void test_rfc8037(apr_pool_t *p)
{
    authsvc_jwt_keyset_t *ks = one_key(p, ed_pem(p), AUTHSVC_JWT_NONE), *pub = NULL;
    const authsvc_jwt_key_t *k = authsvc_jwt_keyset_signer(ks), *pk;

    is_int(authsvc_jwt_key_alg(k), AUTHSVC_JWT_EDDSA, "8037: the key is EdDSA");
    is_str(authsvc_jwt_key_kid(k), ED_KID, "8037 A.3: kid is the published thumbprint");
    is_str(authsvc_jwt_thumbprint(p, k), ED_KID, "8037 A.3: thumbprint()");
    is_str(authsvc_json_dump(p, authsvc_jwt_jwks(p, ks)),
           "{\"keys\":[{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" ED_X
           "\",\"kid\":\"" ED_KID "\",\"alg\":\"EdDSA\",\"use\":\"sig\"}]}",
           "8037 A.2: jwks: the public JWK, kid, alg, use");
    is_str(authsvc_jwt_sign_input(p, k, ED_INPUT, strlen(ED_INPUT)), ED_SIG,
           "8037 A.4: the published signature");
    is_str(authsvc_jwt_keyset_add_jwk(
               p, &pub, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}", "ed"),
           NULL, "8037 A.2: the public JWK loads");
    pk = authsvc_jwt_keyset_find(pub, "ed");
    is_str(authsvc_jwt_thumbprint(p, pk), ED_KID, "8037 A.3: thumbprint of the JWK");
    is_int(authsvc_jwt_verify_input(p, pk, ED_INPUT, strlen(ED_INPUT), ED_SIG,
                                    strlen(ED_SIG)),
           APR_SUCCESS, "8037 A.5: the published signature verifies (public key)");
    is_int(authsvc_jwt_verify_input(p, pk, ED_INPUT, strlen(ED_INPUT) - 1, ED_SIG,
                                    strlen(ED_SIG)),
           APR_EINVAL, "8037 A.5: ... not over other bytes");
}

/* ---- RFC 7638 and JWK import ------------------------------------------------------- */

static void test_jwk(apr_pool_t *p)
{
    authsvc_jwt_keyset_t *ks = NULL;
    const char *err;

    is_str(authsvc_jwt_keyset_add_jwk(p, &ks,
                                      "{\"kty\":\"RSA\",\"n\":\"" T_N
                                      "\",\"e\":\"AQAB\",\"alg\":\"RS256\","
                                      "\"kid\":\"2011-04-29\"}",
                                      "2011-04-29"),
           NULL, "7638: the RSA JWK of section 3.1 loads");
    is_str(authsvc_jwt_thumbprint(p, authsvc_jwt_keyset_find(ks, "2011-04-29")), T_THUMB,
           "7638 3.1: the published thumbprint");
    err = authsvc_jwt_keyset_add_jwk(
        p, &ks, "{\"kty\":\"RSA\",\"n\":\"" T_N "\",\"e\":\"AQAB\"}", "2011-04-29");
    ok(has(err, "already"), "jwk: the same kid twice refused (%s)", err ? err : "added");
    ok(authsvc_jwt_keyset_add_jwk(
           p, &ks, "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"" ED_X "\"}", "x448") !=
           NULL,
       "jwk: crv Ed448 refused");
    ok(authsvc_jwt_keyset_add_jwk(p, &ks,
                                  "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
                                  "\",\"alg\":\"ES256\"}",
                                  "xalg") != NULL,
       "jwk: an alg member that is not the key's refused");
    ok(authsvc_jwt_keyset_add_jwk(p, &ks, "{\"kty\":\"oct\",\"k\":\"" A1_KEY "\"}",
                                  "oct") != NULL,
       "jwk: kty oct refused");
    ok(authsvc_jwt_keyset_add_jwk(p, &ks,
                                  "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X
                                  "\",\"y\":\"" A3_X "\"}",
                                  "offcurve") != NULL,
       "jwk: an EC point not on the curve refused");
    ok(authsvc_jwt_keyset_add_jwk(p, &ks,
                                  "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" A3_X
                                  "\",\"y\":\"" A3_Y "\"}",
                                  "p384") != NULL,
       "jwk: crv P-384 refused");
    ok(authsvc_jwt_keyset_add_jwk(
           p, &ks, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "=\"}", "pad") !=
           NULL,
       "jwk: x with padding refused");
    ok(authsvc_jwt_keyset_add_jwk(
           p, &ks, "{\"kty\":\"RSA\",\"n\":\"" A3_X A3_Y "\",\"e\":\"AQAB\"}",
           "rsa512") != NULL,
       "jwk: a 512-bit RSA modulus refused");
    ok(authsvc_jwt_keyset_add_jwk(p, &ks, "not json", "x") != NULL, "jwk: not JSON");
    ok(authsvc_jwt_keyset_add_jwk(
           p, &ks, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}", "") !=
           NULL,
       "jwk: an empty kid refused");
    is_int(authsvc_jwt_keyset_count(ks), 1, "jwk: refusals added nothing");
}

/* ---- verification ------------------------------------------------------------------ */

static authsvc_jwt_keyset_t *vks;
static const authsvc_jwt_key_t *ked, *kes, *krs, *khs;

static void verify_keys(apr_pool_t *p)
{
    static const unsigned char secret[] = "0123456789abcdef0123456789abcdef";
    const char *es = gen_pem(p, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));

    authsvc_jwt_keyset_add_secret(p, &vks, secret, 32, 0);
    khs = authsvc_jwt_keyset_signer(vks);
    authsvc_jwt_keyset_add_pem(p, &vks, es, strlen(es), AUTHSVC_JWT_NONE, 0);
    kes = authsvc_jwt_keyset_signer(vks);
    es = a2_pem(p);
    authsvc_jwt_keyset_add_pem(p, &vks, es, strlen(es), AUTHSVC_JWT_NONE, 0);
    krs = authsvc_jwt_keyset_signer(vks);
    es = ed_pem(p);
    authsvc_jwt_keyset_add_pem(p, &vks, es, strlen(es), AUTHSVC_JWT_NONE, 0);
    ked = authsvc_jwt_keyset_signer(vks);
    is_int(authsvc_jwt_keyset_count(vks), 4, "verify: four keys, one of each algorithm");
}

/* A header naming key k (by kid) with alg and extra members. */
static const char *hdr(apr_pool_t *p, const char *alg, const authsvc_jwt_key_t *k,
                       const char *extra)
{
    return apr_psprintf(p, "{\"alg\":\"%s\",\"kid\":\"%s\"%s}", alg,
                        authsvc_jwt_key_kid(k), extra);
}

static void test_verify_good(apr_pool_t *p)
{
    const authsvc_jwt_key_t *keys[] = {ked, kes, krs, khs}, *vk;
    authsvc_json_t *payload;
    const char *t, *why, *sub, *h;
    apr_size_t len;
    int i;

    for (i = 0; i < 4; i++) {
        const char *alg = authsvc_jwt_alg_name(authsvc_jwt_key_alg(keys[i]));
        t = authsvc_jwt_sign(p, keys[i], "{\"sub\":\"u1\"}", 12);
        ok(t != NULL, "sign: %s token made", alg);
        t = t != NULL ? t : "";
        h = apr_pstrmemdup(p, t, strcspn(t, "."));
        is_str((const char *)unb64(p, h, &len),
               apr_psprintf(p, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg,
                            authsvc_jwt_key_kid(keys[i])),
               "sign: %s header is alg, kid, typ JWT", alg);
        is_int(authsvc_jwt_verify(p, vks, t, strlen(t), &payload, &vk, &why), APR_SUCCESS,
               "verify: %s token accepted", alg);
        ok(vk == keys[i], "verify: %s: by the key that signed it", alg);
        ok(payload != NULL &&
               authsvc_json_get_string(payload, "sub", &sub, &len) == AUTHSVC_JSON_OK &&
               strcmp(sub, "u1") == 0,
           "verify: %s: the payload", alg);
    }
    is_str(refused(p, vks, forge(p, hdr(p, "EdDSA", ked, ""), "{}", ked)), NULL,
           "typ: absent accepted");
    is_str(refused(p, vks, forge(p, hdr(p, "EdDSA", ked, ",\"typ\":\"jwt\""), "{}", ked)),
           NULL, "typ: jwt (any case) accepted");
    is_str(
        refused(p, vks, forge(p, hdr(p, "EdDSA", ked, ",\"typ\":\"AT+JWT\""), "{}", ked)),
        NULL, "typ: at+jwt (any case) accepted");
    is_str(refused(p, vks,
                   forge(p, hdr(p, "EdDSA", ked, ",\"x5u\":\"https://e/\""), "{}", ked)),
           NULL, "header: unknown members ignored (never fetched)");
}

/* An HMAC key made of bytes anyone has. */
static const authsvc_jwt_key_t *hmac_key(apr_pool_t *p, const void *b, apr_size_t len)
{
    authsvc_jwt_keyset_t *ks = NULL;

    authsvc_jwt_keyset_add_secret(p, &ks, b, len, 0);
    return authsvc_jwt_keyset_signer(ks);
}

/* The classic confusion: an HS256 token naming the EdDSA key, its HMAC keyed with what
 * the server publishes of that key (raw bytes, its PEM, its JWK x); and the RSA key
 * named by an EdDSA header and the reverse. */
static void test_confusion(apr_pool_t *p)
{
    apr_size_t n;
    const unsigned char *raw = unb64(p, ED_X, &n);
    BIO *bio = BIO_new(BIO_s_mem());
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, n);
    const char *pubpem = "", *what[3];
    const authsvc_jwt_key_t *fake[3];
    char *data;
    long len;
    int i;

    if (pk != NULL && PEM_write_bio_PUBKEY(bio, pk) == 1 &&
        (len = BIO_get_mem_data(bio, &data)) > 0) {
        pubpem = apr_pstrmemdup(p, data, (apr_size_t)len);
    }
    BIO_free(bio);
    EVP_PKEY_free(pk);
    fake[0] = hmac_key(p, raw, n);
    what[0] = "raw public key";
    fake[1] = hmac_key(p, pubpem, strlen(pubpem));
    what[1] = "public key PEM";
    fake[2] = hmac_key(p, ED_X, strlen(ED_X));
    what[2] = "JWK x";
    for (i = 0; i < 3; i++) {
        ok(fake[i] != NULL, "confusion: an HMAC key of the %s", what[i]);
        is_str(refused(p, vks, forge(p, hdr(p, "HS256", ked, ""), "{}", fake[i])),
               "header: alg is not the key's",
               "confusion: HS256 keyed with the %s, kid of the EdDSA key: refused",
               what[i]);
    }
    is_str(refused(p, vks, forge(p, hdr(p, "RS256", ked, ""), "{}", krs)),
           "header: alg is not the key's", "confusion: RS256 naming the EdDSA key");
    is_str(refused(p, vks, forge(p, hdr(p, "EdDSA", krs, ""), "{}", ked)),
           "header: alg is not the key's", "confusion: EdDSA naming the RS256 key");
    is_str(refused(p, vks, forge(p, hdr(p, "ES256", krs, ""), "{}", kes)),
           "header: alg is not the key's", "confusion: ES256 naming the RS256 key");
    is_str(refused(p, vks, forge(p, hdr(p, "eddsa", ked, ""), "{}", ked)),
           "header: alg is not the key's", "confusion: alg in another case");
}

static void test_header_rules(apr_pool_t *p)
{
    const char *kid = authsvc_jwt_key_kid(ked);

    is_str(refused(p, vks, forge(p, hdr(p, "none", ked, ""), "{}", NULL)),
           "header: alg none", "header: alg none, no signature");
    is_str(refused(p, vks, forge(p, hdr(p, "none", ked, ""), "{}", ked)),
           "header: alg none", "header: alg none, with a signature");
    is_str(refused(p, vks, forge(p, apr_psprintf(p, "{\"kid\":\"%s\"}", kid), "{}", ked)),
           "header: no alg", "header: no alg");
    is_str(refused(p, vks,
                   forge(p, apr_psprintf(p, "{\"alg\":null,\"kid\":\"%s\"}", kid), "{}",
                         ked)),
           "header: no alg", "header: alg null");
    is_str(refused(p, vks, forge(p, "{\"alg\":\"EdDSA\"}", "{}", ked)), "header: no kid",
           "header: no kid");
    is_str(refused(p, vks, forge(p, "{\"alg\":\"EdDSA\",\"kid\":1}", "{}", ked)),
           "header: no kid", "header: kid a number");
    is_str(refused(
               p, vks,
               forge(p, apr_psprintf(p, "{\"alg\":\"EdDSA\",\"kid\":\"%s\\u0000\"}", kid),
                     "{}", ked)),
           "header: no kid", "header: kid with a NUL after the right one");
    is_str(refused(p, vks, forge(p, "{\"alg\":\"EdDSA\",\"kid\":\"nope\"}", "{}", ked)),
           "header: unknown kid", "header: unknown kid");
    is_str(refused(p, vks,
                   forge(p, hdr(p, "EdDSA", ked, ",\"crit\":[\"exp\"],\"exp\":1"), "{}",
                         ked)),
           "header: crit", "header: crit refused");
    is_str(refused(p, vks, forge(p, hdr(p, "EdDSA", ked, ",\"crit\":[]"), "{}", ked)),
           "header: crit", "header: even an empty crit");
    is_str(
        refused(p, vks, forge(p, hdr(p, "EdDSA", ked, ",\"typ\":\"JOSE\""), "{}", ked)),
        "header: typ not JWT", "typ: JOSE refused");
    is_str(refused(p, vks, forge(p, hdr(p, "EdDSA", ked, ",\"typ\":1"), "{}", ked)),
           "header: typ not JWT", "typ: a number refused");
    is_str(refused(p, vks, forge(p, hdr(p, "EdDSA", ked, ",\"typ\":null"), "{}", ked)),
           "header: typ not JWT", "typ: null refused");
    is_str(
        refused(p, vks,
                forge(p,
                      apr_psprintf(p, "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"kid\":\"%s\"}",
                                   kid, kid),
                      "{}", ked)),
        "header: not base64url of a JSON object", "header: a duplicate key refused");
    is_str(refused(p, vks, forge(p, "[\"EdDSA\"]", "{}", ked)),
           "header: not base64url of a JSON object", "header: an array refused");
    is_str(refused(p, vks, forge(p, hdr(p, "EdDSA", ked, ""), "{\"a\":1,\"a\":2}", ked)),
           "payload: not base64url of a JSON object", "payload: a duplicate key refused");
    is_str(refused(p, vks, forge(p, hdr(p, "EdDSA", ked, ""), "[1]", ked)),
           "payload: not base64url of a JSON object", "payload: an array refused");
    is_str(refused(p, vks, forge(p, hdr(p, "EdDSA", ked, ""), "{", ked)),
           "payload: not base64url of a JSON object", "payload: not JSON");
}

/* input = header "." payload, exactly as given (already encoded), signed by k. */
static const char *signed_as(apr_pool_t *p, const char *input, const authsvc_jwt_key_t *k)
{
    const char *sig = authsvc_jwt_sign_input(p, k, input, strlen(input));

    return apr_pstrcat(p, input, ".", sig ? sig : "", NULL);
}

/* The base64url of bytes that are sig's decoded bytes with one more appended. */
static const char *sig_plus_byte(apr_pool_t *p, const char *sig)
{
    apr_size_t n;
    const unsigned char *b = unb64(p, sig, &n);
    unsigned char *c = apr_palloc(p, n + 1);

    memcpy(c, b, n);
    c[n] = 0;
    return apr_pencode_base64_binary(p, c, (apr_ssize_t)n + 1, APR_ENCODE_BASE64URL,
                                     NULL);
}

static void test_malformed(apr_pool_t *p)
{
    const char *t = authsvc_jwt_sign(p, ked, "{\"sub\":\"u1\"}", 12);
    const char *h = b64(p, hdr(p, "EdDSA", ked, "")), *pl = b64(p, "{\"sub\":\"u12\"}");
    const char *dot2 = t != NULL ? strrchr(t, '.') : NULL;
    const char *input = t != NULL ? apr_pstrmemdup(p, t, (apr_size_t)(dot2 - t)) : "";
    const char *sig = dot2 != NULL ? dot2 + 1 : "", *te, *tr;
    char *x;

    is_str(refused(p, vks, t), NULL, "malformed: (the token itself is good)");
    is_str(refused(p, vks, apr_pstrcat(p, t, ".", sig, NULL)), "not three parts",
           "malformed: four parts");
    is_str(refused(p, vks, input), "not three parts", "malformed: two parts");
    is_str(refused(p, vks, h), "not three parts", "malformed: one part");
    is_str(refused(p, vks, ".."), "header: not base64url of a JSON object",
           "malformed: three empty parts");
    is_str(refused(p, vks, apr_pstrcat(p, t, "==", NULL)), "bad signature",
           "malformed: '=' padding on the signature");
    is_str(refused(p, vks, signed_as(p, apr_pstrcat(p, h, ".", pl, "==", NULL), ked)),
           "payload: not base64url of a JSON object",
           "malformed: '=' padding on the payload (signed)");
    is_str(refused(p, vks, signed_as(p, apr_pstrcat(p, h, "=.", pl, NULL), ked)),
           "header: not base64url of a JSON object", "malformed: '=' on the header");
    x = apr_pstrcat(p, h, ".", pl, NULL);
    x[strlen(h) + 1] = '+';
    is_str(refused(p, vks, signed_as(p, x, ked)),
           "payload: not base64url of a JSON object",
           "malformed: '+' (standard base64) in the payload (signed)");
    x = apr_pstrdup(p, t);
    x[strlen(x) - 5] = '/';
    is_str(refused(p, vks, x), "bad signature", "malformed: '/' in the signature");
    x = apr_pstrdup(p, t);
    x[3] = '*';
    is_str(refused(p, vks, x), "header: not base64url of a JSON object",
           "malformed: '*' in the header");
    is_str(refused(p, vks, apr_pstrcat(p, " ", t, NULL)),
           "header: not base64url of a JSON object", "malformed: a leading space");
    is_str(refused(p, vks, apr_pstrcat(p, t, "\n", NULL)), "bad signature",
           "malformed: a trailing newline");
    is_str(refused(p, vks, apr_pstrcat(p, h, ".", pl, ".", sig, NULL)), "bad signature",
           "malformed: tampered payload (sub u1 -> u12)");
    is_str(refused(p, vks, apr_pstrndup(p, t, strlen(t) - 1)), "bad signature",
           "malformed: signature short of a character");
    is_str(refused(p, vks, apr_pstrndup(p, t, strlen(t) - 2)), "bad signature",
           "malformed: signature short of a byte (63)");
    is_str(refused(p, vks, apr_pstrcat(p, input, ".", sig_plus_byte(p, sig), NULL)),
           "bad signature", "malformed: EdDSA signature of 65 bytes");
    is_str(refused(p, vks, apr_pstrcat(p, input, ".", NULL)), "bad signature",
           "malformed: empty signature");

    te = authsvc_jwt_sign(p, kes, "{}", 2);
    dot2 = te != NULL ? strrchr(te, '.') : te;
    input = te != NULL ? apr_pstrmemdup(p, te, (apr_size_t)(dot2 - te)) : "";
    is_str(refused(p, vks, te), NULL, "es256: (the token itself is good)");
    is_str(refused(p, vks, apr_pstrcat(p, input, ".", sig_plus_byte(p, dot2 + 1), NULL)),
           "bad signature", "es256: a signature of 65 bytes");
    is_str(refused(p, vks, apr_pstrcat(p, input, ".", as_der(p, dot2 + 1), NULL)),
           "bad signature", "es256: the signature in DER");
    is_str(
        refused(p, vks, apr_pstrcat(p, input, ".", apr_pstrndup(p, dot2 + 1, 84), NULL)),
        "bad signature", "es256: a signature of 63 bytes");

    tr = authsvc_jwt_sign(p, krs, "{}", 2);
    is_str(refused(p, vks, tr), NULL, "rs256: (the token itself is good)");
    is_str(refused(p, vks, tr != NULL ? apr_pstrndup(p, tr, strlen(tr) - 2) : ""),
           "bad signature", "rs256: a signature one byte short");
    x = apr_pstrdup(p, authsvc_jwt_sign(p, khs, "{}", 2));
    x[strlen(x) - 3] = x[strlen(x) - 3] == 'A' ? 'B' : 'A';
    is_str(refused(p, vks, x), "bad signature", "hs256: a signature changed");
    is_str(refused(p, vks, ""), "no token", "malformed: empty");
    is_str(refused(p, NULL, t), "no keys configured", "malformed: no key set");
}

/* Tokens around AUTHSVC_JWT_MAX: the longest one allowed verifies, one longer is
 * refused before anything is decoded, and sign() will not make one. */
static void test_too_long(apr_pool_t *p)
{
    const char *h = b64(p, hdr(p, "EdDSA", ked, "")), *best = NULL, *over = NULL, *t;
    char *fill = apr_palloc(p, AUTHSVC_JWT_MAX);
    int n;

    for (n = 6000; n < 6200 && over == NULL; n++) {
        memset(fill, 'a', (size_t)n);
        fill[n] = '\0';
        t = signed_as(
            p,
            apr_pstrcat(p, h, ".", b64(p, apr_psprintf(p, "{\"x\":\"%s\"}", fill)), NULL),
            ked);
        if (strlen(t) <= AUTHSVC_JWT_MAX) {
            best = t;
        }
        else {
            over = t;
        }
    }
    ok(best != NULL && over != NULL, "too long: tokens on both sides of the limit");
    note("longest allowed: %d bytes", best ? (int)strlen(best) : 0);
    is_str(refused(p, vks, best ? best : ""), NULL,
           "too long: the longest allowed verifies");
    is_str(refused(p, vks, over ? over : ""), "token too long",
           "too long: a byte or more over: refused");
    memset(fill, 'a', AUTHSVC_JWT_MAX - 1);
    fill[AUTHSVC_JWT_MAX - 1] = '\0';
    is_str(authsvc_jwt_sign(p, ked, fill, AUTHSVC_JWT_MAX - 1), NULL,
           "too long: sign() makes no token over the limit");
}

/* ---- claims ------------------------------------------------------------------------ */

#define ISS "https://id.example"
#define AUD "api"

static authsvc_json_t *claims(apr_pool_t *p, const char *members)
{
    const char *err;
    const char *text = apr_psprintf(p, "{%s}", members);

    return authsvc_json_parse(p, text, strlen(text), &err);
}

/* check_claims of {members} at now with skew 30: the reason, or NULL if accepted. */
static const char *claim_check(apr_pool_t *p, const char *members, apr_int64_t now)
{
    const char *why = "?";
    apr_status_t rv =
        authsvc_jwt_check_claims(claims(p, members), ISS, AUD, now, 30, &why);

    return rv == APR_SUCCESS ? (why == NULL ? NULL : "bad success")
                             : (why != NULL ? why : "bad failure");
}

#define BASE "\"iss\":\"" ISS "\",\"aud\":\"" AUD "\""

static void test_claims(apr_pool_t *p)
{
    const char *why;

    is_str(claim_check(p, BASE ",\"exp\":1000,\"nbf\":900,\"iat\":900", 950), NULL,
           "claims: all good");
    is_str(claim_check(p, BASE ",\"exp\":1000", 1029), NULL,
           "claims: exp: 29 s after, within the 30 s skew: accepted");
    is_str(claim_check(p, BASE ",\"exp\":1000", 1030), "expired",
           "claims: exp: 30 s after (now = exp + skew): expired");
    is_int(
        authsvc_jwt_check_claims(claims(p, BASE ",\"exp\":1000"), ISS, AUD, 999, 0, &why),
        APR_SUCCESS, "claims: skew 0: a second before exp accepted");
    is_int(authsvc_jwt_check_claims(claims(p, BASE ",\"exp\":1000"), ISS, AUD, 1000, 0,
                                    &why),
           APR_EINVAL, "claims: skew 0: at exp refused");
    is_str(claim_check(p, BASE ",\"exp\":2000,\"nbf\":1030", 1000), NULL,
           "claims: nbf = now + skew accepted");
    is_str(claim_check(p, BASE ",\"exp\":2000,\"nbf\":1031", 1000),
           "nbf not an integer or in the future", "claims: nbf = now + skew + 1 refused");
    is_str(claim_check(p, BASE ",\"exp\":2000,\"iat\":1030", 1000), NULL,
           "claims: iat = now + skew accepted");
    is_str(claim_check(p, BASE ",\"exp\":2000,\"iat\":1031", 1000),
           "iat not an integer or in the future", "claims: iat = now + skew + 1 refused");
    is_str(claim_check(p, BASE, 1000), "exp missing or not an integer",
           "claims: exp missing");
    is_str(claim_check(p, BASE ",\"exp\":1500.5", 1000), "exp missing or not an integer",
           "claims: exp 1500.5 (not an integer)");
    is_str(claim_check(p, BASE ",\"exp\":\"1500\"", 1000),
           "exp missing or not an integer", "claims: exp \"1500\" (a string)");
    is_str(claim_check(p, BASE ",\"exp\":null", 1000), "exp missing or not an integer",
           "claims: exp null");
    is_str(claim_check(p, BASE ",\"exp\":2000,\"nbf\":\"900\"", 1000),
           "nbf not an integer or in the future", "claims: nbf a string");
    is_str(claim_check(p, BASE ",\"exp\":2000,\"iat\":1.5", 1000),
           "iat not an integer or in the future", "claims: iat a real");
    is_str(claim_check(p, "\"iss\":\"https://other\",\"aud\":\"" AUD "\",\"exp\":2000",
                       1000),
           "wrong iss", "claims: iss mismatch");
    is_str(claim_check(p, "\"aud\":\"" AUD "\",\"exp\":2000", 1000), "wrong iss",
           "claims: iss missing");
    is_str(claim_check(p, "\"iss\":1,\"aud\":\"" AUD "\",\"exp\":2000", 1000),
           "wrong iss", "claims: iss a number");
    is_str(claim_check(p, "\"iss\":\"" ISS "x\",\"aud\":\"" AUD "\",\"exp\":2000", 1000),
           "wrong iss", "claims: iss with a suffix");
    is_str(claim_check(p, "\"iss\":\"" ISS "\",\"aud\":\"web\",\"exp\":2000", 1000),
           "wrong aud", "claims: aud string mismatch");
    is_str(claim_check(
               p, "\"iss\":\"" ISS "\",\"aud\":[\"web\",\"" AUD "\"],\"exp\":2000", 1000),
           NULL, "claims: aud array containing it");
    is_str(claim_check(p, "\"iss\":\"" ISS "\",\"aud\":[\"web\",\"app\"],\"exp\":2000",
                       1000),
           "wrong aud", "claims: aud array not containing it");
    is_str(
        claim_check(p, "\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\",1],\"exp\":2000", 1000),
        "wrong aud", "claims: aud array with a number in it");
    is_str(claim_check(p, "\"iss\":\"" ISS "\",\"aud\":[],\"exp\":2000", 1000),
           "wrong aud", "claims: aud an empty array");
    is_str(claim_check(p, "\"iss\":\"" ISS "\",\"aud\":1,\"exp\":2000", 1000),
           "wrong aud", "claims: aud a number");
    is_str(claim_check(p, "\"iss\":\"" ISS "\",\"aud\":{\"a\":\"" AUD "\"},\"exp\":2000",
                       1000),
           "wrong aud", "claims: aud an object");
    is_str(claim_check(p, "\"iss\":\"" ISS "\",\"exp\":2000", 1000), "wrong aud",
           "claims: aud missing");
    is_str(claim_check(p, "\"iss\":\"" ISS "\",\"aud\":\"" AUD "\\u0000x\",\"exp\":2000",
                       1000),
           "wrong aud", "claims: aud with a NUL inside");
    is_int(authsvc_jwt_check_claims(claims(p, BASE ",\"exp\":2000"), NULL, AUD, 1000, 30,
                                    &why),
           APR_EINVAL, "claims: no issuer configured: refused");
}

/* ---- key files --------------------------------------------------------------------- */


/* A key file added to a new key set: the error (NULL: added); *k the key. */
static const char *add_file(apr_pool_t *p, const char *name, const char *text, int mode,
                            authsvc_jwt_alg_t alg, const authsvc_jwt_key_t **k)
{
    authsvc_jwt_keyset_t *ks = NULL;
    const char *err =
        authsvc_jwt_keyset_add_file(p, &ks, keyfile(p, name, text, mode), alg, 0);

    *k = authsvc_jwt_keyset_signer(ks);
    return err;
}

static const char *encrypted_pem(apr_pool_t *p)
{
    apr_size_t n;
    const unsigned char *d = unb64(p, ED_D, &n);
    EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d, n);
    BIO *bio = BIO_new(BIO_s_mem());
    const char *out = "";
    char *data;
    long len;

    if (PEM_write_bio_PKCS8PrivateKey(bio, pkey, EVP_aes_256_cbc(), "secret", 6, NULL,
                                      NULL) == 1 &&
        (len = BIO_get_mem_data(bio, &data)) > 0) {
        out = apr_pstrmemdup(p, data, (apr_size_t)len);
    }
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return out;
}

#define HEX32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static void test_keyfiles(apr_pool_t *p)
{
    const char *ed = ed_pem(p), *err;
    const authsvc_jwt_key_t *k;
    authsvc_jwt_keyset_t *ks = NULL;

    is_str(add_file(p, "ed.pem", ed, 0600, AUTHSVC_JWT_NONE, &k), NULL,
           "keyfile: Ed25519 PEM, mode 0600 accepted");
    is_str(authsvc_jwt_key_kid(k), ED_KID, "keyfile: ... the RFC 8037 key");
    is_str(add_file(p, "ed640.pem", ed, 0640, AUTHSVC_JWT_EDDSA, &k), NULL,
           "keyfile: mode 0640 (group may read, as for AuthsvcSecretKeyFile) accepted");
    err = add_file(p, "ed644.pem", ed, 0644, AUTHSVC_JWT_NONE, &k);
    ok(has(err, "/ed644.pem") && has(err, "0644"),
       "keyfile: mode 0644 (other-readable) refused, naming file and mode (%s)",
       err ? err : "accepted");
    ok(k == NULL && !has(err, "PRIVATE"), "keyfile: ... nothing added, no key text");
    ok(add_file(p, "ed602.pem", ed, 0602, AUTHSVC_JWT_NONE, &k) != NULL,
       "keyfile: mode 0602 (other-writable) refused");
    err = authsvc_jwt_keyset_add_file(p, &ks, dir, AUTHSVC_JWT_NONE, 0);
    ok(has(err, "not a regular file"), "keyfile: a directory refused (%s)",
       err ? err : "accepted");
    err = authsvc_jwt_keyset_add_file(p, &ks, apr_pstrcat(p, dir, "/missing", NULL),
                                      AUTHSVC_JWT_NONE, 0);
    ok(has(err, "/missing"), "keyfile: a missing file refused, naming it");
    err = add_file(p, "ed-es.pem", ed, 0600, AUTHSVC_JWT_ES256, &k);
    ok(has(err, "/ed-es.pem") && has(err, "EdDSA") && has(err, "ES256"),
       "keyfile: ES256 named for an Ed25519 key refused (%s)", err ? err : "accepted");
    err = add_file(p, "ed-rs.pem", ed, 0600, AUTHSVC_JWT_RS256, &k);
    ok(err != NULL, "keyfile: RS256 named for an Ed25519 key refused");
    err = add_file(p, "rsa1024.pem",
                   gen_pem(p, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024)), 0600,
                   AUTHSVC_JWT_NONE, &k);
    ok(has(err, "1024"), "keyfile: RSA 1024 refused (%s)", err ? err : "accepted");
    err =
        add_file(p, "p384.pem", gen_pem(p, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384")),
                 0600, AUTHSVC_JWT_NONE, &k);
    ok(has(err, "curve"), "keyfile: EC P-384 refused (%s)", err ? err : "accepted");
    err = add_file(p, "p384es.pem",
                   gen_pem(p, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384")), 0600,
                   AUTHSVC_JWT_ES256, &k);
    ok(err != NULL, "keyfile: EC P-384 named ES256 refused");
    err = add_file(p, "ed448.pem", gen_pem(p, EVP_PKEY_Q_keygen(NULL, NULL, "ED448")),
                   0600, AUTHSVC_JWT_NONE, &k);
    ok(has(err, "unsupported"), "keyfile: Ed448 refused (%s)", err ? err : "accepted");
    is_str(add_file(p, "rsa.pem", a2_pem(p), 0600, AUTHSVC_JWT_RS256, &k), NULL,
           "keyfile: RSA 2048 named RS256 accepted");
    err = add_file(p, "enc.pem", encrypted_pem(p), 0600, AUTHSVC_JWT_NONE, &k);
    ok(err != NULL, "keyfile: an encrypted PEM refused (no passphrase prompt)");
    ok(add_file(p, "junk.pem",
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0600,
                AUTHSVC_JWT_NONE, &k) != NULL,
       "keyfile: a broken PEM refused");
    ok(add_file(p, "empty.pem", "", 0600, AUTHSVC_JWT_NONE, &k) != NULL,
       "keyfile: an empty file refused");

    ks = NULL;
    is_str(authsvc_jwt_keyset_add_file(p, &ks, keyfile(p, "twice.pem", ed, 0600),
                                       AUTHSVC_JWT_NONE, 0),
           NULL, "keyfile: added once");
    err = authsvc_jwt_keyset_add_file(p, &ks, keyfile(p, "twice.pem", ed, 0600),
                                      AUTHSVC_JWT_NONE, 1);
    ok(has(err, "already"), "keyfile: the same key twice refused (%s)",
       err ? err : "accepted");
    is_int(authsvc_jwt_keyset_count(ks), 1, "keyfile: ... one key");
}

static void test_secret_files(apr_pool_t *p)
{
    const authsvc_jwt_key_t *k;
    authsvc_jwt_keyset_t *ks = NULL;
    const char *err, *kid;
    unsigned char raw[513];
    int i;

    for (i = 0; i < (int)sizeof(raw); i++) {
        raw[i] = (unsigned char)i;
    }
    is_str(add_file(p, "hs.hex", HEX32 "\n", 0600, AUTHSVC_JWT_HS256, &k), NULL,
           "secret: 64 hex digits accepted");
    kid = authsvc_jwt_key_kid(k);
    is_str(authsvc_jwt_keyset_add_secret(p, &ks, raw, 32, 0), NULL,
           "secret: the same 32 bytes from memory");
    is_str(authsvc_jwt_key_kid(authsvc_jwt_keyset_signer(ks)), kid,
           "secret: ... the same kid");
    is_str(add_file(p, "hs.b64", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", 0600,
                    AUTHSVC_JWT_HS256, &k),
           NULL, "secret: base64 of 32 bytes accepted");
    is_str(authsvc_jwt_key_kid(k), kid, "secret: ... the same kid");
    is_str(add_file(p, "hs64.hex", HEX32 HEX32, 0600, AUTHSVC_JWT_HS256, &k), NULL,
           "secret: 128 hex digits (64 bytes) accepted");
    is_str(add_file(p, "hs48.b64",
                    " AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\n",
                    0600, AUTHSVC_JWT_HS256, &k),
           NULL, "secret: base64 of 48 bytes accepted");
    err = add_file(p, "hs31.hex", HEX32 + 2, 0600, AUTHSVC_JWT_HS256, &k);
    ok(has(err, "/hs31.hex") && !has(err, "0203040506"),
       "secret: 62 hex digits (31 bytes) refused, naming the file, not the key (%s)",
       err ? err : "accepted");
    ok(add_file(p, "hs31.b64", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n", 0600,
                AUTHSVC_JWT_HS256, &k) != NULL,
       "secret: base64 of 31 bytes refused");
    ok(add_file(p, "hs644.hex", HEX32 "\n", 0644, AUTHSVC_JWT_HS256, &k) != NULL,
       "secret: mode 0644 refused");
    ok(add_file(p, "hsnoalg.hex", HEX32 "\n", 0600, AUTHSVC_JWT_NONE, &k) != NULL,
       "secret: not inferred (HS256 must be named)");
    ok(add_file(p, "pem-as-hs.pem", ed_pem(p), 0600, AUTHSVC_JWT_HS256, &k) != NULL,
       "secret: a PEM named HS256 refused");
    ks = NULL;
    ok(authsvc_jwt_keyset_add_secret(p, &ks, raw, 31, 0) != NULL,
       "secret: 31 bytes from memory refused");
    is_str(authsvc_jwt_keyset_add_secret(p, &ks, raw, 512, 0), NULL,
           "secret: 512 bytes accepted");
    ok(authsvc_jwt_keyset_add_secret(p, &ks, raw, 513, 0) != NULL,
       "secret: 513 bytes refused");
    ok(authsvc_jwt_keyset_add_pem(p, &ks, (const char *)raw, 31, AUTHSVC_JWT_HS256, 0) !=
           NULL,
       "secret: add_pem HS256 takes raw bytes: 31 refused");
    is_int(authsvc_jwt_keyset_count(ks), 1, "secret: refusals added nothing");
}

/* ---- keygen and rotation ----------------------------------------------------------- */

static void test_keygen(apr_pool_t *p)
{
    authsvc_jwt_alg_t algs[] = {AUTHSVC_JWT_EDDSA, AUTHSVC_JWT_ES256, AUTHSVC_JWT_RS256,
                                AUTHSVC_JWT_HS256};
    const authsvc_jwt_key_t *k, *vk;
    authsvc_json_t *payload;
    const char *out, *t, *why, *jwks, *name;
    int i;

    for (i = 0; i < 4; i++) {
        authsvc_jwt_keyset_t *ks = NULL, *inferred = NULL;
        name = authsvc_jwt_alg_name(algs[i]);
        is_str(authsvc_jwt_keygen(p, algs[i], &out), NULL, "keygen: %s", name);
        out = out != NULL ? out : "";
        if (algs[i] == AUTHSVC_JWT_HS256) {
            ok(strlen(out) == 65 && out[64] == '\n' &&
                   strspn(out, "0123456789abcdef") == 64,
               "keygen: HS256 is 64 hex digits and a newline");
        }
        else {
            ok(strncmp(out, "-----BEGIN PRIVATE KEY-----\n", 28) == 0,
               "keygen: %s is PKCS#8 PEM", name);
            is_str(authsvc_jwt_keyset_add_text(p, &inferred, out, strlen(out),
                                               AUTHSVC_JWT_NONE, 0),
                   NULL, "keygen: %s loads without its algorithm named", name);
            is_int(authsvc_jwt_key_alg(authsvc_jwt_keyset_signer(inferred)), algs[i],
                   "keygen: ... as %s", name);
        }
        is_str(authsvc_jwt_keyset_add_text(p, &ks, out, strlen(out), algs[i], 0), NULL,
               "keygen: %s loads back", name);
        k = authsvc_jwt_keyset_signer(ks);
        t = authsvc_jwt_sign(p, k, "{\"sub\":\"k\"}", 11);
        is_int(t ? authsvc_jwt_verify(p, ks, t, strlen(t), &payload, &vk, &why) : -1,
               APR_SUCCESS, "keygen: %s signs and verifies", name);
        jwks = authsvc_json_dump(p, authsvc_jwt_jwks(p, ks));
        if (algs[i] == AUTHSVC_JWT_HS256) {
            is_str(jwks, "{\"keys\":[]}", "keygen: HS256 not in the jwks");
        }
        else {
            ok(has(jwks, apr_psprintf(p, "\"kid\":\"%s\"", authsvc_jwt_key_kid(k))),
               "keygen: %s in the jwks by its kid", name);
        }
        if (algs[i] == AUTHSVC_JWT_RS256) {
            const char *nn = jwks ? strstr(jwks, "\"n\":\"") : NULL;
            is_int(nn ? (long long)strcspn(nn + 5, "\"") : 0, 512,
                   "keygen: RS256 is 3072 bits (n of 512 characters)");
        }
    }
    ok(authsvc_jwt_keygen(p, AUTHSVC_JWT_NONE, &out) != NULL && out == NULL,
       "keygen: no algorithm refused");
}

static void test_rotation(apr_pool_t *p)
{
    authsvc_jwt_keyset_t *ks = NULL;
    const authsvc_jwt_key_t *a, *b, *c, *vk;
    authsvc_json_t *payload;
    const char *ta, *tc, *why, *jwks, *pem_c;

    ok(authsvc_jwt_keyset_signer(NULL) == NULL && authsvc_jwt_keyset_count(NULL) == 0,
       "rotation: an empty set: no signer, no keys");
    authsvc_jwt_keyset_add_text(p, &ks, ed_pem(p), strlen(ed_pem(p)), AUTHSVC_JWT_NONE,
                                0);
    a = authsvc_jwt_keyset_signer(ks);
    ta = authsvc_jwt_sign(p, a, "{}", 2);
    authsvc_jwt_keyset_add_text(p, &ks, a3_pem(p, 0), strlen(a3_pem(p, 0)),
                                AUTHSVC_JWT_NONE, 0);
    b = authsvc_jwt_keyset_signer(ks);
    ok(b != NULL && b != a && authsvc_jwt_key_alg(b) == AUTHSVC_JWT_ES256,
       "rotation: the newest key signs");
    is_int(authsvc_jwt_verify(p, ks, ta, strlen(ta), &payload, &vk, &why), APR_SUCCESS,
           "rotation: a token of the old key still verifies");
    ok(vk == a, "rotation: ... by the old key");
    pem_c = gen_pem(p, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
    is_str(authsvc_jwt_keyset_add_pem(p, &ks, pem_c, strlen(pem_c), AUTHSVC_JWT_NONE, 1),
           NULL, "rotation: a verify-only key added last");
    ok(authsvc_jwt_keyset_signer(ks) == b, "rotation: ... does not sign");
    is_int(authsvc_jwt_keyset_count(ks), 3, "rotation: three keys");
    c = authsvc_jwt_keyset_find(ks, authsvc_jwt_key_kid(authsvc_jwt_keyset_signer(
                                        one_key(p, pem_c, AUTHSVC_JWT_NONE))));
    tc = authsvc_jwt_sign(p, c, "{}", 2);
    is_int(tc ? authsvc_jwt_verify(p, ks, tc, strlen(tc), &payload, &vk, &why) : -1,
           APR_SUCCESS, "rotation: the verify-only key verifies");
    jwks = authsvc_json_dump(p, authsvc_jwt_jwks(p, ks));
    {
        const char *pc = has(jwks, authsvc_jwt_key_kid(c))
                             ? strstr(jwks, authsvc_jwt_key_kid(c))
                             : NULL;
        const char *pb = has(jwks, authsvc_jwt_key_kid(b))
                             ? strstr(jwks, authsvc_jwt_key_kid(b))
                             : NULL;
        const char *pa = has(jwks, authsvc_jwt_key_kid(a))
                             ? strstr(jwks, authsvc_jwt_key_kid(a))
                             : NULL;
        ok(pa && pb && pc && pc < pb && pb < pa,
           "rotation: jwks lists all, newest first");
    }
}

/* ---- json.c helpers ---------------------------------------------------------------- */

static void test_json(apr_pool_t *p)
{
    static const char text[] =
        "{\"i\":5,\"r\":1.5,\"s\":\"123\",\"n\":null,\"b\":true,\"f\":false,"
        "\"a\":[\"x\",\"y\"],\"m\":[\"x\",1],\"e\":[],\"z\":\"a\\u0000b\","
        "\"za\":[\"a\\u0000b\"],\"big\":9007199254740993}";
    const char *err;
    authsvc_json_t *o = authsvc_json_parse(p, text, strlen(text), &err), *s;
    apr_array_header_t *arr = NULL;
    long long v = 0;
    int b = -1;

    is_int(authsvc_json_get_int(o, "i", &v), AUTHSVC_JSON_OK, "json: get_int of 5");
    is_int(v, 5, "json: ... is 5");
    is_int(authsvc_json_get_int(o, "big", &v), AUTHSVC_JSON_OK,
           "json: get_int of 2^53+1");
    is_int(v, 9007199254740993LL, "json: ... exactly");
    is_int(authsvc_json_get_int(o, "r", &v), AUTHSVC_JSON_WRONG_TYPE, "json: 1.5 no int");
    is_int(authsvc_json_get_int(o, "s", &v), AUTHSVC_JSON_WRONG_TYPE,
           "json: \"123\" no int");
    is_int(authsvc_json_get_int(o, "b", &v), AUTHSVC_JSON_WRONG_TYPE,
           "json: true no int");
    is_int(authsvc_json_get_int(o, "n", &v), AUTHSVC_JSON_NULL, "json: null");
    is_int(authsvc_json_get_int(o, "x", &v), AUTHSVC_JSON_MISSING, "json: missing");
    is_int(authsvc_json_get_bool(o, "b", &b), AUTHSVC_JSON_OK, "json: get_bool true");
    is_int(b, 1, "json: ... 1");
    is_int(authsvc_json_get_bool(o, "f", &b), AUTHSVC_JSON_OK, "json: get_bool false");
    is_int(b, 0, "json: ... 0");
    is_int(authsvc_json_get_bool(o, "i", &b), AUTHSVC_JSON_WRONG_TYPE, "json: 5 no bool");
    is_int(authsvc_json_get_strings(p, o, "s", &arr), AUTHSVC_JSON_OK,
           "json: get_strings of a string");
    ok(arr && arr->nelts == 1 && strcmp(APR_ARRAY_IDX(arr, 0, const char *), "123") == 0,
       "json: ... one element");
    is_int(authsvc_json_get_strings(p, o, "a", &arr), AUTHSVC_JSON_OK,
           "json: get_strings of an array");
    ok(arr && arr->nelts == 2 && strcmp(APR_ARRAY_IDX(arr, 1, const char *), "y") == 0,
       "json: ... two elements");
    is_int(authsvc_json_get_strings(p, o, "e", &arr), AUTHSVC_JSON_OK,
           "json: get_strings of []");
    is_int(arr ? arr->nelts : -1, 0, "json: ... none");
    is_int(authsvc_json_get_strings(p, o, "m", &arr), AUTHSVC_JSON_WRONG_TYPE,
           "json: get_strings: a number in the array");
    is_int(authsvc_json_get_strings(p, o, "z", &arr), AUTHSVC_JSON_WRONG_TYPE,
           "json: get_strings: a NUL inside a string");
    is_int(authsvc_json_get_strings(p, o, "za", &arr), AUTHSVC_JSON_WRONG_TYPE,
           "json: get_strings: a NUL inside an element");
    is_int(authsvc_json_get_strings(p, o, "i", &arr), AUTHSVC_JSON_WRONG_TYPE,
           "json: get_strings: a number");
    is_int(authsvc_json_get_strings(p, o, "n", &arr), AUTHSVC_JSON_NULL,
           "json: get_strings: null");
    is_int(authsvc_json_get_strings(p, o, "x", &arr), AUTHSVC_JSON_MISSING,
           "json: get_strings: missing");
    s = authsvc_json_parse(
        p, "{\"b\":1,\"a\":{\"d\":[{\"y\":1,\"x\":2}],\"c\":\"\xc3\xa9\"}}",
        strlen("{\"b\":1,\"a\":{\"d\":[{\"y\":1,\"x\":2}],\"c\":\"\xc3\xa9\"}}"), &err);
    is_str(authsvc_json_dump_sorted(p, s),
           "{\"a\":{\"c\":\"\xc3\xa9\",\"d\":[{\"x\":2,\"y\":1}]},\"b\":1}",
           "json: dump_sorted: keys sorted at every level, compact, UTF-8 as is");
    is_str(authsvc_json_dump(p, s),
           "{\"b\":1,\"a\":{\"d\":[{\"y\":1,\"x\":2}],\"c\":\"\\u00E9\"}}",
           "json: dump: order kept, ASCII");
}

/* ---- threads ----------------------------------------------------------------------- */

#if APR_HAS_THREADS
#include "apr_thread_proc.h"

static void *APR_THREAD_FUNC worker(apr_thread_t *th, void *data)
{
    const authsvc_jwt_key_t *keys[] = {ked, kes, krs, khs}, *vk;
    authsvc_json_t *payload;
    const char *t, *why;
    apr_pool_t *p;
    long bad = 0;
    int i;

    (void)data;
    apr_pool_create(&p, NULL);
    for (i = 0; i < 200; i++) {
        t = authsvc_jwt_sign(p, keys[i % 4], "{\"n\":1}", 7);
        if (t == NULL ||
            authsvc_jwt_verify(p, vks, t, strlen(t), &payload, &vk, &why) !=
                APR_SUCCESS ||
            vk != keys[i % 4]) {
            bad++;
        }
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    apr_thread_exit(th, bad == 0 ? APR_SUCCESS : APR_EGENERAL);
    return NULL;
}

static void test_threads(apr_pool_t *p)
{
    apr_thread_t *th[4];
    apr_status_t rv, all = APR_SUCCESS;
    int i;

    for (i = 0; i < 4; i++) {
        apr_thread_create(&th[i], NULL, worker, NULL, p);
    }
    for (i = 0; i < 4; i++) {
        apr_thread_join(&rv, th[i]);
        all = all == APR_SUCCESS ? rv : all;
    }
    is_int(all, APR_SUCCESS, "threads: 4 x 200 sign+verify on one key set at once");
}
#else
static void test_threads(apr_pool_t *p)
{
    (void)p;
}
#endif

int main(void)
{
    apr_pool_t *p;

    p = tap_apr_start();
    test_names();
    test_json(p);
    test_rfc7515_a1(p);
    test_rfc7515_a2(p);
    test_rfc7515_a3(p);
    test_rfc8037(p);
    test_jwk(p);
    verify_keys(p);
    test_verify_good(p);
    test_confusion(p);
    test_header_rules(p);
    test_malformed(p);
    test_too_long(p);
    test_claims(p);
    snprintf(dir, sizeof(dir), "/tmp/authsvc-jwt-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        ok(0, "mkdtemp");
    }
    else {
        test_keyfiles(p);
        test_secret_files(p);
        if (system(apr_pstrcat(p, "rm -rf '", dir, "'", NULL)) != 0) {
            diag("could not remove %s", dir);
        }
    }
    test_keygen(p);
    test_rotation(p);
    test_threads(p);
    return tap_apr_end(p);
}

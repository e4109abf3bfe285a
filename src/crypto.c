/*
 * crypto.c - randomness, digests and encodings on top of OpenSSL and apr_encode.
 */
#include <string.h>

#include "apr_encode.h"
#include "apr_lib.h"
#include "apr_strings.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "crypto.h"

/* RAND_bytes takes an int; every caller here asks for a few dozen bytes. */
apr_status_t authsvc_crypto_random(unsigned char *buf, apr_size_t len)
{
    if (len > 4096 || RAND_bytes(buf, (int)len) != 1) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The bytes are wiped after encoding: only the encoded copy lives on, in the pool. */
const char *authsvc_crypto_token(apr_pool_t *p, apr_size_t nbytes)
{
    unsigned char buf[64];
    const char *out;

    if (nbytes > sizeof(buf) || authsvc_crypto_random(buf, nbytes) != APR_SUCCESS) {
        return NULL;
    }
    out = apr_pencode_base64_binary(p, buf, (apr_ssize_t)nbytes, APR_ENCODE_BASE64URL,
                                    NULL);
    OPENSSL_cleanse(buf, sizeof(buf));
    return out;
}

/* OpenSSL 3 looks an algorithm up by name at every EVP_Digest(EVP_sha256(), ...) (an
 * "implicit fetch", a third of the guard's cost per request); fetched once here, it
 * is not. Fetched before the children fork, so no lock is needed. Released with the
 * pool it was fetched for: httpd unloads the module with that pool, and the pointer
 * with it (valgrind: the EVP_MD "definitely lost" at exit, one more per restart). */
static EVP_MD *sha256_md;

static apr_status_t release_md(void *data)
{
    (void)data;
    EVP_MD_free(sha256_md);
    sha256_md = NULL;
    return APR_SUCCESS;
}

void authsvc_crypto_init(apr_pool_t *p)
{
    if (sha256_md == NULL) {
        sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
        if (sha256_md != NULL) {
            apr_pool_cleanup_register(p, NULL, release_md, apr_pool_cleanup_null);
        }
    }
}

int authsvc_crypto_sha256(const void *s, apr_size_t len, unsigned char out[32])
{
    unsigned int mdlen = 0;

    return EVP_Digest(s, len, out, &mdlen, sha256_md ? sha256_md : EVP_sha256(), NULL) ==
               1 && mdlen == 32;
}

const char *authsvc_crypto_sha256_hex(apr_pool_t *p, const char *s, apr_size_t len)
{
    unsigned char md[32];

    return authsvc_crypto_sha256(s, len, md) ? authsvc_crypto_hex(p, md, sizeof(md)) : NULL;
}

const char *authsvc_crypto_hmac_b64url(apr_pool_t *p, const void *key, apr_size_t keylen,
                                       const char *msg)
{
    unsigned char mac[32];
    unsigned int maclen = 0;
    const char *out;

    if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), mac,
             &maclen) == NULL || maclen != sizeof(mac)) {
        return NULL;
    }
    out = apr_pencode_base64_binary(p, mac, sizeof(mac), APR_ENCODE_BASE64URL, NULL);
    OPENSSL_cleanse(mac, sizeof(mac));
    return out;
}

const char *authsvc_crypto_hex(apr_pool_t *p, const unsigned char *b, apr_size_t n)
{
    return apr_pencode_base16_binary(p, b, (apr_ssize_t)n, APR_ENCODE_LOWER, NULL);
}

/* RFC 9562 section 5.4: 122 random bits, version nibble 4, variant bits 10. */
const char *authsvc_crypto_uuid(apr_pool_t *p)
{
    unsigned char b[16];

    if (authsvc_crypto_random(b, sizeof(b)) != APR_SUCCESS) {
        return NULL;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    return apr_psprintf(p,
                        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                        "%02x%02x%02x%02x%02x%02x",
                        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
                        b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* The length difference is not secret (tokens have fixed lengths); the contents are. */
int authsvc_crypto_streq(const char *a, const char *b)
{
    size_t la, lb;

    if (a == NULL || b == NULL) {
        return 0;
    }
    la = strlen(a);
    lb = strlen(b);
    if (la != lb) {
        return 0;
    }
    return CRYPTO_memcmp(a, b, la) == 0;
}

int authsvc_crypto_is_b64url(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (!apr_isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_') {
            return 0;
        }
    }
    return 1;
}

int authsvc_crypto_token_plausible(const char *s, apr_size_t len)
{
    return s != NULL && len == AUTHSVC_TOKEN_CHARS && authsvc_crypto_is_b64url(s, len);
}

const char *authsvc_crypto_b64url_encode(apr_pool_t *p, const void *b, apr_size_t len)
{
    return apr_pencode_base64_binary(p, b, (apr_ssize_t)len, APR_ENCODE_BASE64URL, NULL);
}

const unsigned char *authsvc_crypto_b64url_decode(apr_pool_t *p, const char *s,
                                                  apr_size_t len, apr_size_t *outlen)
{
    const unsigned char *out;
    const char *again;

    *outlen = 0;
    if (s == NULL || len % 4 == 1 || !authsvc_crypto_is_b64url(s, len)) {
        return NULL;
    }
    out = (const unsigned char *)apr_pdecode_base64_binary(p, s, (apr_ssize_t)len,
                                                           APR_ENCODE_BASE64URL, outlen);
    /* apr ignores the unused low bits of the last character: only the spelling that
     * encodes back to itself is accepted. */
    again = out ? apr_pencode_base64_binary(p, out, (apr_ssize_t)*outlen,
                                            APR_ENCODE_BASE64URL, NULL)
                : NULL;
    if (again == NULL || strlen(again) != len || memcmp(again, s, len) != 0) {
        *outlen = 0;
        return NULL;
    }
    return out;
}

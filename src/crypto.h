/*
 * crypto.h - randomness, digests and encodings (pure: no httpd headers).
 *
 * Thin wrappers over OpenSSL libcrypto and apr_encode, so that the rest of the module
 * never touches a raw buffer length or an encoding table.
 */
#ifndef AUTHSVC_CRYPTO_H
#define AUTHSVC_CRYPTO_H

#include "apr_pools.h"

/* Fetch the algorithms once per process (call before forking; safe to call again);
 * they are released when p (the configuration pool) is destroyed. Without them the
 * hashes still work, only slower. */
void authsvc_crypto_init(apr_pool_t *p);

/* Fill buf with len bytes from the OpenSSL CSPRNG. APR_EGENERAL if it has no entropy. */
apr_status_t authsvc_crypto_random(unsigned char *buf, apr_size_t len);

/* A fresh random token of nbytes bytes, base64url without padding, in p; NULL on failure. */
const char *authsvc_crypto_token(apr_pool_t *p, apr_size_t nbytes);

/* The tokens this module issues (sessions, mailed links): 32 random bytes, which are
 * 43 base64url characters without padding. */
#define AUTHSVC_TOKEN_BYTES 32
#define AUTHSVC_TOKEN_CHARS 43

/* 1 when s[0..len) could be one of our tokens (exactly AUTHSVC_TOKEN_CHARS base64url
 * characters): anything else is refused without a lookup. */
int authsvc_crypto_token_plausible(const char *s, apr_size_t len);

/* 1 when s[0..len) is base64url characters only (A-Z a-z 0-9 - _). */
int authsvc_crypto_is_b64url(const char *s, apr_size_t len);

/* b[0..len) as base64url without padding, in p (NULL if APR fails). */
const char *authsvc_crypto_b64url_encode(apr_pool_t *p, const void *b, apr_size_t len);

/* Decode s[0..len), base64url without padding, into *outlen bytes in p; NULL unless s
 * is the one canonical spelling of its bytes (no other characters, no padding, no
 * stray bits in the last character). */
const unsigned char *authsvc_crypto_b64url_decode(apr_pool_t *p, const char *s,
                                                  apr_size_t len, apr_size_t *outlen);

/* The SHA-256 of s[0..len) into out; 0 when OpenSSL fails. */
int authsvc_crypto_sha256(const void *s, apr_size_t len, unsigned char out[32]);

/* HMAC-SHA256 of msg keyed with key[0..keylen), base64url without padding (43
 * characters), in p; NULL when OpenSSL fails. */
const char *authsvc_crypto_hmac_b64url(apr_pool_t *p, const void *key, apr_size_t keylen,
                                       const char *msg);

/* b[0..n) as lower-case hex in p. */
const char *authsvc_crypto_hex(apr_pool_t *p, const unsigned char *b, apr_size_t n);

/* Lower-case hex SHA-256 of s[0..len) in p (64 characters). */
const char *authsvc_crypto_sha256_hex(apr_pool_t *p, const char *s, apr_size_t len);

/* A random (version 4) UUID in its canonical 36-character form, in p; NULL on failure. */
const char *authsvc_crypto_uuid(apr_pool_t *p);

/* Constant-time equality of two strings of possibly different length. */
int authsvc_crypto_streq(const char *a, const char *b);

#endif

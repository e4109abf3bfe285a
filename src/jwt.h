/*
 * jwt.h - signed JSON Web Tokens (RFC 7515 compact JWS, RFC 7519 claims) under a set
 * of keys: EdDSA (Ed25519, RFC 8037), ES256 (P-256), RS256 (RSA PKCS#1 v1.5) and
 * HS256 (a shared secret); the keys' JWK Set (RFC 7517) and thumbprints (RFC 7638).
 *
 * Pure unit: apr, OpenSSL libcrypto and src/json.h; no httpd header.
 * A key set is built at configuration time and only read afterwards: signing and
 * verifying from many threads at once is safe (each call has its own contexts).
 */
#ifndef AUTHSVC_JWT_H
#define AUTHSVC_JWT_H

#include <apr_errno.h>
#include <apr_pools.h>

#include "json.h"

typedef enum {
    AUTHSVC_JWT_NONE = 0,
    AUTHSVC_JWT_EDDSA,
    AUTHSVC_JWT_ES256,
    AUTHSVC_JWT_RS256,
    AUTHSVC_JWT_HS256
} authsvc_jwt_alg_t;

typedef struct authsvc_jwt_key authsvc_jwt_key_t;       /* opaque */
typedef struct authsvc_jwt_keyset authsvc_jwt_keyset_t; /* opaque */

#define AUTHSVC_JWT_MAX 8192 /* longest token accepted, bytes */
/* HS256 secrets: at least 32 bytes (RFC 7518 3.2: the size of the hash), at most 512. */
#define AUTHSVC_JWT_SECRET_MIN 32
#define AUTHSVC_JWT_SECRET_MAX 512

/* "EdDSA", "ES256", "RS256", "HS256" (exact, case-sensitive as in JOSE) <-> enum.
 * alg_name gives NULL for NONE or an unknown value; alg_parse NONE for an unknown or
 * NULL name. */
const char *authsvc_jwt_alg_name(authsvc_jwt_alg_t alg);
authsvc_jwt_alg_t authsvc_jwt_alg_parse(const char *name);

/* Add a key from a file to *ks (created in p on first call). PEM private key (PKCS#8
 * or traditional, not encrypted) for EdDSA/ES256/RS256; alg NONE = infer from the key
 * (Ed25519 -> EdDSA, EC P-256 -> ES256, RSA -> RS256); an alg given must match the key
 * (an EC key on another curve, RSA < 2048 bits, Ed448, DSA... are refused). HS256: the
 * file holds the secret: 64+ hex digits or base64 of >= 32 bytes (surrounding
 * whitespace ignored). Refused also: not a regular file, readable/writable by other
 * (mode & 007; the check of secretbox.c's key files, authsvc_keyfile_read), a kid
 * already in the set. Key material wiped/freed by a cleanup on p. NULL or an admin
 * message naming the file (never key bytes). */
const char *authsvc_jwt_keyset_add_file(apr_pool_t *p, authsvc_jwt_keyset_t **ks,
                                        const char *path, authsvc_jwt_alg_t alg,
                                        int verify_only);

/* The same from the text a key file holds (what add_file does after reading it; also
 * authsvc-admin keygen): PEM, or for HS256 the secret as hex or base64. The message
 * names no file. */
const char *authsvc_jwt_keyset_add_text(apr_pool_t *p, authsvc_jwt_keyset_t **ks,
                                        const char *text, apr_size_t len,
                                        authsvc_jwt_alg_t alg, int verify_only);

/* Same from memory (tests): PEM text, or for HS256 the raw secret bytes (>= 32). */
const char *authsvc_jwt_keyset_add_pem(apr_pool_t *p, authsvc_jwt_keyset_t **ks,
                                       const char *pem, apr_size_t len,
                                       authsvc_jwt_alg_t alg, int verify_only);
const char *authsvc_jwt_keyset_add_secret(apr_pool_t *p, authsvc_jwt_keyset_t **ks,
                                          const unsigned char *secret, apr_size_t len,
                                          int verify_only);

/* A public-key-only entry from a JWK JSON object (kty OKP/Ed25519, EC/P-256 or RSA
 * >= 2048 bits; private members ignored; an "alg" member must name the key's
 * algorithm), verify-only, with the kid given (tests with RFC vectors). NULL or a
 * message. */
const char *authsvc_jwt_keyset_add_jwk(apr_pool_t *p, authsvc_jwt_keyset_t **ks,
                                       const char *jwk_json, const char *kid);

/* The signing key: the newest key not verify-only; NULL if none (or ks NULL). */
const authsvc_jwt_key_t *authsvc_jwt_keyset_signer(const authsvc_jwt_keyset_t *ks);
/* The key named kid in ks; NULL if none (or ks or kid NULL). */
const authsvc_jwt_key_t *authsvc_jwt_keyset_find(const authsvc_jwt_keyset_t *ks,
                                                 const char *kid);
/* Number of keys in ks (0 for NULL). */
int authsvc_jwt_keyset_count(const authsvc_jwt_keyset_t *ks);
const char *authsvc_jwt_key_kid(const authsvc_jwt_key_t *k);
authsvc_jwt_alg_t authsvc_jwt_key_alg(const authsvc_jwt_key_t *k);

/* kid: for EdDSA/ES256/RS256 the RFC 7638 JWK thumbprint (SHA-256, base64url, 43
 * chars) of the public key; for HS256 "hs-" + base64url of the first 12 bytes of
 * HMAC-SHA256(secret, "authsvc-jwt-kid") (never the secret's own hash). NULL on
 * failure. */
const char *authsvc_jwt_thumbprint(apr_pool_t *p, const authsvc_jwt_key_t *k);

/* Sign: compact JWS of header {"alg":..,"kid":..,"typ":"JWT"} and the given payload
 * JSON text. NULL on failure (no key, a verify-only JWK key, a token that would be
 * longer than AUTHSVC_JWT_MAX). ES256 signatures are the 64-byte r||s (RFC 7518 3.4). */
const char *authsvc_jwt_sign(apr_pool_t *p, const authsvc_jwt_key_t *k,
                             const char *payload, apr_size_t len);

/* The signature alone, base64url, of input[0..len) (the JWS Signing Input
 * "header.payload" as given, e.g. a published vector's exact bytes). NULL on failure. */
const char *authsvc_jwt_sign_input(apr_pool_t *p, const authsvc_jwt_key_t *k,
                                   const char *input, apr_size_t len);

/* Check a base64url signature sig[0..siglen) of input[0..len) with k (the signature
 * step of authsvc_jwt_verify, without any header rule). APR_SUCCESS or APR_EINVAL. */
apr_status_t authsvc_jwt_verify_input(apr_pool_t *p, const authsvc_jwt_key_t *k,
                                      const char *input, apr_size_t len, const char *sig,
                                      apr_size_t siglen);

/* Verify a compact JWS (at most AUTHSVC_JWT_MAX bytes): exactly three parts, each
 * strict base64url (authsvc_crypto_b64url_decode), the header a JSON object (duplicate
 * keys refused) with "alg" equal to the algorithm of the key named by "kid" (kid
 * required; unknown kid refused; alg "none" or any mismatch refused), no "crit", "typ"
 * absent or "JWT"/"at+jwt" (case-insensitive), and the signature valid (HS256 compared
 * with CRYPTO_memcmp; ES256 64 bytes exactly). On success *payload is the parsed
 * payload object (duplicate keys refused) in p and *key the key that verified.
 * APR_EINVAL on any failure, *why a short reason for a debug log (never token text). */
apr_status_t authsvc_jwt_verify(apr_pool_t *p, const authsvc_jwt_keyset_t *ks,
                                const char *token, apr_size_t len,
                                authsvc_json_t **payload, const authsvc_jwt_key_t **key,
                                const char **why);

/* The registered time/issuer/audience claims: exp required (integer), now < exp+skew;
 * nbf and iat optional (integer), each <= now+skew; iss a string equal to iss;
 * aud a string equal to aud, or an array of strings containing it. iss and aud are
 * required arguments (NULL refuses every token). APR_EINVAL + *why. */
apr_status_t authsvc_jwt_check_claims(authsvc_json_t *payload, const char *iss,
                                      const char *aud, apr_int64_t now, apr_int64_t skew,
                                      const char **why);

/* {"keys":[...]}: each public key (HS256 keys left out) as a JWK with kty, crv+x(+y) or
 * n+e, kid, alg, use "sig". Newest first. NULL on failure. */
authsvc_json_t *authsvc_jwt_jwks(apr_pool_t *p, const authsvc_jwt_keyset_t *ks);

/* A new key for authsvc-admin keygen: EdDSA/ES256/RS256 (3072 bits) as PKCS#8 PEM, or
 * HS256 as 64 hex digits + "\n", in *out (wiped by a cleanup on p). NULL or an error
 * message. */
const char *authsvc_jwt_keygen(apr_pool_t *p, authsvc_jwt_alg_t alg, const char **out);

#endif

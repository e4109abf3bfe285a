/*
 * secretbox.h - AES-256-GCM for secrets at rest (TOTP secrets in the database) under
 * the keys of AuthsvcSecretKeyFile, with key ids so that keys can be rotated.
 *
 * Pure unit: apr, apr-util and OpenSSL libcrypto only; no httpd header.
 * A keyring is built at configuration time and only read afterwards: sealing and
 * opening from many threads at once is safe (each call has its own cipher context).
 */
#ifndef AUTHSVC_SECRETBOX_H
#define AUTHSVC_SECRETBOX_H

#include <apr_errno.h>
#include <apr_pools.h>

#define AUTHSVC_SECRETBOX_KEY_BYTES 32
#define AUTHSVC_SECRETBOX_IV_BYTES 12
#define AUTHSVC_SECRETBOX_TAG_BYTES 16
/* The largest plaintext seal accepts (a TOTP secret is 20 bytes; a queued mail, from
 * templates of at most 64 KiB each, can be a few hundred KiB). */
#define AUTHSVC_SECRETBOX_MAX_PLAINTEXT (1024 * 1024)

typedef struct authsvc_keyring authsvc_keyring_t;

/* Add the key in file path to *kr (created on first call in p). The file holds 32
 * random bytes written as 64 hex digits, or as base64 (44 chars) — surrounding
 * whitespace/newline ignored; anything else is refused. Refused also when the file is
 * readable or writable by "other" (mode & 007) or is not a regular file. The newest
 * (last added) key seals; every key opens. Key bytes wiped (OPENSSL_cleanse) when p is
 * cleared. NULL or an error message for the admin (names the file, never the key). */
const char *authsvc_keyring_add_file(apr_pool_t *p, authsvc_keyring_t **kr,
                                     const char *path);

/* The longest key text authsvc_keyfile_decode takes (surrounding whitespace aside). */
#define AUTHSVC_KEYTEXT_MAX 1024

/* Read the secret file at path into buf (at most size bytes; *len says how many) after
 * the checks every key file of this module passes: a regular file (also once opened)
 * that "other" can neither read nor write (mode & 007), holding fewer than size bytes.
 * Shared by AuthsvcSecretKeyFile and the token signing keys. NULL or an error message
 * for the admin (names the file, never its contents). The caller wipes buf. */
const char *authsvc_keyfile_read(apr_pool_t *p, const char *path, char *buf,
                                 apr_size_t size, apr_size_t *len);

/* Decode the text of a secret key file: surrounding whitespace ignored, then an even
 * number of hex digits (either case), or else base64 (standard alphabet, with or
 * without its padding, nothing else). On success *outlen (> 0) bytes are in out.
 * APR_EINVAL for other text, text longer than AUTHSVC_KEYTEXT_MAX, or more than
 * outsize bytes (out is then untouched). */
apr_status_t authsvc_keyfile_decode(const char *text, apr_size_t len, unsigned char *out,
                                    apr_size_t outsize, apr_size_t *outlen);

/* Same, from 32 raw bytes (tests, tools). */
const char *authsvc_keyring_add_key(apr_pool_t *p, authsvc_keyring_t **kr,
                                    const unsigned char key[32]);

/* The key id of the sealing key (the newest): 8 lower-case hex chars of
 * SHA-256("authsvc-secretbox-kid" || key); NULL for a NULL keyring. */
const char *authsvc_keyring_kid(const authsvc_keyring_t *kr);

/* Seal: "v1.<kid>.<base64url no padding of iv(12) || ciphertext || tag(16)>", random IV,
 * aad bound (e.g. the user id; NULL counts as ""). NULL on failure (no keyring, len
 * above AUTHSVC_SECRETBOX_MAX_PLAINTEXT, CSPRNG or cipher failure). */
const char *authsvc_secretbox_seal(apr_pool_t *p, const authsvc_keyring_t *kr,
                                   const unsigned char *pt, apr_size_t len,
                                   const char *aad);

/* Open with the key named by kid; APR_EINVAL when malformed, unknown kid, or the tag /
 * aad does not verify (never partial plaintext: *pt NULL, *len 0). On success *pt has
 * *len bytes and an extra NUL byte after them. */
apr_status_t authsvc_secretbox_open(apr_pool_t *p, const authsvc_keyring_t *kr,
                                    const char *sealed, const char *aad,
                                    unsigned char **pt, apr_size_t *len);

/* Raw AES-256-GCM (exposed for the published test vectors): ct gets len bytes.
 * APR_EINVAL for a bad length (iv empty, len or aadlen above INT_MAX), APR_ENOMEM or
 * APR_EGENERAL when OpenSSL fails. */
apr_status_t authsvc_aes256gcm_seal(const unsigned char key[32], const unsigned char *iv,
                                    apr_size_t ivlen, const unsigned char *aad,
                                    apr_size_t aadlen, const unsigned char *pt,
                                    apr_size_t len, unsigned char *ct,
                                    unsigned char tag[16]);

/* The reverse, arguments in the same places: ct in, pt out (len bytes), tag in.
 * APR_EINVAL on a bad tag (pt is wiped then) or bad length, APR_ENOMEM or
 * APR_EGENERAL when OpenSSL fails. */
apr_status_t authsvc_aes256gcm_open(const unsigned char key[32], const unsigned char *iv,
                                    apr_size_t ivlen, const unsigned char *aad,
                                    apr_size_t aadlen, const unsigned char *ct,
                                    apr_size_t len, unsigned char *pt,
                                    const unsigned char tag[16]);

#endif

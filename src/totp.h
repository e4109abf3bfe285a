/*
 * totp.h - time-based one-time passwords (RFC 6238 over liboath), their base32
 * secrets and otpauth:// URIs, and single-use recovery codes.
 *
 * Pure unit: apr, OpenSSL libcrypto and liboath only; no httpd header.
 * Thread-safe once authsvc_totp_init() has run (liboath keeps no state per call).
 */
#ifndef AUTHSVC_TOTP_H
#define AUTHSVC_TOTP_H

#include <apr_errno.h>
#include <apr_pools.h>

#define AUTHSVC_TOTP_SECRET_BYTES 20 /* 160 bits */
#define AUTHSVC_TOTP_DIGITS 6
#define AUTHSVC_TOTP_PERIOD 30
#define AUTHSVC_TOTP_WINDOW_MAX 10 /* AuthsvcTOTPWindow's upper bound */
#define AUTHSVC_RECOVERY_CODES 10
/* "xxxx-xxxx-xxxx-xxxx": 16 base32 chars, 80 bits */
#define AUTHSVC_RECOVERY_CODE_LEN 19

/* oath_init() once per process; APR_EGENERAL if liboath fails. Safe to call twice.
 * Call it before the children start (post_config): it is not itself thread-safe. */
apr_status_t authsvc_totp_init(void);

/* RFC 4648 base32 of secret, upper case, no '=' padding (what authenticator apps
 * read); "" for len 0; NULL on failure. */
const char *authsvc_totp_base32(apr_pool_t *p, const unsigned char *secret,
                                apr_size_t len);

/* otpauth://totp/ISSUER:ACCOUNT?secret=B32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 * label parts and the issuer value percent-encoded (RFC 3986: only unreserved kept).
 * NULL when an argument is NULL. */
const char *authsvc_totp_uri(apr_pool_t *p, const char *issuer, const char *account,
                             const char *b32);

/* The code at time step `step` (digits 6..8, SHA-1), into out[digits+1].
 * APR_EINVAL for a bad argument (step < 0, digits out of range, no secret),
 * APR_EGENERAL when liboath fails; out is "" then. */
apr_status_t authsvc_totp_generate(const unsigned char *secret, apr_size_t len,
                                   apr_int64_t step, int digits, char *out);

/* Which time step in [now/30 - window, now/30 + window] and > after_step has this code:
 * that step (the lowest, should two match), or -1 (none, malformed code, or only steps
 * <= after_step match). window is clamped to 0..AUTHSVC_TOTP_WINDOW_MAX.
 * The code must be exactly 6 ASCII digits (callers strip spaces first: see normalize).
 * Every candidate step is computed and compared in constant time (CRYPTO_memcmp), no
 * early exit. *replay (may be NULL) is set to 1 when the code matches only a step
 * <= after_step (a replay), else 0. */
apr_int64_t authsvc_totp_verify(const unsigned char *secret, apr_size_t len,
                                apr_int64_t now, int window, apr_int64_t after_step,
                                const char *code, apr_size_t code_len, int *replay);

/* A code as typed: spaces removed; NULL unless exactly 6 digits remain. */
const char *authsvc_totp_normalize(apr_pool_t *p, const char *s, apr_size_t len);

/* A fresh recovery code "xxxx-xxxx-xxxx-xxxx" (alphabet a-z2-7, 80 bits, CSPRNG);
 * NULL when the CSPRNG fails. */
const char *authsvc_recovery_code_new(apr_pool_t *p);

/* As typed -> canonical 16 lower-case chars (case folded, '-' and spaces dropped), or
 * NULL unless exactly 16 alphabet chars remain. */
const char *authsvc_recovery_code_normalize(apr_pool_t *p, const char *s, apr_size_t len);

#endif

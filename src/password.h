/* password.h - password hashing (Argon2id) and verification of the hash
 * formats mod_authsvc imports (Argon2, bcrypt, Werkzeug/passlib PBKDF2,
 * Werkzeug scrypt).
 *
 * Pure unit: apr/apr-util, OpenSSL libcrypto and libargon2 only; no httpd
 * header, so tools/ and t/unit/ use it without a server.
 */
#ifndef AUTHSVC_PASSWORD_H
#define AUTHSVC_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#include <apr_pools.h>
#include <apr_errno.h>

typedef struct {
    uint32_t m_cost_kib;   /* memory, KiB */
    uint32_t t_cost;       /* iterations */
    uint32_t parallelism;  /* lanes */
} authsvc_argon2_params_t;

#define AUTHSVC_ARGON2_M_DEFAULT 19456
#define AUTHSVC_ARGON2_T_DEFAULT 2
#define AUTHSVC_ARGON2_P_DEFAULT 1

/* Accepted ranges for the AuthsvcPasswordHash directive (and for hashing). */
#define AUTHSVC_ARGON2_M_MAX 4194304u   /* 4 GiB in KiB; the minimum is 8 * p */
#define AUTHSVC_ARGON2_T_MAX 100u
#define AUTHSVC_ARGON2_P_MAX 64u

/* Our hashes: 16-byte salt, 32-byte tag. */
#define AUTHSVC_ARGON2_SALT_LEN 16
#define AUTHSVC_ARGON2_TAG_LEN  32

/* Work limits for stored hashes, which may come from an imported database and
 * are untrusted: anything above is AUTHSVC_PW_BADHASH, refused before any
 * work is done. Each stays within a few seconds of CPU on one core. */
#define AUTHSVC_PW_STORED_MAX        1024u      /* octets of a stored string */
#define AUTHSVC_PW_ARGON2_M_LIMIT    1048576u   /* KiB (1 GiB), or current m if larger */
#define AUTHSVC_PW_ARGON2_WORK_LIMIT 4194304u   /* m*t KiB-passes, or current if more */
#define AUTHSVC_PW_PBKDF2_ITER_LIMIT 5000000u   /* 5 x Werkzeug 3.1's default */
#define AUTHSVC_PW_SCRYPT_MEM_LIMIT  (256u * 1024 * 1024)  /* octets, 8 x Werkzeug's */
#define AUTHSVC_PW_SCRYPT_WORK_LIMIT (1u << 22)  /* N * r * p, 16 x Werkzeug's */
#define AUTHSVC_PW_BCRYPT_COST_LIMIT 16          /* 2^16 rounds, about 4 s */

/* Parse the arguments of `AuthsvcPasswordHash argon2id m=19456 t=2 p=1`: `words` is the
 * whole argument string after the directive name, e.g. "argon2id m=65536 t=3 p=1"; any of
 * m/t/p may be omitted (defaults kept), order free. Validates ranges (m >= 8*p and
 * m <= 4 GiB/1 KiB, 1 <= t <= 100, 1 <= p <= 64 or what libargon2 accepts). Returns NULL
 * on success or an error message (allocated in p) naming what is wrong. */
const char *authsvc_password_parse_params(apr_pool_t *p, const char *words,
                                          authsvc_argon2_params_t *out);

/* Check that params are within the ranges authsvc_password_parse_params
 * accepts. Returns NULL if they are, else a message allocated in p. */
const char *authsvc_password_check_params(apr_pool_t *p,
                                          const authsvc_argon2_params_t *params);

/* Hash pw (pwlen bytes) with Argon2id, 16-byte random salt (RAND_bytes), 32-byte tag;
 * *out = PHC string "$argon2id$v=19$m=..,t=..,p=..$salt$hash" in p. */
apr_status_t authsvc_password_hash(apr_pool_t *p, const char *pw, size_t pwlen,
                                   const authsvc_argon2_params_t *params,
                                   const char **out);

typedef enum {
    AUTHSVC_PW_BADHASH  = -1, /* stored string not a recognised/parsable hash */
    AUTHSVC_PW_MISMATCH = 0,
    AUTHSVC_PW_OK       = 1,  /* matches, and is Argon2id at exactly `current` params */
    AUTHSVC_PW_REHASH   = 2   /* matches, but another scheme or other params: rehash */
} authsvc_pw_result_t;

/* Verify pw against a stored hash in any supported format:
 *   $argon2id$ and $argon2i$ PHC strings (v=19, or no v= meaning 0x10);
 *   bcrypt $2y$ / $2b$ / $2a$;
 *   Werkzeug PBKDF2 "pbkdf2:sha256:ITER$salt$hexhash" (also sha1, sha512);
 *   passlib "$pbkdf2-sha256$ITER$<ab64 salt>$<ab64 hash>" (also $pbkdf2$, -sha512);
 *   Werkzeug scrypt "scrypt:N:r:p$salt$hexhash".
 * Every length and number in the stored string is checked before use (it may come from
 * an imported database: treat it as untrusted; absurd iteration counts/memory -> BADHASH,
 * not a hang). Comparison in constant time. Never logs. `current` NULL means the
 * AUTHSVC_ARGON2_*_DEFAULT params. OK additionally requires v=19, a 16-byte salt and a
 * 32-byte tag (what authsvc_password_hash writes); any other match is REHASH. */
/* Where Argon2 verification takes its working memory (m_cost KiB per check): by
 * default libargon2's malloc/free. A server installs its own to reuse blocks instead of
 * mapping and faulting in 19 MiB per sign-in. alloc returns 0 (ARGON2_OK) or non-zero;
 * free gets memory libargon2 has already wiped. Set once, before any thread hashes. */
typedef int (*authsvc_pw_alloc_fn)(uint8_t **memory, size_t bytes);
typedef void (*authsvc_pw_free_fn)(uint8_t *memory, size_t bytes);
void authsvc_password_set_memory(authsvc_pw_alloc_fn alloc, authsvc_pw_free_fn release);

authsvc_pw_result_t authsvc_password_verify(apr_pool_t *p, const char *pw, size_t pwlen,
                                            const char *stored,
                                            const authsvc_argon2_params_t *current);

#endif /* AUTHSVC_PASSWORD_H */

/* test_password.c - password.c against published vectors.
 *
 * Sources of the literal strings:
 *   Argon2   the reference implementation's src/test.c (P-H-C/phc-winner-argon2,
 *            the libargon2 Debian ships): password "password", salt "somesalt".
 *   bcrypt   crypt_blowfish wrapper.c (Openwall) and OpenBSD's regress vectors.
 *   PBKDF2   RFC 7914 section 11 (first 32 octets of each 64-octet output, which is
 *            what a 32-octet derivation yields); passlib's test_handlers_pbkdf2.py;
 *            strings made by werkzeug.security 3.1.8 generate_password_hash and checked
 *            with its check_password_hash and python3 hashlib.
 *   scrypt   RFC 7914 section 12 in Werkzeug's "scrypt:N:r:p$salt$hex" form, and
 *            Werkzeug 3.1.8 strings as above.
 */
#include <string.h>

#include "apr_general.h"
#include "apr_strings.h"
#include <openssl/err.h>

#include "password.h"
#include "tap_apr.h"

/* A password literal and its exact length (embedded NULs included). */
#define PW(s) (s), (sizeof(s) - 1)

typedef struct {
    const char *what;
    const char *pw;
    size_t pwlen;
    const char *stored;
    authsvc_pw_result_t want;
} vec_t;

static void run(apr_pool_t *p, const vec_t *v, size_t n,
                const authsvc_argon2_params_t *current)
{
    size_t i;

    for (i = 0; i < n; i++) {
        is_int(authsvc_password_verify(p, v[i].pw, v[i].pwlen, v[i].stored, current),
               v[i].want, "%s", v[i].what);
    }
}

#define RUN(p, table, cur) run((p), (table), sizeof(table) / sizeof((table)[0]), (cur))

static void test_parse(apr_pool_t *p)
{
    authsvc_argon2_params_t a = {1, 1, 1};
    const char *err;
    static const struct {
        const char *words;
        const char *needle;
    } bad[] = {
        {"", "argon2id"},
        {"   ", "argon2id"},
        {"bcrypt m=1024", "unsupported scheme 'bcrypt'"},
        {"argon2 m=1024", "unsupported scheme"},
        {"argon2id m=7", "m must be between 8"},
        {"argon2id m=16 p=4", "m must be between 32"},
        {"argon2id m=4194305", "m must be between"},
        {"argon2id m=99999999999", "m=99999999999 is too large"},
        {"argon2id t=0", "t must be between 1 and 100"},
        {"argon2id t=101", "t must be between 1 and 100"},
        {"argon2id p=0", "p must be between 1 and 64"},
        {"argon2id p=65 m=1048576", "p must be between 1 and 64"},
        {"argon2id m=abc", "m=abc is not a decimal number"},
        {"argon2id m=", "is not a decimal number"},
        {"argon2id m=-1", "is not a decimal number"},
        {"argon2id t=+2", "is not a decimal number"},
        {"argon2id m=1024 m=2048", "m= given twice"},
        {"argon2id x=1", "unknown argument 'x=1'"},
        {"argon2id m 1024", "unknown argument 'm'"},
        {"argon2id,m=1024", "unsupported scheme"},
    };
    size_t i;

    is_str(authsvc_password_parse_params(p, "argon2id", &a), NULL, "parse: bare argon2id");
    ok(a.m_cost_kib == AUTHSVC_ARGON2_M_DEFAULT && a.t_cost == AUTHSVC_ARGON2_T_DEFAULT &&
           a.parallelism == AUTHSVC_ARGON2_P_DEFAULT,
       "parse: omitted m/t/p keep the defaults 19456/2/1");
    is_str(authsvc_password_parse_params(p, "argon2id m=65536 t=3 p=4", &a), NULL,
           "parse: m t p");
    ok(a.m_cost_kib == 65536 && a.t_cost == 3 && a.parallelism == 4, "parse: values set");
    is_str(authsvc_password_parse_params(p, "  ARGON2ID\tp=2   m=1024 ", &a), NULL,
           "parse: any order, blanks, scheme case-insensitive");
    ok(a.m_cost_kib == 1024 && a.t_cost == AUTHSVC_ARGON2_T_DEFAULT && a.parallelism == 2,
       "parse: t default kept when omitted");
    is_str(authsvc_password_parse_params(p, "argon2id m=4194304 t=100 p=64", &a), NULL,
           "parse: upper bounds accepted");
    is_str(authsvc_password_parse_params(p, "argon2id m=8 t=1 p=1", &a), NULL,
           "parse: lower bounds accepted (m = 8 * p)");
    is_str(authsvc_password_parse_params(p, "argon2id m=512 p=64", &a), NULL,
           "parse: m = 8 * 64 accepted");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        a.m_cost_kib = 777;
        err = authsvc_password_parse_params(p, bad[i].words, &a);
        ok(err != NULL && strstr(err, bad[i].needle) != NULL,
           "parse: '%s' rejected naming '%s'", bad[i].words, bad[i].needle);
        if (err != NULL && strstr(err, bad[i].needle) == NULL) {
            diag("message was: %s", err);
        }
        is_int(a.m_cost_kib, 777, "parse: '%s' leaves *out unchanged", bad[i].words);
    }
    ok(authsvc_password_parse_params(p, NULL, &a) != NULL, "parse: NULL words rejected");
}

static void test_hash(apr_pool_t *p)
{
    authsvc_argon2_params_t small = {256, 1, 1}, other = {512, 1, 1}, more_t = {256, 2, 1},
                            more_p = {256, 1, 2}, bad = {7, 1, 1};
    const char *h1 = NULL, *h2 = NULL, *h3 = NULL;
    static const char prefix[] = "$argon2id$v=19$m=256,t=1,p=1$";

    is_int(authsvc_password_hash(p, PW("correct horse"), &small, &h1), APR_SUCCESS,
           "hash: small params");
    ok(h1 != NULL && strncmp(h1, prefix, sizeof(prefix) - 1) == 0, "hash: PHC prefix %s",
       prefix);
    /* 16-byte salt = 22 B64 characters, 32-byte tag = 43: no padding. */
    is_int(h1 ? strlen(h1) : 0, sizeof(prefix) - 1 + 22 + 1 + 43,
           "hash: salt 16 and tag 32 octets long");
    is_int(authsvc_password_verify(p, PW("correct horse"), h1, &small), AUTHSVC_PW_OK,
           "hash: round trip at current params is OK");
    is_int(authsvc_password_verify(p, PW("correct horsf"), h1, &small),
           AUTHSVC_PW_MISMATCH, "hash: wrong password MISMATCH");
    is_int(authsvc_password_verify(p, PW("correct hors"), h1, &small), AUTHSVC_PW_MISMATCH,
           "hash: prefix of the password MISMATCH");
    is_int(authsvc_password_verify(p, PW("correct horse"), h1, &other), AUTHSVC_PW_REHASH,
           "hash: other m is REHASH");
    is_int(authsvc_password_verify(p, PW("correct horse"), h1, &more_t), AUTHSVC_PW_REHASH,
           "hash: other t is REHASH");
    is_int(authsvc_password_verify(p, PW("correct horse"), h1, &more_p), AUTHSVC_PW_REHASH,
           "hash: other p is REHASH");
    is_int(authsvc_password_hash(p, PW("correct horse"), &small, &h2), APR_SUCCESS,
           "hash: again");
    ok(h1 && h2 && strcmp(h1, h2) != 0, "hash: fresh random salt each time");

    is_int(authsvc_password_hash(p, PW("a\0b"), &small, &h3), APR_SUCCESS,
           "hash: password with a NUL octet");
    is_int(authsvc_password_verify(p, PW("a\0b"), h3, &small), AUTHSVC_PW_OK,
           "hash: NUL-containing password verifies with its full length");
    is_int(authsvc_password_verify(p, PW("a"), h3, &small), AUTHSVC_PW_MISMATCH,
           "hash: ... and not truncated at the NUL");
    is_int(authsvc_password_hash(p, PW(""), &small, &h3), APR_SUCCESS,
           "hash: empty password");
    is_int(authsvc_password_verify(p, PW(""), h3, &small), AUTHSVC_PW_OK,
           "hash: empty password round trip");
    is_int(authsvc_password_verify(p, NULL, 0, h3, &small), AUTHSVC_PW_OK,
           "hash: NULL with length 0 is the empty password");

    h3 = "unchanged";
    is_int(authsvc_password_hash(p, PW("x"), &bad, &h3), APR_EINVAL,
           "hash: m < 8 * p is APR_EINVAL");
    ok(h3 == NULL, "hash: *out NULL on failure");

    is_int(authsvc_password_hash(p, PW("default"), NULL, &h3), APR_SUCCESS,
           "hash: NULL params means the defaults");
    ok(h3 && strncmp(h3, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0,
       "hash: defaults are m=19456,t=2,p=1");
    is_int(authsvc_password_verify(p, PW("default"), h3, NULL), AUTHSVC_PW_OK,
           "hash: default-params hash is OK against NULL current");
}

static void test_argon2_vectors(apr_pool_t *p)
{
    static const authsvc_argon2_params_t m256 = {256, 2, 1}, m64k = {65536, 2, 1};
    static const vec_t v[] = {
        /* Version 0x13 */
        {"argon2i v=19 m=256 t=2 p=1", PW("password"),
         "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8",
         AUTHSVC_PW_REHASH},
        {"argon2i v=19 m=256 t=2 p=2", PW("password"),
         "$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E",
         AUTHSVC_PW_REHASH},
        {"argon2i v=19 m=65536 t=2 p=1", PW("password"),
         "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
         AUTHSVC_PW_REHASH},
        {"argon2i v=19 diffsalt", PW("password"),
         "$argon2i$v=19$m=65536,t=2,p=1$ZGlmZnNhbHQ$sDV8zPvvkfOGCw26RHsjSMvv7K2vmQq/6cxAcmxSEnE",
         AUTHSVC_PW_REHASH},
        /* Version 0x10: no v= field */
        {"argon2i v=16 m=256 t=2 p=1", PW("password"),
         "$argon2i$m=256,t=2,p=1$c29tZXNhbHQ$/U3YPXYsSb3q9XxHvc0MLxur+GP960kN9j7emXX8zwY",
         AUTHSVC_PW_REHASH},
        {"argon2i v=16 m=256 t=2 p=2", PW("password"),
         "$argon2i$m=256,t=2,p=2$c29tZXNhbHQ$tsEVYKap1h6scGt5ovl9aLRGOqOth+AMB+KwHpDFZPs",
         AUTHSVC_PW_REHASH},
        {"argon2i v=16 m=65536 t=1", PW("password"),
         "$argon2i$m=65536,t=1,p=1$c29tZXNhbHQ$gWMFUrjzsfSM2xmSxMZ4ZD1JCytetP9sSzQ4tWIXJLI",
         AUTHSVC_PW_REHASH},
        /* Argon2id */
        {"argon2id m=256 t=2 p=1", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_REHASH},
        {"argon2id m=256 t=2 p=2", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
         AUTHSVC_PW_REHASH},
        {"argon2id m=65536 t=2 p=1", PW("password"),
         "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
         AUTHSVC_PW_REHASH},
        {"argon2id m=65536 t=1 p=1", PW("password"),
         "$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHQ$9qWtwbpyPd3vm1rB1GThgPzZ3/ydHL92zKL+15XZypg",
         AUTHSVC_PW_REHASH},
        {"argon2id differentpassword", PW("differentpassword"),
         "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$C4TWUs9rDEvq7w3+J4umqA32aWKB1+DSiRuBfYxFj94",
         AUTHSVC_PW_REHASH},
        {"argon2id m=262144 (256 MiB) within limits", PW("password"),
         "$argon2id$v=19$m=262144,t=2,p=1$c29tZXNhbHQ$eP4eyR+zqlZX1y5xCFTkw9m5GYx0L5YWwvCFvtlbLow",
         AUTHSVC_PW_REHASH},

        /* Mismatches from the reference: the encoded password is "passwore". */
        {"argon2i v=19 reference mismatch", PW("password"),
         "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$8iIuixkI73Js3G1uMbezQXD0b8LG4SXGsOwoQkdAQIM",
         AUTHSVC_PW_MISMATCH},
        {"argon2i v=16 reference mismatch", PW("password"),
         "$argon2i$m=65536,t=2,p=1$c29tZXNhbHQ$b2G3seW+uPzerwQQC+/E1K50CLLO7YXy0JRcaTuswRo",
         AUTHSVC_PW_MISMATCH},
        {"argon2id wrong password", PW("passwore"),
         "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_MISMATCH},
        {"argon2id tampered tag", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65FOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_MISMATCH},
        {"argon2id tampered salt", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=1$c29uZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_MISMATCH},
        {"argon2id tampered t", PW("password"),
         "$argon2id$v=19$m=256,t=3,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_MISMATCH},
        {"argon2i tag under an argon2id label", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8",
         AUTHSVC_PW_MISMATCH},
        {"v=19 tag labelled v=16", PW("password"),
         "$argon2i$v=16$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8",
         AUTHSVC_PW_MISMATCH},

        /* Malformed: the reference's own error cases, then ours. */
        {"reference: missing $ before salt", PW("password"),
         "$argon2i$v=19$m=65536,t=2,p=1c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
         AUTHSVC_PW_BADHASH},
        {"reference: missing $ before tag", PW("password"),
         "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQwWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
         AUTHSVC_PW_BADHASH},
        {"reference: empty salt", PW("password"),
         "$argon2i$v=19$m=65536,t=2,p=1$$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ",
         AUTHSVC_PW_BADHASH},
        {"salt of 7 octets", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbA$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"tag of 3 octets", PW("password"), "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65",
         AUTHSVC_PW_BADHASH},
        {"empty tag", PW("password"), "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$",
         AUTHSVC_PW_BADHASH},
        {"no tag", PW("password"), "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ",
         AUTHSVC_PW_BADHASH},
        {"prefix only", PW("password"), "$argon2id$", AUTHSVC_PW_BADHASH},
        {"trailing field", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4$",
         AUTHSVC_PW_BADHASH},
        {"padded tag", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4=",
         AUTHSVC_PW_BADHASH},
        {"base64url alphabet in tag", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR_uIPnA4rEsF5h7TKyQwu9U1bMCHGi_4",
         AUTHSVC_PW_BADHASH},
        {"non-canonical salt (unused bits set)", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHR$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"non-canonical tag (unused bits set)", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/5",
         AUTHSVC_PW_BADHASH},
        {"bad character in salt", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=1$c29tZX!hbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"v=20", PW("password"),
         "$argon2id$v=20$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"v=019", PW("password"),
         "$argon2id$v=019$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"m with a leading zero", PW("password"),
         "$argon2id$v=19$m=0256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"parameters out of order", PW("password"),
         "$argon2id$v=19$t=2,m=256,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"p missing", PW("password"),
         "$argon2id$v=19$m=256,t=2$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"extra keyid parameter", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=1,keyid=AAAA$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"t=0", PW("password"),
         "$argon2id$v=19$m=256,t=0,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"p=0", PW("password"),
         "$argon2id$v=19$m=256,t=2,p=0$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"p=65", PW("password"),
         "$argon2id$v=19$m=1024,t=2,p=65$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"m < 8 * p", PW("password"),
         "$argon2id$v=19$m=8,t=2,p=2$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"absurd m=4294967295 refused without work", PW("password"),
         "$argon2id$v=19$m=4294967295,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"m=99999999999 overflows 32 bits", PW("password"),
         "$argon2id$v=19$m=99999999999,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"m=2 GiB over the memory limit", PW("password"),
         "$argon2id$v=19$m=2097152,t=1,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"absurd t=4294967295 refused without work", PW("password"),
         "$argon2id$v=19$m=256,t=4294967295,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"1 GiB x 8 passes over the work limit", PW("password"),
         "$argon2id$v=19$m=1048576,t=8,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
        {"argon2d is not supported", PW("password"),
         "$argon2d$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
         AUTHSVC_PW_BADHASH},
    };

    RUN(p, v, NULL);
    /* The reference vectors use an 8-octet salt: a match at the current m/t/p is still
     * REHASH, since our own hashes carry 16 octets. */
    is_int(authsvc_password_verify(
               p, PW("password"),
               "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
               &m256),
           AUTHSVC_PW_REHASH, "argon2id at current m/t/p but 8-octet salt is REHASH");
    is_int(authsvc_password_verify(
               p, PW("password"),
               "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
               &m64k),
           AUTHSVC_PW_REHASH, "argon2i at current m/t/p is REHASH (not argon2id)");
}

static void test_bcrypt(apr_pool_t *p)
{
    static const vec_t v[] = {
        {"bcrypt $2a$ U*U", PW("U*U"),
         "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", AUTHSVC_PW_REHASH},
        {"bcrypt $2a$ U*U*", PW("U*U*"),
         "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", AUTHSVC_PW_REHASH},
        {"bcrypt $2a$ U*U*U", PW("U*U*U"),
         "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", AUTHSVC_PW_REHASH},
        {"bcrypt $2a$ empty password", PW(""),
         "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy", AUTHSVC_PW_REHASH},
        {"bcrypt $2a$ only 72 octets count", PW("0123456789abcdefghijklmnopqrstuvwxyz"
                                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                                "chars after 72 are ignored"),
         "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui", AUTHSVC_PW_REHASH},
        {"bcrypt $2y$ U*U", PW("U*U"),
         "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", AUTHSVC_PW_REHASH},
        {"bcrypt $2b$ U*U", PW("U*U"),
         "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", AUTHSVC_PW_REHASH},
        {"bcrypt $2y$ \\xa3", PW("\xa3"),
         "$2y$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq", AUTHSVC_PW_REHASH},
        {"bcrypt $2a$ \\xa3", PW("\xa3"),
         "$2a$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq", AUTHSVC_PW_REHASH},
        {"bcrypt $2b$ \\xa3", PW("\xa3"),
         "$2b$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq", AUTHSVC_PW_REHASH},
        {"bcrypt $2y$ \\xff\\xff\\xa3", PW("\xff\xff\xa3"),
         "$2y$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", AUTHSVC_PW_REHASH},
        {"bcrypt $2b$ \\xff\\xff\\xa3", PW("\xff\xff\xa3"),
         "$2b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", AUTHSVC_PW_REHASH},
        /* crypt_blowfish's $2a$ countermeasure result for this password... */
        {"bcrypt $2a$ \\xff\\xff\\xa3 (crypt_blowfish)", PW("\xff\xff\xa3"),
         "$2a$05$/OK.fbVrR/bpIqNJ5ianF.nqd1wy.pTMdcvrRWxyiGL2eMz.2a85.", AUTHSVC_PW_REHASH},
        /* ... and OpenBSD's/pyca's $2a$, which is the $2b$ algorithm below 256 octets. */
        {"bcrypt $2a$ \\xff\\xff\\xa3 (OpenBSD)", PW("\xff\xff\xa3"),
         "$2a$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", AUTHSVC_PW_REHASH},
        {"bcrypt $2y$ is not the $2a$ countermeasure", PW("\xff\xff\xa3"),
         "$2y$05$/OK.fbVrR/bpIqNJ5ianF.nqd1wy.pTMdcvrRWxyiGL2eMz.2a85.", AUTHSVC_PW_MISMATCH},
        {"bcrypt wrong password", PW("U*U*"),
         "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", AUTHSVC_PW_MISMATCH},
        {"bcrypt wrong 8-bit password ($2a$ retried as $2y$)", PW("\xff\xff\xa4"),
         "$2a$05$/OK.fbVrR/bpIqNJ5ianF.nqd1wy.pTMdcvrRWxyiGL2eMz.2a85.", AUTHSVC_PW_MISMATCH},
        {"bcrypt password with a NUL never matches", PW("U*U\0"),
         "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", AUTHSVC_PW_MISMATCH},
        {"bcrypt tampered hash", PW("U*U"),
         "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeX", AUTHSVC_PW_MISMATCH},

        {"bcrypt $2x$ not supported", PW("\xa3"),
         "$2x$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", AUTHSVC_PW_BADHASH},
        {"bcrypt $2$ not supported", PW("U*U"),
         "$2$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", AUTHSVC_PW_BADHASH},
        {"bcrypt truncated", PW("U*U"),
         "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe", AUTHSVC_PW_BADHASH},
        {"bcrypt one character too long", PW("U*U"),
         "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWW", AUTHSVC_PW_BADHASH},
        {"bcrypt setting only", PW("U*U"), "$2a$05$CCCCCCCCCCCCCCCCCCCCC.",
         AUTHSVC_PW_BADHASH},
        {"bcrypt prefix only", PW("U*U"), "$2y$", AUTHSVC_PW_BADHASH},
        {"bcrypt one-digit cost", PW("U*U"),
         "$2a$5$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWW", AUTHSVC_PW_BADHASH},
        {"bcrypt cost 03", PW("U*U"),
         "$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", AUTHSVC_PW_BADHASH},
        {"bcrypt cost 17 over the limit, refused without work", PW("U*U"),
         "$2a$17$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", AUTHSVC_PW_BADHASH},
        {"bcrypt cost 31 refused without work", PW("U*U"),
         "$2y$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", AUTHSVC_PW_BADHASH},
        {"bcrypt cost 99", PW("U*U"),
         "$2y$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", AUTHSVC_PW_BADHASH},
        {"bcrypt non-digit cost", PW("U*U"),
         "$2a$0a$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", AUTHSVC_PW_BADHASH},
        {"bcrypt bad character", PW("U*U"),
         "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvy+eW", AUTHSVC_PW_BADHASH},
        {"bcrypt missing $ after cost", PW("U*U"),
         "$2a$05CCCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", AUTHSVC_PW_BADHASH},
    };

    RUN(p, v, NULL);
}

static void test_werkzeug_pbkdf2(apr_pool_t *p)
{
    static const vec_t v[] = {
        {"RFC 7914 11 c=1 as Werkzeug sha256", PW("passwd"),
         "pbkdf2:sha256:1$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_REHASH},
        {"RFC 7914 11 c=80000 as Werkzeug sha256", PW("Password"),
         "pbkdf2:sha256:80000$NaCl$4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56",
         AUTHSVC_PW_REHASH},
        {"Werkzeug 3.1.8 pbkdf2:sha256:600000", PW("correct horse battery staple"),
         "pbkdf2:sha256:600000$MWWaJKuda1At265T$3838dc5f6e5295fccc8056f1b5ef6c30cf13574b1e8d69506e29d271281ef19f",
         AUTHSVC_PW_REHASH},
        {"Werkzeug 3.1.8 method=pbkdf2 (1000000)", PW("correct horse battery staple"),
         "pbkdf2:sha256:1000000$If1Xiq12o0hZBH5K$3f77b9b577c7926558d847afd5b6bc0b83ffa0edfd193951f56e5d9f0ba6aa01",
         AUTHSVC_PW_REHASH},
        {"Werkzeug UTF-8 password with emoji", PW("p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x94\x91"),
         "pbkdf2:sha256:1000$wgq2HPo4g1uwlXV2$2680af158d568c6068d703129d231b627d9de7cfcec80dc2fbd7045fb25ecfab",
         AUTHSVC_PW_REHASH},
        {"Werkzeug pbkdf2:sha1:50000 (pre-0.15 default)", PW("hunter2"),
         "pbkdf2:sha1:50000$Eanp9HeV$c374bd5aa1f41259ab2a1df7e70c94db6555c34b",
         AUTHSVC_PW_REHASH},
        {"Werkzeug pbkdf2:sha512:1000", PW("hunter2"),
         "pbkdf2:sha512:1000$aXtLJEIfadOY2hdz$500bbb1585faf2f4fe338e39a66b2458100a5a1b4b67e962c60a1f93f1fba3420f42cf4727e8929458615915a63ecef4a75d00c6022c7e916b821491e3691b57",
         AUTHSVC_PW_REHASH},
        {"Werkzeug wrong password", PW("passwe"),
         "pbkdf2:sha256:1$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_MISMATCH},
        {"Werkzeug wrong salt", PW("passwd"),
         "pbkdf2:sha256:1$salu$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_MISMATCH},
        {"Werkzeug sha256 hash under a sha512 label", PW("passwd"),
         "pbkdf2:sha512:1$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug empty salt parses (and mismatches)", PW("passwd"),
         "pbkdf2:sha256:1$$0000000000000000000000000000000000000000000000000000000000000000",
         AUTHSVC_PW_MISMATCH},

        {"Werkzeug without iterations (ambiguous default)", PW("passwd"),
         "pbkdf2:sha256$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug bare pbkdf2", PW("passwd"),
         "pbkdf2$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug iterations 0", PW("passwd"),
         "pbkdf2:sha256:0$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug iterations 5000001 over the limit", PW("passwd"),
         "pbkdf2:sha256:5000001$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug iterations 2^32", PW("passwd"),
         "pbkdf2:sha256:4294967296$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug iterations 99999999999999999999999", PW("passwd"),
         "pbkdf2:sha256:99999999999999999999999$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug iterations -1", PW("passwd"),
         "pbkdf2:sha256:-1$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug iterations 1e6", PW("passwd"),
         "pbkdf2:sha256:1e6$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug iterations with a blank", PW("passwd"),
         "pbkdf2:sha256: 1$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug three method arguments", PW("passwd"),
         "pbkdf2:sha256:1:1$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug unsupported digest md5", PW("passwd"),
         "pbkdf2:md5:1$salt$55ac046e56e3089fec1691c22544b605",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug upper-case hex", PW("passwd"),
         "pbkdf2:sha256:1$salt$55AC046E56E3089FEC1691C22544B605F94185216DDE0465E68B9D57C20DACBC",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug non-hex", PW("passwd"),
         "pbkdf2:sha256:1$salt$zzac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug hex one digit short", PW("passwd"),
         "pbkdf2:sha256:1$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacb",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug hex one octet long", PW("passwd"),
         "pbkdf2:sha256:1$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug 64-octet hex for sha256", PW("passwd"),
         "pbkdf2:sha256:1$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug missing hash", PW("passwd"), "pbkdf2:sha256:1$salt", AUTHSVC_PW_BADHASH},
        {"Werkzeug empty hash", PW("passwd"), "pbkdf2:sha256:1$salt$", AUTHSVC_PW_BADHASH},
        {"Werkzeug hash with $ inside", PW("passwd"),
         "pbkdf2:sha256:1$salt$55ac046e56e3089fec1691c22544b605$94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug plain method (removed in 3.0)", PW("passwd"), "plain$$passwd",
         AUTHSVC_PW_BADHASH},
        {"Werkzeug salted sha256 (removed in 3.0)", PW("passwd"),
         "sha256$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
    };

    RUN(p, v, NULL);
}

static void test_passlib(apr_pool_t *p)
{
    static const vec_t v[] = {
        {"passlib pbkdf2_sha256 1212", PW("password"),
         "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ",
         AUTHSVC_PW_REHASH},
        {"passlib pbkdf2_sha256 6400 (salt starts with .)", PW("password"),
         "$pbkdf2-sha256$6400$.6UI/S.nXIk8jcbdHx3Fhg$98jZicV16ODfEsEZeYPGHU3kbrUrvUEXOPimVSQDD44",
         AUTHSVC_PW_REHASH},
        {"passlib pbkdf2_sha256 UTF-8 password", PW("\xce\x99\xcf\x89\xce\xb1\xce\xbd\xce\xbd"
                                                     "\xce\xb7\xcf\x82"),
         "$pbkdf2-sha256$1212$3SABFJGDtyhrQMVt1uABPw$WyaUoqCLgvz97s523nF4iuOqZNbp5Nt8do/cuaa7AiI",
         AUTHSVC_PW_REHASH},
        {"passlib pbkdf2_sha1", PW("password"),
         "$pbkdf2$1212$OB.dtnSEXZK8U5cgxU/GYQ$y5LKPOplRmok7CZp/aqVDVg8zGI", AUTHSVC_PW_REHASH},
        {"passlib pbkdf2_sha512", PW("password"),
         "$pbkdf2-sha512$1212$RHY0Fr3IDMSVO/RSZyb5ow$eNLfBK.eVozomMr.1gYa17k9B7KIK25NOEshvhrSX"
         ".esqY3s.FvWZViXz4KoLlQI.BzY/YTNJOiKc5gBYFYGww",
         AUTHSVC_PW_REHASH},
        {"RFC 7914 11 c=1 as passlib", PW("passwd"),
         "$pbkdf2-sha256$1$c2FsdA$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw",
         AUTHSVC_PW_REHASH},
        {"RFC 7914 11 c=80000 as passlib", PW("Password"),
         "$pbkdf2-sha256$80000$TmFDbA$TdzY9guYviGDDO5e8icB.WQaRBjQTAQUrv8Ih2s0q1Y",
         AUTHSVC_PW_REHASH},
        {"passlib wrong password", PW("p4ssword"),
         "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ",
         AUTHSVC_PW_MISMATCH},
        {"passlib tampered rounds", PW("password"),
         "$pbkdf2-sha256$1213$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ",
         AUTHSVC_PW_MISMATCH},

        {"passlib rounds with a leading zero (passlib refuses too)", PW("password"),
         "$pbkdf2$01212$OB.dtnSEXZK8U5cgxU/GYQ$y5LKPOplRmok7CZp/aqVDVg8zGI",
         AUTHSVC_PW_BADHASH},
        {"passlib rounds 0", PW("password"),
         "$pbkdf2-sha256$0$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ",
         AUTHSVC_PW_BADHASH},
        {"passlib rounds over the limit", PW("password"),
         "$pbkdf2-sha256$4294967295$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ",
         AUTHSVC_PW_BADHASH},
        {"passlib checksum in standard base64 (+)", PW("password"),
         "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg+fJPeq1h/gXXY7acBp9/6c+tmQ",
         AUTHSVC_PW_BADHASH},
        {"passlib padded checksum", PW("password"),
         "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ=",
         AUTHSVC_PW_BADHASH},
        {"passlib checksum one octet short", PW("password"),
         "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.t",
         AUTHSVC_PW_BADHASH},
        {"passlib sha1 checksum under sha256", PW("password"),
         "$pbkdf2-sha256$1212$OB.dtnSEXZK8U5cgxU/GYQ$y5LKPOplRmok7CZp/aqVDVg8zGI",
         AUTHSVC_PW_BADHASH},
        {"passlib impossible base64 length", PW("password"),
         "$pbkdf2-sha256$1212$4vjV8$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ",
         AUTHSVC_PW_BADHASH},
        {"passlib unknown digest", PW("password"),
         "$pbkdf2-sha384$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ",
         AUTHSVC_PW_BADHASH},
        {"passlib missing checksum", PW("password"), "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw",
         AUTHSVC_PW_BADHASH},
        {"passlib prefix only", PW("password"), "$pbkdf2-sha256$", AUTHSVC_PW_BADHASH},
    };

    RUN(p, v, NULL);
}

static void test_scrypt(apr_pool_t *p)
{
    static const vec_t v[] = {
        {"RFC 7914 12 #1 N=16 r=1 p=1, empty password and salt", PW(""),
         "scrypt:16:1:1$$77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
         "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906",
         AUTHSVC_PW_REHASH},
        {"RFC 7914 12 #2 N=1024 r=8 p=16", PW("password"),
         "scrypt:1024:8:16$NaCl$fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b"
         "3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
         AUTHSVC_PW_REHASH},
        {"RFC 7914 12 #3 N=16384 r=8 p=1", PW("pleaseletmein"),
         "scrypt:16384:8:1$SodiumChloride$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_REHASH},
        {"Werkzeug 3.1.8 default scrypt:32768:8:1", PW("correct horse battery staple"),
         "scrypt:32768:8:1$lPcDuXUxqucbkRiT$3dd7113ea2d2daf0b5ec4afa46c12eaf248d701b7fe522c7"
         "c5f8e56be537f8dcf36a6a7bcea90f1072dcc6c8350c8e27dcc6eba7a78e6f3abbc17a7a863624ab",
         AUTHSVC_PW_REHASH},
        {"Werkzeug scrypt UTF-8 password with emoji",
         PW("p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x94\x91"),
         "scrypt:16384:8:1$TdCh6c13mI9ucKqa$0061d5e0f0bb4dd1f554087d2c97330a8bd8f2bbd0e2d08d"
         "7cde6268dea49cd571db7f451cd112e476c0e1ad25706a4911e0fe0da45e009916eba42b98b64701",
         AUTHSVC_PW_REHASH},
        {"scrypt wrong password", PW("pleaseletmeout"),
         "scrypt:16384:8:1$SodiumChloride$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_MISMATCH},
        {"scrypt tampered r", PW("pleaseletmein"),
         "scrypt:16384:4:1$SodiumChloride$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_MISMATCH},

        {"RFC 7914 12 #4 N=2^20 r=8 (1 GiB) over the memory limit", PW("pleaseletmein"),
         "scrypt:1048576:8:1$SodiumChloride$2101cb9b6a511aaeaddbbe09cf70f881ec568d574a2ffd4d"
         "abe5ee9820adaa478e56fd8f4ba5d09ffa1c6d927c40f4c337304049e8a952fbcbf45c6fa77a41a4",
         AUTHSVC_PW_BADHASH},
        {"scrypt N=2^30 absurd", PW("x"),
         "scrypt:1073741824:8:1$salt$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_BADHASH},
        {"scrypt p=4294967295 absurd", PW("x"),
         "scrypt:16:1:4294967295$salt$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_BADHASH},
        {"scrypt r=4294967295 absurd", PW("x"),
         "scrypt:16:4294967295:1$salt$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_BADHASH},
        {"scrypt N=1000 not a power of two", PW("x"),
         "scrypt:1000:8:1$salt$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_BADHASH},
        {"scrypt N=1", PW("x"),
         "scrypt:1:8:1$salt$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_BADHASH},
        {"scrypt N=0", PW("x"),
         "scrypt:0:8:1$salt$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_BADHASH},
        {"scrypt r=0", PW("x"),
         "scrypt:16:0:1$salt$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_BADHASH},
        {"scrypt p=0", PW("x"),
         "scrypt:16:1:0$salt$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_BADHASH},
        {"scrypt N >= 2^(16r) refused by OpenSSL", PW("x"),
         "scrypt:65536:1:1$salt$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_BADHASH},
        {"scrypt without parameters", PW("x"),
         "scrypt$salt$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_BADHASH},
        {"scrypt two parameters", PW("x"),
         "scrypt:16:1$salt$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_BADHASH},
        {"scrypt four parameters", PW("x"),
         "scrypt:16:1:1:1$salt$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
         AUTHSVC_PW_BADHASH},
        {"scrypt 32-octet hash", PW("pleaseletmein"),
         "scrypt:16384:8:1$SodiumChloride$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2",
         AUTHSVC_PW_BADHASH},
        {"scrypt non-hex", PW("x"),
         "scrypt:16:1:1$salt$7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3e"
         "a9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b455758xx",
         AUTHSVC_PW_BADHASH},
        {"scrypt missing hash", PW("x"), "scrypt:16:1:1$salt", AUTHSVC_PW_BADHASH},
    };

    RUN(p, v, NULL);
    ok(ERR_peek_error() == 0, "scrypt: OpenSSL error queue left empty after refusals");
}

static void test_generic(apr_pool_t *p)
{
    char *big = apr_palloc(p, AUTHSVC_PW_STORED_MAX + 2);
    static const vec_t v[] = {
        {"empty stored string", PW(""), "", AUTHSVC_PW_BADHASH},
        /* apr_password_validate would compare these with crypt(3) or as plain text. */
        {"plain text stored password", PW("password"), "password", AUTHSVC_PW_BADHASH},
        {"md5-crypt $1$", PW("password"), "$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0",
         AUTHSVC_PW_BADHASH},
        {"apr1", PW("password"), "$apr1$salt$7WjSg5kJkd/Nn9DMr5.vH0", AUTHSVC_PW_BADHASH},
        {"{SHA}", PW("password"), "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", AUTHSVC_PW_BADHASH},
        {"DES crypt", PW("password"), "saHW9GdxihkGQ", AUTHSVC_PW_BADHASH},
        {"sha512-crypt $6$", PW("password"),
         "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSu"
         "NBq7kNQ6mkQH/", AUTHSVC_PW_BADHASH},
        {"leading blank", PW("U*U"),
         " $2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", AUTHSVC_PW_BADHASH},
        {"upper-case prefix", PW("passwd"),
         "PBKDF2:sha256:1$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
         AUTHSVC_PW_BADHASH},
    };

    RUN(p, v, NULL);
    is_int(authsvc_password_verify(p, PW("x"), NULL, NULL), AUTHSVC_PW_BADHASH,
           "NULL stored string");
    is_int(authsvc_password_verify(p, NULL, 3, "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0"
                                               "XouQYb4YMJKvyOeW", NULL),
           AUTHSVC_PW_BADHASH, "NULL password with a length");
    memset(big, 'a', AUTHSVC_PW_STORED_MAX + 1);
    memcpy(big, "pbkdf2:sha256:1$", 16);
    big[AUTHSVC_PW_STORED_MAX + 1] = '\0';
    is_int(authsvc_password_verify(p, PW("x"), big, NULL), AUTHSVC_PW_BADHASH,
           "stored string over %u octets", AUTHSVC_PW_STORED_MAX);
}

int main(void)
{
    apr_pool_t *p;

    p = tap_apr_start();
    test_parse(p);
    test_hash(p);
    test_argon2_vectors(p);
    test_bcrypt(p);
    test_werkzeug_pbkdf2(p);
    test_passlib(p);
    test_scrypt(p);
    test_generic(p);
    return tap_apr_end(p);
}

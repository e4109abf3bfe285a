/* fuzz_password.c - stored password-hash strings (password.c: authsvc_password_verify
 * parsing Argon2 PHC, bcrypt, Werkzeug pbkdf2/scrypt and passlib pbkdf2 strings) and
 * the AuthsvcPasswordHash arguments (authsvc_password_parse_params).
 * Input: password, a NUL byte, the stored string (or, when the input starts with '!',
 * the rest is parse_params' words).
 *
 * The real work limits (1 GiB Argon2, 5,000,000 PBKDF2 iterations, bcrypt cost 16)
 * would make a run measure hashing, not parsing: every decimal number before the
 * last '$' is capped at 64 here (bcrypt's cost at 5), and an input over the cap is
 * skipped. Parsing, decoding and the limit checks themselves still run on everything
 * else, and the derivation runs with toy costs. */
#include "fuzz.h"
#include "password.h"

FUZZ_PLAIN_INIT

/* 1 when every digit run before the last '$' of s is <= 64 (bcrypt's cost <= 5). */
static int cheap(const char *s)
{
    const char *end = strrchr(s, '$'), *q;
    unsigned long v = 0;
    int digits = 0;

    if (end == NULL) {
        end = s + strlen(s);
    }
    for (q = s; q <= end; q++) {
        if (q < end && *q >= '0' && *q <= '9') {
            v = v > 1000 ? v : v * 10 + (unsigned long)(*q - '0');
            digits = 1;
            continue;
        }
        if (digits && v > 64) {
            return 0;
        }
        v = 0;
        digits = 0;
    }
    if (s[0] == '$' && s[1] == '2') {
        const char *c = strchr(s + 2, '$');
        if (c != NULL && atoi(c + 1) > 5) {
            return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const authsvc_argon2_params_t cur = {8, 1, 1};
    authsvc_argon2_params_t out;
    apr_pool_t *p;
    const char *part[2];
    size_t len[2];

    apr_pool_create(&p, NULL);
    if (size > 0 && data[0] == '!') {
        authsvc_password_parse_params(p, apr_pstrmemdup(p, (const char *)data + 1, size - 1),
                                      &out);
    }
    else {
        fuzz_split(p, data, size, '\0', 2, part, len);
        if (cheap(part[1])) {
            authsvc_password_verify(p, part[0], len[0], part[1], &cur);
        }
    }
    apr_pool_destroy(p);
    return 0;
}

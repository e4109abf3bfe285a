/*
 * password.c - Argon2id hashing, and verification of every stored format we import.
 *
 * Stored strings are untrusted (an imported database may hold anything): each one is
 * parsed completely, every number and length is range-checked, and only then is any
 * work done. The decoded reference bytes and our derived bytes are compared with
 * CRYPTO_memcmp; derived bytes and plaintext copies are wiped with OPENSSL_cleanse.
 *
 * Werkzeug decisions (werkzeug.security, 0.9 .. 3.1):
 *   - generate_password_hash has always written the iteration count
 *     ("pbkdf2:%s:%d", f"pbkdf2:{hash_name}:{iterations}"), so a stored
 *     "pbkdf2:sha256$salt$hex" never came from it. check_password_hash would read it
 *     with *its own* default (50000 before 0.15, 150000 in 0.15-1.x, 260000 in 2.0-2.2,
 *     600000 in 2.3-3.0, 1000000 since 3.1): guessing one would accept or refuse
 *     passwords differently from the application being replaced. Such strings (and
 *     "scrypt$..." without N:r:p) are BADHASH.
 *   - Digests: sha1 (Werkzeug's default method before 0.15), sha256, sha512. The derived
 *     length is the digest size, as hashlib.pbkdf2_hmac's default.
 *   - The salt is the text between the first and second '$', used as its bytes; the hash
 *     is lower-case hex (Werkzeug compares the hex strings, so upper case never matched).
 *   - scrypt: dklen 64 (hashlib.scrypt's default); N a power of two >= 2.
 */
#include <limits.h>
#include <string.h>
#include <strings.h>   /* strncasecmp */

#include "apr_encode.h"
#include "apr_md5.h"      /* apr_password_validate */
#include "apr_strings.h"
#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "password.h"

#define SCRYPT_DKLEN       64
#define SALT_TEXT_MAX      256    /* Werkzeug salts are 8..16 characters */
#define ARGON2_SALT_MIN    8      /* ARGON2_MIN_SALT_LENGTH */
#define ARGON2_SALT_MAX    64
#define ARGON2_TAG_MIN     4      /* ARGON2_MIN_OUTLEN */
#define ARGON2_TAG_MAX     64
#define BCRYPT_LEN         60

static const char B64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char AB64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./";
static const char BCRYPT64[] =
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
static const char HEXLOWER[] = "0123456789abcdef";

/* A piece of the stored string: not NUL-terminated. */
typedef struct {
    const char *s;
    size_t len;
} span_t;

/* Split rest at the first sep: the part before it goes to *field, rest keeps the part
 * after it. -1 (and nothing changed) if sep is absent. */
static int cut(span_t *rest, char sep, span_t *field)
{
    const char *q = memchr(rest->s, sep, rest->len);

    if (q == NULL) {
        return -1;
    }
    field->s = rest->s;
    field->len = (size_t)(q - rest->s);
    rest->s = q + 1;
    rest->len -= field->len + 1;
    return 0;
}

static int span_is(span_t v, const char *lit)
{
    return v.len == strlen(lit) && memcmp(v.s, lit, v.len) == 0;
}

/* If v starts with prefix, drop it from v and return 1. */
static int strip(span_t *v, const char *prefix)
{
    size_t n = strlen(prefix);

    if (v->len < n || memcmp(v->s, prefix, n) != 0) {
        return 0;
    }
    v->s += n;
    v->len -= n;
    return 1;
}

/* 1 if every character of v is in alphabet. */
static int only(span_t v, const char *alphabet)
{
    size_t i;

    for (i = 0; i < v.len; i++) {
        if (v.s[i] == '\0' || strchr(alphabet, v.s[i]) == NULL) {
            return 0;
        }
    }
    return 1;
}

/* Strict decimal: digits only, no sign, no leading zero. 0 and the value in *out if it
 * is <= max; 1 if it is not such a number; 2 if it is larger than max. */
static int number(span_t v, uint32_t max, uint32_t *out)
{
    uint64_t n = 0;
    size_t i;

    if (v.len == 0 || (v.len > 1 && v.s[0] == '0')) {
        return 1;
    }
    for (i = 0; i < v.len; i++) {
        if (v.s[i] < '0' || v.s[i] > '9') {
            return 1;
        }
        if (n <= UINT32_MAX) {          /* saturates above 2^32: cannot overflow */
            n = n * 10 + (uint64_t)(v.s[i] - '0');
        }
    }
    if (n > max) {
        return 2;
    }
    *out = (uint32_t)n;
    return 0;
}

/* Decode unpadded base64 in the given alphabet ('.' for '+' in passlib's ab64).
 * apr's decoder also takes '-', '_' and '=', so the alphabet is checked here first;
 * and it ignores the unused low bits of the last character, so the result is encoded
 * again and must give back the input: one string per value, as the PHC format asks.
 * NULL if v is not such an encoding. */
static const unsigned char *decode64(apr_pool_t *p, span_t v, const char *alphabet,
                                     size_t *len)
{
    apr_size_t n = 0;
    const unsigned char *out;
    const char *again;
    char *copy;
    size_t i;

    if (!only(v, alphabet) || v.len % 4 == 1) {
        return NULL;
    }
    copy = apr_pstrmemdup(p, v.s, v.len);
    for (i = 0; i < v.len; i++) {
        if (copy[i] == '.') {
            copy[i] = '+';
        }
    }
    out = apr_pdecode_base64_binary(p, copy, (apr_ssize_t)v.len, APR_ENCODE_NONE, &n);
    if (out == NULL) {
        return NULL;
    }
    /* Padded on purpose: apr 1.7.2 takes APR_ENCODE_NOPADDING for base64url. */
    again = apr_pencode_base64_binary(p, out, (apr_ssize_t)n, APR_ENCODE_NONE, NULL);
    if (again == NULL || strncmp(again, copy, v.len) != 0 ||
        again[v.len + strspn(again + v.len, "=")] != '\0') {
        return NULL;
    }
    *len = n;
    return out;
}

/* Decode lower-case hex that must be exactly want bytes long. NULL otherwise. */
static const unsigned char *decode_hex(apr_pool_t *p, span_t v, size_t want)
{
    apr_size_t n = 0;
    const unsigned char *out;

    if (v.len != 2 * want || !only(v, HEXLOWER)) {
        return NULL;
    }
    out = apr_pdecode_base16_binary(p, v.s, (apr_ssize_t)v.len, APR_ENCODE_NONE, &n);
    return (out != NULL && n == want) ? out : NULL;
}

/* Constant-time comparison of what we derived with what was stored; wipes derived. */
static authsvc_pw_result_t compare(unsigned char *derived, const unsigned char *stored,
                                   size_t len, authsvc_pw_result_t on_match)
{
    int diff = CRYPTO_memcmp(derived, stored, len);

    OPENSSL_cleanse(derived, len);
    return diff == 0 ? on_match : AUTHSVC_PW_MISMATCH;
}

static const authsvc_argon2_params_t *effective(const authsvc_argon2_params_t *current)
{
    static const authsvc_argon2_params_t defaults = {
        AUTHSVC_ARGON2_M_DEFAULT, AUTHSVC_ARGON2_T_DEFAULT, AUTHSVC_ARGON2_P_DEFAULT};

    return current != NULL ? current : &defaults;
}

static int params_ok(const authsvc_argon2_params_t *a)
{
    return a->parallelism >= 1 && a->parallelism <= AUTHSVC_ARGON2_P_MAX &&
           a->t_cost >= 1 && a->t_cost <= AUTHSVC_ARGON2_T_MAX &&
           a->m_cost_kib >= 8 * a->parallelism && a->m_cost_kib <= AUTHSVC_ARGON2_M_MAX;
}

/* Says which of m/t/p is out of range; NULL if all are in range. */
const char *authsvc_password_check_params(apr_pool_t *p,
                                          const authsvc_argon2_params_t *a)
{
    if (a->parallelism < 1 || a->parallelism > AUTHSVC_ARGON2_P_MAX) {
        return apr_psprintf(p, "p must be between 1 and %u lanes, not %u",
                            AUTHSVC_ARGON2_P_MAX, a->parallelism);
    }
    if (a->t_cost < 1 || a->t_cost > AUTHSVC_ARGON2_T_MAX) {
        return apr_psprintf(p, "t must be between 1 and %u iterations, not %u",
                            AUTHSVC_ARGON2_T_MAX, a->t_cost);
    }
    if (a->m_cost_kib < 8 * a->parallelism || a->m_cost_kib > AUTHSVC_ARGON2_M_MAX) {
        return apr_psprintf(p, "m must be between %u (8 * p) and %u KiB, not %u",
                            8 * a->parallelism, AUTHSVC_ARGON2_M_MAX, a->m_cost_kib);
    }
    return NULL;
}

/* Tokens are separated by blanks. The scheme word comes first; then m=, t=, p= in any
 * order, each at most once. Starts from the built-in defaults; *out is written only
 * when everything parsed and is in range. */
const char *authsvc_password_parse_params(apr_pool_t *p, const char *words,
                                          authsvc_argon2_params_t *out)
{
    static const char BLANKS[] = " \t\r\n";
    authsvc_argon2_params_t a = {AUTHSVC_ARGON2_M_DEFAULT, AUTHSVC_ARGON2_T_DEFAULT,
                                 AUTHSVC_ARGON2_P_DEFAULT};
    int seen[3] = {0, 0, 0};
    const char *s = words != NULL ? words : "";
    const char *err;
    int first = 1;

    for (;;) {
        span_t tok, val;
        uint32_t n, *slot;
        int which;

        s += strspn(s, BLANKS);
        if (*s == '\0') {
            break;
        }
        tok.s = s;
        tok.len = strcspn(s, BLANKS);
        s += tok.len;
        if (first) {
            if (tok.len != 8 || strncasecmp(tok.s, "argon2id", 8) != 0) {
                return apr_psprintf(p, "unsupported scheme '%.*s' (only argon2id)",
                                    (int)tok.len, tok.s);
            }
            first = 0;
            continue;
        }
        val = tok;
        if (strip(&val, "m=")) {
            which = 0;
            slot = &a.m_cost_kib;
        }
        else if (strip(&val, "t=")) {
            which = 1;
            slot = &a.t_cost;
        }
        else if (strip(&val, "p=")) {
            which = 2;
            slot = &a.parallelism;
        }
        else {
            return apr_psprintf(p, "unknown argument '%.*s' (expected m=, t= or p=)",
                                (int)tok.len, tok.s);
        }
        if (seen[which]++) {
            return apr_psprintf(p, "%c= given twice", "mtp"[which]);
        }
        switch (number(val, UINT32_MAX, &n)) {
        case 0:
            *slot = n;
            break;
        case 2:
            return apr_psprintf(p, "%c=%.*s is too large", "mtp"[which], (int)val.len,
                                val.s);
        default:
            return apr_psprintf(p, "%c=%.*s is not a decimal number", "mtp"[which],
                                (int)val.len, val.s);
        }
    }
    if (first) {
        return "expects argon2id [m=KiB] [t=iterations] [p=lanes]";
    }
    if ((err = authsvc_password_check_params(p, &a)) != NULL) {
        return err;
    }
    *out = a;
    return NULL;
}

/* libargon2 writes the PHC string straight into pool memory; its own scratch memory
 * (the m KiB) is malloc'ed and wiped by libargon2. APR_EINVAL for parameters out of
 * range, APR_ENOMEM if libargon2 cannot allocate, APR_EGENERAL otherwise. */
apr_status_t authsvc_password_hash(apr_pool_t *p, const char *pw, size_t pwlen,
                                   const authsvc_argon2_params_t *params,
                                   const char **out)
{
    unsigned char salt[AUTHSVC_ARGON2_SALT_LEN];
    size_t enclen;
    char *enc;
    int rc;

    if (out == NULL) {
        return APR_EINVAL;
    }
    *out = NULL;
    params = effective(params);
    if (!params_ok(params) || (pw == NULL && pwlen != 0) ||
        pwlen > ARGON2_MAX_PWD_LENGTH) {
        return APR_EINVAL;
    }
    if (RAND_bytes(salt, sizeof(salt)) != 1) {
        ERR_clear_error();
        return APR_EGENERAL;
    }
    enclen = argon2_encodedlen(params->t_cost, params->m_cost_kib, params->parallelism,
                               sizeof(salt), AUTHSVC_ARGON2_TAG_LEN, Argon2_id);
    enc = apr_pcalloc(p, enclen + 1);
    rc = argon2_hash(params->t_cost, params->m_cost_kib, params->parallelism,
                     pw != NULL ? pw : "", pwlen, salt, sizeof(salt), NULL,
                     AUTHSVC_ARGON2_TAG_LEN, enc, enclen, Argon2_id, ARGON2_VERSION_13);
    if (rc != ARGON2_OK) {
        return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? APR_ENOMEM : APR_EGENERAL;
    }
    *out = enc;
    return APR_SUCCESS;
}

/* "m=65536,t=2,p=1" in that order (the only order libargon2 writes or reads). */
static int argon2_costs(span_t v, uint32_t *m, uint32_t *t, uint32_t *par)
{
    span_t f;

    return cut(&v, ',', &f) == 0 && strip(&f, "m=") && number(f, UINT32_MAX, m) == 0 &&
           cut(&v, ',', &f) == 0 && strip(&f, "t=") && number(f, UINT32_MAX, t) == 0 &&
           strip(&v, "p=") && number(v, UINT32_MAX, par) == 0;
}

/* A parsed Argon2 PHC string. */
typedef struct {
    uint32_t version, m, t, par;
    const unsigned char *salt, *tag;
    size_t saltlen, taglen;
} phc_t;

/* rest is what follows "$argon2id$" or "$argon2i$":
 * [v=19$]m=M,t=T,p=P$<salt b64>$<tag b64>, B64 without padding. No "v=" means 0x10,
 * as in libargon2. -1 unless every part is well-formed and its length in range. */
static int parse_phc(apr_pool_t *p, span_t rest, phc_t *h)
{
    span_t f, salt_b64;

    h->version = ARGON2_VERSION_10;
    if (cut(&rest, '$', &f) != 0) {
        return -1;
    }
    if (strip(&f, "v=")) {
        if (number(f, UINT32_MAX, &h->version) != 0 ||
            (h->version != ARGON2_VERSION_10 && h->version != ARGON2_VERSION_13) ||
            cut(&rest, '$', &f) != 0) {
            return -1;
        }
    }
    if (!argon2_costs(f, &h->m, &h->t, &h->par) || cut(&rest, '$', &salt_b64) != 0) {
        return -1;
    }
    h->salt = decode64(p, salt_b64, B64, &h->saltlen);
    h->tag = decode64(p, rest, B64, &h->taglen);
    if (h->salt == NULL || h->tag == NULL || h->saltlen < ARGON2_SALT_MIN ||
        h->saltlen > ARGON2_SALT_MAX || h->taglen < ARGON2_TAG_MIN ||
        h->taglen > ARGON2_TAG_MAX) {
        return -1;
    }
    return 0;
}

/* The memory and work limits rise to the current parameters, so that whatever we
 * hash with is always verifiable. */
static int argon2_affordable(const phc_t *h, const authsvc_argon2_params_t *cur)
{
    uint64_t mlimit = AUTHSVC_PW_ARGON2_M_LIMIT, wlimit = AUTHSVC_PW_ARGON2_WORK_LIMIT;

    if (cur->m_cost_kib > mlimit) {
        mlimit = cur->m_cost_kib;
    }
    if ((uint64_t)cur->m_cost_kib * cur->t_cost > wlimit) {
        wlimit = (uint64_t)cur->m_cost_kib * cur->t_cost;
    }
    return h->par >= 1 && h->par <= AUTHSVC_ARGON2_P_MAX && h->t >= 1 &&
           h->m >= 8 * h->par && h->m <= mlimit && (uint64_t)h->m * h->t <= wlimit;
}

static authsvc_pw_alloc_fn mem_alloc;
static authsvc_pw_free_fn mem_free;

void authsvc_password_set_memory(authsvc_pw_alloc_fn alloc, authsvc_pw_free_fn release)
{
    mem_alloc = alloc;
    mem_free = release;
}

/* The raw tag of pw under h's parameters and salt (libargon2's argon2_ctx, with the
 * installed memory functions). */
static int argon2_raw(const phc_t *h, argon2_type type, const char *pw, size_t pwlen,
                      unsigned char *out)
{
    argon2_context ctx;

    memset(&ctx, 0, sizeof(ctx));
    ctx.out = out;
    ctx.outlen = (uint32_t)h->taglen;
    ctx.pwd = (uint8_t *)(uintptr_t)pw; /* not modified: no ARGON2_FLAG_CLEAR_PASSWORD */
    ctx.pwdlen = (uint32_t)pwlen;
    ctx.salt = (uint8_t *)(uintptr_t)h->salt;
    ctx.saltlen = (uint32_t)h->saltlen;
    ctx.t_cost = h->t;
    ctx.m_cost = h->m;
    ctx.lanes = h->par;
    ctx.threads = h->par;
    ctx.version = h->version;
    ctx.allocate_cbk = mem_alloc && mem_free ? mem_alloc : NULL;
    ctx.free_cbk = mem_alloc && mem_free ? mem_free : NULL;
    ctx.flags = ARGON2_DEFAULT_FLAGS;
    return argon2_ctx(&ctx, type);
}

/* Recomputes the raw tag with the stored parameters and salt (libargon2's
 * argon2_ctx) and compares; OK only for exactly what authsvc_password_hash writes
 * at the current parameters. */
static authsvc_pw_result_t verify_argon2(apr_pool_t *p, const char *pw, size_t pwlen,
                                         span_t rest, argon2_type type,
                                         const authsvc_argon2_params_t *cur)
{
    phc_t h;
    unsigned char *derived;
    int current;

    if (parse_phc(p, rest, &h) != 0 || !argon2_affordable(&h, cur)) {
        return AUTHSVC_PW_BADHASH;
    }
    if (pwlen > ARGON2_MAX_PWD_LENGTH) {
        return AUTHSVC_PW_MISMATCH;
    }
    derived = apr_palloc(p, h.taglen);
    if (argon2_raw(&h, type, pw, pwlen, derived) != ARGON2_OK) {
        OPENSSL_cleanse(derived, h.taglen);
        return AUTHSVC_PW_BADHASH;
    }
    current = type == Argon2_id && h.version == ARGON2_VERSION_13 &&
              h.m == cur->m_cost_kib && h.t == cur->t_cost && h.par == cur->parallelism &&
              h.saltlen == AUTHSVC_ARGON2_SALT_LEN && h.taglen == AUTHSVC_ARGON2_TAG_LEN;
    return compare(derived, h.tag, h.taglen, current ? AUTHSVC_PW_OK : AUTHSVC_PW_REHASH);
}

static int has_8bit(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] >= 0x80) {
            return 1;
        }
    }
    return 0;
}

/* "$2y$CC$" + 22 salt + 31 hash characters, cost 04..31 and at most the limit.
 * apr_password_validate computes $2a$ and $2y$ itself (crypt_blowfish) but hands any
 * other prefix to crypt(3), so $2b$ (same algorithm as $2y$) goes in as $2y$. $2a$ is
 * ambiguous for passwords with 8-bit bytes: crypt_blowfish (PHP, Ruby) applies its
 * CVE-2011-2483 countermeasure, OpenBSD and pyca/bcrypt compute $2b$; a $2a$ mismatch
 * on such a password is retried as $2y$. bcrypt takes a C string, so a password with
 * a NUL byte cannot match. */
static authsvc_pw_result_t verify_bcrypt(apr_pool_t *p, const char *pw, size_t pwlen,
                                         const char *stored, size_t len)
{
    span_t rest;
    int cost;
    char *hash, *pwz;
    apr_status_t rv;

    if (len != BCRYPT_LEN) {
        return AUTHSVC_PW_BADHASH;
    }
    rest.s = stored + 7;
    rest.len = len - 7;
    if (stored[4] < '0' || stored[4] > '9' || stored[5] < '0' || stored[5] > '9' ||
        stored[6] != '$' || !only(rest, BCRYPT64)) {
        return AUTHSVC_PW_BADHASH;
    }
    cost = (stored[4] - '0') * 10 + (stored[5] - '0');
    if (cost < 4 || cost > 31 || cost > AUTHSVC_PW_BCRYPT_COST_LIMIT) {
        return AUTHSVC_PW_BADHASH;
    }
    if (pwlen > 0 && memchr(pw, '\0', pwlen) != NULL) {
        return AUTHSVC_PW_MISMATCH;
    }
    hash = apr_pstrmemdup(p, stored, len);
    if (hash[2] == 'b') {
        hash[2] = 'y';
    }
    pwz = apr_pstrmemdup(p, pw, pwlen);
    rv = apr_password_validate(pwz, hash);
    if (rv == APR_EMISMATCH && hash[2] == 'a' && has_8bit(pw, pwlen)) {
        hash[2] = 'y';
        rv = apr_password_validate(pwz, hash);
    }
    OPENSSL_cleanse(pwz, pwlen);
    if (rv == APR_SUCCESS) {
        return AUTHSVC_PW_REHASH;
    }
    return rv == APR_EMISMATCH ? AUTHSVC_PW_MISMATCH : AUTHSVC_PW_BADHASH;
}

static const EVP_MD *digest_named(span_t name)
{
    if (span_is(name, "sha256")) {
        return EVP_sha256();
    }
    if (span_is(name, "sha512")) {
        return EVP_sha512();
    }
    if (span_is(name, "sha1")) {
        return EVP_sha1();
    }
    return NULL;
}

/* PBKDF2 of pw into pool memory, compared with want (wantlen = digest size). */
static authsvc_pw_result_t pbkdf2_compare(apr_pool_t *p, const char *pw, size_t pwlen,
                                          const unsigned char *salt, size_t saltlen,
                                          uint32_t iter, const EVP_MD *md,
                                          const unsigned char *want, size_t wantlen)
{
    unsigned char *derived;

    if (pwlen > INT_MAX) {
        return AUTHSVC_PW_MISMATCH;
    }
    derived = apr_palloc(p, wantlen);
    if (PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, (int)saltlen, (int)iter, md,
                          (int)wantlen, derived) != 1) {
        ERR_clear_error();
        OPENSSL_cleanse(derived, wantlen);
        return AUTHSVC_PW_BADHASH;
    }
    return compare(derived, want, wantlen, AUTHSVC_PW_REHASH);
}

/* rest follows "pbkdf2:": "<digest>:<iterations>$<salt>$<hex>". */
static authsvc_pw_result_t verify_werkzeug_pbkdf2(apr_pool_t *p, const char *pw,
                                                  size_t pwlen, span_t rest)
{
    span_t method, name, salt;
    const EVP_MD *md;
    const unsigned char *want;
    uint32_t iter;
    size_t dlen;

    if (cut(&rest, '$', &method) != 0 || cut(&rest, '$', &salt) != 0 ||
        cut(&method, ':', &name) != 0 || (md = digest_named(name)) == NULL ||
        number(method, AUTHSVC_PW_PBKDF2_ITER_LIMIT, &iter) != 0 || iter < 1 ||
        salt.len > SALT_TEXT_MAX) {
        return AUTHSVC_PW_BADHASH;
    }
    dlen = (size_t)EVP_MD_get_size(md);
    if ((want = decode_hex(p, rest, dlen)) == NULL) {
        return AUTHSVC_PW_BADHASH;
    }
    return pbkdf2_compare(p, pw, pwlen, (const unsigned char *)salt.s, salt.len, iter, md,
                          want, dlen);
}

/* rest follows "$pbkdf2-sha256$" (or -sha512, or "$pbkdf2$" for sha1):
 * "<rounds>$<ab64 salt>$<ab64 checksum>"; ab64 is base64 with '.' for '+', unpadded. */
static authsvc_pw_result_t verify_passlib_pbkdf2(apr_pool_t *p, const char *pw,
                                                 size_t pwlen, span_t rest,
                                                 const EVP_MD *md)
{
    span_t rounds, salt_ab64;
    const unsigned char *salt, *want;
    size_t saltlen = 0, wantlen = 0, dlen = (size_t)EVP_MD_get_size(md);
    uint32_t iter;

    if (cut(&rest, '$', &rounds) != 0 || cut(&rest, '$', &salt_ab64) != 0 ||
        number(rounds, AUTHSVC_PW_PBKDF2_ITER_LIMIT, &iter) != 0 || iter < 1 ||
        (salt = decode64(p, salt_ab64, AB64, &saltlen)) == NULL ||
        (want = decode64(p, rest, AB64, &wantlen)) == NULL || wantlen != dlen) {
        return AUTHSVC_PW_BADHASH;
    }
    return pbkdf2_compare(p, pw, pwlen, salt, saltlen, iter, md, want, dlen);
}

/* rest follows "scrypt:": "<N>:<r>:<p>$<salt>$<hex of 64 bytes>". The memory OpenSSL
 * needs is 128*r*(N+2) + 128*r*p octets; that exact amount is passed as maxmem. */
static authsvc_pw_result_t verify_werkzeug_scrypt(apr_pool_t *p, const char *pw,
                                                  size_t pwlen, span_t rest)
{
    span_t args, f, salt;
    uint32_t n, r, par;
    uint64_t mem, work;
    const unsigned char *want;
    unsigned char *derived;

    if (cut(&rest, '$', &args) != 0 || cut(&rest, '$', &salt) != 0 ||
        cut(&args, ':', &f) != 0 || number(f, UINT32_MAX, &n) != 0 ||
        cut(&args, ':', &f) != 0 || number(f, UINT32_MAX, &r) != 0 ||
        number(args, UINT32_MAX, &par) != 0 || salt.len > SALT_TEXT_MAX) {
        return AUTHSVC_PW_BADHASH;
    }
    if (n < 2 || (n & (n - 1)) != 0 || r < 1 || par < 1) {
        return AUTHSVC_PW_BADHASH;
    }
    /* Each factor is < 2^32, so no product below overflows 64 bits: n * r is checked
     * before it is multiplied by p, and n, r <= 2^22 before mem is computed. */
    work = (uint64_t)n * r;
    if (work > AUTHSVC_PW_SCRYPT_WORK_LIMIT) {
        return AUTHSVC_PW_BADHASH;
    }
    work *= par;
    if (work > AUTHSVC_PW_SCRYPT_WORK_LIMIT) {
        return AUTHSVC_PW_BADHASH;
    }
    mem = 128 * (uint64_t)r * ((uint64_t)n + 2) + 128 * (uint64_t)r * par;
    if (mem > AUTHSVC_PW_SCRYPT_MEM_LIMIT) {
        return AUTHSVC_PW_BADHASH;
    }
    if ((want = decode_hex(p, rest, SCRYPT_DKLEN)) == NULL) {
        return AUTHSVC_PW_BADHASH;
    }
    derived = apr_palloc(p, SCRYPT_DKLEN);
    if (EVP_PBE_scrypt(pw, pwlen, (const unsigned char *)salt.s, salt.len, n, r, par,
                       mem, derived, SCRYPT_DKLEN) != 1) {
        ERR_clear_error();
        OPENSSL_cleanse(derived, SCRYPT_DKLEN);
        return AUTHSVC_PW_BADHASH;
    }
    return compare(derived, want, SCRYPT_DKLEN, AUTHSVC_PW_REHASH);
}

/* Dispatch on the prefix; each verifier parses the rest completely before any work.
 * BADHASH for an unknown or malformed string (or one over the work limits), MISMATCH,
 * REHASH for a match that is not exactly our current Argon2id, OK otherwise. */
authsvc_pw_result_t authsvc_password_verify(apr_pool_t *p, const char *pw, size_t pwlen,
                                            const char *stored,
                                            const authsvc_argon2_params_t *current)
{
    span_t rest;
    size_t len;

    if (p == NULL || stored == NULL || (pw == NULL && pwlen != 0)) {
        return AUTHSVC_PW_BADHASH;
    }
    if (pw == NULL) {
        pw = "";
    }
    len = strnlen(stored, AUTHSVC_PW_STORED_MAX + 1);
    if (len > AUTHSVC_PW_STORED_MAX) {
        return AUTHSVC_PW_BADHASH;
    }
    rest.s = stored;
    rest.len = len;
    if (strip(&rest, "$argon2id$")) {
        return verify_argon2(p, pw, pwlen, rest, Argon2_id, effective(current));
    }
    if (strip(&rest, "$argon2i$")) {
        return verify_argon2(p, pw, pwlen, rest, Argon2_i, effective(current));
    }
    if (strip(&rest, "$2y$") || strip(&rest, "$2b$") || strip(&rest, "$2a$")) {
        return verify_bcrypt(p, pw, pwlen, stored, len);
    }
    if (strip(&rest, "pbkdf2:")) {
        return verify_werkzeug_pbkdf2(p, pw, pwlen, rest);
    }
    if (strip(&rest, "scrypt:")) {
        return verify_werkzeug_scrypt(p, pw, pwlen, rest);
    }
    if (strip(&rest, "$pbkdf2-sha256$")) {
        return verify_passlib_pbkdf2(p, pw, pwlen, rest, EVP_sha256());
    }
    if (strip(&rest, "$pbkdf2-sha512$")) {
        return verify_passlib_pbkdf2(p, pw, pwlen, rest, EVP_sha512());
    }
    if (strip(&rest, "$pbkdf2$")) {
        return verify_passlib_pbkdf2(p, pw, pwlen, rest, EVP_sha1());
    }
    return AUTHSVC_PW_BADHASH;
}

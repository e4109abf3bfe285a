/* test_totp.c - totp.c: RFC 6238 Appendix B codes, the verification window, replays,
 * code formats, RFC 4648 base32, otpauth:// URIs and recovery codes. */
#include <string.h>

#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"

#include "tap_apr.h"
#include "totp.h"

/* RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890". */
static const unsigned char seed[] = "12345678901234567890";
#define SEED_LEN 20

/* A step's 6-digit code, for the window tests. */
static const char *code_at(apr_pool_t *p, apr_int64_t step)
{
    char *out = apr_palloc(p, AUTHSVC_TOTP_DIGITS + 1);

    if (authsvc_totp_generate(seed, SEED_LEN, step, 6, out) != APR_SUCCESS) {
        ok(0, "generate the code of step %lld", (long long)step);
        return "xxxxxx";
    }
    return out;
}

static apr_int64_t verify(const char *code, apr_int64_t now, int window,
                          apr_int64_t after, int *replay)
{
    return authsvc_totp_verify(seed, SEED_LEN, now, window, after, code, strlen(code),
                               replay);
}

/* ---- RFC 6238 Appendix B ----------------------------------------------------------- */

static void test_rfc6238(void)
{
    static const struct {
        apr_int64_t t;
        const char *code;
    } rows[] = {{59, "94287082"},         {1111111109, "07081804"},
                {1111111111, "14050471"}, {1234567890, "89005924"},
                {2000000000, "69279037"}, {20000000000LL, "65353130"}};
    char out[9];
    size_t i;

    is_int(authsvc_totp_init(), APR_SUCCESS, "init: liboath starts");
    is_int(authsvc_totp_init(), APR_SUCCESS, "init: a second call is harmless");
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        apr_int64_t step = rows[i].t / AUTHSVC_TOTP_PERIOD;
        is_int(authsvc_totp_generate(seed, SEED_LEN, step, 8, out), APR_SUCCESS,
               "rfc6238: T=%lld generates", (long long)rows[i].t);
        is_str(out, rows[i].code, "rfc6238: T=%lld, 8 digits", (long long)rows[i].t);
        /* Dynamic truncation is mod 10^digits: 6 digits are the last 6 of the 8. */
        authsvc_totp_generate(seed, SEED_LEN, step, 6, out);
        is_str(out, rows[i].code + 2, "rfc6238: T=%lld, 6 digits", (long long)rows[i].t);
    }
    authsvc_totp_generate(seed, SEED_LEN, 1111111111 / 30, 7, out);
    is_str(out, "4050471", "generate: 7 digits");
    strcpy(out, "junk");
    is_int(authsvc_totp_generate(seed, SEED_LEN, 1, 5, out), APR_EINVAL,
           "generate: 5 digits refused");
    is_str(out, "", "generate: out is empty after a refusal");
    is_int(authsvc_totp_generate(seed, SEED_LEN, 1, 9, out), APR_EINVAL,
           "generate: 9 digits refused");
    is_int(authsvc_totp_generate(seed, SEED_LEN, -1, 6, out), APR_EINVAL,
           "generate: a negative step refused");
    is_int(authsvc_totp_generate(seed, SEED_LEN, APR_INT64_MAX, 6, out), APR_EINVAL,
           "generate: a step whose time overflows refused");
    is_int(authsvc_totp_generate(NULL, SEED_LEN, 1, 6, out), APR_EINVAL,
           "generate: no secret refused");
    is_int(authsvc_totp_generate(seed, 0, 1, 6, out), APR_EINVAL,
           "generate: an empty secret refused");
    is_int(authsvc_totp_generate(seed, SEED_LEN, 0, 6, out), APR_SUCCESS,
           "generate: step 0 (the epoch) works");
}

/* ---- verification: window, replay, format ------------------------------------------ */

#define NOW 1111111111 /* step 37037037, the 6-digit code there is 050471 */
#define CUR (NOW / 30)

static void test_window(apr_pool_t *p)
{
    int replay = 7;

    is_int(verify("050471", NOW, 1, 0, &replay), CUR, "verify: the code of now");
    is_int(replay, 0, "verify: a fresh match is no replay");
    is_int(verify(code_at(p, CUR - 1), NOW, 1, 0, NULL), CUR - 1,
           "verify: window 1 takes the previous step");
    is_int(verify(code_at(p, CUR + 1), NOW, 1, 0, NULL), CUR + 1,
           "verify: window 1 takes the next step");
    is_int(verify(code_at(p, CUR - 2), NOW, 1, 0, &replay), -1,
           "verify: window 1 refuses two steps back");
    is_int(replay, 0, "verify: no match is no replay");
    is_int(verify(code_at(p, CUR + 2), NOW, 1, 0, NULL), -1,
           "verify: window 1 refuses two steps ahead");
    is_int(verify(code_at(p, CUR - 1), NOW, 0, 0, NULL), -1,
           "verify: window 0 refuses the previous step");
    is_int(verify(code_at(p, CUR + 1), NOW, 0, 0, NULL), -1,
           "verify: window 0 refuses the next step");
    is_int(verify(code_at(p, CUR), NOW, 0, 0, NULL), CUR, "verify: window 0 takes now");
    is_int(verify(code_at(p, CUR - 2), NOW, 2, 0, NULL), CUR - 2,
           "verify: window 2 takes two steps back");
    is_int(verify(code_at(p, CUR + 2), NOW, 2, 0, NULL), CUR + 2,
           "verify: window 2 takes two steps ahead");
    is_int(verify(code_at(p, CUR - 10), NOW, 99, 0, NULL), CUR - 10,
           "verify: window 99 is clamped to 10 (10 back still taken)");
    is_int(verify(code_at(p, CUR - 11), NOW, 99, 0, NULL), -1,
           "verify: window 99 is clamped to 10 (11 back refused)");
    is_int(verify(code_at(p, CUR + 11), NOW, 99, 0, NULL), -1,
           "verify: window 99 is clamped to 10 (11 ahead refused)");
    is_int(verify(code_at(p, CUR - 1), NOW, -3, 0, NULL), -1,
           "verify: a negative window counts as 0");
    is_int(verify(code_at(p, CUR), NOW, -3, 0, NULL), CUR,
           "verify: a negative window still takes now");

    /* Step edges: second 29 of a step is still that step, second 30 the next. */
    is_int(verify(code_at(p, 2), 89, 0, 0, NULL), 2, "verify: t=89 is step 2");
    is_int(verify(code_at(p, 3), 90, 0, 0, NULL), 3, "verify: t=90 is step 3");
    is_int(verify(code_at(p, 2), 90, 0, 0, NULL), -1,
           "verify: t=90 with window 0 refuses step 2");
    is_int(verify(code_at(p, 0), 10, 1, -1, NULL), 0,
           "verify: at step 0 the window (step -1) does not break it");
    /* -1 / 30 is 0 in C: without a check, step 0's code would pass at t = -1. */
    is_int(verify(code_at(p, 0), -1, 1, -1, NULL), -1,
           "verify: a time before 1970 refused");
}

static void test_replay(apr_pool_t *p)
{
    int replay = 7;

    is_int(verify(code_at(p, CUR), NOW, 1, CUR, &replay), -1,
           "replay: the step already used is refused");
    is_int(replay, 1, "replay: ... and reported as a replay");
    is_int(verify(code_at(p, CUR), NOW, 1, CUR - 1, &replay), CUR,
           "replay: after_step one below: accepted");
    is_int(replay, 0, "replay: ... and no replay");
    is_int(verify(code_at(p, CUR - 1), NOW, 1, CUR, &replay), -1,
           "replay: an older step than the used one is refused");
    is_int(replay, 1, "replay: ... as a replay");
    is_int(verify(code_at(p, CUR + 1), NOW, 1, CUR, &replay), CUR + 1,
           "replay: a later step than the used one is accepted");
    is_int(replay, 0, "replay: ... and no replay");
    is_int(verify(code_at(p, CUR - 2), NOW, 1, CUR + 5, &replay), -1,
           "replay: outside the window: refused");
    is_int(replay, 0, "replay: outside the window is no replay, just wrong");
    is_int(verify("050471", NOW, 1, CUR, NULL), -1,
           "replay: a NULL replay pointer is fine");

    /* Steps 37131364 and 37131371 share the code 632145 for this seed (found by
     * search): the lowest matching step above after_step wins, and a match at or
     * below after_step does not hide a later one. */
    is_int(verify("632145", 37131368LL * 30, 10, 0, &replay), 37131364,
           "collision: two steps match: the lower one");
    is_int(replay, 0, "collision: no replay");
    is_int(verify("632145", 37131368LL * 30, 10, 37131364, &replay), 37131371,
           "collision: the lower step used: the higher one");
    is_int(replay, 0, "collision: ... is no replay");
    is_int(verify("632145", 37131368LL * 30, 10, 37131371, &replay), -1,
           "collision: both used: refused");
    is_int(replay, 1, "collision: ... as a replay");
}

static void test_format(void)
{
    int replay = 7;

    is_int(authsvc_totp_verify(seed, SEED_LEN, NOW, 1, 0, "05047", 5, &replay), -1,
           "format: 5 digits refused");
    is_int(replay, 0, "format: a malformed code is no replay");
    is_int(authsvc_totp_verify(seed, SEED_LEN, NOW, 1, 0, "0504711", 7, NULL), -1,
           "format: 7 digits refused");
    is_int(authsvc_totp_verify(seed, SEED_LEN, NOW, 1, 0, "14050471", 8, NULL), -1,
           "format: the 8-digit code refused");
    is_int(authsvc_totp_verify(seed, SEED_LEN, NOW, 1, 0, "050471x", 6, NULL), CUR,
           "format: only code_len bytes are read");
    is_int(authsvc_totp_verify(seed, SEED_LEN, NOW, 1, 0, "050471", 5, NULL), -1,
           "format: code_len shorter than the digits refused");
    is_int(authsvc_totp_verify(seed, SEED_LEN, NOW, 1, 0, "05047a", 6, NULL), -1,
           "format: a letter refused");
    is_int(authsvc_totp_verify(seed, SEED_LEN, NOW, 1, 0, "05 471", 6, NULL), -1,
           "format: a space refused (callers normalize)");
    is_int(authsvc_totp_verify(seed, SEED_LEN, NOW, 1, 0, "05047\0", 6, NULL), -1,
           "format: a NUL inside refused");
    is_int(authsvc_totp_verify(seed, SEED_LEN, NOW, 1, 0, NULL, 6, NULL), -1,
           "format: NULL refused");
    /* U+0660 ARABIC-INDIC DIGIT ZERO, then 4 of 5 digits: 6 bytes in all. */
    is_int(authsvc_totp_verify(seed, SEED_LEN, NOW, 1, 0, "\xd9\xa0\x35\x30\x34\x37", 6,
                               NULL),
           -1, "format: a non-ASCII digit refused");
    is_int(authsvc_totp_verify(NULL, 0, NOW, 1, 0, "050471", 6, NULL), -1,
           "format: no secret: no match");
    is_int(authsvc_totp_verify((const unsigned char *)"12345678901234567891", SEED_LEN,
                               NOW, 1, 0, "050471", 6, NULL),
           -1, "format: another secret: no match");
}

static void test_normalize(apr_pool_t *p)
{
    is_str(authsvc_totp_normalize(p, "123456", 6), "123456", "normalize: as is");
    is_str(authsvc_totp_normalize(p, "123 456", 7), "123456", "normalize: inner space");
    is_str(authsvc_totp_normalize(p, "  1 2 3 4 5 6  ", 15), "123456",
           "normalize: spaces everywhere");
    is_str(authsvc_totp_normalize(p, "1234567", 6), "123456",
           "normalize: only len bytes read");
    is_str(authsvc_totp_normalize(p, "12345", 5), NULL, "normalize: 5 digits");
    is_str(authsvc_totp_normalize(p, "1234567", 7), NULL, "normalize: 7 digits");
    is_str(authsvc_totp_normalize(p, "123-456", 7), NULL, "normalize: a dash");
    is_str(authsvc_totp_normalize(p, "12345a", 6), NULL, "normalize: a letter");
    is_str(authsvc_totp_normalize(p, "123\t456", 7), NULL, "normalize: a tab");
    is_str(authsvc_totp_normalize(p, "123\000456", 7), NULL, "normalize: a NUL");
    is_str(authsvc_totp_normalize(p, "", 0), NULL, "normalize: empty");
    is_str(authsvc_totp_normalize(p, "      ", 6), NULL, "normalize: only spaces");
    is_str(authsvc_totp_normalize(p, NULL, 6), NULL, "normalize: NULL");
    {
        /* Far more digits than a code has. */
        char *many = apr_palloc(p, 1 << 20);
        memset(many, '7', 1 << 20);
        is_str(authsvc_totp_normalize(p, many, 1 << 20), NULL,
               "normalize: 1 MiB of digits");
        memset(many, 'a', 1 << 20);
        is_str(authsvc_recovery_code_normalize(p, many, 1 << 20), NULL,
               "rc normalize: 1 MiB of letters");
    }
}

/* ---- base32 and URIs --------------------------------------------------------------- */

static void test_base32(apr_pool_t *p)
{
    /* RFC 4648 section 10, without the '=' padding. */
    static const char *const vec[][2] = {{"", ""},
                                         {"f", "MY"},
                                         {"fo", "MZXQ"},
                                         {"foo", "MZXW6"},
                                         {"foob", "MZXW6YQ"},
                                         {"fooba", "MZXW6YTB"},
                                         {"foobar", "MZXW6YTBOI"}};
    size_t i;
    const char *b32;

    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        is_str(
            authsvc_totp_base32(p, (const unsigned char *)vec[i][0], strlen(vec[i][0])),
            vec[i][1], "base32: RFC 4648 '%s'", vec[i][0]);
    }
    b32 = authsvc_totp_base32(p, seed, SEED_LEN);
    is_str(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "base32: the RFC 6238 seed");
    is_int(b32 ? strlen(b32) : 0, 32, "base32: 20 bytes are 32 characters");
    is_str(authsvc_totp_base32(p, (const unsigned char *)"\xff\x00\x80", 3), "74AIA",
           "base32: binary bytes (0xff 0x00 0x80)");
    is_str(authsvc_totp_base32(p, NULL, 5), NULL, "base32: NULL secret");
}

static void test_uri(apr_pool_t *p)
{
    const char *b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    is_str(authsvc_totp_uri(p, "Example", "alice", b32),
           "otpauth://totp/Example:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
           "&issuer=Example&algorithm=SHA1&digits=6&period=30",
           "uri: plain issuer and account");
    is_str(authsvc_totp_uri(p, "Example Co: Staging", "alice@example.com", b32),
           "otpauth://totp/Example%20Co%3A%20Staging:alice%40example.com"
           "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
           "&issuer=Example%20Co%3A%20Staging&algorithm=SHA1&digits=6&period=30",
           "uri: space, ':' and '@' percent-encoded, in the label and the issuer");
    is_str(authsvc_totp_uri(p, "a-b.c_d~e", "A+B/C?D&E=F#G%", b32),
           "otpauth://totp/a-b.c_d~e:A%2BB%2FC%3FD%26E%3DF%23G%25"
           "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
           "&issuer=a-b.c_d~e&algorithm=SHA1&digits=6&period=30",
           "uri: unreserved kept, reserved and '%%' encoded");
    is_str(authsvc_totp_uri(p, "Caf\xc3\xa9", "*'()!", "MY"),
           "otpauth://totp/Caf%C3%A9:%2A%27%28%29%21?secret=MY&issuer=Caf%C3%A9"
           "&algorithm=SHA1&digits=6&period=30",
           "uri: UTF-8 bytes and sub-delims encoded (upper-case hex)");
    is_str(authsvc_totp_uri(p, NULL, "alice", b32), NULL, "uri: NULL issuer");
    is_str(authsvc_totp_uri(p, "Example", NULL, b32), NULL, "uri: NULL account");
    is_str(authsvc_totp_uri(p, "Example", "alice", NULL), NULL, "uri: NULL secret");
}

/* ---- recovery codes ---------------------------------------------------------------- */

static int recovery_shaped(const char *c)
{
    int i;

    if (c == NULL || strlen(c) != AUTHSVC_RECOVERY_CODE_LEN) {
        return 0;
    }
    for (i = 0; i < AUTHSVC_RECOVERY_CODE_LEN; i++) {
        int dash = i % 5 == 4;
        if (dash != (c[i] == '-') ||
            (!dash && !((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '2' && c[i] <= '7')))) {
            return 0;
        }
    }
    return 1;
}

static void test_recovery_new(apr_pool_t *p)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    int seen[256] = {0}, shaped = 1, distinct = 1, all = 1, i, j;
    const char *codes[500], *c = authsvc_recovery_code_new(p);

    ok(recovery_shaped(c), "recovery: xxxx-xxxx-xxxx-xxxx of a-z2-7 (%s)",
       c ? c : "NULL");
    for (i = 0; i < 500; i++) {
        codes[i] = authsvc_recovery_code_new(p);
        shaped = shaped && recovery_shaped(codes[i]);
        for (j = 0; shaped && codes[i][j]; j++) {
            seen[(unsigned char)codes[i][j]]++;
        }
        for (j = 0; shaped && j < i; j++) {
            distinct = distinct && strcmp(codes[i], codes[j]) != 0;
        }
    }
    ok(shaped, "recovery: 500 codes, all well-formed");
    ok(distinct, "recovery: 500 codes, all different");
    for (i = 0; alphabet[i]; i++) {
        all = all && seen[(unsigned char)alphabet[i]] > 0;
    }
    ok(all, "recovery: every letter of the alphabet occurs (8000 characters)");
    /* Uniform base32 of random bytes: each of 32 symbols about 250 times in 8000. */
    for (i = 0; alphabet[i]; i++) {
        all = all && seen[(unsigned char)alphabet[i]] > 120 &&
              seen[(unsigned char)alphabet[i]] < 400;
    }
    ok(all, "recovery: no symbol far from its expected frequency");
    is_str(c ? authsvc_recovery_code_normalize(p, c, strlen(c)) : NULL,
           c ? apr_pstrcat(p, apr_pstrndup(p, c, 4), apr_pstrndup(p, c + 5, 4),
                           apr_pstrndup(p, c + 10, 4), c + 15, NULL)
             : "",
           "recovery: a new code normalizes to its 16 characters");
}

static void test_recovery_normalize(apr_pool_t *p)
{
    const char *want = "abcdefghijkmnp27";

    is_str(authsvc_recovery_code_normalize(p, "abcd-efgh-ijkm-np27", 19), want,
           "rc normalize: canonical form");
    is_str(authsvc_recovery_code_normalize(p, "ABCD-EFGH-IJKM-NP27", 19), want,
           "rc normalize: upper case folded");
    is_str(authsvc_recovery_code_normalize(p, "abcd efgh ijkm np27", 19), want,
           "rc normalize: spaces instead of dashes");
    is_str(authsvc_recovery_code_normalize(p, "abcdefghijkmnp27", 16), want,
           "rc normalize: no separators");
    is_str(authsvc_recovery_code_normalize(p, " abcd--efgh - ijkm-np27 ", 24), want,
           "rc normalize: extra dashes and spaces");
    is_str(authsvc_recovery_code_normalize(p, "abcd-efgh-ijkm-np27zz", 19), want,
           "rc normalize: only len bytes read");
    is_str(authsvc_recovery_code_normalize(p, "abcd-efgh-ijkm-np2", 18), NULL,
           "rc normalize: 15 characters");
    is_str(authsvc_recovery_code_normalize(p, "abcd-efgh-ijkm-np27a", 20), NULL,
           "rc normalize: 17 characters");
    is_str(authsvc_recovery_code_normalize(p, "abcd-efgh-ijkm-np28", 19), NULL,
           "rc normalize: '8' is not base32");
    is_str(authsvc_recovery_code_normalize(p, "abcd-efgh-ijkm-np21", 19), NULL,
           "rc normalize: '1' is not base32");
    is_str(authsvc_recovery_code_normalize(p, "0bcd-efgh-ijkm-np27", 19), NULL,
           "rc normalize: '0' is not base32");
    is_str(authsvc_recovery_code_normalize(p, "abcd_efgh_ijkm_np27", 19), NULL,
           "rc normalize: '_' is no separator");
    is_str(authsvc_recovery_code_normalize(p, "abcd-efgh\0ijkm-np27", 19), NULL,
           "rc normalize: a NUL inside");
    is_str(authsvc_recovery_code_normalize(p, "", 0), NULL, "rc normalize: empty");
    is_str(authsvc_recovery_code_normalize(p, NULL, 19), NULL, "rc normalize: NULL");
}

int main(void)
{
    apr_pool_t *p;

    p = tap_apr_start();
    test_rfc6238();
    test_window(p);
    test_replay(p);
    test_format();
    test_normalize(p);
    test_base32(p);
    test_uri(p);
    test_recovery_new(p);
    test_recovery_normalize(p);
    return tap_apr_end(p);
}

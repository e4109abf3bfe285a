/*
 * totp.c - TOTP codes and secrets over liboath, recovery codes over the CSPRNG (pure).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <liboath/oath.h>
#include <openssl/crypto.h>

#include "crypto.h"
#include "totp.h"

/* Recovery codes: 10 random bytes are exactly 16 base32 characters, no padding. */
#define RECOVERY_BYTES 10
#define RECOVERY_CHARS 16
#define RECOVERY_ALPHABET "abcdefghijklmnopqrstuvwxyz234567"

static int oath_ready;

/* liboath's init only sets up its crypto backend; the flag spares a second call. */
apr_status_t authsvc_totp_init(void)
{
    if (!oath_ready) {
        if (oath_init() != OATH_OK) {
            return APR_EGENERAL;
        }
        oath_ready = 1;
    }
    return APR_SUCCESS;
}

/* liboath returns malloc'ed text: copied into the pool without the '=' padding, and
 * the malloc'ed copy wiped (it is the secret, readable) before it is freed. */
const char *authsvc_totp_base32(apr_pool_t *p, const unsigned char *secret,
                                apr_size_t len)
{
    char *b32 = NULL, *out;
    size_t b32len = 0, n = 0, i;

    if (len == 0) {
        return "";
    }
    if (secret == NULL ||
        oath_base32_encode((const char *)secret, len, &b32, &b32len) != OATH_OK ||
        b32 == NULL) {
        return NULL;
    }
    out = apr_palloc(p, b32len + 1);
    for (i = 0; i < b32len && b32[i] != '\0'; i++) {
        if (b32[i] != '=') {
            out[n++] = b32[i];
        }
    }
    out[n] = '\0';
    OPENSSL_cleanse(b32, b32len);
    free(b32);
    return out;
}

/* RFC 3986 percent-encoding with only the unreserved characters kept. Not
 * apr_escape_urlencoded: that is HTML form encoding (space as '+', '*' kept), and
 * authenticator apps show a '+' in a label as it is. */
static const char *pct_encode(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t len = strlen(s), i, n = 0;
    char *out = apr_palloc(p, len * 3 + 1);

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out[n++] = (char)c;
        }
        else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 0x0f];
        }
    }
    out[n] = '\0';
    return out;
}

/* The issuer goes both into the label (older apps read only that) and into the
 * issuer parameter (newer ones prefer it); the ':' between them stays literal. */
const char *authsvc_totp_uri(apr_pool_t *p, const char *issuer, const char *account,
                             const char *b32)
{
    const char *iss;

    if (issuer == NULL || account == NULL || b32 == NULL) {
        return NULL;
    }
    iss = pct_encode(p, issuer);
    return apr_psprintf(p,
                        "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1"
                        "&digits=%d&period=%d",
                        iss, pct_encode(p, account), pct_encode(p, b32), iss,
                        AUTHSVC_TOTP_DIGITS, AUTHSVC_TOTP_PERIOD);
}

/* TOTP is HOTP at counter floor(t / period): the step's first second gives liboath
 * exactly that counter. time_t is checked to hold it, so no step wraps around. */
apr_status_t authsvc_totp_generate(const unsigned char *secret, apr_size_t len,
                                   apr_int64_t step, int digits, char *out)
{
    apr_int64_t t;
    int rc;

    out[0] = '\0';
    if (secret == NULL || len == 0 || digits < 6 || digits > 8 || step < 0 ||
        step > APR_INT64_MAX / AUTHSVC_TOTP_PERIOD) {
        return APR_EINVAL;
    }
    t = step * AUTHSVC_TOTP_PERIOD;
    if ((apr_int64_t)(time_t)t != t) {
        return APR_EINVAL;
    }
    rc = oath_totp_generate2((const char *)secret, len, (time_t)t, AUTHSVC_TOTP_PERIOD, 0,
                             (unsigned)digits, 0, out);
    if (rc != OATH_OK) {
        out[0] = '\0';
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* Exactly AUTHSVC_TOTP_DIGITS ASCII digits (what the format says, not a secret). */
static int code_wellformed(const char *code, apr_size_t len)
{
    apr_size_t i;

    if (code == NULL || len != AUTHSVC_TOTP_DIGITS) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (code[i] < '0' || code[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* 1 when the code of `step` is `code`; the comparison takes the same time whatever
 * the digits, so a timing probe learns nothing about the right code. */
static int step_matches(const unsigned char *secret, apr_size_t len, apr_int64_t step,
                        const char *code)
{
    char want[AUTHSVC_TOTP_DIGITS + 1];
    int match;

    if (authsvc_totp_generate(secret, len, step, AUTHSVC_TOTP_DIGITS, want) !=
        APR_SUCCESS) {
        return 0; /* a step before the epoch, or no secret: nothing secret about that */
    }
    match = CRYPTO_memcmp(want, code, AUTHSVC_TOTP_DIGITS) == 0;
    OPENSSL_cleanse(want, sizeof(want));
    return match;
}

/* Every step of the window is computed even after a match: how long a check takes
 * tells nothing about which step (if any) matched. */
apr_int64_t authsvc_totp_verify(const unsigned char *secret, apr_size_t len,
                                apr_int64_t now, int window, apr_int64_t after_step,
                                const char *code, apr_size_t code_len, int *replay)
{
    apr_int64_t step, cur, found = -1;
    int replayed = 0;

    if (replay != NULL) {
        *replay = 0;
    }
    if (!code_wellformed(code, code_len) || now < 0) {
        return -1;
    }
    if (window < 0) {
        window = 0;
    }
    if (window > AUTHSVC_TOTP_WINDOW_MAX) {
        window = AUTHSVC_TOTP_WINDOW_MAX;
    }
    cur = now / AUTHSVC_TOTP_PERIOD;
    for (step = cur - window; step <= cur + window; step++) {
        int match = step_matches(secret, len, step, code);
        if (match && step > after_step) {
            found = found < 0 ? step : found;
        }
        else if (match) {
            replayed = 1;
        }
    }
    if (replay != NULL) {
        *replay = found < 0 && replayed;
    }
    return found;
}

/* s[0..len) without the characters in `drop`, case folded to lower; NULL unless every
 * other character is in `alphabet` and exactly `want` of them remain. The copy has
 * room for all of s, so no count of kept characters can overrun it. */
static const char *squeeze(apr_pool_t *p, const char *s, apr_size_t len, const char *drop,
                           const char *alphabet, apr_size_t want)
{
    char *out;
    apr_size_t i, n = 0;

    if (s == NULL) {
        return NULL;
    }
    out = apr_palloc(p, len + 1);
    for (i = 0; i < len; i++) {
        char c = (char)apr_tolower((unsigned char)s[i]);
        if (c != '\0' && strchr(drop, c) != NULL) {
            continue;
        }
        if (c == '\0' || strchr(alphabet, c) == NULL) {
            return NULL;
        }
        out[n++] = c;
    }
    if (n != want) {
        return NULL;
    }
    out[n] = '\0';
    return out;
}

const char *authsvc_totp_normalize(apr_pool_t *p, const char *s, apr_size_t len)
{
    return squeeze(p, s, len, " ", "0123456789", AUTHSVC_TOTP_DIGITS);
}

const char *authsvc_recovery_code_normalize(apr_pool_t *p, const char *s, apr_size_t len)
{
    return squeeze(p, s, len, " -", RECOVERY_ALPHABET, RECOVERY_CHARS);
}

/* base32 (RFC 4648, the same alphabet as the TOTP secret, lower-cased: no 0/1/8/9 to
 * misread) of 80 random bits, in four groups of four. */
const char *authsvc_recovery_code_new(apr_pool_t *p)
{
    unsigned char raw[RECOVERY_BYTES];
    const char *b32;
    char *out;
    int i, n = 0;

    if (authsvc_crypto_random(raw, sizeof(raw)) != APR_SUCCESS) {
        return NULL;
    }
    b32 = authsvc_totp_base32(p, raw, sizeof(raw));
    OPENSSL_cleanse(raw, sizeof(raw));
    if (b32 == NULL || strlen(b32) != RECOVERY_CHARS) {
        return NULL;
    }
    out = apr_palloc(p, AUTHSVC_RECOVERY_CODE_LEN + 1);
    for (i = 0; i < RECOVERY_CHARS; i++) {
        if (i > 0 && i % 4 == 0) {
            out[n++] = '-';
        }
        out[n++] = (char)apr_tolower((unsigned char)b32[i]);
    }
    out[n] = '\0';
    return out;
}

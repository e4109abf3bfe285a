/* test_secretbox.c - secretbox.c: AES-256-GCM against the GCM specification's test
 * cases 13-16 (McGrew & Viega), sealed strings (round trip, tampering, wrong aad, key,
 * kid), key rotation, key files (formats, modes, sizes) and key wiping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apr_encode.h"
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"

#include "secretbox.h"
#include "keyfile.h"
#include "tap_apr.h"

static const unsigned char *unhex(apr_pool_t *p, const char *hex, apr_size_t *len)
{
    apr_size_t n = 0;
    const unsigned char *b =
        apr_pdecode_base16_binary(p, hex, APR_ENCODE_STRING, APR_ENCODE_NONE, &n);
    if (len != NULL) {
        *len = n;
    }
    return b != NULL ? b : (const unsigned char *)"";
}

static const char *tohex(apr_pool_t *p, const unsigned char *b, apr_size_t len)
{
    return len == 0 ? ""
                    : apr_pencode_base16_binary(p, b, (apr_ssize_t)len, APR_ENCODE_LOWER,
                                                NULL);
}

/* ---- the GCM specification's AES-256 test cases ------------------------------------ */

#define TC_KEY "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define TC_IV "cafebabefacedbaddecaf888"
#define TC_P60                                                                           \
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"                   \
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define TC_C60                                                                           \
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"                   \
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"

static const struct {
    const char *name, *key, *iv, *aad, *pt, *ct, *tag;
} gcm_cases[] = {
    {"13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"15", TC_KEY, TC_IV, "", TC_P60 "1aafd255", TC_C60 "898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"16", TC_KEY, TC_IV, "feedfacedeadbeeffeedfacedeadbeefabaddad2", TC_P60, TC_C60,
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

static void test_gcm_case(apr_pool_t *p, int i)
{
    apr_size_t ivlen, aadlen, len, n;
    const unsigned char *key = unhex(p, gcm_cases[i].key, &n);
    const unsigned char *iv = unhex(p, gcm_cases[i].iv, &ivlen);
    const unsigned char *aad = unhex(p, gcm_cases[i].aad, &aadlen);
    const unsigned char *pt = unhex(p, gcm_cases[i].pt, &len);
    unsigned char ct[64], tag[16], back[64], badtag[16];
    const char *name = gcm_cases[i].name;

    is_int(authsvc_aes256gcm_seal(key, iv, ivlen, aad, aadlen, pt, len, ct, tag),
           APR_SUCCESS, "gcm %s: seal", name);
    is_str(tohex(p, ct, len), gcm_cases[i].ct, "gcm %s: ciphertext", name);
    is_str(tohex(p, tag, 16), gcm_cases[i].tag, "gcm %s: tag", name);
    memset(back, 0xaa, sizeof(back));
    is_int(authsvc_aes256gcm_open(key, iv, ivlen, aad, aadlen, ct, len, back, tag),
           APR_SUCCESS, "gcm %s: open", name);
    is_str(tohex(p, back, len), gcm_cases[i].pt, "gcm %s: plaintext back", name);

    memcpy(badtag, tag, 16);
    badtag[15] ^= 0x01;
    memset(back, 0xaa, sizeof(back));
    is_int(authsvc_aes256gcm_open(key, iv, ivlen, aad, aadlen, ct, len, back, badtag),
           APR_EINVAL, "gcm %s: one tag bit flipped: refused", name);
    ok(len == 0 || (back[0] == 0 && memcmp(back, back + 1, len - 1) == 0),
       "gcm %s: ... and the output wiped", name);
    if (len > 0) {
        ct[len - 1] ^= 0x80;
        is_int(authsvc_aes256gcm_open(key, iv, ivlen, aad, aadlen, ct, len, back, tag),
               APR_EINVAL, "gcm %s: one ciphertext bit flipped: refused", name);
        ct[len - 1] ^= 0x80;
    }
    is_int(authsvc_aes256gcm_open(key, iv, ivlen, (const unsigned char *)"x", 1, ct, len,
                                  back, tag),
           APR_EINVAL, "gcm %s: other aad: refused", name);
}

static void test_gcm(apr_pool_t *p)
{
    unsigned char key[32] = {0}, iv[12] = {0}, ct[4], tag[16];
    size_t i;

    for (i = 0; i < sizeof(gcm_cases) / sizeof(gcm_cases[0]); i++) {
        test_gcm_case(p, (int)i);
    }
    is_int(authsvc_aes256gcm_seal(key, iv, 0, NULL, 0, (const unsigned char *)"abcd", 4,
                                  ct, tag),
           APR_EINVAL, "gcm: an empty IV refused");
    is_int(authsvc_aes256gcm_seal(key, NULL, 12, NULL, 0, (const unsigned char *)"abcd",
                                  4, ct, tag),
           APR_EINVAL, "gcm: a NULL IV refused");
    is_int(authsvc_aes256gcm_seal(key, iv, 12, NULL, 5, (const unsigned char *)"abcd", 4,
                                  ct, tag),
           APR_EINVAL, "gcm: NULL aad with a length refused");
    is_int(authsvc_aes256gcm_seal(key, iv, 12, NULL, 0, NULL, 4, ct, tag), APR_EINVAL,
           "gcm: NULL plaintext with a length refused");
}

/* ---- sealed strings ---------------------------------------------------------------- */

static unsigned char key_a[32], key_b[32];

static apr_status_t open_str(apr_pool_t *p, const authsvc_keyring_t *kr, const char *s,
                             const char *aad, const char **out, apr_size_t *len)
{
    unsigned char *pt = (unsigned char *)"junk";
    apr_status_t rv;

    *len = 99;
    rv = authsvc_secretbox_open(p, kr, s, aad, &pt, len);
    *out = (const char *)pt;
    return rv;
}

static void test_kid(apr_pool_t *p)
{
    authsvc_keyring_t *kr = NULL, *kr2 = NULL;
    unsigned char zero[32] = {0};

    is_str(authsvc_keyring_kid(NULL), NULL, "kid: none without a keyring");
    is_str(authsvc_keyring_add_key(p, &kr, zero), NULL, "kid: zero key added");
    /* printf authsvc-secretbox-kid; head -c32 /dev/zero) | sha256sum */
    is_str(authsvc_keyring_kid(kr), "0d61f834", "kid: of the all-zero key");
    is_str(authsvc_keyring_add_key(p, &kr2, key_a), NULL, "kid: key 00..1f added");
    is_str(authsvc_keyring_kid(kr2), "24991bb5", "kid: of the key 00 01 .. 1f");
    is_str(authsvc_keyring_add_key(p, &kr2, zero), NULL, "kid: a second key added");
    is_str(authsvc_keyring_kid(kr2), "0d61f834", "kid: the newest key's kid");
    ok(authsvc_keyring_add_key(p, NULL, zero) != NULL, "kid: no keyring pointer refused");
    ok(authsvc_keyring_add_key(p, &kr, NULL) != NULL, "kid: no key refused");
}

static void test_roundtrip(apr_pool_t *p)
{
    authsvc_keyring_t *kr = NULL;
    const char *s1, *s2, *out;
    apr_size_t len;
    const char *secret = "12345678901234567890";

    authsvc_keyring_add_key(p, &kr, key_a);
    s1 = authsvc_secretbox_seal(p, kr, (const unsigned char *)secret, 20, "user-42");
    s2 = authsvc_secretbox_seal(p, kr, (const unsigned char *)secret, 20, "user-42");
    ok(s1 != NULL && strncmp(s1, "v1.24991bb5.", 12) == 0, "seal: v1.<kid>. prefix (%s)",
       s1 ? s1 : "NULL");
    /* 12 + 20 + 16 = 48 bytes: 64 base64url characters, no padding. */
    is_int(s1 ? strlen(s1) : 0, 12 + 64, "seal: 48 bytes of base64url after the prefix");
    ok(s1 != NULL &&
           strspn(s1 + 12, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789-_") == strlen(s1 + 12),
       "seal: only base64url characters (no '+', '/', '=')");
    ok(s1 != NULL && s2 != NULL && strcmp(s1, s2) != 0,
       "seal: two seals of one secret differ (random IV)");
    ok(s1 != NULL && s2 != NULL && strncmp(s1 + 12, s2 + 12, 16) != 0,
       "seal: ... already in the IV");

    /* Opened in a pool whose memory was dirtied first: the NUL is written, not found. */
    {
        apr_pool_t *sp;
        apr_pool_create(&sp, p);
        memset(apr_palloc(sp, 4000), 0xaa, 4000);
        apr_pool_clear(sp);
        is_int(open_str(sp, kr, s1, "user-42", &out, &len), APR_SUCCESS,
               "open: round trip");
        is_int(len, 20, "open: length");
        ok(out != NULL && memcmp(out, secret, 20) == 0, "open: the plaintext");
        ok(out != NULL && out[20] == '\0', "open: NUL-terminated");
        apr_pool_destroy(sp);
    }
    is_int(open_str(p, kr, s2, "user-42", &out, &len), APR_SUCCESS,
           "open: the second seal too");

    is_int(open_str(p, kr, s1, "user-43", &out, &len), APR_EINVAL,
           "open: other aad refused");
    ok(out == NULL && len == 0, "open: refused: no plaintext, length 0");
    is_int(open_str(p, kr, s1, "", &out, &len), APR_EINVAL, "open: empty aad refused");
    is_int(open_str(p, kr, s1, NULL, &out, &len), APR_EINVAL, "open: NULL aad refused");

    s1 = authsvc_secretbox_seal(p, kr, (const unsigned char *)"", 0, NULL);
    ok(s1 != NULL && strlen(s1) == 12 + 38, "seal: empty plaintext, NULL aad (28 bytes)");
    is_int(open_str(p, kr, s1, "", &out, &len), APR_SUCCESS,
           "open: NULL aad sealed, \"\" opens");
    ok(len == 0 && out != NULL && out[0] == '\0', "open: empty plaintext back");
    ok(authsvc_secretbox_seal(p, kr, NULL, 0, "a") != NULL, "seal: NULL with length 0");

    is_str(authsvc_secretbox_seal(p, NULL, (const unsigned char *)"x", 1, "a"), NULL,
           "seal: no keyring: NULL");
    is_str(authsvc_secretbox_seal(p, kr, NULL, 1, "a"), NULL,
           "seal: NULL plaintext with a length: NULL");
    ok(authsvc_secretbox_seal(p, kr,
                              (const unsigned char *)apr_pcalloc(
                                  p, AUTHSVC_SECRETBOX_MAX_PLAINTEXT),
                              AUTHSVC_SECRETBOX_MAX_PLAINTEXT, "a") != NULL,
       "seal: AUTHSVC_SECRETBOX_MAX_PLAINTEXT bytes");
    ok(authsvc_secretbox_seal(p, kr,
                              (const unsigned char *)apr_pcalloc(
                                  p, AUTHSVC_SECRETBOX_MAX_PLAINTEXT + 1),
                              AUTHSVC_SECRETBOX_MAX_PLAINTEXT + 1, "a") == NULL,
       "seal: one byte more: NULL");
}

/* Every character of the data changed, one at a time: each change is refused (48
 * bytes are exactly 64 characters, so no character carries only padding bits). */
static void test_tamper(apr_pool_t *p)
{
    authsvc_keyring_t *kr = NULL;
    const char *s, *out;
    char *t;
    apr_size_t len, i, n;
    int refused = 0, total = 0;

    authsvc_keyring_add_key(p, &kr, key_a);
    s = authsvc_secretbox_seal(p, kr, (const unsigned char *)"12345678901234567890", 20,
                               "7");
    if (s == NULL) {
        ok(0, "tamper: seal failed");
        return;
    }
    n = strlen(s);
    for (i = 12; i < n; i++) {
        t = apr_pstrdup(p, s);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        total++;
        refused += open_str(p, kr, t, "7", &out, &len) == APR_EINVAL && out == NULL;
    }
    is_int(refused, total, "tamper: every changed character of the data refused");
    is_int(open_str(p, kr, s, "7", &out, &len), APR_SUCCESS,
           "tamper: the original opens");

    t = apr_pstrdup(p, s);
    t[n - 1] = '\0';
    is_int(open_str(p, kr, t, "7", &out, &len), APR_EINVAL, "tamper: last char cut");
    t = apr_pstrndup(p, s, 12 + 4 * 9); /* 27 bytes: one short of IV + tag */
    is_int(open_str(p, kr, t, "7", &out, &len), APR_EINVAL,
           "tamper: shorter than IV + tag");
    is_int(open_str(p, kr, apr_pstrcat(p, s, "AAAA", NULL), "7", &out, &len), APR_EINVAL,
           "tamper: 3 bytes appended");

    /* 29 bytes (1 of plaintext): the last character carries 2 bits no byte uses. Any
     * other spelling of the same bytes is refused: one sealed value, one spelling. */
    s = authsvc_secretbox_seal(p, kr, (const unsigned char *)"x", 1, "7");
    if (s == NULL) {
        ok(0, "tamper: seal of 1 byte failed");
        return;
    }
    n = strlen(s);
    is_int(open_str(p, kr, s, "7", &out, &len), APR_SUCCESS, "tamper: 1 byte sealed opens");
    refused = total = 0;
    for (i = 1; i < 4; i++) {
        static const char b64url[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const char *at = strchr(b64url, s[n - 1]);
        t = apr_pstrdup(p, s);
        t[n - 1] = b64url[((apr_size_t)(at - b64url)) ^ i];
        total++;
        refused += open_str(p, kr, t, "7", &out, &len) == APR_EINVAL;
    }
    is_int(refused, total, "tamper: the unused bits of the last character changed: refused");
}

static void test_keys(apr_pool_t *p)
{
    authsvc_keyring_t *ka = NULL, *kb = NULL, *kab = NULL;
    const char *s, *out;
    char *t;
    apr_size_t len;

    authsvc_keyring_add_key(p, &ka, key_a);
    authsvc_keyring_add_key(p, &kb, key_b);
    authsvc_keyring_add_key(p, &kab, key_a);
    authsvc_keyring_add_key(p, &kab, key_b);
    s = authsvc_secretbox_seal(p, ka, (const unsigned char *)"secret", 6, "1");
    if (s == NULL) {
        ok(0, "keys: seal failed");
        return;
    }
    is_int(open_str(p, kb, s, "1", &out, &len), APR_EINVAL, "keys: unknown kid refused");
    /* Under B's kid the right kid is found, but the key is wrong: the tag fails. */
    t = apr_pstrcat(p, "v1.", authsvc_keyring_kid(kb), s + 11, NULL);
    is_int(open_str(p, kb, t, "1", &out, &len), APR_EINVAL,
           "keys: wrong key (kid relabelled) refused");
    t = apr_pstrcat(p, "v1.00000000", s + 11, NULL);
    is_int(open_str(p, kab, t, "1", &out, &len), APR_EINVAL,
           "keys: kid 00000000 refused");

    /* Rotation: A then B in one ring: B seals, both open. */
    is_int(open_str(p, kab, s, "1", &out, &len), APR_SUCCESS,
           "rotation: the older key still opens its values");
    ok(out != NULL && len == 6 && memcmp(out, "secret", 6) == 0, "rotation: plaintext");
    is_str(authsvc_keyring_kid(kab), authsvc_keyring_kid(kb), "rotation: newest kid");
    s = authsvc_secretbox_seal(p, kab, (const unsigned char *)"secret", 6, "1");
    ok(s != NULL && strncmp(s + 3, authsvc_keyring_kid(kb), 8) == 0,
       "rotation: the newest key seals");
    is_int(open_str(p, kb, s, "1", &out, &len), APR_SUCCESS,
           "rotation: ... which B alone opens");
    is_int(open_str(p, ka, s, "1", &out, &len), APR_EINVAL,
           "rotation: ... and A does not");
    is_int(open_str(p, NULL, s, "1", &out, &len), APR_EINVAL, "open: no keyring");
}

/* A sealed "x" whose data has a '-' or '_', respelled with the standard base64 '+' or
 * '/': the same bytes, which apr's decoder would accept. */
static const char *std_base64(apr_pool_t *p, const authsvc_keyring_t *kr)
{
    int tries;
    char *s, *c;

    for (tries = 0; tries < 1000; tries++) {
        s = (char *)authsvc_secretbox_seal(p, kr, (const unsigned char *)"x", 1, "");
        c = s != NULL ? strpbrk(s + 12, "-_") : NULL;
        if (c != NULL) {
            *c = *c == '-' ? '+' : '/';
            return s;
        }
    }
    return "";
}

static void test_malformed(apr_pool_t *p)
{
    authsvc_keyring_t *kr = NULL;
    const char *s, *out, *body;
    apr_size_t len;

    authsvc_keyring_add_key(p, &kr, key_a);
    s = authsvc_secretbox_seal(p, kr, (const unsigned char *)"x", 1, "");
    body = s != NULL ? s + 12 : "";
    is_int(open_str(p, kr, s, "", &out, &len), APR_SUCCESS,
           "malformed: the original opens");
    is_int(open_str(p, kr, NULL, "", &out, &len), APR_EINVAL, "malformed: NULL");
    is_int(open_str(p, kr, "", "", &out, &len), APR_EINVAL, "malformed: empty");
    is_int(open_str(p, kr, "v1.", "", &out, &len), APR_EINVAL, "malformed: v1. alone");
    is_int(open_str(p, kr, "v1.24991bb5", "", &out, &len), APR_EINVAL,
           "malformed: no data");
    is_int(open_str(p, kr, apr_pstrcat(p, "v2.24991bb5.", body, NULL), "", &out, &len),
           APR_EINVAL, "malformed: version v2");
    is_int(open_str(p, kr, apr_pstrcat(p, "V1.24991bb5.", body, NULL), "", &out, &len),
           APR_EINVAL, "malformed: V1");
    is_int(open_str(p, kr, apr_pstrcat(p, "v1.24991BB5.", body, NULL), "", &out, &len),
           APR_EINVAL, "malformed: upper-case kid");
    is_int(open_str(p, kr, apr_pstrcat(p, "v1.24991bb.", body, NULL), "", &out, &len),
           APR_EINVAL, "malformed: 7-char kid");
    is_int(open_str(p, kr, apr_pstrcat(p, "v1.24991bb5:", body, NULL), "", &out, &len),
           APR_EINVAL, "malformed: ':' for '.'");
    is_int(open_str(p, kr, apr_pstrcat(p, "v1.24991bb5..", body, NULL), "", &out, &len),
           APR_EINVAL, "malformed: two dots");
    is_int(open_str(p, kr, apr_pstrcat(p, s, "=", NULL), "", &out, &len), APR_EINVAL,
           "malformed: padding (apr's decoder would take it)");
    is_int(open_str(p, kr, apr_pstrcat(p, s, " ", NULL), "", &out, &len), APR_EINVAL,
           "malformed: trailing space");
    is_int(open_str(p, kr, std_base64(p, kr), "", &out, &len), APR_EINVAL,
           "malformed: standard base64 '+' or '/' refused (apr's decoder would take it)");
}

/* ---- key files --------------------------------------------------------------------- */


/* Writes a key file and adds it to a new keyring: the error (NULL: added), and in
 * *kid the kid of what was added (NULL: nothing). */
static const char *add_file(apr_pool_t *p, const char *name, const char *text, int mode,
                            const char **kid)
{
    authsvc_keyring_t *kr = NULL;
    const char *err = authsvc_keyring_add_file(p, &kr, keyfile(p, name, text, mode));

    *kid = authsvc_keyring_kid(kr);
    return err;
}

#define HEX_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define B64_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static void test_keyfile_formats(apr_pool_t *p)
{
    const char *kid, *err;

    is_str(add_file(p, "hex", HEX_A "\n", 0600, &kid), NULL, "keyfile: hex accepted");
    is_str(kid, "24991bb5", "keyfile: hex: the right key");
    is_str(add_file(p, "HEX",
                    "  000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
                    "\r\n\n",
                    0400, &kid),
           NULL, "keyfile: upper-case hex, spaces and CRLF accepted");
    is_str(kid, "24991bb5", "keyfile: upper-case hex: the right key");
    is_str(add_file(p, "hexnonl", HEX_A, 0640, &kid), NULL,
           "keyfile: hex without newline, mode 0640 accepted");
    is_str(add_file(p, "b64", B64_A "\n", 0600, &kid), NULL, "keyfile: base64 accepted");
    is_str(kid, "24991bb5", "keyfile: base64: the right key");
    is_str(add_file(p, "b64nopad", "\t AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 \n",
                    0600, &kid),
           NULL, "keyfile: base64 without padding, surrounded by whitespace accepted");
    is_str(kid, "24991bb5", "keyfile: base64 without padding: the right key");

    err = add_file(p, "hex62",
                   "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d"
                   "1e1f\n",
                   0600, &kid);
    ok(err != NULL && strstr(err, "/hex62") != NULL,
       "keyfile: 62 hex digits refused (%s)", err ? err : "accepted");
    ok(err != NULL && strstr(err, "0102030405") == NULL, "keyfile: ... without the key");
    is_str(kid, NULL, "keyfile: refused: no key added");
    ok(add_file(p, "hex66", HEX_A "20\n", 0600, &kid) != NULL,
       "keyfile: 66 hex digits refused");
    ok(add_file(p, "hexsp",
                "0102030405060708090a0b0c0d0e0f1 101112131415161718191a1b1c1d"
                "1e1f\n", /* 64 characters: the length passes, the space does not */
                0600, &kid) != NULL,
       "keyfile: hex with a space inside refused");
    ok(add_file(p, "hexg",
                "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e"
                "1f\n",
                0600, &kid) != NULL,
       "keyfile: 64 characters with a non-hex one refused");
    ok(add_file(p, "b64short", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n", 0600,
                &kid) != NULL,
       "keyfile: base64 of 31 bytes refused");
    ok(add_file(p, "b64long", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n", 0600,
                &kid) != NULL,
       "keyfile: base64 of 33 bytes refused");
    ok(add_file(p, "b64bad", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8!\n", 0600,
                &kid) != NULL,
       "keyfile: base64 with a bad character refused");
    ok(add_file(p, "empty", "", 0600, &kid) != NULL, "keyfile: empty refused");
    ok(add_file(p, "blank", " \n\n", 0600, &kid) != NULL,
       "keyfile: only whitespace refused");
    ok(add_file(p, "two", HEX_A "\n" HEX_A "\n", 0600, &kid) != NULL,
       "keyfile: two keys refused");
    {
        char big[400];
        memset(big, ' ', sizeof(big));
        memcpy(big, HEX_A, 64);
        big[sizeof(big) - 1] = '\0';
        err = add_file(p, "big", big, 0600, &kid);
        ok(err != NULL && strstr(err, "too long") != NULL,
           "keyfile: a key and 335 spaces: too long (%s)", err ? err : "accepted");
        big[256] = '\0';
        is_str(add_file(p, "max", big, 0600, &kid), NULL,
               "keyfile: a key and spaces, 256 bytes in all: accepted");
        big[256] = ' ';
        big[257] = '\0';
        ok(add_file(p, "max1", big, 0600, &kid) != NULL, "keyfile: 257 bytes: refused");
    }
}

static void test_keyfile_modes(apr_pool_t *p)
{
    const char *kid, *err;
    authsvc_keyring_t *kr = NULL;

    err = add_file(p, "m644", HEX_A "\n", 0644, &kid);
    ok(err != NULL && strstr(err, "/m644") != NULL && strstr(err, "0644") != NULL,
       "mode: 0644 refused, naming the file and mode (%s)", err ? err : "accepted");
    ok(err != NULL && strstr(err, HEX_A) == NULL && strstr(err, "000102") == NULL,
       "mode: ... without the key");
    is_str(kid, NULL, "mode: refused: no key added");
    ok(add_file(p, "m602", HEX_A "\n", 0602, &kid) != NULL, "mode: 0602 (o+w) refused");
    ok(add_file(p, "m601", HEX_A "\n", 0601, &kid) != NULL, "mode: 0601 (o+x) refused");
    is_str(add_file(p, "m660", HEX_A "\n", 0660, &kid), NULL, "mode: 0660 accepted");
    err = authsvc_keyring_add_file(p, &kr, dir);
    ok(err != NULL && strstr(err, "not a regular file") != NULL,
       "mode: a directory refused (%s)", err ? err : "accepted");
    err = authsvc_keyring_add_file(p, &kr, "/dev/null");
    ok(err != NULL && strstr(err, "not a regular file") != NULL,
       "mode: /dev/null refused (%s)", err ? err : "accepted");
    err = authsvc_keyring_add_file(p, &kr, apr_pstrcat(p, dir, "/missing", NULL));
    ok(err != NULL && strstr(err, "/missing") != NULL,
       "mode: a missing file refused, naming it (%s)", err ? err : "accepted");
    ok(authsvc_keyring_add_file(p, &kr, NULL) != NULL, "mode: NULL path refused");
    is_str(authsvc_keyring_kid(kr), NULL, "mode: nothing added by refusals");
}

/* The key bytes are wiped when the pool is cleared. Cleanups run in reverse order of
 * registration, so one registered before the key was added runs after the wipe, while
 * the pool's memory is still there. White box: it reads the key through the layout of
 * secretbox.c (the keyring's first member points to the newest key, whose first member
 * is the key). */
static const unsigned char *seen_key;
static int wiped = -1;

static apr_status_t look_at_key(void *data)
{
    (void)data;
    if (seen_key != NULL) {
        unsigned char zero[32] = {0};
        wiped = memcmp(seen_key, zero, 32) == 0;
    }
    return APR_SUCCESS;
}

static void test_wipe(apr_pool_t *parent)
{
    apr_pool_t *p;
    authsvc_keyring_t *kr = NULL;

    apr_pool_create(&p, parent);
    apr_pool_cleanup_register(p, NULL, look_at_key, apr_pool_cleanup_null);
    authsvc_keyring_add_key(p, &kr, key_a);
    seen_key = kr != NULL ? *(unsigned char *const *)kr : NULL;
    ok(seen_key != NULL && memcmp(seen_key, key_a, 32) == 0,
       "wipe: the keyring holds the key (layout as expected)");
    apr_pool_clear(p);
    is_int(wiped, 1, "wipe: key bytes zeroed when the pool is cleared");
    apr_pool_destroy(p);
}

int main(void)
{
    apr_pool_t *p;
    int i;

    p = tap_apr_start();
    for (i = 0; i < 32; i++) {
        key_a[i] = (unsigned char)i;
        key_b[i] = (unsigned char)(0xa0 + i);
    }
    test_gcm(p);
    test_kid(p);
    test_roundtrip(p);
    test_tamper(p);
    test_keys(p);
    test_malformed(p);
    snprintf(dir, sizeof(dir), "/tmp/authsvc-secretbox-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        ok(0, "mkdtemp");
    }
    else {
        test_keyfile_formats(p);
        test_keyfile_modes(p);
        if (system(apr_pstrcat(p, "rm -rf '", dir, "'", NULL)) != 0) {
            diag("could not remove %s", dir);
        }
    }
    test_wipe(p);
    return tap_apr_end(p);
}

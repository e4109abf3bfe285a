/*
 * secretbox.c - AES-256-GCM sealed strings under a ring of keys (pure).
 *
 * A sealed string names the key that sealed it ("v1.<kid>.<data>"), so the newest key
 * seals while older ones still open what they sealed: keys rotate without a
 * re-encryption of the whole database at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_encode.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "secretbox.h"

#define KEY_BYTES AUTHSVC_SECRETBOX_KEY_BYTES
#define IV_BYTES AUTHSVC_SECRETBOX_IV_BYTES
#define TAG_BYTES AUTHSVC_SECRETBOX_TAG_BYTES
#define KID_CHARS 8
#define PREFIX "v1."
#define PREFIX_LEN 3
/* The base64url length of the largest sealed data (IV, plaintext, tag). */
#define BODY_MAX (((IV_BYTES + AUTHSVC_SECRETBOX_MAX_PLAINTEXT + TAG_BYTES) * 4 + 2) / 3)
/* A key file is 64 hex digits or 44 base64 characters and a newline; anything much
 * longer is not a key file (and is not read in full). */
#define KEYFILE_MAX 256

typedef struct sbkey {
    unsigned char key[KEY_BYTES];
    char kid[KID_CHARS + 1];
    struct sbkey *older;
} sbkey_t;

/* The newest key first: it seals; the list is searched by kid to open. */
struct authsvc_keyring {
    sbkey_t *newest;
};

/* ---- raw AES-256-GCM --------------------------------------------------------------- */

/* Cipher, IV length, key and IV, then the AAD: the steps that sealing and opening
 * share. OpenSSL takes int lengths, so larger ones are refused before. */
static int gcm_start(EVP_CIPHER_CTX *ctx, int enc, const unsigned char *key,
                     const unsigned char *iv, apr_size_t ivlen, const unsigned char *aad,
                     apr_size_t aadlen)
{
    int n;

    return EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)ivlen, NULL) == 1 &&
           EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, enc) == 1 &&
           (aadlen == 0 || EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadlen) == 1);
}

static int lengths_ok(const unsigned char *iv, apr_size_t ivlen, const unsigned char *aad,
                      apr_size_t aadlen, const void *in, const void *out, apr_size_t len)
{
    return iv != NULL && ivlen > 0 && ivlen <= INT_MAX && aadlen <= INT_MAX &&
           len <= INT_MAX && (aad != NULL || aadlen == 0) &&
           ((in != NULL && out != NULL) || len == 0);
}

apr_status_t authsvc_aes256gcm_seal(const unsigned char key[32], const unsigned char *iv,
                                    apr_size_t ivlen, const unsigned char *aad,
                                    apr_size_t aadlen, const unsigned char *pt,
                                    apr_size_t len, unsigned char *ct,
                                    unsigned char tag[16])
{
    EVP_CIPHER_CTX *ctx;
    unsigned char last[16];
    int n, ok;

    if (!lengths_ok(iv, ivlen, aad, aadlen, pt, ct, len)) {
        return APR_EINVAL;
    }
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
        return APR_ENOMEM;
    }
    /* GCM is a stream mode: Final writes no bytes (last is only a place to point). */
    ok = gcm_start(ctx, 1, key, iv, ivlen, aad, aadlen) &&
         (len == 0 || EVP_EncryptUpdate(ctx, ct, &n, pt, (int)len) == 1) &&
         EVP_EncryptFinal_ex(ctx, last, &n) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? APR_SUCCESS : APR_EGENERAL;
}

/* The plaintext is written before the tag is checked (OpenSSL decrypts as it goes):
 * on a bad tag it is wiped, so no caller ever sees unauthenticated bytes. */
apr_status_t authsvc_aes256gcm_open(const unsigned char key[32], const unsigned char *iv,
                                    apr_size_t ivlen, const unsigned char *aad,
                                    apr_size_t aadlen, const unsigned char *ct,
                                    apr_size_t len, unsigned char *pt,
                                    const unsigned char tag[16])
{
    EVP_CIPHER_CTX *ctx;
    unsigned char last[16], want[TAG_BYTES];
    int n, started, verified = 0;

    if (!lengths_ok(iv, ivlen, aad, aadlen, ct, pt, len)) {
        return APR_EINVAL;
    }
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
        return APR_ENOMEM;
    }
    memcpy(want, tag, TAG_BYTES); /* OpenSSL's ctrl takes a non-const pointer */
    started = gcm_start(ctx, 0, key, iv, ivlen, aad, aadlen) &&
              (len == 0 || EVP_DecryptUpdate(ctx, pt, &n, ct, (int)len) == 1) &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, want) == 1;
    if (started) {
        verified = EVP_DecryptFinal_ex(ctx, last, &n) == 1;
    }
    EVP_CIPHER_CTX_free(ctx);
    if (!verified && len > 0) {
        OPENSSL_cleanse(pt, len);
    }
    return verified ? APR_SUCCESS : started ? APR_EINVAL : APR_EGENERAL;
}

/* ---- the keyring ------------------------------------------------------------------- */

static apr_status_t wipe_key(void *data)
{
    sbkey_t *k = data;

    OPENSSL_cleanse(k->key, sizeof(k->key));
    return APR_SUCCESS;
}

/* The kid tells which key sealed a value without saying anything usable about the
 * key: 32 bits of a hash under a label of its own (not the hash of the bare key,
 * which some other tool might also publish). */
static int key_id(const unsigned char *key, char kid[KID_CHARS + 1])
{
    static const char label[] = "authsvc-secretbox-kid";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    apr_size_t n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, label, sizeof(label) - 1) == 1 &&
         EVP_DigestUpdate(ctx, key, KEY_BYTES) == 1 &&
         EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= KID_CHARS / 2 &&
         apr_encode_base16_binary(kid, md, KID_CHARS / 2, APR_ENCODE_LOWER, &n) ==
             APR_SUCCESS &&
         n == KID_CHARS;
    EVP_MD_CTX_free(ctx);
    kid[KID_CHARS] = '\0';
    return ok;
}

/* The copy of the key lives in p and is wiped by a cleanup of p, registered before
 * anything can fail. */
const char *authsvc_keyring_add_key(apr_pool_t *p, authsvc_keyring_t **kr,
                                    const unsigned char key[32])
{
    sbkey_t *k;

    if (kr == NULL || key == NULL) {
        return "no key given";
    }
    k = apr_pcalloc(p, sizeof(*k));
    memcpy(k->key, key, KEY_BYTES);
    apr_pool_cleanup_register(p, k, wipe_key, apr_pool_cleanup_null);
    if (!key_id(k->key, k->kid)) {
        return "cannot compute the key id (OpenSSL SHA-256 failed)";
    }
    if (*kr == NULL) {
        *kr = apr_pcalloc(p, sizeof(**kr));
    }
    k->older = (*kr)->newest;
    (*kr)->newest = k;
    return NULL;
}

const char *authsvc_keyring_kid(const authsvc_keyring_t *kr)
{
    return kr != NULL && kr->newest != NULL ? kr->newest->kid : NULL;
}

/* A key file must be a regular file that "other" can neither read nor write: a key
 * readable by every local account protects nothing. */
static const char *check_file(apr_pool_t *p, const char *path, const struct stat *st)
{
    if (!S_ISREG(st->st_mode)) {
        return apr_psprintf(p, "%s is not a regular file", path);
    }
    if (st->st_mode & 007) {
        return apr_psprintf(p, "%s gives permissions to others (mode %04o): chmod o= it",
                            path, (unsigned)(st->st_mode & 07777));
    }
    return NULL;
}

static const char *os_error(apr_pool_t *p, const char *path, const char *what, int err)
{
    char buf[128];

    return apr_psprintf(p, "cannot %s %s: %s", what, path,
                        apr_strerror(APR_FROM_OS_ERROR(err), buf, sizeof(buf)));
}

/* Reads at most size bytes: a file that fills buf is longer than the caller allows.
 * stat() first, so that nothing but a regular file is even opened; fstat() again on
 * what was opened, in case the path changed in between. */
const char *authsvc_keyfile_read(apr_pool_t *p, const char *path, char *buf,
                                 apr_size_t size, apr_size_t *len)
{
    struct stat st;
    const char *err;
    ssize_t n;
    int fd;

    *len = 0;
    if (path == NULL || buf == NULL || size == 0) {
        return "no key file given";
    }
    if (stat(path, &st) != 0) {
        return os_error(p, path, "stat", errno);
    }
    if ((err = check_file(p, path, &st)) != NULL) {
        return err;
    }
    if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0) {
        return os_error(p, path, "open", errno);
    }
    if (fstat(fd, &st) != 0) {
        err = os_error(p, path, "stat", errno);
    }
    else {
        err = check_file(p, path, &st);
    }
    while (err == NULL && *len < size) {
        n = read(fd, buf + *len, size - *len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            err = os_error(p, path, "read", errno);
        }
        if (n <= 0) {
            break;
        }
        *len += (apr_size_t)n;
    }
    close(fd);
    if (err == NULL && *len >= size) {
        err = apr_psprintf(p, "%s is too long for a key file", path);
    }
    return err;
}

/* Hex when the text is an even number of hex digits, else base64: no base64 of 32
 * bytes is 64 characters long, so for the secretbox key the two never meet. Decoded
 * into a scratch buffer larger than any accepted text needs (the decoders may write a
 * byte more than they return), then copied out. */
apr_status_t authsvc_keyfile_decode(const char *text, apr_size_t len, unsigned char *out,
                                    apr_size_t outsize, apr_size_t *outlen)
{
    unsigned char raw[AUTHSVC_KEYTEXT_MAX / 4 * 3 + 4];
    apr_size_t i, n = 0;
    apr_status_t rv;
    int hex;

    *outlen = 0;
    while (len > 0 && apr_isspace((unsigned char)text[0])) {
        text++;
        len--;
    }
    while (len > 0 && apr_isspace((unsigned char)text[len - 1])) {
        len--;
    }
    if (len == 0 || len > AUTHSVC_KEYTEXT_MAX) {
        return APR_EINVAL;
    }
    for (i = 0, hex = len % 2 == 0; hex && i < len; i++) {
        hex = apr_isxdigit((unsigned char)text[i]);
    }
    rv = hex ? apr_decode_base16_binary(raw, text, (apr_ssize_t)len, APR_ENCODE_NONE, &n)
             : apr_decode_base64_binary(raw, text, (apr_ssize_t)len, APR_ENCODE_NONE, &n);
    /* Only the one length base64 of n bytes has, with or without padding. */
    if (rv == APR_SUCCESS && !hex && len != (n + 2) / 3 * 4 && len != (n * 4 + 2) / 3) {
        rv = APR_EINVAL;
    }
    if (rv == APR_SUCCESS && n > 0 && n <= outsize) {
        memcpy(out, raw, n);
        *outlen = n;
    }
    else {
        rv = APR_EINVAL;
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    return rv;
}

/* Exactly 32 bytes, as 64 hex digits or as base64. */
static const char *parse_key(apr_pool_t *p, const char *path, const char *text,
                             apr_size_t len, unsigned char key[32])
{
    apr_size_t n = 0;

    if (authsvc_keyfile_decode(text, len, key, KEY_BYTES, &n) != APR_SUCCESS ||
        n != KEY_BYTES) {
        OPENSSL_cleanse(key, KEY_BYTES);
        return apr_psprintf(p,
                            "%s does not hold a key: 32 random bytes as 64 hex digits "
                            "or as base64 are expected (openssl rand -hex 32)",
                            path);
    }
    return NULL;
}

const char *authsvc_keyring_add_file(apr_pool_t *p, authsvc_keyring_t **kr,
                                     const char *path)
{
    char text[KEYFILE_MAX + 1];
    unsigned char key[KEY_BYTES];
    apr_size_t len;
    const char *err;

    err = authsvc_keyfile_read(p, path, text, sizeof(text), &len);
    if (err == NULL) {
        err = parse_key(p, path, text, len, key);
        if (err == NULL) {
            err = authsvc_keyring_add_key(p, kr, key);
        }
    }
    OPENSSL_cleanse(text, sizeof(text));
    OPENSSL_cleanse(key, sizeof(key));
    return err;
}

/* ---- sealed strings ---------------------------------------------------------------- */

const char *authsvc_secretbox_seal(apr_pool_t *p, const authsvc_keyring_t *kr,
                                   const unsigned char *pt, apr_size_t len,
                                   const char *aad)
{
    const sbkey_t *k = kr != NULL ? kr->newest : NULL;
    unsigned char *blob;
    const char *b64;

    if (k == NULL || (pt == NULL && len > 0) || len > AUTHSVC_SECRETBOX_MAX_PLAINTEXT) {
        return NULL;
    }
    aad = aad != NULL ? aad : "";
    blob = apr_palloc(p, IV_BYTES + len + TAG_BYTES);
    /* A random 96-bit IV per seal: safe for far more seals than a key will see
     * (NIST SP 800-38D allows 2^32 per key). */
    if (authsvc_crypto_random(blob, IV_BYTES) != APR_SUCCESS ||
        authsvc_aes256gcm_seal(k->key, blob, IV_BYTES, (const unsigned char *)aad,
                               strlen(aad), pt, len, blob + IV_BYTES,
                               blob + IV_BYTES + len) != APR_SUCCESS) {
        return NULL;
    }
    b64 = apr_pencode_base64_binary(p, blob, (apr_ssize_t)(IV_BYTES + len + TAG_BYTES),
                                    APR_ENCODE_BASE64URL, NULL);
    return b64 != NULL ? apr_pstrcat(p, PREFIX, k->kid, ".", b64, NULL) : NULL;
}

/* "v1." + 8 characters of kid + "." + base64url of at least an IV and a tag: the
 * data is decoded into *raw; 0 for anything else. A kid that is not 8 lower-case hex
 * digits is not checked here: it matches no key. */
static int parse_sealed(apr_pool_t *p, const char *sealed, const unsigned char **raw,
                        apr_size_t *rawlen)
{
    const char *kid, *body;

    if (strncmp(sealed, PREFIX, PREFIX_LEN) != 0) {
        return 0;
    }
    kid = sealed + PREFIX_LEN;
    if (strnlen(kid, KID_CHARS + 1) != KID_CHARS + 1 || kid[KID_CHARS] != '.') {
        return 0;
    }
    body = kid + KID_CHARS + 1;
    /* Too long to be ours is refused before anything is decoded. */
    if (strnlen(body, BODY_MAX + 1) > BODY_MAX) {
        return 0;
    }
    *raw = authsvc_crypto_b64url_decode(p, body, strlen(body), rawlen);
    return *raw != NULL && *rawlen >= IV_BYTES + TAG_BYTES &&
           *rawlen - IV_BYTES - TAG_BYTES <= AUTHSVC_SECRETBOX_MAX_PLAINTEXT;
}

/* Every key with the named kid is tried: two keys sharing 32 bits of hash is unlikely
 * but not impossible, and a wrong key only fails its tag. */
apr_status_t authsvc_secretbox_open(apr_pool_t *p, const authsvc_keyring_t *kr,
                                    const char *sealed, const char *aad,
                                    unsigned char **pt, apr_size_t *len)
{
    const unsigned char *raw;
    apr_size_t rawlen, ctlen;
    unsigned char *out;
    const sbkey_t *k;

    *pt = NULL;
    *len = 0;
    if (kr == NULL || sealed == NULL || !parse_sealed(p, sealed, &raw, &rawlen)) {
        return APR_EINVAL;
    }
    aad = aad != NULL ? aad : "";
    ctlen = rawlen - IV_BYTES - TAG_BYTES;
    out = apr_palloc(p, ctlen + 1);
    for (k = kr->newest; k != NULL; k = k->older) {
        if (memcmp(k->kid, sealed + PREFIX_LEN, KID_CHARS) == 0 &&
            authsvc_aes256gcm_open(k->key, raw, IV_BYTES, (const unsigned char *)aad,
                                   strlen(aad), raw + IV_BYTES, ctlen, out,
                                   raw + IV_BYTES + ctlen) == APR_SUCCESS) {
            out[ctlen] = '\0';
            *pt = out;
            *len = ctlen;
            return APR_SUCCESS;
        }
    }
    return APR_EINVAL;
}

/*
 * jwt.c - compact JWS over OpenSSL 3 EVP: keys, signing, verification, claims, JWKS.
 *
 * Every key names itself (kid) by its RFC 7638 thumbprint, so a token says which key
 * signed it, and the header's "alg" must be that key's algorithm: the algorithm is
 * never taken from the token (no "none", no HS256 keyed with a public key).
 */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include <apr_encode.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "crypto.h"
#include "json.h"
#include "jwt.h"
#include "secretbox.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 4096 /* larger keys only make every check slower */
#define RSA_KEYGEN_BITS 3072
#define EC_COORD 32      /* P-256 coordinates and ES256's r and s */
#define ED25519_BYTES 32 /* an Ed25519 public key */
#define EDDSA_SIG 64     /* an Ed25519 signature */
#define HS256_BYTES 32   /* HMAC-SHA256 */
#define HS_KID_BYTES 12  /* of the HMAC that names an HS256 secret */
#define HS_KEYGEN_BYTES 32
/* The largest key file read: an RSA 16384-bit PKCS#8 PEM is about 13 KB. */
#define KEYFILE_MAX 16384

struct authsvc_jwt_key {
    authsvc_jwt_alg_t alg;
    int verify_only;
    EVP_PKEY *pkey;        /* EdDSA, ES256, RS256 */
    unsigned char *secret; /* HS256 */
    apr_size_t secret_len;
    const char *kid;
    const authsvc_jwt_key_t *older;
};

/* Newest key first: the signer is found from the front, and the JWKS lists in that
 * order. */
struct authsvc_jwt_keyset {
    const authsvc_jwt_key_t *newest;
    int count;
};

static const char *const alg_names[] = {NULL, "EdDSA", "ES256", "RS256", "HS256"};

const char *authsvc_jwt_alg_name(authsvc_jwt_alg_t alg)
{
    return alg > AUTHSVC_JWT_NONE && alg <= AUTHSVC_JWT_HS256 ? alg_names[alg] : NULL;
}

authsvc_jwt_alg_t authsvc_jwt_alg_parse(const char *name)
{
    int i;

    for (i = AUTHSVC_JWT_EDDSA; name != NULL && i <= AUTHSVC_JWT_HS256; i++) {
        if (strcmp(name, alg_names[i]) == 0) {
            return (authsvc_jwt_alg_t)i;
        }
    }
    return AUTHSVC_JWT_NONE;
}

/* ---- small helpers ----------------------------------------------------------------- */

static const char *b64url(apr_pool_t *p, const unsigned char *b, apr_size_t len)
{
    return authsvc_crypto_b64url_encode(p, b, len);
}

/* OpenSSL leaves the reasons of a failure in this thread's error queue, where a later,
 * unrelated caller (mod_ssl) would find them: every failure here clears it. */
static int failed(void)
{
    ERR_clear_error();
    return 0;
}

static apr_status_t wipe_key(void *data)
{
    authsvc_jwt_key_t *k = data;

    EVP_PKEY_free(k->pkey);
    k->pkey = NULL;
    if (k->secret != NULL) {
        OPENSSL_cleanse(k->secret, k->secret_len);
    }
    return APR_SUCCESS;
}

/* A new key owning pkey (freed by p's cleanup from here on, even on a later error). */
static authsvc_jwt_key_t *new_key(apr_pool_t *p, authsvc_jwt_alg_t alg, EVP_PKEY *pkey,
                                  int verify_only)
{
    authsvc_jwt_key_t *k = apr_pcalloc(p, sizeof(*k));

    k->alg = alg;
    k->pkey = pkey;
    k->verify_only = verify_only;
    apr_pool_cleanup_register(p, k, wipe_key, apr_pool_cleanup_null);
    return k;
}

static const authsvc_jwt_key_t *find_kid(const authsvc_jwt_keyset_t *ks, const char *kid)
{
    const authsvc_jwt_key_t *k;

    for (k = ks != NULL ? ks->newest : NULL; k != NULL; k = k->older) {
        if (strcmp(k->kid, kid) == 0) {
            return k;
        }
    }
    return NULL;
}

/* Name the key (by its thumbprint unless kid is given) and put it in front of the set. */
static const char *add_key(apr_pool_t *p, authsvc_jwt_keyset_t **ks, authsvc_jwt_key_t *k,
                           const char *kid)
{
    if (ks == NULL) {
        return "no key set given";
    }
    k->kid = kid != NULL ? apr_pstrdup(p, kid) : authsvc_jwt_thumbprint(p, k);
    if (k->kid == NULL) {
        return "cannot compute the key id (OpenSSL failed)";
    }
    if (find_kid(*ks, k->kid) != NULL) {
        return apr_psprintf(p, "the key %s is already configured", k->kid);
    }
    if (*ks == NULL) {
        *ks = apr_pcalloc(p, sizeof(**ks));
    }
    k->older = (*ks)->newest;
    (*ks)->newest = k;
    (*ks)->count++;
    return NULL;
}

/* ---- what a key is ----------------------------------------------------------------- */

/* The algorithm a public or private key is fit for, or a message saying why none. */
static const char *pkey_alg(apr_pool_t *p, EVP_PKEY *pkey, authsvc_jwt_alg_t *alg)
{
    char group[64];
    size_t glen = 0;
    int bits;

    *alg = AUTHSVC_JWT_NONE;
    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        *alg = AUTHSVC_JWT_EDDSA;
    }
    else if (EVP_PKEY_is_a(pkey, "EC")) {
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1 ||
            OBJ_sn2nid(group) != NID_X9_62_prime256v1) {
            failed();
            return "an EC key on another curve than P-256 (ES256 needs P-256)";
        }
        *alg = AUTHSVC_JWT_ES256;
    }
    else if (EVP_PKEY_is_a(pkey, "RSA")) {
        bits = EVP_PKEY_get_bits(pkey);
        if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
            return apr_psprintf(p, "an RSA key of %d bits (RS256 needs %d to %d)", bits,
                                RSA_MIN_BITS, RSA_MAX_BITS);
        }
        *alg = AUTHSVC_JWT_RS256;
    }
    else {
        return "a key of an unsupported type (EdDSA: Ed25519, ES256: EC P-256, RS256: "
               "RSA)";
    }
    return NULL;
}

/* pkey (owned by p's cleanup) as a key of alg, or of its own algorithm for NONE. */
static const char *add_pkey(apr_pool_t *p, authsvc_jwt_keyset_t **ks, EVP_PKEY *pkey,
                            authsvc_jwt_alg_t alg, int verify_only)
{
    authsvc_jwt_key_t *k = new_key(p, AUTHSVC_JWT_NONE, pkey, verify_only);
    const char *err = pkey_alg(p, pkey, &k->alg);

    if (err != NULL) {
        return err;
    }
    if (alg != AUTHSVC_JWT_NONE && alg != k->alg) {
        return apr_psprintf(p, "the key is an %s key, not %s", alg_names[k->alg],
                            authsvc_jwt_alg_name(alg) ? alg_names[alg]
                                                      : "of a known algorithm");
    }
    return add_key(p, ks, k, NULL);
}

/* An encrypted key is refused rather than prompting on a terminal nobody watches. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

const char *authsvc_jwt_keyset_add_pem(apr_pool_t *p, authsvc_jwt_keyset_t **ks,
                                       const char *pem, apr_size_t len,
                                       authsvc_jwt_alg_t alg, int verify_only)
{
    EVP_PKEY *pkey = NULL;
    BIO *bio;

    if (alg == AUTHSVC_JWT_HS256) {
        return authsvc_jwt_keyset_add_secret(p, ks, (const unsigned char *)pem, len,
                                             verify_only);
    }
    if (pem == NULL || len == 0 || len > INT_MAX) {
        return "no key given";
    }
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio != NULL) {
        pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
        BIO_free(bio);
    }
    if (pkey == NULL) {
        failed();
        return "not a PEM private key (PKCS#8 or traditional, without a passphrase; an "
               "HS256 secret needs its algorithm named)";
    }
    return add_pkey(p, ks, pkey, alg, verify_only);
}

const char *authsvc_jwt_keyset_add_secret(apr_pool_t *p, authsvc_jwt_keyset_t **ks,
                                          const unsigned char *secret, apr_size_t len,
                                          int verify_only)
{
    authsvc_jwt_key_t *k;

    if (secret == NULL || len < AUTHSVC_JWT_SECRET_MIN || len > AUTHSVC_JWT_SECRET_MAX) {
        return "an HS256 secret must be 32 to 512 bytes (openssl rand -hex 32)";
    }
    k = new_key(p, AUTHSVC_JWT_HS256, NULL, verify_only);
    k->secret = apr_pmemdup(p, secret, len);
    k->secret_len = len;
    return add_key(p, ks, k, NULL);
}

/* HS256 text is hex or base64 (secretbox.c's decoder); anything else is PEM. */
const char *authsvc_jwt_keyset_add_text(apr_pool_t *p, authsvc_jwt_keyset_t **ks,
                                        const char *text, apr_size_t len,
                                        authsvc_jwt_alg_t alg, int verify_only)
{
    unsigned char secret[AUTHSVC_JWT_SECRET_MAX];
    apr_size_t n = 0;
    const char *err;

    if (alg != AUTHSVC_JWT_HS256) {
        return authsvc_jwt_keyset_add_pem(p, ks, text, len, alg, verify_only);
    }
    if (text == NULL ||
        authsvc_keyfile_decode(text, len, secret, sizeof(secret), &n) != APR_SUCCESS) {
        return "does not hold an HS256 secret: 32 to 512 random bytes as hex or base64 "
               "are expected (openssl rand -hex 32)";
    }
    err = authsvc_jwt_keyset_add_secret(p, ks, secret, n, verify_only);
    OPENSSL_cleanse(secret, sizeof(secret));
    return err;
}

const char *authsvc_jwt_keyset_add_file(apr_pool_t *p, authsvc_jwt_keyset_t **ks,
                                        const char *path, authsvc_jwt_alg_t alg,
                                        int verify_only)
{
    char *text = apr_palloc(p, KEYFILE_MAX);
    apr_size_t len = 0;
    const char *err = authsvc_keyfile_read(p, path, text, KEYFILE_MAX, &len);

    if (err == NULL) {
        err = authsvc_jwt_keyset_add_text(p, ks, text, len, alg, verify_only);
        err = err != NULL ? apr_psprintf(p, "%s: %s", path, err) : NULL;
    }
    OPENSSL_cleanse(text, KEYFILE_MAX);
    return err;
}

/* ---- keys from JWKs ---------------------------------------------------------------- */

/* The base64url member name of jwk, decoded (strictly), exactly want bytes unless want
 * is 0. */
static const unsigned char *jwk_bytes(apr_pool_t *p, authsvc_json_t *jwk,
                                      const char *name, apr_size_t want, apr_size_t *len)
{
    const unsigned char *b;
    const char *s;
    apr_size_t slen;

    if (authsvc_json_get_string(jwk, name, &s, &slen) != AUTHSVC_JSON_OK) {
        return NULL;
    }
    b = authsvc_crypto_b64url_decode(p, s, slen, len);
    return b != NULL && *len > 0 && (want == 0 || *len == want) ? b : NULL;
}

/* 1 when jwk's member name is the string want. */
static int jwk_is(authsvc_json_t *jwk, const char *name, const char *want)
{
    const char *s;
    apr_size_t len;

    return authsvc_json_get_string(jwk, name, &s, &len) == AUTHSVC_JSON_OK &&
           len == strlen(want) && strcmp(s, want) == 0;
}

/* A public key of type from the parameters in bld (freed here); NULL on failure. */
static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = bld != NULL ? OSSL_PARAM_BLD_to_param(bld) : NULL;
    EVP_PKEY_CTX *ctx =
        params != NULL ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
    EVP_PKEY *pkey = NULL;

    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        failed();
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* 0x04 || x || y, the uncompressed point OpenSSL takes as an EC public key; the point
 * is checked to be on the curve by OpenSSL. */
static EVP_PKEY *jwk_ec(apr_pool_t *p, authsvc_json_t *jwk)
{
    unsigned char point[1 + 2 * EC_COORD];
    const unsigned char *x, *y;
    OSSL_PARAM_BLD *bld;
    apr_size_t n;

    x = jwk_bytes(p, jwk, "x", EC_COORD, &n);
    y = jwk_bytes(p, jwk, "y", EC_COORD, &n);
    if (!jwk_is(jwk, "crv", "P-256") || x == NULL || y == NULL) {
        return NULL;
    }
    point[0] = POINT_CONVERSION_UNCOMPRESSED;
    memcpy(point + 1, x, EC_COORD);
    memcpy(point + 1 + EC_COORD, y, EC_COORD);
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        SN_X9_62_prime256v1, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                         sizeof(point)) != 1) {
        OSSL_PARAM_BLD_free(bld);
        return NULL;
    }
    return pkey_fromdata("EC", bld);
}

static EVP_PKEY *jwk_rsa(apr_pool_t *p, authsvc_json_t *jwk)
{
    const unsigned char *nb, *eb;
    apr_size_t nlen, elen;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;

    nb = jwk_bytes(p, jwk, "n", 0, &nlen);
    eb = jwk_bytes(p, jwk, "e", 0, &elen);
    if (nb == NULL || eb == NULL || nlen > RSA_MAX_BITS / 8 || elen > 8) {
        return NULL;
    }
    n = BN_bin2bn(nb, (int)nlen, NULL);
    e = BN_bin2bn(eb, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (n != NULL && e != NULL && bld != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1) {
        pkey = pkey_fromdata("RSA", bld);
        bld = NULL;
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

static EVP_PKEY *jwk_pkey(apr_pool_t *p, authsvc_json_t *jwk)
{
    const unsigned char *x;
    apr_size_t n;

    if (jwk_is(jwk, "kty", "OKP")) {
        x = jwk_bytes(p, jwk, "x", ED25519_BYTES, &n);
        return jwk_is(jwk, "crv", "Ed25519") && x != NULL
                   ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, n)
                   : NULL;
    }
    if (jwk_is(jwk, "kty", "EC")) {
        return jwk_ec(p, jwk);
    }
    return jwk_is(jwk, "kty", "RSA") ? jwk_rsa(p, jwk) : NULL;
}

const char *authsvc_jwt_keyset_add_jwk(apr_pool_t *p, authsvc_jwt_keyset_t **ks,
                                       const char *jwk_json, const char *kid)
{
    authsvc_json_t *jwk;
    authsvc_jwt_key_t *k;
    const char *err, *alg;
    apr_size_t len;
    EVP_PKEY *pkey;

    if (jwk_json == NULL || kid == NULL || *kid == '\0' || ks == NULL) {
        return "no JWK or kid given";
    }
    jwk = authsvc_json_parse(p, jwk_json, strlen(jwk_json), &err);
    if (jwk == NULL) {
        return apr_psprintf(p, "not a JWK: %s", err);
    }
    pkey = jwk_pkey(p, jwk);
    if (pkey == NULL) {
        failed();
        return "not a JWK of an Ed25519, P-256 or RSA public key";
    }
    k = new_key(p, AUTHSVC_JWT_NONE, pkey, 1);
    if ((err = pkey_alg(p, pkey, &k->alg)) != NULL) {
        return err;
    }
    if (authsvc_json_get_string(jwk, "alg", &alg, &len) != AUTHSVC_JSON_MISSING &&
        !jwk_is(jwk, "alg", alg_names[k->alg])) {
        return "the JWK's alg is not its key's";
    }
    return add_key(p, ks, k, kid);
}

/* ---- the key set ------------------------------------------------------------------- */

const authsvc_jwt_key_t *authsvc_jwt_keyset_signer(const authsvc_jwt_keyset_t *ks)
{
    const authsvc_jwt_key_t *k;

    for (k = ks != NULL ? ks->newest : NULL; k != NULL; k = k->older) {
        if (!k->verify_only) {
            return k;
        }
    }
    return NULL;
}

const authsvc_jwt_key_t *authsvc_jwt_keyset_find(const authsvc_jwt_keyset_t *ks,
                                                 const char *kid)
{
    return kid != NULL ? find_kid(ks, kid) : NULL;
}

int authsvc_jwt_keyset_count(const authsvc_jwt_keyset_t *ks)
{
    return ks != NULL ? ks->count : 0;
}

const char *authsvc_jwt_key_kid(const authsvc_jwt_key_t *k)
{
    return k != NULL ? k->kid : NULL;
}

authsvc_jwt_alg_t authsvc_jwt_key_alg(const authsvc_jwt_key_t *k)
{
    return k != NULL ? k->alg : AUTHSVC_JWT_NONE;
}

/* ---- public keys as JWKs ----------------------------------------------------------- */

/* The BIGNUM parameter name of pkey, big-endian, base64url: padded to pad bytes, or in
 * its fewest bytes for pad 0 (RFC 7518 6.3.1: no leading zero in n and e). */
static int put_bn(apr_pool_t *p, authsvc_json_t *obj, const char *member,
                  const EVP_PKEY *pkey, const char *name, int pad)
{
    BIGNUM *bn = NULL;
    unsigned char *buf = NULL;
    int n = 0, ok;

    ok = EVP_PKEY_get_bn_param(pkey, name, &bn) == 1;
    if (ok) {
        n = pad > 0 ? pad : BN_num_bytes(bn);
        buf = apr_palloc(p, (apr_size_t)(n > 0 ? n : 1));
        ok = n > 0 && BN_bn2binpad(bn, buf, n) == n &&
             authsvc_json_set_str(obj, member, b64url(p, buf, (apr_size_t)n)) == 0;
    }
    BN_free(bn);
    return ok ? 1 : failed();
}

/* The members RFC 7638 requires for the key's type, which are all a public JWK needs:
 * OKP crv x, EC crv x y, RSA e n. NULL for an HS256 key or on failure. */
static authsvc_json_t *jwk_public(apr_pool_t *p, const authsvc_jwt_key_t *k)
{
    authsvc_json_t *jwk = authsvc_json_object(p);
    unsigned char raw[ED25519_BYTES];
    size_t n = sizeof(raw);
    int ok = jwk != NULL;

    switch (k->alg) {
    case AUTHSVC_JWT_EDDSA:
        ok = ok && EVP_PKEY_get_raw_public_key(k->pkey, raw, &n) == 1 &&
             n == sizeof(raw) && authsvc_json_set_str(jwk, "crv", "Ed25519") == 0 &&
             authsvc_json_set_str(jwk, "kty", "OKP") == 0 &&
             authsvc_json_set_str(jwk, "x", b64url(p, raw, n)) == 0;
        break;
    case AUTHSVC_JWT_ES256:
        ok = ok && authsvc_json_set_str(jwk, "crv", "P-256") == 0 &&
             authsvc_json_set_str(jwk, "kty", "EC") == 0 &&
             put_bn(p, jwk, "x", k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, EC_COORD) &&
             put_bn(p, jwk, "y", k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, EC_COORD);
        break;
    case AUTHSVC_JWT_RS256:
        ok = ok && put_bn(p, jwk, "e", k->pkey, OSSL_PKEY_PARAM_RSA_E, 0) &&
             authsvc_json_set_str(jwk, "kty", "RSA") == 0 &&
             put_bn(p, jwk, "n", k->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
        break;
    default:
        ok = 0;
    }
    return ok ? jwk : (failed(), NULL);
}

static const char *hs_kid(apr_pool_t *p, const authsvc_jwt_key_t *k)
{
    static const char label[] = "authsvc-jwt-kid";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const char *kid = NULL;

    if (HMAC(EVP_sha256(), k->secret, (int)k->secret_len, (const unsigned char *)label,
             sizeof(label) - 1, md, &mdlen) != NULL &&
        mdlen >= HS_KID_BYTES) {
        kid = apr_pstrcat(p, "hs-", b64url(p, md, HS_KID_BYTES), NULL);
    }
    OPENSSL_cleanse(md, sizeof(md));
    return kid != NULL ? kid : (failed(), NULL);
}

const char *authsvc_jwt_thumbprint(apr_pool_t *p, const authsvc_jwt_key_t *k)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    authsvc_json_t *jwk;
    const char *canon;

    if (k == NULL) {
        return NULL;
    }
    if (k->alg == AUTHSVC_JWT_HS256) {
        return hs_kid(p, k);
    }
    jwk = k->pkey != NULL ? jwk_public(p, k) : NULL;
    canon = jwk != NULL ? authsvc_json_dump_sorted(p, jwk) : NULL;
    if (canon == NULL ||
        EVP_Digest(canon, strlen(canon), md, &mdlen, EVP_sha256(), NULL) != 1) {
        failed();
        return NULL;
    }
    return b64url(p, md, mdlen);
}

authsvc_json_t *authsvc_jwt_jwks(apr_pool_t *p, const authsvc_jwt_keyset_t *ks)
{
    authsvc_json_t *set = authsvc_json_object(p), *keys = authsvc_json_array(p), *jwk;
    const authsvc_jwt_key_t *k;

    if (set == NULL || keys == NULL || authsvc_json_set(set, "keys", keys) != 0) {
        return NULL;
    }
    for (k = ks != NULL ? ks->newest : NULL; k != NULL; k = k->older) {
        if (k->alg == AUTHSVC_JWT_HS256) {
            continue;
        }
        jwk = jwk_public(p, k);
        if (jwk == NULL || authsvc_json_set_str(jwk, "kid", k->kid) != 0 ||
            authsvc_json_set_str(jwk, "alg", alg_names[k->alg]) != 0 ||
            authsvc_json_set_str(jwk, "use", "sig") != 0 ||
            authsvc_json_append(keys, jwk) != 0) {
            return NULL;
        }
    }
    return set;
}

/* ---- signatures -------------------------------------------------------------------- */

/* Digest-and-sign (or verify) set-up: SHA-256, except Ed25519 which hashes itself
 * (NULL digest); RSA explicitly with PKCS#1 v1.5 padding (RS256, not PS256). */
static int evp_init(EVP_MD_CTX *ctx, const authsvc_jwt_key_t *k, int sign)
{
    const EVP_MD *md = k->alg == AUTHSVC_JWT_EDDSA ? NULL : EVP_sha256();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = sign ? EVP_DigestSignInit(ctx, &pctx, md, NULL, k->pkey)
                  : EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k->pkey);

    return ok == 1 && (k->alg != AUTHSVC_JWT_RS256 ||
                       EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1);
}

/* ES256's r||s (RFC 7518 3.4) from OpenSSL's DER ECDSA-Sig-Value. */
static int der_to_rs(const unsigned char *der, size_t len, unsigned char rs[2 * EC_COORD])
{
    const unsigned char *q = der;
    ECDSA_SIG *sig = len <= LONG_MAX ? d2i_ECDSA_SIG(NULL, &q, (long)len) : NULL;
    const BIGNUM *r = NULL, *s = NULL;
    int ok = sig != NULL;

    if (ok) {
        ECDSA_SIG_get0(sig, &r, &s);
        ok = BN_bn2binpad(r, rs, EC_COORD) == EC_COORD &&
             BN_bn2binpad(s, rs + EC_COORD, EC_COORD) == EC_COORD;
    }
    ECDSA_SIG_free(sig);
    return ok;
}

/* The reverse, for verification: DER in p, NULL on failure. */
static unsigned char *rs_to_der(apr_pool_t *p, const unsigned char rs[2 * EC_COORD],
                                size_t *len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, EC_COORD, NULL),
           *s = BN_bin2bn(rs + EC_COORD, EC_COORD, NULL);
    unsigned char *der = NULL, *out = NULL;
    int n;

    if (sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = s = NULL; /* sig owns them now */
        n = i2d_ECDSA_SIG(sig, &der);
        if (n > 0) {
            out = apr_pmemdup(p, der, (apr_size_t)n);
            *len = (size_t)n;
        }
        OPENSSL_free(der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return out;
}

static int hmac256(const authsvc_jwt_key_t *k, const char *in, size_t len,
                   unsigned char md[HS256_BYTES])
{
    unsigned int mdlen = 0;

    return HMAC(EVP_sha256(), k->secret, (int)k->secret_len, (const unsigned char *)in,
                len, md, &mdlen) != NULL &&
           mdlen == HS256_BYTES;
}

/* The raw signature of in[0..len) into *sig (in p, *siglen bytes). */
static int sign_raw(apr_pool_t *p, const authsvc_jwt_key_t *k, const char *in, size_t len,
                    unsigned char **sig, size_t *siglen)
{
    EVP_MD_CTX *ctx;
    unsigned char *der;
    int ok, max;

    if (k->alg == AUTHSVC_JWT_HS256) {
        *sig = apr_palloc(p, HS256_BYTES);
        *siglen = HS256_BYTES;
        return hmac256(k, in, len, *sig);
    }
    if ((max = EVP_PKEY_get_size(k->pkey)) <= 0) {
        return 0;
    }
    *siglen = (size_t)max;
    der = apr_palloc(p, *siglen);
    ctx = EVP_MD_CTX_new();
    ok = ctx != NULL && evp_init(ctx, k, 1) &&
         EVP_DigestSign(ctx, der, siglen, (const unsigned char *)in, len) == 1;
    EVP_MD_CTX_free(ctx);
    *sig = der;
    if (ok && k->alg == AUTHSVC_JWT_ES256) {
        *sig = apr_palloc(p, 2 * EC_COORD);
        ok = der_to_rs(der, *siglen, *sig);
        *siglen = 2 * EC_COORD;
    }
    return ok;
}

/* The length a signature of k must have, exactly (0: none can be right). */
static size_t sig_size(const authsvc_jwt_key_t *k)
{
    int n;

    switch (k->alg) {
    case AUTHSVC_JWT_HS256:
        return HS256_BYTES;
    case AUTHSVC_JWT_EDDSA:
        return EDDSA_SIG;
    case AUTHSVC_JWT_ES256:
        return 2 * EC_COORD;
    default:
        n = EVP_PKEY_get_size(k->pkey);
        return n > 0 ? (size_t)n : 0;
    }
}

static int verify_raw(apr_pool_t *p, const authsvc_jwt_key_t *k, const char *in,
                      size_t len, const unsigned char *sig, size_t siglen)
{
    unsigned char md[HS256_BYTES];
    EVP_MD_CTX *ctx;
    int ok;

    if (siglen == 0 || siglen != sig_size(k)) {
        return 0;
    }
    if (k->alg == AUTHSVC_JWT_HS256) {
        ok = hmac256(k, in, len, md) && CRYPTO_memcmp(md, sig, HS256_BYTES) == 0;
        OPENSSL_cleanse(md, sizeof(md));
        return ok;
    }
    if (k->alg == AUTHSVC_JWT_ES256 && (sig = rs_to_der(p, sig, &siglen)) == NULL) {
        return failed();
    }
    ctx = EVP_MD_CTX_new();
    ok = ctx != NULL && evp_init(ctx, k, 0) &&
         EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)in, len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 1 : failed();
}

const char *authsvc_jwt_sign_input(apr_pool_t *p, const authsvc_jwt_key_t *k,
                                   const char *input, apr_size_t len)
{
    unsigned char *sig;
    size_t siglen;

    if (k == NULL || input == NULL || len > AUTHSVC_JWT_MAX ||
        !sign_raw(p, k, input, len, &sig, &siglen)) {
        failed();
        return NULL;
    }
    return b64url(p, sig, siglen);
}

apr_status_t authsvc_jwt_verify_input(apr_pool_t *p, const authsvc_jwt_key_t *k,
                                      const char *input, apr_size_t len, const char *sig,
                                      apr_size_t siglen)
{
    const unsigned char *raw;
    apr_size_t rawlen;

    if (k == NULL || input == NULL || sig == NULL) {
        return APR_EINVAL;
    }
    raw = authsvc_crypto_b64url_decode(p, sig, siglen, &rawlen);
    return raw != NULL && verify_raw(p, k, input, len, raw, rawlen) ? APR_SUCCESS
                                                                    : APR_EINVAL;
}

const char *authsvc_jwt_sign(apr_pool_t *p, const authsvc_jwt_key_t *k,
                             const char *payload, apr_size_t len)
{
    authsvc_json_t *header = authsvc_json_object(p);
    const char *h, *input, *sig;

    if (k == NULL || payload == NULL || header == NULL || len > AUTHSVC_JWT_MAX ||
        authsvc_json_set_str(header, "alg", alg_names[k->alg]) != 0 ||
        authsvc_json_set_str(header, "kid", k->kid) != 0 ||
        authsvc_json_set_str(header, "typ", "JWT") != 0 ||
        (h = authsvc_json_dump(p, header)) == NULL) {
        return NULL;
    }
    input = apr_pstrcat(p, b64url(p, (const unsigned char *)h, strlen(h)), ".",
                        b64url(p, (const unsigned char *)payload, len), NULL);
    sig = authsvc_jwt_sign_input(p, k, input, strlen(input));
    if (sig == NULL || strlen(input) + 1 + strlen(sig) > AUTHSVC_JWT_MAX) {
        return NULL;
    }
    return apr_pstrcat(p, input, ".", sig, NULL);
}

/* ---- verification ------------------------------------------------------------------ */

/* A part of a token: strict base64url of one JSON object (no duplicate keys). */
static authsvc_json_t *decode_part(apr_pool_t *p, const char *s, apr_size_t len)
{
    const unsigned char *raw;
    apr_size_t rawlen;
    const char *err;

    raw = authsvc_crypto_b64url_decode(p, s, len, &rawlen);
    return raw != NULL ? authsvc_json_parse(p, (const char *)raw, rawlen, &err) : NULL;
}

/* A header member that C code can compare: a string without a NUL inside. Returns the
 * lookup result, with anything but a plain string as WRONG_TYPE. */
static authsvc_json_found_t plain_str(authsvc_json_t *h, const char *name,
                                      const char **val)
{
    apr_size_t len;
    authsvc_json_found_t f = authsvc_json_get_string(h, name, val, &len);

    return f == AUTHSVC_JSON_OK && len != strlen(*val) ? AUTHSVC_JSON_WRONG_TYPE : f;
}

/* The key the header names, if the header's rules hold; NULL and *why if not. */
static const authsvc_jwt_key_t *header_key(const authsvc_jwt_keyset_t *ks,
                                           authsvc_json_t *h, const char **why)
{
    const char *alg, *kid, *typ;
    const authsvc_jwt_key_t *k;
    authsvc_json_found_t f;
    apr_size_t len;

    if (plain_str(h, "alg", &alg) != AUTHSVC_JSON_OK) {
        *why = "header: no alg";
        return NULL;
    }
    if (strcmp(alg, "none") == 0) {
        *why = "header: alg none";
        return NULL;
    }
    if (authsvc_json_get_string(h, "crit", &typ, &len) != AUTHSVC_JSON_MISSING) {
        *why = "header: crit";
        return NULL;
    }
    f = plain_str(h, "typ", &typ);
    if (f != AUTHSVC_JSON_MISSING &&
        (f != AUTHSVC_JSON_OK ||
         (strcasecmp(typ, "JWT") != 0 && strcasecmp(typ, "at+jwt") != 0))) {
        *why = "header: typ not JWT";
        return NULL;
    }
    if (plain_str(h, "kid", &kid) != AUTHSVC_JSON_OK) {
        *why = "header: no kid";
        return NULL;
    }
    if ((k = find_kid(ks, kid)) == NULL) {
        *why = "header: unknown kid";
        return NULL;
    }
    if (strcmp(alg, alg_names[k->alg]) != 0) {
        *why = "header: alg is not the key's";
        return NULL;
    }
    return k;
}

/* header.payload.signature: the two dots, or 0 when there are not exactly two. */
static int split(const char *token, apr_size_t len, const char **dot1, const char **dot2)
{
    const char *end = token + len;

    *dot1 = memchr(token, '.', len);
    *dot2 = *dot1 != NULL ? memchr(*dot1 + 1, '.', (apr_size_t)(end - *dot1 - 1)) : NULL;
    return *dot2 != NULL && memchr(*dot2 + 1, '.', (apr_size_t)(end - *dot2 - 1)) == NULL;
}

apr_status_t authsvc_jwt_verify(apr_pool_t *p, const authsvc_jwt_keyset_t *ks,
                                const char *token, apr_size_t len,
                                authsvc_json_t **payload, const authsvc_jwt_key_t **key,
                                const char **why)
{
    const char *dot1, *dot2;
    const authsvc_jwt_key_t *k;
    authsvc_json_t *header;

    *payload = NULL;
    *key = NULL;
    *why = NULL;
    if (ks == NULL || token == NULL || len == 0) {
        *why = ks == NULL ? "no keys configured" : "no token";
        return APR_EINVAL;
    }
    if (len > AUTHSVC_JWT_MAX) {
        *why = "token too long";
        return APR_EINVAL;
    }
    if (!split(token, len, &dot1, &dot2)) {
        *why = "not three parts";
        return APR_EINVAL;
    }
    if ((header = decode_part(p, token, (apr_size_t)(dot1 - token))) == NULL) {
        *why = "header: not base64url of a JSON object";
        return APR_EINVAL;
    }
    if ((k = header_key(ks, header, why)) == NULL) {
        return APR_EINVAL;
    }
    if (authsvc_jwt_verify_input(p, k, token, (apr_size_t)(dot2 - token), dot2 + 1,
                                 (apr_size_t)(token + len - dot2 - 1)) != APR_SUCCESS) {
        *why = "bad signature";
        return APR_EINVAL;
    }
    *payload = decode_part(p, dot1 + 1, (apr_size_t)(dot2 - dot1 - 1));
    if (*payload == NULL) {
        *why = "payload: not base64url of a JSON object";
        return APR_EINVAL;
    }
    *key = k;
    return APR_SUCCESS;
}

/* ---- claims ------------------------------------------------------------------------ */

/* A NumericDate claim: *v set and 1 when an integer, 0 when of another type or null;
 * -1 when absent. */
static int time_claim(authsvc_json_t *payload, const char *name, apr_int64_t *v)
{
    long long n = 0;
    authsvc_json_found_t f = authsvc_json_get_int(payload, name, &n);

    *v = n;
    return f == AUTHSVC_JSON_OK ? 1 : f == AUTHSVC_JSON_MISSING ? -1 : 0;
}

/* aud as a string is compared at once; an array of strings needs a pool for its
 * list, which the payload does not know: a short-lived pool of its own is made then
 * (unmanaged: no lock on the global pool). */
static int aud_ok(authsvc_json_t *payload, const char *aud)
{
    apr_array_header_t *auds;
    apr_pool_t *tmp;
    const char *s;
    int i, ok = 0;

    switch (plain_str(payload, "aud", &s)) {
    case AUTHSVC_JSON_OK:
        return strcmp(s, aud) == 0;
    case AUTHSVC_JSON_WRONG_TYPE:
        break;
    default:
        return 0;
    }
    if (apr_pool_create_unmanaged_ex(&tmp, NULL, NULL) != APR_SUCCESS) {
        return 0;
    }
    if (authsvc_json_get_strings(tmp, payload, "aud", &auds) == AUTHSVC_JSON_OK) {
        for (i = 0; i < auds->nelts && !ok; i++) {
            ok = strcmp(APR_ARRAY_IDX(auds, i, const char *), aud) == 0;
        }
    }
    apr_pool_destroy(tmp);
    return ok;
}

apr_status_t authsvc_jwt_check_claims(authsvc_json_t *payload, const char *iss,
                                      const char *aud, apr_int64_t now, apr_int64_t skew,
                                      const char **why)
{
    apr_int64_t exp, nbf, iat;
    const char *s;

    if (payload == NULL || iss == NULL || aud == NULL) {
        *why = "no claims, issuer or audience";
    }
    else if (time_claim(payload, "exp", &exp) != 1) {
        *why = "exp missing or not an integer";
    }
    else if (now - skew >= exp) {
        *why = "expired";
    }
    else if (time_claim(payload, "nbf", &nbf) == 0 || (nbf > now + skew)) {
        *why = "nbf not an integer or in the future";
    }
    else if (time_claim(payload, "iat", &iat) == 0 || (iat > now + skew)) {
        *why = "iat not an integer or in the future";
    }
    else if (plain_str(payload, "iss", &s) != AUTHSVC_JSON_OK || strcmp(s, iss) != 0) {
        *why = "wrong iss";
    }
    else if (!aud_ok(payload, aud)) {
        *why = "wrong aud";
    }
    else {
        *why = NULL;
        return APR_SUCCESS;
    }
    return APR_EINVAL;
}

/* ---- new keys ---------------------------------------------------------------------- */

static apr_status_t wipe_text(void *data)
{
    char *s = data;

    OPENSSL_cleanse(s, strlen(s));
    return APR_SUCCESS;
}

/* text[0..len) copied into p, wiped by a cleanup of p. */
static const char *secret_copy(apr_pool_t *p, const char *text, apr_size_t len)
{
    char *s = apr_pstrmemdup(p, text, len);

    apr_pool_cleanup_register(p, s, wipe_text, apr_pool_cleanup_null);
    return s;
}

static EVP_PKEY *generate(authsvc_jwt_alg_t alg)
{
    switch (alg) {
    case AUTHSVC_JWT_EDDSA:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    case AUTHSVC_JWT_ES256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case AUTHSVC_JWT_RS256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_KEYGEN_BITS);
    default:
        return NULL;
    }
}

/* PKCS#8 PEM, unencrypted, through a memory BIO in OpenSSL's secure heap when it
 * has one. */
static const char *pem_of(apr_pool_t *p, EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_secmem());
    const char *out = NULL;
    char *data = NULL;
    long n;

    if (bio != NULL &&
        PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1 &&
        (n = BIO_get_mem_data(bio, &data)) > 0) {
        out = secret_copy(p, data, (apr_size_t)n);
    }
    BIO_free(bio);
    return out;
}

const char *authsvc_jwt_keygen(apr_pool_t *p, authsvc_jwt_alg_t alg, const char **out)
{
    unsigned char raw[HS_KEYGEN_BYTES];
    char hex[2 * HS_KEYGEN_BYTES + 2];
    apr_size_t n = 0;
    EVP_PKEY *pkey;

    *out = NULL;
    if (alg == AUTHSVC_JWT_HS256) {
        if (authsvc_crypto_random(raw, sizeof(raw)) == APR_SUCCESS &&
            apr_encode_base16_binary(hex, raw, sizeof(raw), APR_ENCODE_LOWER, &n) ==
                APR_SUCCESS) {
            hex[n++] = '\n';
            *out = secret_copy(p, hex, n);
        }
        OPENSSL_cleanse(raw, sizeof(raw));
        OPENSSL_cleanse(hex, sizeof(hex));
        return *out != NULL ? NULL : "cannot generate a secret (no entropy)";
    }
    if (authsvc_jwt_alg_name(alg) == NULL) {
        return "unknown algorithm";
    }
    pkey = generate(alg);
    *out = pkey != NULL ? pem_of(p, pkey) : NULL;
    EVP_PKEY_free(pkey);
    if (*out == NULL) {
        failed();
        return "cannot generate the key (OpenSSL failed)";
    }
    return NULL;
}

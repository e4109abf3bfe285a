/*
 * webauthn.c - WebAuthn ceremony checks: client data (jansson), attestation object split
 * (libcbor), authenticator data, attestation statements and signatures (libfido2, which
 * verifies with OpenSSL). See webauthn.h.
 */
#include <stdlib.h>
#include <string.h>

#include "apr_strings.h"
#include <cbor.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/rs256.h>
#include <openssl/crypto.h>

#include "crypto.h"
#include "json.h"
#include "webauthn.h"

/* The fixed head of authenticator data: rpIdHash (32), flags (1), signCount (4). */
#define AD_HEAD 37

/* Bounds on what a client may send us (real values are far smaller). */
#define CDJ_MAX 4096
#define ATT_MAX 16384

const char *authsvc_webauthn_client_data(apr_pool_t *p, const authsvc_webauthn_rp_t *rp,
                                         const char *type, const unsigned char *cdj,
                                         apr_size_t len, const char **challenge)
{
    const char *err, *v;
    apr_size_t vlen;
    authsvc_json_t *o;
    int cross = 0;

    *challenge = NULL;
    if (len == 0 || len > CDJ_MAX ||
        (o = authsvc_json_parse(p, (const char *)cdj, len, &err)) == NULL) {
        return "malformed";
    }
    if (authsvc_json_get_string(o, "type", &v, &vlen) != AUTHSVC_JSON_OK ||
        vlen != strlen(type) || memcmp(v, type, vlen) != 0) {
        return "type";
    }
    if (authsvc_json_get_string(o, "origin", &v, &vlen) != AUTHSVC_JSON_OK ||
        vlen != strlen(rp->origin) || memcmp(v, rp->origin, vlen) != 0) {
        return "origin";
    }
    /* crossOrigin true: made in an iframe of another site; not ours to accept. */
    switch (authsvc_json_get_bool(o, "crossOrigin", &cross)) {
    case AUTHSVC_JSON_OK:
        if (cross) {
            return "origin";
        }
        break;
    case AUTHSVC_JSON_MISSING:
        break;
    default:
        return "malformed";
    }
    if (authsvc_json_get_string(o, "challenge", &v, &vlen) != AUTHSVC_JSON_OK ||
        vlen == 0 || !authsvc_crypto_is_b64url(v, vlen)) {
        return "challenge";
    }
    *challenge = apr_pstrmemdup(p, v, vlen);
    return NULL;
}

/* Octets left after the item being decoded, and whether a header claimed more. */
typedef struct {
    size_t left;
    int too_many;
} cbor_claims_t;

static void claim_items(void *ctx, size_t n)
{
    cbor_claims_t *c = ctx;

    c->too_many |= n > c->left;
}

static void claim_pairs(void *ctx, size_t n)
{
    cbor_claims_t *c = ctx;

    c->too_many |= n > c->left / 2;
}

/* 1 when every definite array or map in buf[0..len) claims no more items than there
 * are octets after it (each item takes at least one), and every header is whole; 0
 * otherwise. Why: cbor_load allocates a definite array or map for the claimed count
 * before it reads a single item (libcbor 0.8), so 9 octets could make a child reserve
 * 16 GB. cbor_stream_decode reads one header at a time and allocates nothing. */
static int cbor_claims_ok(const unsigned char *buf, size_t len)
{
    struct cbor_callbacks cb = cbor_empty_callbacks;
    struct cbor_decoder_result r;
    cbor_claims_t c = {0, 0};
    size_t off = 0;

    cb.array_start = claim_items;
    cb.map_start = claim_pairs;
    while (off < len) {
        c.left = len - off;
        r = cbor_stream_decode(buf + off, len - off, &cb, &c);
        if (r.status != CBOR_DECODER_FINISHED || r.read == 0 || c.too_many) {
            return 0;
        }
        off += r.read;
    }
    return 1;
}

/* The CBOR after the fixed part of authenticator data (the credential public key when
 * AT is set, the extensions when ED is), which libfido2 loads with cbor_load too: 1
 * when its claims are plausible (cbor_claims_ok), or when there is none; a part
 * shorter than its declared credential id is left for libfido2 to refuse. */
static int ad_claims_ok(const unsigned char *ad, apr_size_t len)
{
    apr_size_t off = AD_HEAD;

    if (ad[32] & 0x40) { /* AT: aaguid(16), credential id length(2), id */
        if (len < AD_HEAD + 18) {
            return 1;
        }
        off = AD_HEAD + 18 + ((apr_size_t)ad[AD_HEAD + 16] << 8 | ad[AD_HEAD + 17]);
    }
    return off >= len || cbor_claims_ok(ad + off, len - off);
}

/* The head of authenticator data ad: our RP ID's hash, user presence, and user
 * verification when required. */
static const char *check_head(const authsvc_webauthn_rp_t *rp, const unsigned char *ad,
                              apr_size_t len)
{
    unsigned char h[32];

    if (len < AD_HEAD) {
        return "malformed";
    }
    if (!authsvc_crypto_sha256(rp->rp_id, strlen(rp->rp_id), h) ||
        !ad_claims_ok(ad, len)) {
        return "malformed";
    }
    if (CRYPTO_memcmp(h, ad, 32) != 0) {
        return "rp_id";
    }
    if (!(ad[32] & AUTHSVC_WEBAUTHN_UP)) {
        return "user_presence";
    }
    if (rp->uv_required && !(ad[32] & AUTHSVC_WEBAUTHN_UV)) {
        return "user_verification";
    }
    return NULL;
}

/* The three members of an attestation object (a CBOR map): fmt as a string in p,
 * authData (borrowed from *root), attStmt re-encoded (malloc'd: *stmt, freed by the
 * caller). *root is the parsed item, released by the caller. */
typedef struct {
    cbor_item_t *root;
    const char *fmt;
    const unsigned char *ad;
    apr_size_t ad_len;
    unsigned char *stmt;
    size_t stmt_len;
} attobj_t;

static int key_is(const cbor_item_t *k, const char *name)
{
    size_t n = strlen(name);

    return cbor_isa_string(k) && cbor_string_is_definite(k) &&
           cbor_string_length(k) == n && memcmp(cbor_string_handle(k), name, n) == 0;
}

static const char *split_attobj(apr_pool_t *p, const unsigned char *att, apr_size_t len,
                                attobj_t *o)
{
    struct cbor_load_result res;
    struct cbor_pair *pairs;
    size_t i, n, cap;

    memset(o, 0, sizeof(*o));
    if (!cbor_claims_ok(att, len)) {
        return "malformed";
    }
    o->root = cbor_load(att, len, &res);
    if (o->root == NULL || res.error.code != CBOR_ERR_NONE || res.read != len ||
        !cbor_isa_map(o->root) || !cbor_map_is_definite(o->root)) {
        return "malformed";
    }
    n = cbor_map_size(o->root);
    pairs = cbor_map_handle(o->root);
    for (i = 0; i < n; i++) {
        cbor_item_t *k = pairs[i].key, *v = pairs[i].value;
        if (key_is(k, "fmt") && o->fmt == NULL && cbor_isa_string(v) &&
            cbor_string_is_definite(v)) {
            o->fmt = apr_pstrmemdup(p, (const char *)cbor_string_handle(v),
                                    cbor_string_length(v));
        }
        else if (key_is(k, "authData") && o->ad == NULL && cbor_isa_bytestring(v) &&
                 cbor_bytestring_is_definite(v)) {
            o->ad = cbor_bytestring_handle(v);
            o->ad_len = cbor_bytestring_length(v);
        }
        else if (key_is(k, "attStmt") && o->stmt == NULL && cbor_isa_map(v)) {
            o->stmt_len = cbor_serialize_alloc(v, &o->stmt, &cap);
            if (o->stmt_len == 0) {
                return "malformed";
            }
        }
        else {
            return "malformed"; /* unknown or repeated member */
        }
    }
    if (o->fmt == NULL || o->ad == NULL || o->stmt == NULL) {
        return "malformed";
    }
    return NULL;
}

/* A libfido2 credential of type alg from the parts, or NULL when the key in the
 * authenticator data is not of that type (or anything else is wrong with them). */
static fido_cred_t *make_cred(int alg, const authsvc_webauthn_rp_t *rp,
                              const unsigned char *cdj, apr_size_t cdj_len,
                              const attobj_t *o)
{
    fido_cred_t *c = fido_cred_new();

    if (c == NULL) {
        return NULL;
    }
    if (fido_cred_set_type(c, alg) != FIDO_OK ||
        fido_cred_set_rp(c, rp->rp_id, NULL) != FIDO_OK ||
        fido_cred_set_clientdata(c, cdj, cdj_len) != FIDO_OK ||
        fido_cred_set_authdata_raw(c, o->ad, o->ad_len) != FIDO_OK ||
        fido_cred_set_uv(c, rp->uv_required ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK) {
        fido_cred_free(&c);
        return NULL;
    }
    return c;
}

/* The attestation statement: "none" says nothing to check; "packed" is verified, by
 * the credential's own key (self attestation) or by its certificate (whose chain we do
 * not check: AuthsvcWebAuthnAttestation none trusts no vendor). */
static const char *check_statement(fido_cred_t *c, const attobj_t *o)
{
    if (strcmp(o->fmt, "none") == 0) {
        return NULL;
    }
    if (strcmp(o->fmt, "packed") != 0) {
        return "attestation";
    }
    if (fido_cred_set_fmt(c, o->fmt) != FIDO_OK ||
        fido_cred_set_attstmt(c, o->stmt, o->stmt_len) != FIDO_OK) {
        return "attestation";
    }
    if (fido_cred_x5c_ptr(c) != NULL ? fido_cred_verify(c) != FIDO_OK
                                     : fido_cred_verify_self(c) != FIDO_OK) {
        return "signature";
    }
    return NULL;
}

static const char *copy_out(apr_pool_t *p, const fido_cred_t *c, int alg, const char *fmt,
                            authsvc_webauthn_cred_t *out)
{
    if (fido_cred_id_ptr(c) == NULL || fido_cred_id_len(c) == 0 ||
        fido_cred_id_len(c) > 1023 || fido_cred_pubkey_ptr(c) == NULL) {
        return "malformed";
    }
    out->alg = alg;
    out->id_len = fido_cred_id_len(c);
    out->id = apr_pmemdup(p, fido_cred_id_ptr(c), out->id_len);
    out->pubkey_len = fido_cred_pubkey_len(c);
    out->pubkey = apr_pmemdup(p, fido_cred_pubkey_ptr(c), out->pubkey_len);
    out->sign_count = fido_cred_sigcount(c);
    out->flags = fido_cred_flags(c);
    out->fmt = fmt;
    return NULL;
}

const char *authsvc_webauthn_register(apr_pool_t *p, const authsvc_webauthn_rp_t *rp,
                                      const unsigned char *cdj, apr_size_t cdj_len,
                                      const unsigned char *att, apr_size_t att_len,
                                      authsvc_webauthn_cred_t *out)
{
    static const int algs[] = {AUTHSVC_COSE_ES256, AUTHSVC_COSE_EDDSA,
                               AUTHSVC_COSE_RS256};
    const char *why;
    fido_cred_t *c = NULL;
    attobj_t o;
    size_t i;

    memset(out, 0, sizeof(*out));
    if (att_len == 0 || att_len > ATT_MAX) {
        return "malformed";
    }
    if ((why = split_attobj(p, att, att_len, &o)) == NULL &&
        (why = check_head(rp, o.ad, o.ad_len)) == NULL) {
        /* libfido2 wants the key type before it parses the key: try each we accept. */
        for (i = 0; c == NULL && i < sizeof(algs) / sizeof(algs[0]); i++) {
            c = make_cred(algs[i], rp, cdj, cdj_len, &o);
        }
        if (c == NULL) {
            why = "algorithm";
        }
        else if ((why = check_statement(c, &o)) == NULL) {
            why = copy_out(p, c, algs[i - 1], o.fmt, out);
        }
    }
    fido_cred_free(&c);
    free(o.stmt);
    if (o.root != NULL) {
        cbor_decref(&o.root);
    }
    return why;
}

/* Verify the assertion with a key of libfido2's type for alg. */
static const char *verify_with(fido_assert_t *a, int alg, const unsigned char *pk,
                               apr_size_t pk_len)
{
    int rc = FIDO_ERR_INVALID_ARGUMENT;

    if (alg == AUTHSVC_COSE_ES256) {
        es256_pk_t *k = es256_pk_new();
        if (k != NULL && es256_pk_from_ptr(k, pk, pk_len) == FIDO_OK) {
            rc = fido_assert_verify(a, 0, COSE_ES256, k);
        }
        es256_pk_free(&k);
    }
    else if (alg == AUTHSVC_COSE_EDDSA) {
        eddsa_pk_t *k = eddsa_pk_new();
        if (k != NULL && eddsa_pk_from_ptr(k, pk, pk_len) == FIDO_OK) {
            rc = fido_assert_verify(a, 0, COSE_EDDSA, k);
        }
        eddsa_pk_free(&k);
    }
    else if (alg == AUTHSVC_COSE_RS256) {
        rs256_pk_t *k = rs256_pk_new();
        if (k != NULL && rs256_pk_from_ptr(k, pk, pk_len) == FIDO_OK) {
            rc = fido_assert_verify(a, 0, COSE_RS256, k);
        }
        rs256_pk_free(&k);
    }
    else {
        return "algorithm";
    }
    return rc == FIDO_OK ? NULL : "signature";
}

const char *authsvc_webauthn_assert(const authsvc_webauthn_rp_t *rp,
                                    const unsigned char *cdj, apr_size_t cdj_len,
                                    const unsigned char *ad, apr_size_t ad_len,
                                    const unsigned char *sig, apr_size_t sig_len, int alg,
                                    const unsigned char *pubkey, apr_size_t pubkey_len,
                                    unsigned long *sign_count, unsigned int *flags)
{
    fido_assert_t *a;
    const char *why;

    *sign_count = 0;
    *flags = 0;
    if (ad_len > ATT_MAX || sig_len == 0 || sig_len > 1024) {
        return "malformed";
    }
    if ((why = check_head(rp, ad, ad_len)) != NULL) {
        return why;
    }
    if ((a = fido_assert_new()) == NULL) {
        return "malformed";
    }
    if (fido_assert_set_rp(a, rp->rp_id) != FIDO_OK ||
        fido_assert_set_clientdata(a, cdj, cdj_len) != FIDO_OK ||
        fido_assert_set_count(a, 1) != FIDO_OK ||
        fido_assert_set_authdata_raw(a, 0, ad, ad_len) != FIDO_OK ||
        fido_assert_set_sig(a, 0, sig, sig_len) != FIDO_OK ||
        fido_assert_set_up(a, FIDO_OPT_TRUE) != FIDO_OK ||
        fido_assert_set_uv(a, rp->uv_required ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) !=
            FIDO_OK) {
        why = "malformed";
    }
    else {
        why = verify_with(a, alg, pubkey, pubkey_len);
    }
    if (why == NULL) {
        *sign_count = fido_assert_sigcount(a, 0);
        *flags = fido_assert_flags(a, 0);
    }
    fido_assert_free(&a);
    return why;
}

int authsvc_webauthn_counter_ok(unsigned long stored, unsigned long seen)
{
    return (stored == 0 && seen == 0) || seen > stored;
}

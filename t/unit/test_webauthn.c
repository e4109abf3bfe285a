/* test_webauthn.c - webauthn.c: recorded registrations and assertions (ES256, EdDSA,
 * RS256; "none" and "packed" attestation) verified, and each check refusing what it
 * must: type, origin, cross-origin, RP ID hash, user presence and verification,
 * signatures, key types, malformed CBOR and JSON, the signature counter. */
#include <string.h>

#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"

#include "crypto.h"
#include "tap_apr.h"
#include "webauthn.h"
#include "webauthn_vectors.h"

static apr_pool_t *pool;

/* Every malloc of this test binary, libcbor's and libfido2's included, goes through
 * here, so that the CBOR tests can see the largest single request while `watching`. */
extern void *__libc_malloc(size_t n);
static size_t malloc_max;
static int watching;

void *malloc(size_t n)
{
    if (watching && n > malloc_max) {
        malloc_max = n;
    }
    return __libc_malloc(n);
}
static const authsvc_webauthn_rp_t rp = {"localhost", "http://localhost:8529", 0};

/* Decoded base64url bytes (a copy, so tests may tamper with them). */
static unsigned char *dec(const char *s, apr_size_t *len)
{
    const unsigned char *b = authsvc_crypto_b64url_decode(pool, s, strlen(s), len);

    if (b == NULL) {
        ok(0, "vector decodes");
        *len = 0;
        return (unsigned char *)"";
    }
    return apr_pmemdup(pool, b, *len);
}

static const char *reg(const authsvc_webauthn_rp_t *r, const wa_vector_t *v,
                       unsigned char *att, apr_size_t att_len, authsvc_webauthn_cred_t *c)
{
    apr_size_t n;
    unsigned char *cdj = dec(v->reg_cdj, &n);

    return authsvc_webauthn_register(pool, r, cdj, n, att, att_len, c);
}

static const char *get(const authsvc_webauthn_rp_t *r, const wa_vector_t *v,
                       const authsvc_webauthn_cred_t *c, unsigned char *ad,
                       apr_size_t ad_len, unsigned char *sig, apr_size_t sig_len,
                       unsigned long *count)
{
    apr_size_t n;
    unsigned char *cdj = dec(v->get_cdj, &n);
    unsigned int flags;

    return authsvc_webauthn_assert(r, cdj, n, ad, ad_len, sig, sig_len, c->alg, c->pubkey,
                                   c->pubkey_len, count, &flags);
}

static void test_vector(const wa_vector_t *v)
{
    authsvc_webauthn_cred_t c;
    apr_size_t cdj_len, att_len, ad_len, sig_len;
    unsigned char *cdj = dec(v->reg_cdj, &cdj_len), *att = dec(v->att, &att_len);
    unsigned char *ad = dec(v->get_cdj, &ad_len);
    unsigned char *sig;
    const char *ch = NULL, *why;
    unsigned long count = 99;
    authsvc_webauthn_rp_t other = rp;

    note("%s", v->name);
    is_str(authsvc_webauthn_client_data(pool, &rp, "webauthn.create", cdj, cdj_len, &ch),
           NULL, "%s: registration client data", v->name);
    is_str(ch, "cmVnaXN0ZXI", "%s: its challenge", v->name);
    is_str(authsvc_webauthn_client_data(pool, &rp, "webauthn.get", cdj, cdj_len, &ch),
           "type", "%s: a create is no get", v->name);
    other.origin = "http://localhost:8530";
    is_str(
        authsvc_webauthn_client_data(pool, &other, "webauthn.create", cdj, cdj_len, &ch),
        "origin", "%s: another origin refused", v->name);
    ad = dec(v->get_cdj, &ad_len);
    is_str(authsvc_webauthn_client_data(pool, &rp, "webauthn.get", ad, ad_len, &ch), NULL,
           "%s: assertion client data", v->name);
    is_str(ch, "YXNzZXJ0", "%s: its challenge", v->name);

    why = reg(&rp, v, att, att_len, &c);
    is_str(why, NULL, "%s: registration verifies", v->name);
    if (why != NULL) {
        return;
    }
    is_int(c.alg, v->alg, "%s: key type", v->name);
    is_int((long long)c.id_len, 16, "%s: credential id length", v->name);
    is_int((long long)c.sign_count, 0, "%s: counter at registration", v->name);
    ok((c.flags & (AUTHSVC_WEBAUTHN_UP | AUTHSVC_WEBAUTHN_UV)) ==
           (AUTHSVC_WEBAUTHN_UP | AUTHSVC_WEBAUTHN_UV),
       "%s: UP and UV flags", v->name);
    other = rp;
    other.rp_id = "example.com";
    is_str(reg(&other, v, att, att_len, &c), "rp_id",
           "%s: registration for another RP ID", v->name);
    is_str(reg(&rp, v, att, att_len - 1, &c), "malformed", "%s: truncated CBOR", v->name);
    is_str(reg(&rp, v, att, att_len, &c), NULL, "%s: registration again", v->name);

    ad = dec(v->ad, &ad_len);
    sig = dec(v->sig, &sig_len);
    is_str(get(&rp, v, &c, ad, ad_len, sig, sig_len, &count), NULL,
           "%s: assertion verifies", v->name);
    is_int((long long)count, 1, "%s: its counter", v->name);
    other.uv_required = 1;
    other.rp_id = "localhost";
    is_str(get(&other, v, &c, ad, ad_len, sig, sig_len, &count), NULL,
           "%s: with user verification required", v->name);
    other.rp_id = "example.com";
    is_str(get(&other, v, &c, ad, ad_len, sig, sig_len, &count), "rp_id",
           "%s: assertion for another RP ID", v->name);
    sig[sig_len / 2] ^= 1;
    is_str(get(&rp, v, &c, ad, ad_len, sig, sig_len, &count), "signature",
           "%s: a flipped signature bit", v->name);
    sig[sig_len / 2] ^= 1;
    ad[36] ^= 1; /* the counter, under the signature */
    is_str(get(&rp, v, &c, ad, ad_len, sig, sig_len, &count), "signature",
           "%s: altered authenticator data", v->name);
    ad[36] ^= 1;
    ad[32] &= ~AUTHSVC_WEBAUTHN_UV;
    is_str(get(&other, v, &c, ad, ad_len, sig, sig_len, &count), "rp_id",
           "%s: (RP ID checked first)", v->name);
    other.rp_id = "localhost";
    is_str(get(&other, v, &c, ad, ad_len, sig, sig_len, &count), "user_verification",
           "%s: no UV under required", v->name);
    ad[32] &= ~AUTHSVC_WEBAUTHN_UP;
    is_str(get(&rp, v, &c, ad, ad_len, sig, sig_len, &count), "user_presence",
           "%s: no UP", v->name);
    is_str(get(&rp, v, &c, ad, 20, sig, sig_len, &count), "malformed",
           "%s: short authenticator data", v->name);
}

/* A key of one type presented as another, and flags refused at registration. */
static void test_cross(void)
{
    authsvc_webauthn_cred_t es, ed;
    apr_size_t n, m, k;
    unsigned char *att, *ad, *sig;
    unsigned long count;
    authsvc_webauthn_rp_t uv = rp;

    att = dec(wa_vectors[0].att, &n);
    is_str(reg(&rp, &wa_vectors[0], att, n, &es), NULL, "es256 registered");
    att = dec(wa_vectors[2].att, &n);
    is_str(reg(&rp, &wa_vectors[2], att, n, &ed), NULL, "eddsa registered");
    ad = dec(wa_vectors[0].ad, &m);
    sig = dec(wa_vectors[0].sig, &k);
    ed.alg = AUTHSVC_COSE_ES256;
    ok(get(&rp, &wa_vectors[0], &ed, ad, m, sig, k, &count) != NULL,
       "an EdDSA key read as ES256 verifies nothing");
    es.alg = 12345;
    is_str(get(&rp, &wa_vectors[0], &es, ad, m, sig, k, &count), "algorithm",
           "an unknown algorithm");

    /* The flags byte of the attested data sits right after the 32-byte hash inside the
     * CBOR byte string: find it by the RP ID hash. */
    att = dec(wa_vectors[0].att, &n);
    {
        unsigned char h[32];
        apr_size_t i;
        authsvc_crypto_sha256("localhost", 9, h);
        for (i = 0; i + 33 < n && memcmp(att + i, h, 32) != 0; i++) {
        }
        ok(i + 33 < n, "found the authenticator data");
        att[i + 32] &= ~AUTHSVC_WEBAUTHN_UV;
        uv.uv_required = 1;
        is_str(reg(&uv, &wa_vectors[0], att, n, &es), "user_verification",
               "registration without UV under required");
        is_str(reg(&rp, &wa_vectors[0], att, n, &es), NULL,
               "... accepted when UV is not required (fmt none signs nothing)");
        att[i + 32] &= ~AUTHSVC_WEBAUTHN_UP;
        is_str(reg(&rp, &wa_vectors[0], att, n, &es), "user_presence",
               "registration without UP");
    }
    att = dec(wa_vectors[1].att, &n); /* packed: the statement signs the data */
    att[n - 1] ^= 1;
    ok(reg(&rp, &wa_vectors[1], att, n, &es) != NULL, "packed: altered data refused");
    is_str(authsvc_webauthn_register(pool, &rp, (const unsigned char *)"{}", 2,
                                     (const unsigned char *)"\xa0", 1, &es),
           "malformed", "an empty CBOR map");
    is_str(authsvc_webauthn_register(pool, &rp, (const unsigned char *)"{}", 2,
                                     (const unsigned char *)"\xff\x00", 2, &es),
           "malformed", "not CBOR");
}

/* Found by t/fuzz/fuzz_webauthn: a definite CBOR map or array header claiming 2^26
 * items made cbor_load (ours, and libfido2's on the authenticator data) allocate 1 GB
 * before reading one item. Such claims are refused before any load. */
static void test_cbor_claims(void)
{
    /* a map claiming 2^26 pairs; a map whose attStmt is an array claiming 2^26 items */
    static const unsigned char top[] = "\xbb\x00\x00\x00\x00\x04\x00\x00\x00";
    static const unsigned char nested[] = "\xa1\x67" "attStmt"
                                          "\x9b\x00\x00\x00\x00\x04\x00\x00\x00";
    /* {"fmt":"none","attStmt":{},"authData":h(64)}: UP and AT, an empty credential id,
     * and as credential public key a map claiming 2^26 pairs (what libfido2 loads) */
    unsigned char att[] = "\xa3\x63" "fmt" "\x64" "none" "\x67" "attStmt" "\xa0"
                          "\x68" "authData" "\x58\x40"
                          "RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR" "\x41" "\x00\x00\x00\x00"
                          "\x00\x00\x00\x00\x00\x00\x00\x00"
                          "\x00\x00\x00\x00\x00\x00\x00\x00"
                          "\x00\x00" "\xbb\x00\x00\x00\x00\x04\x00\x00\x00";
    const unsigned char *cdj = (const unsigned char *)"{}";
    unsigned char *rph = att + 1 + 4 + 5 + 8 + 1 + 9 + 2;
    authsvc_webauthn_cred_t c;

    /* (libcbor allocates through malloc alone: what malloc_max watches.) */
    const struct {
        const unsigned char *cbor;
        size_t len;
        const char *what;
    } cases[] = {
        {top, sizeof(top) - 1, "a CBOR map claiming 2^26 pairs"},
        {nested, sizeof(nested) - 1, "a nested CBOR array claiming 2^26 items"},
        {att, sizeof(att) - 1, "a credential key in authData claiming 2^26 pairs"},
    };
    size_t i;

    authsvc_crypto_sha256(rp.rp_id, strlen(rp.rp_id), rph);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        watching = 1;
        malloc_max = 0;
        is_str(authsvc_webauthn_register(pool, &rp, cdj, 2, cases[i].cbor, cases[i].len, &c),
               "malformed", "%s", cases[i].what);
        watching = 0;
        ok(malloc_max < 1024 * 1024, "... refused without allocating for them (%zu)",
           malloc_max);
    }
}

static void test_client_data(void)
{
    static const struct {
        const char *json, *why;
    } cases[] = {
        {"{\"type\":\"webauthn.get\",\"challenge\":\"YQ\",\"origin\":\"http://"
         "localhost:8529\"}",
         NULL},
        {"{\"type\":\"webauthn.get\",\"challenge\":\"YQ\",\"origin\":\"http://"
         "localhost:8529\","
         "\"crossOrigin\":false}",
         NULL},
        {"{\"type\":\"webauthn.get\",\"challenge\":\"YQ\",\"origin\":\"http://"
         "localhost:8529\","
         "\"crossOrigin\":true}",
         "origin"},
        {"{\"type\":\"webauthn.get\",\"challenge\":\"YQ\",\"origin\":\"http://"
         "localhost:8529\","
         "\"crossOrigin\":1}",
         "malformed"},
        {"{\"type\":\"webauthn.get\",\"challenge\":\"Y+Q\",\"origin\":\"http://"
         "localhost:8529\"}",
         "challenge"},
        {"{\"type\":\"webauthn.get\",\"challenge\":\"\",\"origin\":\"http://"
         "localhost:8529\"}",
         "challenge"},
        {"{\"type\":\"webauthn.get\",\"origin\":\"http://localhost:8529\"}", "challenge"},
        {"{\"type\":\"webauthn.get\",\"challenge\":\"YQ\",\"origin\":\"http://"
         "localhost:8529/\"}",
         "origin"},
        {"{\"type\":\"webauthn.get\",\"challenge\":\"YQ\",\"origin\":\"http://"
         "evil.example\"}",
         "origin"},
        {"{\"type\":\"webauthn.create\",\"challenge\":\"YQ\",\"origin\":\"http://"
         "localhost:8529\"}",
         "type"},
        {"{\"challenge\":\"YQ\",\"origin\":\"http://localhost:8529\"}", "type"},
        {"{\"type\":\"webauthn.get\",\"type\":\"webauthn.get\",\"challenge\":\"YQ\"}",
         "malformed"},
        {"[1]", "malformed"},
        {"{", "malformed"},
        {"", "malformed"},
    };
    apr_size_t i;
    const char *ch;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        is_str(authsvc_webauthn_client_data(pool, &rp, "webauthn.get",
                                            (const unsigned char *)cases[i].json,
                                            strlen(cases[i].json), &ch),
               cases[i].why, "client data %s", cases[i].json);
    }
}

static void test_counter(void)
{
    ok(authsvc_webauthn_counter_ok(0, 0), "no counter kept: fine");
    ok(authsvc_webauthn_counter_ok(0, 1), "first count");
    ok(authsvc_webauthn_counter_ok(5, 6), "up by one");
    ok(authsvc_webauthn_counter_ok(5, 1000), "up by many");
    ok(!authsvc_webauthn_counter_ok(5, 5), "the same count: regression");
    ok(!authsvc_webauthn_counter_ok(5, 4), "lower: regression");
    ok(!authsvc_webauthn_counter_ok(5, 0), "back to zero: regression");
}

int main(void)
{
    apr_size_t i;

    pool = tap_apr_start();
    for (i = 0; i < sizeof(wa_vectors) / sizeof(wa_vectors[0]); i++) {
        test_vector(&wa_vectors[i]);
    }
    test_cross();
    test_client_data();
    test_counter();
    test_cbor_claims();
    return tap_apr_end(pool);
}

/*
 * webauthn.h - WebAuthn (Level 2) ceremony checks on the relying party's side (pure: apr,
 * libfido2, libcbor, OpenSSL and json.h; no httpd header).
 *
 * libfido2 parses the authenticator data and the attestation statement (CBOR) and
 * verifies every signature (with OpenSSL); libcbor only splits the attestation object
 * into its three members, which libfido2 1.12 has no setter for. The client data JSON is
 * read with jansson (json.c).
 *
 * Every check returns NULL when it passes, else a short reason (a stable word, safe to
 * audit and to show: "origin", "challenge", "rp_id", "user_presence",
 * "user_verification", "signature", "algorithm", "attestation", "malformed", "type").
 */
#ifndef AUTHSVC_WEBAUTHN_H
#define AUTHSVC_WEBAUTHN_H

#include "apr_pools.h"

/* COSE algorithms accepted for credential keys. */
#define AUTHSVC_COSE_ES256 (-7)
#define AUTHSVC_COSE_EDDSA (-8)
#define AUTHSVC_COSE_RS256 (-257)

/* Authenticator data flags (WebAuthn 6.1). */
#define AUTHSVC_WEBAUTHN_UP 0x01
#define AUTHSVC_WEBAUTHN_UV 0x04
#define AUTHSVC_WEBAUTHN_BE 0x08
#define AUTHSVC_WEBAUTHN_BS 0x10

/* The relying party, as configured. */
typedef struct {
    const char *rp_id;  /* "example.com" */
    const char *origin; /* "https://example.com" (scheme://host[:port]) */
    int uv_required;    /* refuse a ceremony without user verification */
} authsvc_webauthn_rp_t;

/* A credential as registered. */
typedef struct {
    int alg;                 /* AUTHSVC_COSE_* */
    const unsigned char *id; /* credential id */
    apr_size_t id_len;
    const unsigned char *pubkey; /* libfido2's raw form of the key (es256: x||y) */
    apr_size_t pubkey_len;
    unsigned long sign_count;
    unsigned int flags; /* authenticator data flags */
    const char *fmt;    /* attestation format */
} authsvc_webauthn_cred_t;

/* Check the client data JSON cdj[0..len) of a ceremony: `type` ("webauthn.create" or
 * "webauthn.get"), the origin equal to rp->origin, not cross-origin. *challenge gets the
 * challenge as sent (base64url text, in p) for the caller to look up and use up. */
const char *authsvc_webauthn_client_data(apr_pool_t *p, const authsvc_webauthn_rp_t *rp,
                                         const char *type, const unsigned char *cdj,
                                         apr_size_t len, const char **challenge);

/* Verify a registration: the attestation object att[0..att_len) made over client data
 * cdj (already checked with authsvc_webauthn_client_data): the RP ID hash, user presence,
 * user verification when required, an ES256/EdDSA/RS256 key, and the attestation
 * statement ("none"; "packed" self-attestation, or with a certificate whose signature is
 * checked but whose chain is not). *out in p. */
const char *authsvc_webauthn_register(apr_pool_t *p, const authsvc_webauthn_rp_t *rp,
                                      const unsigned char *cdj, apr_size_t cdj_len,
                                      const unsigned char *att, apr_size_t att_len,
                                      authsvc_webauthn_cred_t *out);

/* Verify an assertion: authenticator data ad[0..ad_len) and signature sig over it and
 * the hash of cdj (already checked) by the credential key (alg, pubkey): RP ID hash, user
 * presence, user verification when required. *sign_count and *flags get what the
 * authenticator said. */
const char *authsvc_webauthn_assert(const authsvc_webauthn_rp_t *rp,
                                    const unsigned char *cdj, apr_size_t cdj_len,
                                    const unsigned char *ad, apr_size_t ad_len,
                                    const unsigned char *sig, apr_size_t sig_len, int alg,
                                    const unsigned char *pubkey, apr_size_t pubkey_len,
                                    unsigned long *sign_count, unsigned int *flags);

/* 1 when the signature counter `seen` may follow `stored`: it went up, or the
 * authenticator keeps no counter (both zero). 0: a regression (a cloned key?). */
int authsvc_webauthn_counter_ok(unsigned long stored, unsigned long seen);

#endif

/* fuzz_webauthn.c - WebAuthn ceremonies (webauthn.c): clientDataJSON checks, the
 * attestation object (CBOR, authenticator data, COSE key, packed/none statements) of a
 * registration, and the authenticator data and signature of an assertion.
 * Input: first byte selects the entry point; the rest is split at "\0\0" free form:
 *   0: client data (webauthn.create and webauthn.get)
 *   1: client data NUL attestation object -> register
 *   2: client data NUL authenticator data NUL signature -> assert (ES256, EdDSA and
 *      RS256 with a fixed public key from the input's 4th part). */
#include "fuzz.h"
#include "webauthn.h"

static const authsvc_webauthn_rp_t rp = {"localhost", "http://localhost:8529", 0};

FUZZ_PLAIN_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int algs[] = {AUTHSVC_COSE_ES256, AUTHSVC_COSE_EDDSA, AUTHSVC_COSE_RS256};
    apr_pool_t *p;
    const char *part[4], *ch;
    size_t len[4];
    authsvc_webauthn_cred_t cred;
    unsigned long count;
    unsigned int flags;

    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, NULL);
    switch (data[0] % 3) {
    case 0:
        authsvc_webauthn_client_data(p, &rp, "webauthn.create", data + 1, size - 1, &ch);
        authsvc_webauthn_client_data(p, &rp, "webauthn.get", data + 1, size - 1, &ch);
        break;
    case 1:
        fuzz_split(p, data + 1, size - 1, '\0', 2, part, len);
        memset(&cred, 0, sizeof(cred));
        authsvc_webauthn_register(p, &rp, (const unsigned char *)part[0], len[0],
                                  (const unsigned char *)part[1], len[1], &cred);
        break;
    default:
        fuzz_split(p, data + 1, size - 1, '\0', 4, part, len);
        count = 0;
        authsvc_webauthn_assert(&rp, (const unsigned char *)part[0], len[0],
                                (const unsigned char *)part[1], len[1],
                                (const unsigned char *)part[2], len[2],
                                algs[(size + len[3]) % 3], (const unsigned char *)part[3],
                                len[3], &count, &flags);
        break;
    }
    apr_pool_destroy(p);
    return 0;
}

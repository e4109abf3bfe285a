/*
 * flow_passkey.c - passkeys (WebAuthn): registration, list, rename and removal on the
 * account, and sign-in with one. The checks of each ceremony are webauthn.c's; this file
 * holds the rules around them: challenges (random, stored hashed, single use, bound to
 * the ceremony and, for a registration, the account), the signature counter, the
 * account's state, audit rows, metrics and the session.
 */
#include "apr_encode.h"

#include "abuse.h"
#include "audit.h"
#include "config.h"
#include "crypto.h"
#include "flow.h"
#include "json.h"
#include "metrics.h"
#include "text.h"
#include "webauthn.h"

#define PASSKEY_NAME_MAX 64
#define PASSKEY_DEFAULT_NAME "Passkey"
/* RFC 8176: proof of possession of a hardware-secured key ("hwk") and a user presence
 * test ("user"; the UP flag is always required). That is one factor. Only when the
 * authenticator verified the user (UV flag: a PIN or a biometric, which one is not
 * told) is it two, "mfa", and the session counts as having passed a second factor
 * (mfa_at); without UV, `Require authsvc mfa` asks for more. */
#define PASSKEY_AMR "hwk user"
#define PASSKEY_AMR_UV "hwk user mfa"

/* The relying party in force, or not_found when passkeys cannot work here (no
 * AuthsvcPublicURL, or an RP ID that does not fit it): a disabled endpoint. */
static const authsvc_fail_t *relying_party(request_rec *r, authsvc_webauthn_cfg_t *cfg,
                                           authsvc_webauthn_rp_t *rp)
{
    authsvc_config_webauthn(r->server, cfg);
    if (cfg->rp_id == NULL || cfg->origin == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "passkeys need AuthsvcPublicURL (and "
                      "an AuthsvcWebAuthnRPID that is its host or a parent domain)");
        return authsvc_fail(r, "not_found", "passkeys are not set up on this server");
    }
    rp->rp_id = cfg->rp_id;
    rp->origin = cfg->origin;
    rp->uv_required = cfg->uv == AUTHSVC_UV_REQUIRED;
    return NULL;
}

void authsvc_flow_passkey_startup(server_rec *s)
{
    const authsvc_srv_cfg_t *c = authsvc_srv(s);
    authsvc_webauthn_cfg_t cfg;

    if (c->webauthn_rp_id == NULL) {
        return; /* the default, AuthsvcPublicURL's host, always fits */
    }
    authsvc_config_webauthn(s, &cfg);
    if (cfg.rp_id == NULL) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "passkeys are off on %s:%u: AuthsvcWebAuthnRPID %s is neither the "
                     "host of AuthsvcPublicURL (%s) nor a parent domain of it",
                     s->server_hostname ? s->server_hostname : "-", (unsigned)s->port,
                     c->webauthn_rp_id, c->public_host ? c->public_host : "not set");
    }
}

int authsvc_flow_passkeys_on(request_rec *r)
{
    authsvc_webauthn_cfg_t cfg;

    authsvc_config_webauthn(r->server, &cfg);
    return cfg.rp_id != NULL && cfg.origin != NULL;
}

static const char *uv_word(int uv)
{
    return uv == AUTHSVC_UV_REQUIRED    ? "required"
           : uv == AUTHSVC_UV_PREFERRED ? "preferred"
                                        : "discouraged";
}

/* A new challenge for `purpose`, stored hashed with its expiry; NULL on failure. */
static const char *new_challenge(request_rec *r, authsvc_db_t *db, const char *purpose,
                                 const char *user_id, const char *handle,
                                 apr_int64_t timeout)
{
    const char *c = authsvc_crypto_token(r->pool, AUTHSVC_TOKEN_BYTES);
    apr_int64_t now = AUTHSVC_NOW();

    if (c == NULL || authsvc_webauthn_challenge_insert(
                         db, authsvc_crypto_sha256_hex(r->pool, c, strlen(c)), purpose,
                         user_id, handle, now, now + timeout) != APR_SUCCESS) {
        return NULL;
    }
    return c;
}

/* {"type": "public-key", "id": ...[, "transports": [...]]} */
static authsvc_json_t *descriptor(request_rec *r, const char *id, const char *transports)
{
    authsvc_json_t *d = authsvc_json_object(r->pool);

    authsvc_json_set_str(d, "type", "public-key");
    authsvc_json_set_str(d, "id", id);
    if (transports != NULL && *transports != '\0') {
        authsvc_json_set(d, "transports", authsvc_json_words(r->pool, transports));
    }
    return d;
}

/* ---- the account's passkeys -------------------------------------------------------- */

const authsvc_fail_t *authsvc_flow_passkey_reg_options(request_rec *r,
                                                       authsvc_json_t **out)
{
    static const int algs[] = {AUTHSVC_COSE_ES256, AUTHSVC_COSE_EDDSA,
                               AUTHSVC_COSE_RS256};
    authsvc_webauthn_cfg_t cfg;
    authsvc_webauthn_rp_t rp;
    authsvc_identity_t *id;
    authsvc_user_t *u;
    authsvc_db_t *db;
    const authsvc_fail_t *fail;
    apr_array_header_t *keys;
    const char *handle = NULL, *challenge;
    authsvc_json_t *o, *x, *params, *excl;
    int i;

    if ((fail = relying_party(r, &cfg, &rp)) != NULL ||
        (fail = authsvc_flow_me_fresh(r, &id, &db, &u)) != NULL) {
        return fail;
    }
    if (authsvc_passkeys_list(db, u->id, &keys) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    excl = authsvc_json_array(r->pool);
    for (i = 0; i < keys->nelts; i++) {
        authsvc_passkey_t *k = APR_ARRAY_IDX(keys, i, authsvc_passkey_t *);
        handle = k->user_handle; /* one per account, kept while it has passkeys */
        authsvc_json_append(excl, descriptor(r, k->credential_id, k->transports));
    }
    if (handle == NULL &&
        (handle = authsvc_crypto_token(r->pool, AUTHSVC_TOKEN_BYTES)) == NULL) {
        return authsvc_fail(r, "unavailable", "no randomness for a user handle");
    }
    if ((challenge = new_challenge(r, db, "register", u->id, handle, cfg.timeout)) ==
        NULL) {
        return authsvc_fail(r, "unavailable", "the challenge could not be stored");
    }
    o = authsvc_json_object(r->pool);
    x = authsvc_json_object(r->pool);
    authsvc_json_set_str(x, "id", rp.rp_id);
    authsvc_json_set_str(x, "name", cfg.rp_name);
    authsvc_json_set(o, "rp", x);
    x = authsvc_json_object(r->pool);
    authsvc_json_set_str(x, "id", handle);
    authsvc_json_set_str(x, "name", u->email);
    authsvc_json_set_str(x, "displayName", u->username ? u->username : u->email);
    authsvc_json_set(o, "user", x);
    authsvc_json_set_str(o, "challenge", challenge);
    params = authsvc_json_array(r->pool);
    for (i = 0; i < (int)(sizeof(algs) / sizeof(algs[0])); i++) {
        x = authsvc_json_object(r->pool);
        authsvc_json_set_str(x, "type", "public-key");
        authsvc_json_set_int(x, "alg", algs[i]);
        authsvc_json_append(params, x);
    }
    authsvc_json_set(o, "pubKeyCredParams", params);
    authsvc_json_set_int(o, "timeout", cfg.timeout * 1000);
    authsvc_json_set(o, "excludeCredentials", excl);
    x = authsvc_json_object(r->pool);
    authsvc_json_set_str(x, "residentKey", "required");
    authsvc_json_set_bool(x, "requireResidentKey", 1);
    authsvc_json_set_str(x, "userVerification", uv_word(cfg.uv));
    authsvc_json_set(o, "authenticatorSelection", x);
    authsvc_json_set_str(o, "attestation", "none");
    *out = o;
    return NULL;
}

/* A base64url field as bytes: required (unless optional), canonical. NULL with a field
 * error in *errs (or, optional and absent, NULL without one). */
static const unsigned char *bytes(request_rec *r, const char *name,
                                  const authsvc_field_t *f, int optional, apr_size_t *len,
                                  apr_array_header_t **errs)
{
    const unsigned char *b;

    *len = 0;
    if (f->state != AUTHSVC_FIELD_SET) {
        if (!optional) {
            authsvc_problem_field(r, errs, name, "required", "is required");
        }
        return NULL;
    }
    if ((b = authsvc_crypto_b64url_decode(r->pool, f->s, f->len, len)) == NULL ||
        *len == 0) {
        authsvc_problem_field(r, errs, name, "invalid",
                              "must be base64url without padding");
        return NULL;
    }
    return b;
}

/* The credential's common members: type "public-key", rawId (and id, when sent, the
 * same), the client data. */
typedef struct {
    const unsigned char *raw_id, *cdj;
    apr_size_t raw_id_len, cdj_len;
} common_t;

static void common(request_rec *r, const authsvc_passkey_in_t *in, common_t *c,
                   apr_array_header_t **errs)
{
    if (in->type.state != AUTHSVC_FIELD_SET || in->type.len != 10 ||
        memcmp(in->type.s, "public-key", 10) != 0) {
        authsvc_problem_field(r, errs, "type", "invalid", "must be \"public-key\"");
    }
    c->raw_id = bytes(r, "rawId", &in->raw_id, 0, &c->raw_id_len, errs);
    if (c->raw_id != NULL && in->id.state == AUTHSVC_FIELD_SET &&
        (in->id.len != in->raw_id.len ||
         memcmp(in->id.s, in->raw_id.s, in->id.len) != 0)) {
        authsvc_problem_field(r, errs, "id", "invalid", "must be rawId");
    }
    c->cdj = bytes(r, "clientDataJSON", &in->client_data, 0, &c->cdj_len, errs);
}

/* A passkey's name: 1-64 characters of UTF-8 text without control characters. */
static const char *check_name(request_rec *r, const authsvc_field_t *f, int required,
                              apr_array_header_t **errs)
{
    if (f->state != AUTHSVC_FIELD_SET) {
        if (required) {
            authsvc_problem_field(r, errs, "name", "required", "is required");
        }
        return PASSKEY_DEFAULT_NAME;
    }
    if (f->len == 0 || authsvc_text_check_name(r->pool, f->s, f->len, PASSKEY_NAME_MAX)) {
        authsvc_problem_field(r, errs, "name", "invalid",
                              "must be 1-64 characters without control characters");
        return NULL;
    }
    return apr_pstrmemdup(r->pool, f->s, f->len);
}

/* Use up the challenge the client data carries, for `purpose`; NULL when there is no
 * live one (unknown, expired, used, or of another ceremony). */
static apr_status_t take(request_rec *r, authsvc_db_t *db, const char *challenge,
                         const char *purpose, int *found, const char **uid,
                         const char **handle)
{
    return authsvc_webauthn_challenge_take(
        db, authsvc_crypto_sha256_hex(r->pool, challenge, strlen(challenge)), purpose,
        AUTHSVC_NOW(), found, uid, handle);
}

static const authsvc_fail_t *invalid(request_rec *r, const char *why)
{
    return authsvc_fail(
        r, "passkey_invalid",
        apr_psprintf(r->pool, "the passkey could not be verified (%s)", why));
}

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
    authsvc_passkey_t *k;
} add_tx_t;

static apr_status_t add_tx(authsvc_db_t *db, void *baton)
{
    add_tx_t *tx = baton;
    authsvc_json_t *d;
    apr_table_t *vars;
    apr_status_t rv = authsvc_passkeys_insert(db, tx->k); /* APR_EEXIST: taken */

    if (rv != APR_SUCCESS) {
        return rv;
    }
    d = authsvc_json_object(tx->r->pool);
    authsvc_json_set_str(d, "passkey", tx->k->id);
    authsvc_json_set_str(d, "name", tx->k->name);
    authsvc_json_set_int(d, "alg", tx->k->alg);
    /* A passkey signs in without the password: the owner hears of a new one at once. */
    vars = authsvc_flow_mail_vars(tx->r, tx->u);
    apr_table_setn(vars, "passkey", tx->k->name);
    if ((rv = authsvc_flow_notify(tx->r, db, tx->u, "passkey_added", tx->u->email, vars)) !=
        APR_SUCCESS) {
        return rv;
    }
    return authsvc_audit(tx->r, db, "passkey_added", tx->k->user_id, NULL, d);
}

const authsvc_fail_t *authsvc_flow_passkey_add(request_rec *r,
                                               const authsvc_field_t *name,
                                               const authsvc_passkey_in_t *in,
                                               authsvc_passkey_t **out)
{
    authsvc_webauthn_cfg_t cfg;
    authsvc_webauthn_rp_t rp;
    authsvc_webauthn_cred_t cred;
    authsvc_identity_t *id;
    authsvc_user_t *u;
    authsvc_db_t *db;
    const authsvc_fail_t *fail;
    apr_array_header_t *errs = NULL;
    const unsigned char *att;
    apr_size_t att_len;
    const char *why, *challenge, *uid, *handle, *nm;
    authsvc_passkey_t *k;
    add_tx_t tx;
    apr_status_t rv;
    common_t c;
    int found;

    if ((fail = relying_party(r, &cfg, &rp)) != NULL ||
        (fail = authsvc_flow_me_fresh(r, &id, &db, &u)) != NULL) {
        return fail;
    }
    nm = check_name(r, name, 0, &errs);
    common(r, in, &c, &errs);
    att = bytes(r, "attestationObject", &in->attestation, 0, &att_len, &errs);
    if (errs != NULL) {
        return authsvc_fail_fields(r, errs);
    }
    if ((why = authsvc_webauthn_client_data(r->pool, &rp, "webauthn.create", c.cdj,
                                            c.cdj_len, &challenge)) != NULL) {
        return invalid(r, why);
    }
    if (take(r, db, challenge, "register", &found, &uid, &handle) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    if (!found || uid == NULL || strcmp(uid, u->id) != 0 || handle == NULL) {
        return invalid(r, "challenge");
    }
    if ((why = authsvc_webauthn_register(r->pool, &rp, c.cdj, c.cdj_len, att, att_len,
                                         &cred)) != NULL) {
        return invalid(r, why);
    }
    if (cred.id_len != c.raw_id_len || memcmp(cred.id, c.raw_id, c.raw_id_len) != 0) {
        return invalid(r, "credential_id");
    }
    k = apr_pcalloc(r->pool, sizeof(*k));
    k->id = authsvc_crypto_uuid(r->pool);
    k->user_id = u->id;
    k->credential_id = apr_pstrmemdup(r->pool, in->raw_id.s, in->raw_id.len);
    k->user_handle = handle;
    k->public_key = authsvc_crypto_b64url_encode(r->pool, cred.pubkey, cred.pubkey_len);
    k->alg = cred.alg;
    k->sign_count = (apr_int64_t)cred.sign_count;
    k->name = nm;
    k->transports = in->transports;
    k->backup_eligible = (cred.flags & AUTHSVC_WEBAUTHN_BE) != 0;
    k->backed_up = (cred.flags & AUTHSVC_WEBAUTHN_BS) != 0;
    k->created_at = AUTHSVC_NOW();
    if (k->id == NULL || k->public_key == NULL) {
        return authsvc_fail(r, "unavailable", "the passkey could not be stored");
    }
    tx.r = r;
    tx.u = u;
    tx.k = k;
    if ((rv = authsvc_store_transaction(db, add_tx, &tx)) != APR_SUCCESS) {
        return rv == APR_EEXIST
                   ? authsvc_fail(r, "passkey_exists",
                                  "this passkey is registered already")
                   : authsvc_fail(r, "unavailable", "the passkey could not be stored");
    }
    *out = k;
    return NULL;
}

const authsvc_fail_t *authsvc_flow_passkey_list(request_rec *r, apr_array_header_t **out)
{
    authsvc_identity_t *id;
    authsvc_user_t *u;
    authsvc_db_t *db;
    const authsvc_fail_t *fail;

    if ((fail = authsvc_flow_me(r, &id, &db, &u)) != NULL) {
        return fail;
    }
    if (authsvc_passkeys_list(db, u->id, out) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    return NULL;
}

/* The caller's passkey `pid` (from the list, so that the answer can show it). */
static authsvc_passkey_t *find_mine(authsvc_db_t *db, const char *uid, const char *pid)
{
    apr_array_header_t *keys;
    int i;

    if (authsvc_passkeys_list(db, uid, &keys) != APR_SUCCESS) {
        return NULL;
    }
    for (i = 0; i < keys->nelts; i++) {
        authsvc_passkey_t *k = APR_ARRAY_IDX(keys, i, authsvc_passkey_t *);
        if (strcmp(k->id, pid) == 0) {
            return k;
        }
    }
    return NULL;
}

typedef struct {
    request_rec *r;
    const char *uid, *pid, *name; /* name NULL: remove */
    int done;
} change_tx_t;

static apr_status_t change_tx(authsvc_db_t *db, void *baton)
{
    change_tx_t *tx = baton;
    authsvc_json_t *d = authsvc_json_object(tx->r->pool);
    apr_status_t rv =
        tx->name ? authsvc_passkeys_rename(db, tx->pid, tx->uid, tx->name, &tx->done)
                 : authsvc_passkeys_delete(db, tx->pid, tx->uid, &tx->done);

    if (rv != APR_SUCCESS || !tx->done) {
        return rv == APR_SUCCESS ? APR_ENOENT : rv;
    }
    authsvc_json_set_str(d, "passkey", tx->pid);
    if (tx->name != NULL) {
        authsvc_json_set_str(d, "name", tx->name);
    }
    return authsvc_audit(tx->r, db, tx->name ? "passkey_renamed" : "passkey_removed",
                         tx->uid, NULL, d);
}

static const authsvc_fail_t *change(request_rec *r, authsvc_db_t *db, const char *uid,
                                    const char *pid, const char *name)
{
    change_tx_t tx = {r, uid, pid, name, 0};
    apr_status_t rv = authsvc_store_transaction(db, change_tx, &tx);

    if (rv == APR_ENOENT) {
        return authsvc_fail(r, "not_found", "no such passkey");
    }
    return rv == APR_SUCCESS
               ? NULL
               : authsvc_fail(r, "unavailable", "the change could not be stored");
}

const authsvc_fail_t *authsvc_flow_passkey_rename(request_rec *r, const char *pid,
                                                  const authsvc_field_t *name,
                                                  authsvc_passkey_t **out)
{
    authsvc_identity_t *id;
    authsvc_user_t *u;
    authsvc_db_t *db;
    const authsvc_fail_t *fail;
    apr_array_header_t *errs = NULL;
    const char *nm;

    if ((fail = authsvc_flow_me(r, &id, &db, &u)) != NULL) {
        return fail;
    }
    nm = check_name(r, name, 1, &errs);
    if (errs != NULL) {
        return authsvc_fail_fields(r, errs);
    }
    if ((fail = change(r, db, u->id, pid, nm)) != NULL) {
        return fail;
    }
    if ((*out = find_mine(db, u->id, pid)) == NULL) {
        return authsvc_fail(r, "not_found", "no such passkey");
    }
    return NULL;
}

const authsvc_fail_t *authsvc_flow_passkey_remove(request_rec *r, const char *pid)
{
    authsvc_identity_t *id;
    authsvc_user_t *u;
    authsvc_db_t *db;
    const authsvc_fail_t *fail;

    if ((fail = authsvc_flow_me_fresh(r, &id, &db, &u)) != NULL) {
        return fail;
    }
    return change(r, db, u->id, pid, NULL);
}

/* ---- sign-in ---------------------------------------------------------------------- */

/* Discoverable credentials only: allowCredentials is always empty, so the answer is
 * the same for everyone and tells nothing about which accounts exist or have passkeys. */
const authsvc_fail_t *authsvc_flow_passkey_login_options(request_rec *r,
                                                         authsvc_json_t **out)
{
    authsvc_webauthn_cfg_t cfg;
    authsvc_webauthn_rp_t rp;
    authsvc_db_t *db;
    const authsvc_fail_t *fail;
    const char *challenge;

    if ((fail = relying_party(r, &cfg, &rp)) != NULL ||
        (fail = authsvc_abuse_limit(r, AUTHSVC_RL_LOGIN, 1, NULL, NULL, NULL)) != NULL ||
        (fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    if ((challenge = new_challenge(r, db, "login", NULL, NULL, cfg.timeout)) == NULL) {
        return authsvc_fail(r, "unavailable", "the challenge could not be stored");
    }
    *out = authsvc_json_object(r->pool);
    authsvc_json_set_str(*out, "challenge", challenge);
    authsvc_json_set_int(*out, "timeout", cfg.timeout * 1000);
    authsvc_json_set_str(*out, "rpId", rp.rp_id);
    authsvc_json_set(*out, "allowCredentials", authsvc_json_array(r->pool));
    authsvc_json_set_str(*out, "userVerification", uv_word(cfg.uv));
    return NULL;
}

/* The one answer to every failed passkey sign-in; the reason goes into the audit row. */
static const authsvc_fail_t *refused(request_rec *r, authsvc_db_t *db, const char *uid,
                                     const char *event, const char *why,
                                     authsvc_json_t *d)
{
    if (d == NULL) {
        d = authsvc_json_object(r->pool);
    }
    authsvc_json_set_str(d, "reason", apr_pstrcat(r->pool, "passkey_", why, NULL));
    authsvc_audit(r, db, event, uid, NULL, d);
    return authsvc_fail(r, "passkey_failed", "the passkey could not be verified");
}

typedef struct {
    request_rec *r;
    authsvc_user_t *u;
    authsvc_passkey_t *k;
    unsigned long count;
    unsigned int flags;
    authsvc_authn_t how;
    authsvc_login_out_t *out; /* NULL: the second factor is still to come */
} login_tx_t;

static apr_status_t login_tx(authsvc_db_t *db, void *baton)
{
    login_tx_t *tx = baton;
    int done = 0;
    apr_status_t rv =
        authsvc_passkeys_use(db, tx->k, (apr_int64_t)tx->count,
                             (tx->flags & AUTHSVC_WEBAUTHN_BS) != 0, tx->how.auth_at, &done);

    if (rv == APR_SUCCESS && !done) {
        return APR_EEXIST; /* another sign-in moved the counter meanwhile */
    }
    if (rv != APR_SUCCESS || tx->out == NULL) {
        return rv;
    }
    return authsvc_flow_session_start(tx->r, db, tx->u, &tx->how, NULL, tx->out);
}

static const authsvc_fail_t *passkey_login(request_rec *r, const authsvc_passkey_in_t *in,
                                           authsvc_login_out_t *out)
{
    authsvc_webauthn_cfg_t cfg;
    authsvc_webauthn_rp_t rp;
    authsvc_db_t *db;
    const authsvc_fail_t *fail;
    apr_array_header_t *errs = NULL;
    const unsigned char *ad, *sig, *uh, *pk;
    apr_size_t ad_len, sig_len, uh_len, pk_len;
    const char *why, *challenge, *uid, *handle;
    authsvc_passkey_t *k = NULL;
    authsvc_user_t *u = NULL;
    login_tx_t tx;
    apr_status_t rv;
    common_t c;
    int found, uv;

    if ((fail = relying_party(r, &cfg, &rp)) != NULL ||
        (fail = authsvc_abuse_limit(r, AUTHSVC_RL_LOGIN, 1, NULL, NULL, NULL)) != NULL) {
        return fail;
    }
    common(r, in, &c, &errs);
    ad = bytes(r, "authenticatorData", &in->authenticator_data, 0, &ad_len, &errs);
    sig = bytes(r, "signature", &in->signature, 0, &sig_len, &errs);
    /* Decoded only to refuse what is not base64url: it is compared as sent below. */
    uh = bytes(r, "userHandle", &in->user_handle, 1, &uh_len, &errs);
    (void)uh;
    if (errs != NULL) {
        return authsvc_fail_fields(r, errs);
    }
    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    if ((why = authsvc_webauthn_client_data(r->pool, &rp, "webauthn.get", c.cdj,
                                            c.cdj_len, &challenge)) != NULL) {
        return refused(r, db, NULL, "login_failure", why, NULL);
    }
    if (take(r, db, challenge, "login", &found, &uid, &handle) != APR_SUCCESS ||
        authsvc_passkeys_by_cred(db,
                                 apr_pstrmemdup(r->pool, in->raw_id.s, in->raw_id.len),
                                 &k) != APR_SUCCESS ||
        (k != NULL && authsvc_users_by_id(db, k->user_id, &u) != APR_SUCCESS)) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    if (!found) {
        return refused(r, db, u ? u->id : NULL, "login_failure", "challenge", NULL);
    }
    if (k == NULL || u == NULL) {
        return refused(r, db, NULL, "login_failure", "unknown", NULL);
    }
    if (in->user_handle.state == AUTHSVC_FIELD_SET &&
        (in->user_handle.len != strlen(k->user_handle) ||
         memcmp(in->user_handle.s, k->user_handle, in->user_handle.len) != 0)) {
        return refused(r, db, u->id, "login_failure", "user_handle", NULL);
    }
    pk = authsvc_crypto_b64url_decode(r->pool, k->public_key, strlen(k->public_key),
                                      &pk_len);
    tx.count = 0;
    tx.flags = 0;
    if ((why = pk == NULL ? "key"
                          : authsvc_webauthn_assert(&rp, c.cdj, c.cdj_len, ad, ad_len,
                                                    sig, sig_len, k->alg, pk, pk_len,
                                                    &tx.count, &tx.flags)) != NULL) {
        return refused(r, db, u->id, "login_failure", why, NULL);
    }
    if (!authsvc_webauthn_counter_ok((unsigned long)k->sign_count, tx.count)) {
        authsvc_json_t *d = authsvc_json_object(r->pool);
        authsvc_json_set_str(d, "passkey", k->id);
        authsvc_json_set_int(d, "stored", k->sign_count);
        authsvc_json_set_int(d, "seen", (long long)tx.count);
        return refused(r, db, u->id, "passkey_counter_regression", "counter", d);
    }
    if (strcmp(u->status, "active") != 0) {
        return refused(r, db, u->id, "login_failure", "disabled", NULL);
    }
    if (u->email_verified_at == 0 &&
        authsvc_config_require_verified(authsvc_srv(r->server))) {
        return authsvc_flow_unverified(r, db, u, NULL);
    }
    tx.r = r;
    tx.u = u;
    tx.k = k;
    uv = (tx.flags & AUTHSVC_WEBAUTHN_UV) != 0;
    tx.how.auth_at = AUTHSVC_NOW();
    tx.how.mfa_at = uv ? tx.how.auth_at : 0;
    tx.how.amr = uv ? PASSKEY_AMR_UV : PASSKEY_AMR;
    /* A passkey without user verification is one factor: on an account with a second
     * factor, that factor is still asked for (as after a password), unless this browser
     * is remembered. */
    tx.out = uv || u->mfa_enabled_at == 0 || authsvc_flow_remembered(r, db, u, &tx.how)
                 ? out
                 : NULL;
    if ((rv = authsvc_store_transaction(db, login_tx, &tx)) != APR_SUCCESS) {
        return rv == APR_EEXIST
                   ? refused(r, db, u->id, "login_failure", "counter_race", NULL)
                   : authsvc_fail(r, "unavailable", "the session could not be stored");
    }
    if (tx.out == NULL) {
        return authsvc_flow_mfa_challenge(r, db, u, NULL, PASSKEY_AMR);
    }
    out->user = u;
    return NULL;
}

/* Every outcome is counted once, as for a password sign-in. */
const authsvc_fail_t *authsvc_flow_passkey_login(request_rec *r,
                                                 const authsvc_passkey_in_t *in,
                                                 authsvc_login_out_t *out)
{
    const authsvc_fail_t *fail = passkey_login(r, in, out);

    authsvc_metrics_login(fail ? fail->code : NULL);
    return fail;
}

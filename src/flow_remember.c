/*
 * flow_remember.c - "remember this device": after the second step of a sign-in, a user
 * may have the browser remembered for AuthsvcMFARememberDays days; a later sign-in of
 * the same user from that browser then skips the second step. The list of remembered
 * devices (GET /users/me/devices), forgetting one or all of them (DELETE), and their
 * revocation when the password changes or the second factor goes.
 *
 * The browser holds a device cookie (the session cookie's name + "_device") with 32
 * random bytes; the database keeps only their SHA-256, with the user it belongs to. A
 * random token looked up by its hash cannot be forged (nothing to sign), and it is
 * revoked by deleting its row. The cookie of another user's device does nothing: every
 * lookup names the user the password (or other first factor) identified.
 */
#include "audit.h"
#include "config.h"
#include "crypto.h"
#include "flow.h"
#include "json.h"
#include "request.h"

#define PUBLIC_ID_BYTES 16

/* r->notes: the remembered device that stood in for the second step of this sign-in
 * (its public id), for the login_success audit row (authsvc_flow_methods_detail). */
#define NOTE_DEVICE "authsvc-remembered-device"

/* ---- the device cookie ------------------------------------------------------------ */

/* As the session cookie (Secure, Domain), but never SameSite=None: the device cookie
 * is only needed by this site's own sign-in. */
static void device_cookie(request_rec *r, const char *value, apr_int64_t max_age)
{
    const char *s = authsvc_cookie_samesite(r);

    authsvc_cookie_set(r, authsvc_device_cookie_name(r), value, max_age,
                       strcmp(s, "Strict") == 0 ? "Strict" : "Lax", 1);
}

void authsvc_flow_remember_cookie(request_rec *r, const char *token)
{
    apr_int64_t days = authsvc_config_remember_days(authsvc_srv(r->server));

    if (token != NULL) {
        device_cookie(r, token, days * 86400);
    }
}

/* Tell the browser to drop the device cookie. */
static void clear_cookie(request_rec *r)
{
    device_cookie(r, "", 0);
}

/* The SHA-256 of the device token this request's cookie carries, or NULL when there
 * is none or it cannot be one of ours (garbage is no error: it is ignored). */
static const char *cookie_hash(request_rec *r)
{
    const char *t = authsvc_cookie_get(r, authsvc_device_cookie_name(r));

    if (t == NULL || !authsvc_crypto_token_plausible(t, strlen(t))) {
        return NULL;
    }
    return authsvc_crypto_sha256_hex(r->pool, t, strlen(t));
}

/* ---- sign-in ---------------------------------------------------------------------- */

int authsvc_flow_remembered(request_rec *r, authsvc_db_t *db, const authsvc_user_t *u,
                            authsvc_authn_t *how)
{
    const char *hash, *id = NULL;
    apr_int64_t now = AUTHSVC_NOW(), not_before;

    if (authsvc_config_remember_days(authsvc_srv(r->server)) == 0 ||
        (hash = cookie_hash(r)) == NULL) {
        return 0;
    }
    /* Only a device remembered under the present second factor: one turned off and on
     * again (even where the rows were not deleted, by authsvc-admin) starts afresh. */
    /* ... and within the AuthsvcMFARememberDays in force now: a shorter setting also
     * shortens the devices remembered under a longer one. */
    not_before = now - (apr_int64_t)authsvc_config_remember_days(authsvc_srv(r->server)) * 86400;
    if (not_before < u->mfa_enabled_at) {
        not_before = u->mfa_enabled_at;
    }
    if (authsvc_remembered_use(db, hash, u->id, not_before, now, &id) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "could not look up the remembered devices of user %s: the second "
                      "step is asked for", u->id);
        return 0;
    }
    if (id == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "the device cookie names no remembered device of user %s", u->id);
        return 0;
    }
    /* The device stands in for the code: the failed attempts are cleared as a code
     * would clear them (the password step only handed its own attempt back). */
    if (authsvc_lockout_success(db, u->id) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "could not reset the failed sign-ins of user %s", u->id);
    }
    how->mfa_at = now;
    how->amr = apr_pstrcat(r->pool, how->amr ? how->amr : "pwd", " " AUTHSVC_AMR_REMEMBERED,
                           NULL);
    apr_table_setn(r->notes, NOTE_DEVICE, id);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "remembered device %s of user %s stands in for the second step", id,
                  u->id);
    return 1;
}

void authsvc_flow_remembered_detail(request_rec *r, authsvc_json_t *d)
{
    const char *id = apr_table_get(r->notes, NOTE_DEVICE);

    if (id != NULL) {
        authsvc_json_set_str(d, "remembered_device", id);
    }
}

apr_status_t authsvc_flow_remember_device(request_rec *r, authsvc_db_t *db,
                                          const authsvc_user_t *u, int wanted,
                                          const char **token)
{
    const authsvc_client_t *cl = authsvc_request_client(r);
    int days = authsvc_config_remember_days(authsvc_srv(r->server));
    authsvc_json_t *detail;
    authsvc_device_t d;
    apr_status_t rv;

    *token = NULL;
    if (!wanted || days == 0) {
        return APR_SUCCESS;
    }
    memset(&d, 0, sizeof(d));
    d.id = authsvc_crypto_token(r->pool, PUBLIC_ID_BYTES);
    *token = authsvc_crypto_token(r->pool, AUTHSVC_TOKEN_BYTES);
    if (d.id == NULL || *token == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "no randomness for a device token");
        *token = NULL;
        return APR_EGENERAL;
    }
    d.token_hash = authsvc_crypto_sha256_hex(r->pool, *token, strlen(*token));
    d.user_id = u->id;
    d.created_at = AUTHSVC_NOW();
    d.expires_at = d.created_at + (apr_int64_t)days * 86400;
    d.ip = cl->ip;
    d.user_agent = cl->user_agent;
    /* The user's expired rows go whenever a new one comes: nothing else prunes them. */
    if ((rv = authsvc_remembered_prune_user(db, u->id, d.created_at)) != APR_SUCCESS ||
        (rv = authsvc_remembered_insert(db, &d)) != APR_SUCCESS) {
        *token = NULL;
        return rv;
    }
    detail = authsvc_json_object(r->pool);
    authsvc_json_set_str(detail, "device", d.id);
    authsvc_json_set_int(detail, "days", days);
    return authsvc_audit(r, db, "device_remembered", u->id, NULL, detail);
}

/* ---- the list, forgetting --------------------------------------------------------- */

const authsvc_fail_t *authsvc_flow_devices(request_rec *r, apr_array_header_t **out,
                                           const char **current)
{
    authsvc_identity_t *me = NULL;
    const authsvc_fail_t *fail;
    const char *hash = cookie_hash(r);
    authsvc_db_t *db;
    int i;

    *current = NULL;
    if ((fail = authsvc_flow_whoami(r, &me)) != NULL ||
        (fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    if (authsvc_remembered_list(db, me->user->id, AUTHSVC_NOW(), out) != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable", "the account database is unreachable");
    }
    for (i = 0; hash != NULL && i < (*out)->nelts; i++) {
        const authsvc_device_t *d = &APR_ARRAY_IDX(*out, i, authsvc_device_t);
        if (d->token_hash != NULL && authsvc_crypto_streq(d->token_hash, hash)) {
            *current = d->id;
        }
    }
    return NULL;
}

/* In the caller's transaction: forget uid's device id (NULL: all of them), audited
 * device_forgotten {device|count, reason} when any went; *count how many. */
static apr_status_t forget(request_rec *r, authsvc_db_t *db, const char *uid,
                           const char *id, const char *reason, int *count)
{
    authsvc_json_t *detail;
    apr_status_t rv = authsvc_remembered_delete(db, uid, id, count);

    if (rv != APR_SUCCESS || *count == 0) {
        return rv;
    }
    detail = authsvc_json_object(r->pool);
    if (id != NULL) {
        authsvc_json_set_str(detail, "device", id);
    }
    authsvc_json_set_int(detail, "count", *count);
    authsvc_json_set_str(detail, "reason", reason);
    return authsvc_audit(r, db, "device_forgotten", uid, NULL, detail);
}

apr_status_t authsvc_flow_devices_revoke(request_rec *r, authsvc_db_t *db, const char *uid,
                                         const char *reason)
{
    int count = 0;

    return forget(r, db, uid, NULL, reason, &count);
}

typedef struct {
    request_rec *r;
    const char *uid;
    const char *id;
    int count;
} forget_tx_t;

static apr_status_t forget_tx(authsvc_db_t *db, void *baton)
{
    forget_tx_t *tx = baton;
    apr_status_t rv = forget(tx->r, db, tx->uid, tx->id, "user", &tx->count);

    return rv == APR_SUCCESS && tx->id != NULL && tx->count == 0 ? APR_NOTFOUND : rv;
}

const authsvc_fail_t *authsvc_flow_forget_devices(request_rec *r, const char *id)
{
    authsvc_identity_t *me = NULL;
    const authsvc_fail_t *fail;
    apr_array_header_t *list = NULL;
    const char *current = NULL;
    authsvc_db_t *db;
    forget_tx_t tx;
    apr_status_t rv;

    /* The list first: whether this browser's own device is among those that go. */
    if ((fail = authsvc_flow_devices(r, &list, &current)) != NULL ||
        (fail = authsvc_flow_whoami(r, &me)) != NULL ||
        (fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    tx.r = r;
    tx.uid = me->user->id;
    tx.id = id;
    tx.count = 0;
    rv = authsvc_store_transaction(db, forget_tx, &tx);
    if (rv == APR_NOTFOUND) {
        return authsvc_fail(r, "not_found", "you have no such remembered device");
    }
    if (rv != APR_SUCCESS) {
        return authsvc_fail(r, "unavailable",
                            "the devices could not be forgotten; try again");
    }
    if (current != NULL && (id == NULL || strcmp(id, current) == 0)) {
        clear_cookie(r);
    }
    return NULL;
}

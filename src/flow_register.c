/*
 * flow_register.c - POST /auth/register: validate, hash, insert, audit.
 */
#include "abuse.h"
#include "audit.h"
#include "config.h"
#include "crypto.h"
#include "flow.h"
#include "metrics.h"
#include "text.h"

/* Each field is checked and every complaint is reported at once. */
static apr_array_header_t *validate(request_rec *r, const authsvc_register_in_t *in,
                                    const char **email)
{
    apr_array_header_t *errs = NULL;
    authsvc_user_t ctx;
    const char *msg;

    if (in->email.state != AUTHSVC_FIELD_SET) {
        authsvc_problem_field(r, &errs, "email", "required", "is required");
    }
    else if ((msg = authsvc_text_email_normalize(r->pool, in->email.s, in->email.len,
                                                 email)) != NULL) {
        authsvc_problem_field(r, &errs, "email", "invalid_email", msg);
    }
    authsvc_flow_check_username(r, &in->username, &errs);
    authsvc_flow_check_name(r, "first_name", &in->first_name, &errs);
    authsvc_flow_check_name(r, "last_name", &in->last_name, &errs);
    /* The password may not contain the account's own names. */
    memset(&ctx, 0, sizeof(ctx));
    ctx.email = *email;
    ctx.username = AUTHSVC_FIELD_VALUE(&in->username);
    ctx.first_name = AUTHSVC_FIELD_VALUE(&in->first_name);
    ctx.last_name = AUTHSVC_FIELD_VALUE(&in->last_name);
    authsvc_flow_check_new_password(r, &ctx, "password", &in->password, &errs);
    return errs;
}

typedef struct {
    request_rec *r;
    const authsvc_user_t *u;
    authsvc_insert_t outcome;
    const char *why;
} insert_tx_t;

/* The account and its audit row commit together, or neither does. */
static apr_status_t insert_tx(authsvc_db_t *db, void *baton)
{
    insert_tx_t *tx = baton;
    apr_status_t rv = authsvc_users_insert(db, tx->u, &tx->outcome);

    if (rv == APR_SUCCESS && tx->outcome != AUTHSVC_INSERTED) {
        return APR_EEXIST;
    }
    if (rv == APR_SUCCESS) {
        rv = authsvc_audit(tx->r, db, "register", tx->u->id, tx->u->email, NULL);
    }
    if (rv == APR_SUCCESS) { /* the device it registered from is no new device */
        rv = authsvc_flow_new_device(tx->r, db, tx->u, 0);
    }
    if (rv == APR_SUCCESS) {
        rv = authsvc_flow_send_token(tx->r, db, tx->u, AUTHSVC_TOKEN_VERIFY,
                                     tx->u->email, &tx->why);
    }
    return rv;
}

static const authsvc_fail_t *taken(request_rec *r, authsvc_insert_t outcome)
{
    return outcome == AUTHSVC_EMAIL_TAKEN
               ? authsvc_fail(r, "email_taken", "an account with this email already exists")
               : authsvc_fail(r, "username_taken", "this username is taken");
}

const authsvc_fail_t *authsvc_flow_register(request_rec *r, const authsvc_register_in_t *in,
                                            authsvc_user_t **out)
{
    apr_array_header_t *errs;
    const authsvc_fail_t *fail;
    authsvc_user_t *u;
    authsvc_db_t *db;
    insert_tx_t tx;
    const char *email = NULL;
    apr_status_t rv;

    if (!authsvc_config_registration(authsvc_dir(r))) {
        return authsvc_fail(r, "registration_closed", "new accounts cannot register here");
    }
    if ((errs = validate(r, in, &email)) != NULL) {
        return authsvc_fail_fields(r, errs);
    }
    if ((fail = authsvc_abuse_limit(r, AUTHSVC_RL_REGISTER, 1,
                                    authsvc_abuse_name_key(r, email, strlen(email)), NULL,
                                    email)) != NULL) {
        return fail;
    }
    u = apr_pcalloc(r->pool, sizeof(*u));
    u->id = authsvc_crypto_uuid(r->pool);
    u->email = email;
    u->username = AUTHSVC_FIELD_VALUE(&in->username);
    u->first_name = AUTHSVC_FIELD_VALUE(&in->first_name);
    u->last_name = AUTHSVC_FIELD_VALUE(&in->last_name);
    u->status = "active";
    u->roles = "";
    u->created_at = u->updated_at = AUTHSVC_NOW();
    /* Hash before the transaction: the write lock is never held across Argon2. */
    if (u->id == NULL) {
        return authsvc_fail(r, "unavailable", "the account could not be created");
    }
    if ((fail = authsvc_flow_hash_password(r, "register", &in->password,
                                           &u->password_hash)) != NULL) {
        return fail;
    }
    if ((fail = authsvc_flow_db(r, &db)) != NULL) {
        return fail;
    }
    /* A bot: the answers of a real registration (a taken address or name included, at
     * the same cost), but nothing stored or sent. */
    if (in->honeypot) {
        int found = 0;
        authsvc_abuse_honeypot_audit(r, "register", email);
        if (authsvc_users_conflict(db, u, &tx.outcome, &found) != APR_SUCCESS) {
            return authsvc_fail(r, "unavailable", "the account database is unreachable");
        }
        if (found) {
            return taken(r, tx.outcome);
        }
        *out = u;
        return NULL;
    }
    tx.r = r;
    tx.u = u;
    tx.outcome = AUTHSVC_INSERTED;
    tx.why = NULL;
    rv = authsvc_store_transaction(db, insert_tx, &tx);
    if (rv == APR_EEXIST) {
        return taken(r, tx.outcome);
    }
    if (rv != APR_SUCCESS) {
        return authsvc_flow_mail_fail(r, rv, tx.why);
    }
    authsvc_metrics_inc(AUTHSVC_M_REGISTRATIONS);
    *out = u;
    return NULL;
}

/*
 * flow.h - the use cases. Each takes plain input, applies every rule once, and returns
 * NULL on success or the failure to show, whichever front end (JSON or HTML) called.
 */
#ifndef AUTHSVC_FLOW_H
#define AUTHSVC_FLOW_H

#include "authsvc.h"
#include "password.h"
#include "problem.h"
#include "session.h"
#include "store.h"

/* A failure: a catalogue code, a detail, and optional per-field errors. */
typedef struct {
    const char *code;
    const char *detail;
    apr_array_header_t *errors; /* authsvc_field_error_t, or NULL */
    struct json_t *extra;       /* members added to the problem body, or NULL */
} authsvc_fail_t;

/* A string field as the client sent it. */
typedef enum {
    AUTHSVC_FIELD_ABSENT = 0,
    AUTHSVC_FIELD_NULL,
    AUTHSVC_FIELD_SET
} authsvc_field_state_t;

typedef struct {
    authsvc_field_state_t state;
    const char *s;  /* when SET: UTF-8 (may contain NUL; len is the truth) */
    apr_size_t len;
} authsvc_field_t;

/* The request's database connection in *db, or the "unavailable" failure to return. */
const authsvc_fail_t *authsvc_flow_db(request_rec *r, authsvc_db_t **db);

/* Build a failure (in r->pool). */
const authsvc_fail_t *authsvc_fail(request_rec *r, const char *code, const char *detail);
const authsvc_fail_t *authsvc_fail_fields(request_rec *r, apr_array_header_t *errors);

/* POST /auth/register */
typedef struct {
    authsvc_field_t email, password, username, first_name, last_name;
    int honeypot; /* the AuthsvcHoneypotField was filled in */
} authsvc_register_in_t;
const authsvc_fail_t *authsvc_flow_register(request_rec *r, const authsvc_register_in_t *in,
                                            authsvc_user_t **out);

/* POST /auth/login. On success *token is the new session token for the cookie. */
typedef struct {
    authsvc_field_t login, password;
    int honeypot; /* the AuthsvcHoneypotField was filled in */
} authsvc_login_in_t;
/* Tokens for API clients (when AuthsvcTokenSigningKey is set). */
typedef struct {
    const char *access_token;
    apr_int64_t expires_in;          /* seconds */
    const char *refresh_token;
    apr_int64_t refresh_expires_in;  /* seconds */
} authsvc_tokens_t;

typedef struct {
    authsvc_user_t *user;
    authsvc_session_t *session;
    const char *token;
    authsvc_tokens_t *tokens; /* NULL when this server issues no tokens */
    const char *device_token; /* set by authsvc_flow_login_mfa only: a remembered
                               * device's cookie value, or NULL */
} authsvc_login_out_t;
const authsvc_fail_t *authsvc_flow_login(request_rec *r, const authsvc_login_in_t *in,
                                         authsvc_login_out_t *out);

/* A first step passed by an unverified account under AuthsvcRequireVerifiedEmail: audited
 * (login_refused, unverified; login as typed or NULL) and verification_required. */
const authsvc_fail_t *authsvc_flow_unverified(request_rec *r, authsvc_db_t *db,
                                              const authsvc_user_t *u, const char *login);

/* In the caller's transaction, the end of every successful sign-in (password, second
 * factor, passkey, email code): u's session as `how` says, its tokens (when this server
 * issues them) and the login_success audit row (login: the name as typed, or NULL). */
apr_status_t authsvc_flow_session_start(request_rec *r, authsvc_db_t *db,
                                        const authsvc_user_t *u, const authsvc_authn_t *how,
                                        const char *login, authsvc_login_out_t *out);

/* One password check against an account (or none), behind every throttle: the
 * account's rate limit and back-off, a hashing slot, and the lockout claim; then the
 * outcome is recorded (failure counted, lock, audit; or counters cleared). The caller
 * has counted the client address already (authsvc_abuse_limit). NULL when the password
 * is right (*res OK or REHASH); else the failure to answer. */
typedef struct {
    const authsvc_user_t *u; /* NULL: no such account */
    const char *account;     /* throttle key: authsvc_abuse_name_key() of the login as
                              * typed, or u->id when re-authenticating */
    const char *login;       /* as typed, for audit rows (NULL for re-authentication) */
    const char *action;      /* NULL for sign-in, else the re-authenticated action */
    int honeypot;            /* a bot: answered like an unknown account, audited so */
} authsvc_pw_attempt_t;
const authsvc_fail_t *authsvc_flow_password_attempt(request_rec *r, authsvc_db_t *db,
                                                    const authsvc_pw_attempt_t *a,
                                                    const authsvc_field_t *pw,
                                                    authsvc_pw_result_t *res);

/* The THRESHOLD-th failed attempt (claim->failures) locks account uid for the
 * AuthsvcLockout duration (audited as account_locked); fewer do nothing. */
void authsvc_flow_lock(request_rec *r, authsvc_db_t *db, const char *uid,
                       const char *login, const authsvc_lockout_t *pol,
                       const authsvc_claim_t *claim, apr_int64_t now);

/* A locked account, when AuthsvcLockoutReveal says so: 423 account_locked with
 * Retry-After; NULL when locks are not revealed (the caller answers as for a wrong
 * password or code). */
const authsvc_fail_t *authsvc_flow_locked(request_rec *r, authsvc_db_t *db, const char *uid,
                                          const authsvc_lockout_t *pol, apr_int64_t now);

/* The signed-in identity of this request; unauthenticated when there is none. */
const authsvc_fail_t *authsvc_flow_whoami(request_rec *r, authsvc_identity_t **out);

/* POST /auth/logout: revoke the current session if there is one (idempotent). */
const authsvc_fail_t *authsvc_flow_logout(request_rec *r);

/* PUT/PATCH /users/me. replace: fields absent are cleared (PUT); else kept (PATCH). */
typedef struct {
    authsvc_field_t username, first_name, last_name;
    int replace;
} authsvc_profile_in_t;
const authsvc_fail_t *authsvc_flow_update_profile(request_rec *r,
                                                  const authsvc_profile_in_t *in,
                                                  authsvc_user_t **out);

/* GET /users/me/sessions: *me is the caller, *out their live sessions. */
const authsvc_fail_t *authsvc_flow_sessions(request_rec *r, authsvc_identity_t **me,
                                            apr_array_header_t **out);

/* DELETE /users/me/sessions/{id} (id given: not_found unless it is the caller's live
 * session) and DELETE /users/me/sessions (id NULL: every session but this one). */
const authsvc_fail_t *authsvc_flow_revoke_sessions(request_rec *r, const char *id);

/* GET /users/me/events: the caller's own security events, newest first, a page of
 * `limit` (query text; NULL: AUTHSVC_EVENTS_PAGE) before the event id `before` (NULL:
 * from the newest). out->next is the `before` of the next page, or NULL. */
#define AUTHSVC_EVENTS_PAGE 20
#define AUTHSVC_EVENTS_MAX  100
typedef struct {
    apr_array_header_t *events; /* authsvc_event_t */
    const char *next;
} authsvc_events_out_t;
const authsvc_fail_t *authsvc_flow_events(request_rec *r, const char *limit,
                                          const char *before, authsvc_events_out_t *out);

/* ---- sign-in with a code sent by mail (flow_emailcode.c) ----------------------------- */

/* The amr of a session started by an emailed code (RFC 8176 has no value for it: see
 * docs/api.md). */
#define AUTHSVC_AMR_EMAIL_CODE "email"

/* not_found when AuthsvcEmailCodeLogin is off here (checked first: a disabled endpoint
 * looks like none); else NULL. */
const authsvc_fail_t *authsvc_flow_email_code_off(request_rec *r);
/* The name of the cookie that carries the code_token to the pages. */
const char *authsvc_flow_email_code_cookie(request_rec *r);

/* Send the code_token cookie (for the pages): as long as the code lives, this site
 * only (max_age 0 and token "": forget it). */
void authsvc_email_code_cookie_set(request_rec *r, const char *token, apr_int64_t max_age);

/* POST /auth/email-code: the same answer whether or not the address has an account
 * (only a live, verified one gets a code by mail). */
typedef struct {
    const char *code_token;  /* to present with the code */
    apr_int64_t expires_in;  /* seconds */
} authsvc_email_code_out_t;
const authsvc_fail_t *authsvc_flow_email_code_request(request_rec *r,
                                                      const authsvc_field_t *email,
                                                      authsvc_email_code_out_t *out);

/* POST /auth/email-code/verify: out as for a login; mfa_required (with the mfa_token)
 * for an account with a second factor. code_token absent: the cookie's. */
typedef struct {
    authsvc_field_t email, code, code_token;
} authsvc_email_code_in_t;
const authsvc_fail_t *authsvc_flow_email_code_verify(request_rec *r,
                                                     const authsvc_email_code_in_t *in,
                                                     authsvc_login_out_t *out);

/* ---- new-device alerts (flow_newdevice.c) --------------------------------------------- */

/* In the caller's transaction, at every successful sign-in (and at registration, with
 * alert 0): has u signed in from this device (device cookie, or coarse agent +
 * network) within AuthsvcNewDeviceWindow? If not, and the account has signed in from
 * anywhere before, mail new_device and audit it. The device is recorded either way and
 * a device cookie set when the browser has none. Nothing when the window is 0. */
apr_status_t authsvc_flow_new_device(request_rec *r, authsvc_db_t *db,
                                     const authsvc_user_t *u, int alert);

/* ---- second factor (flow_mfa.c) ---------------------------------------------------- */

/* How long a sign-in's second step and an unconfirmed enrollment stay open. */
#define AUTHSVC_MFA_CHALLENGE_TTL 300
#define AUTHSVC_MFA_PENDING_TTL   900

/* {"methods": [...]} for an audit row, from a space-separated method list. */
struct json_t *authsvc_flow_methods_detail(request_rec *r, const char *amr);

/* The first step of an account with MFA passed (`first`: its RFC 8176 methods, "pwd",
 * "email", or "hwk user" for a passkey without user verification): a challenge instead
 * of a session. Always a failure: mfa_required with the mfa_token (or unavailable). */
const authsvc_fail_t *authsvc_flow_mfa_challenge(request_rec *r, authsvc_db_t *db,
                                                 const authsvc_user_t *u,
                                                 const char *login, const char *first);

/* A second factor as sent: a TOTP code or a recovery code (at most one). */
typedef struct {
    authsvc_field_t code, recovery_code;
    int remember_device; /* sign-in step only: remember this browser (flow_remember.c) */
} authsvc_factor_in_t;

/* POST /auth/login/mfa: out as for a login. */
const authsvc_fail_t *authsvc_flow_login_mfa(request_rec *r, const authsvc_field_t *token,
                                             const authsvc_factor_in_t *in,
                                             authsvc_login_out_t *out);

/* 401 reauthentication_required unless the session authenticated in full within
 * AuthsvcFreshAuthMaxAge. */
const authsvc_fail_t *authsvc_flow_require_fresh(request_rec *r,
                                                 const authsvc_identity_t *id);

/* authsvc_flow_me, then authsvc_flow_require_fresh (the sensitive changes). */
const authsvc_fail_t *authsvc_flow_me_fresh(request_rec *r, authsvc_identity_t **id,
                                            authsvc_db_t **db, authsvc_user_t **u);

/* GET /users/me/mfa */
const authsvc_fail_t *authsvc_flow_mfa_status(request_rec *r, authsvc_mfa_t *out);

/* POST /users/me/mfa: a new pending secret, as base32, otpauth URI and QR code. */
typedef struct {
    const char *secret, *uri, *qr_svg;
} authsvc_enroll_out_t;
const authsvc_fail_t *authsvc_flow_mfa_begin(request_rec *r, authsvc_enroll_out_t *out);

/* The enrollment in progress shown again (a page after a mistyped first code): only
 * to a session fresh enough to begin one; mfa_not_pending when there is none. */
const authsvc_fail_t *authsvc_flow_mfa_pending(request_rec *r, authsvc_enroll_out_t *out);

/* POST /users/me/mfa/confirm: *codes gets the recovery codes (const char *). */
const authsvc_fail_t *authsvc_flow_mfa_confirm(request_rec *r, const authsvc_field_t *code,
                                               apr_array_header_t **codes);

/* DELETE /users/me/mfa */
const authsvc_fail_t *authsvc_flow_mfa_disable(request_rec *r,
                                               const authsvc_field_t *password,
                                               const authsvc_factor_in_t *in);

/* POST /users/me/mfa/recovery-codes */
const authsvc_fail_t *authsvc_flow_mfa_new_codes(request_rec *r, const authsvc_field_t *code,
                                                 apr_array_header_t **codes);

/* POST /auth/reauthenticate: *session is the refreshed session. */
const authsvc_fail_t *authsvc_flow_reauthenticate_session(request_rec *r,
                                                          const authsvc_field_t *password,
                                                          const authsvc_factor_in_t *in,
                                                          authsvc_session_t **session);

/* ---- remembered devices (flow_remember.c) ------------------------------------------ */

/* The amr value of a session whose second step a remembered device stood in for (not an
 * RFC 8176 name: none says "a device the user vouched for earlier"). */
#define AUTHSVC_AMR_REMEMBERED "rdev"

/* Before asking u for a second factor (every first factor's sign-in calls it): 1 when
 * AuthsvcMFARememberDays is on and this request's device cookie names a live remembered
 * device of u (marked used now); then how->mfa_at is now and how->amr gains "rdev", and
 * the login_success row will name the device. 0 in every other case (no cookie,
 * garbage, another user's device, expired, forgotten, database down): ask for it. */
int authsvc_flow_remembered(request_rec *r, authsvc_db_t *db, const authsvc_user_t *u,
                            authsvc_authn_t *how);
/* Adds "remembered_device": id to a login_success detail when this request's sign-in
 * skipped the second step thanks to a remembered device (authsvc_flow_session_start). */
void authsvc_flow_remembered_detail(request_rec *r, struct json_t *d);
/* In the transaction of a sign-in's second step: when wanted and AuthsvcMFARememberDays
 * is on, remember this browser for u (a new device row, audited device_remembered) and
 * *token is the cookie value for authsvc_flow_remember_cookie; else *token is NULL. */
apr_status_t authsvc_flow_remember_device(request_rec *r, authsvc_db_t *db,
                                          const authsvc_user_t *u, int wanted,
                                          const char **token);
/* Send the device cookie with token (nothing when token is NULL), in err_headers_out. */
void authsvc_flow_remember_cookie(request_rec *r, const char *token);
/* GET /users/me/devices: the caller's unexpired remembered devices (authsvc_device_t);
 * *current the id of the one this request's cookie names, or NULL. */
const authsvc_fail_t *authsvc_flow_devices(request_rec *r, apr_array_header_t **out,
                                           const char **current);
/* DELETE /users/me/devices/{id} (not_found unless it is the caller's) and DELETE
 * /users/me/devices (id NULL: all of them); audited device_forgotten. The device
 * cookie is cleared when this browser's own device went. */
const authsvc_fail_t *authsvc_flow_forget_devices(request_rec *r, const char *id);
/* In the caller's transaction: every remembered device of uid is forgotten (password
 * changed or reset, second factor off); audited device_forgotten {count, reason} when
 * there were any. */
apr_status_t authsvc_flow_devices_revoke(request_rec *r, authsvc_db_t *db, const char *uid,
                                         const char *reason);

/* ---- tokens for API clients (flow_token.c) ------------------------------------------ */

/* Set in r->notes by the HTML pages: a browser gets a session cookie, never tokens. */
#define AUTHSVC_NOTE_BROWSER "authsvc-browser"

/* In the transaction that created out->session for u: when this server issues tokens
 * (and the caller is not a page), a refresh token (a new family, bound to the session)
 * and a signed access token in out->tokens; else out->tokens is NULL. */
apr_status_t authsvc_flow_tokens_start(request_rec *r, authsvc_db_t *db,
                                       const authsvc_user_t *u, authsvc_login_out_t *out);

/* POST /auth/refresh: the refresh token is used up, a new one and an access token are
 * issued; a used one presented again ends its family and its session. */
const authsvc_fail_t *authsvc_flow_refresh(request_rec *r, const authsvc_field_t *token,
                                           authsvc_tokens_t *out);

/* not_found when this server issues no tokens, or (introspection) AuthsvcIntrospect is
 * off here; else NULL. Checked before anything else, so that a disabled endpoint looks
 * like no endpoint. */
const authsvc_fail_t *authsvc_flow_tokens_off(request_rec *r, int introspection);

/* The session an access token names, read from the database (for the API endpoints):
 * NULL with *out, or token_invalid / unavailable. expired_ok: an expired token still
 * names its session (signing out). */
const authsvc_fail_t *authsvc_flow_bearer_session(request_rec *r, const char *token,
                                                  int expired_ok, authsvc_identity_t **out);

/* End session id (sign-out: its refresh tokens too) and tell the caches; `via` goes
 * into the audit row when not NULL. */
const authsvc_fail_t *authsvc_flow_end_session(request_rec *r, authsvc_db_t *db,
                                               const authsvc_identity_t *id,
                                               const char *via);

/* POST /auth/logout with a refresh token in the body: end its session (an unknown or
 * dead token ends nothing, and is no error). */
const authsvc_fail_t *authsvc_flow_logout_refresh(request_rec *r,
                                                  const authsvc_field_t *token);

/* POST /auth/introspect (RFC 7662): *out the answer ({"active": false} for anything
 * that is not a live token of this server). */
const authsvc_fail_t *authsvc_flow_introspect(request_rec *r, const authsvc_field_t *token,
                                              struct json_t **out);

/* ---- account lifecycle (flow_verify.c, flow_password.c, flow_account.c) ---------- */

/* POST /auth/verify-email: a verify_email or change_email token. */
const authsvc_fail_t *authsvc_flow_verify_email(request_rec *r, const authsvc_field_t *token,
                                                authsvc_user_t **out);
/* POST /auth/verify-email/resend (signed in). */
const authsvc_fail_t *authsvc_flow_resend_verification(request_rec *r);
/* POST /auth/forgot-password: the same outcome whether or not the account exists. */
const authsvc_fail_t *authsvc_flow_forgot_password(request_rec *r,
                                                   const authsvc_field_t *email,
                                                   int honeypot);
/* POST /auth/reset-password */
const authsvc_fail_t *authsvc_flow_reset_password(request_rec *r,
                                                  const authsvc_field_t *token,
                                                  const authsvc_field_t *password);
/* PUT /users/me/password: out gets the new session (the caller sets its cookie). */
const authsvc_fail_t *authsvc_flow_change_password(request_rec *r,
                                                   const authsvc_field_t *current,
                                                   const authsvc_field_t *new_password,
                                                   authsvc_login_out_t *out);
/* POST /users/me/email */
const authsvc_fail_t *authsvc_flow_change_email(request_rec *r,
                                                const authsvc_field_t *new_email,
                                                const authsvc_field_t *password);
/* DELETE /users/me */
const authsvc_fail_t *authsvc_flow_delete_account(request_rec *r,
                                                  const authsvc_field_t *password);

/* ---- shared by the lifecycle flows (flow_mail.c) ------------------------------------ */

/* Longest password ever sent to the hash for a check (login, re-authentication). */
#define AUTHSVC_LOGIN_PASSWORD_MAX 4096

/* validation_failed with a "required" error for each of the named fields (NULL-ended
 * names, same order as fields) that is absent or null; NULL when all are there. */
const authsvc_fail_t *authsvc_flow_require(request_rec *r, const char *const *names,
                                           const authsvc_field_t *const *fields);
/* The SHA-256 of a well-formed token field, or NULL (then: token_invalid). */
const char *authsvc_flow_token_hash(request_rec *r, const authsvc_field_t *f);
/* A mail's "expires" text: secs in the largest whole unit, "10 minutes", "1 day" (mail.c
 * says it in the mail's language). */
const char *authsvc_flow_duration_text(apr_pool_t *p, apr_int64_t secs);
/* Mail variables every message about u has (name). */
apr_table_t *authsvc_flow_mail_vars(request_rec *r, const authsvc_user_t *u);
/* In the caller's transaction: a new token of `purpose` for u mailed to `to`; older ones
 * of the purpose stop working. APR_EINVAL + *why when the mail refuses a value. */
apr_status_t authsvc_flow_send_token(request_rec *r, authsvc_db_t *db,
                                     const authsvc_user_t *u, const char *purpose,
                                     const char *to, const char **why);
/* The one answer for every unusable token (nothing about why is revealed). */
const authsvc_fail_t *authsvc_flow_token_invalid(request_rec *r);
/* In the caller's transaction: queue notice `name` to `to` (vars NULL: the defaults). */
apr_status_t authsvc_flow_notify(request_rec *r, authsvc_db_t *db, const authsvc_user_t *u,
                                 const char *name, const char *to, apr_table_t *vars);
/* The failure for a transaction that queued mail and returned rv. */
const authsvc_fail_t *authsvc_flow_mail_fail(request_rec *r, apr_status_t rv,
                                             const char *why);
/* Check the current password before a sensitive change, behind the sign-in throttles
 * (authsvc_flow_password_attempt, keyed by the account): a wrong one counts toward the
 * lockout and answers invalid_credentials. */
const authsvc_fail_t *authsvc_flow_reauthenticate(request_rec *r, authsvc_db_t *db,
                                                  const authsvc_user_t *u,
                                                  const authsvc_field_t *pw,
                                                  const char *field, const char *action);
/* The password policy (length, blocklist, context, complexity; not the history, which
 * costs hashes: authsvc_flow_new_password) for a new password of u, as a field error on
 * `field`. 1 when acceptable. */
int authsvc_flow_check_new_password(request_rec *r, const authsvc_user_t *u,
                                    const char *field, const authsvc_field_t *pw,
                                    apr_array_header_t **errs);
/* A new password for u: the policy, then (one hashing slot) the history and the hash.
 * NULL with *hash set, or the failure (a field error on `field`, busy, unavailable). */
const authsvc_fail_t *authsvc_flow_new_password(request_rec *r, const char *endpoint,
                                                authsvc_db_t *db, const authsvc_user_t *u,
                                                const char *field, const authsvc_field_t *pw,
                                                const char **hash);
/* Hash a new password (outside any transaction; takes a hashing slot; endpoint names
 * the caller in a busy refusal's audit row). */
const authsvc_fail_t *authsvc_flow_hash_password(request_rec *r, const char *endpoint,
                                                 const authsvc_field_t *pw,
                                                 const char **hash);
/* In the caller's transaction: store the new hash, remember the old one
 * (AuthsvcPasswordHistory), and void outstanding reset links. */
apr_status_t authsvc_flow_set_password(request_rec *r, authsvc_db_t *db,
                                       const authsvc_user_t *u, const char *hash);
/* The signed-in caller: identity, connection, and the account as stored. */
const authsvc_fail_t *authsvc_flow_me(request_rec *r, authsvc_identity_t **id,
                                      authsvc_db_t **db, authsvc_user_t **u);
/* After a commit that ended sessions: tell the caches. */
void authsvc_flow_forget_all(request_rec *r, const apr_array_header_t *hashes);

/* Shared validators (flow_common.c): each appends to *errs and returns 0 when invalid. */
int authsvc_flow_check_username(request_rec *r, const authsvc_field_t *f,
                                apr_array_header_t **errs);
int authsvc_flow_check_name(request_rec *r, const char *field, const authsvc_field_t *f,
                            apr_array_header_t **errs);

/* ---- administration (flow_admin.c) ------------------------------------------------ */

/* In the caller's transaction: every row of account u goes (its sessions, ended, in
 * *ended for the caches) and the goodbye mail is queued; the audit row is the caller's. */
apr_status_t authsvc_flow_erase_account(request_rec *r, authsvc_db_t *db,
                                        const authsvc_user_t *u, apr_array_header_t **ended);
/* In the caller's transaction: u's second factor off (recovery codes gone, no session
 * counts as having passed it) and the notice queued; APR_EEXIST when it was not on.
 * The audit row is the caller's. */
apr_status_t authsvc_flow_mfa_off(request_rec *r, authsvc_db_t *db, const authsvc_user_t *u);

#define AUTHSVC_ADMIN_ROLE "admin"
#define AUTHSVC_ADMIN_PAGE 20
#define AUTHSVC_ADMIN_MAX  100

/* GET /admin/users: the query parameters as sent (NULL when absent). */
typedef struct {
    const char *q, *status, *limit, *cursor;
} authsvc_admin_search_in_t;
typedef struct {
    apr_array_header_t *users; /* authsvc_user_admin_t */
    const char *next;          /* the cursor of the next page, NULL at the end */
} authsvc_admin_users_out_t;
const authsvc_fail_t *authsvc_flow_admin_users(request_rec *r,
                                               const authsvc_admin_search_in_t *in,
                                               authsvc_admin_users_out_t *out);

/* GET /admin/users/{id}: the account with its live session count. */
const authsvc_fail_t *authsvc_flow_admin_user(request_rec *r, const char *id,
                                              authsvc_user_admin_t **out);

/* What an administrator does to an account. */
typedef enum {
    AUTHSVC_ADMIN_DISABLE,
    AUTHSVC_ADMIN_ENABLE,
    AUTHSVC_ADMIN_UNLOCK,
    AUTHSVC_ADMIN_DELETE,
    AUTHSVC_ADMIN_REVOKE_SESSIONS,
    AUTHSVC_ADMIN_RESET_MFA,
    AUTHSVC_ADMIN_ROLE_ADD,
    AUTHSVC_ADMIN_ROLE_REMOVE
} authsvc_admin_action_t;
/* One action on account id (role: the role of a role action), audited on the account
 * with the administrator's id, in the transaction of the change. *out (may be NULL)
 * gets the account afterwards (NULL once deleted). */
const authsvc_fail_t *authsvc_flow_admin_act(request_rec *r, const char *id,
                                             authsvc_admin_action_t act,
                                             const authsvc_field_t *role,
                                             authsvc_user_admin_t **out);

/* GET /admin/audit: the query parameters as sent (NULL when absent). */
typedef struct {
    const char *user, *event, *since, *until, *limit, *cursor;
} authsvc_admin_audit_in_t;
const authsvc_fail_t *authsvc_flow_admin_audit(request_rec *r,
                                               const authsvc_admin_audit_in_t *in,
                                               authsvc_events_out_t *out);

/* ---- passkeys (flow_passkey.c; issue 11) ------------------------------------------ */

/* A PublicKeyCredential as the browser's JSON has it (the response's members flattened):
 * registration sends attestation (attestationObject) and transports (space-separated, or
 * NULL); sign-in sends authenticator_data, signature and user_handle. */
typedef struct {
    authsvc_field_t id, raw_id, type, client_data;
    authsvc_field_t attestation;
    const char *transports;
    authsvc_field_t authenticator_data, signature, user_handle;
} authsvc_passkey_in_t;

/* 1 when passkeys work on this server (AuthsvcPublicURL set, the RP ID fits it). */
int authsvc_flow_passkeys_on(request_rec *r);
/* POST /users/me/passkeys/options (fresh session): PublicKeyCredentialCreationOptions. */
const authsvc_fail_t *authsvc_flow_passkey_reg_options(request_rec *r, struct json_t **out);
/* POST /users/me/passkeys (fresh session): the new passkey in *out. */
const authsvc_fail_t *authsvc_flow_passkey_add(request_rec *r, const authsvc_field_t *name,
                                               const authsvc_passkey_in_t *in,
                                               authsvc_passkey_t **out);
/* GET /users/me/passkeys: authsvc_passkey_t *, oldest first. */
const authsvc_fail_t *authsvc_flow_passkey_list(request_rec *r, apr_array_header_t **out);
/* PATCH /users/me/passkeys/{id} {name}; DELETE /users/me/passkeys/{id} (fresh session). */
const authsvc_fail_t *authsvc_flow_passkey_rename(request_rec *r, const char *id,
                                                  const authsvc_field_t *name,
                                                  authsvc_passkey_t **out);
const authsvc_fail_t *authsvc_flow_passkey_remove(request_rec *r, const char *id);
/* At startup, for server s: a warning naming both values when AuthsvcWebAuthnRPID is
 * set but does not fit AuthsvcPublicURL's host (passkeys are then off there). */
void authsvc_flow_passkey_startup(server_rec *s);
/* POST /auth/passkey/options: PublicKeyCredentialRequestOptions, allowCredentials
 * always empty (discoverable credentials; a login name is not looked at). */
const authsvc_fail_t *authsvc_flow_passkey_login_options(request_rec *r,
                                                         struct json_t **out);
/* POST /auth/passkey: a session as for a password sign-in: amr "hwk user mfa" and
 * mfa_at set when the authenticator verified the user (UV), else "hwk user", mfa_at 0. */
const authsvc_fail_t *authsvc_flow_passkey_login(request_rec *r,
                                                 const authsvc_passkey_in_t *in,
                                                 authsvc_login_out_t *out);

/* The value of an optional field: NULL when absent or null. */
#define AUTHSVC_FIELD_VALUE(f) ((f)->state == AUTHSVC_FIELD_SET ? (f)->s : NULL)

#endif

/*
 * router.h - SetHandler authsvc: method + path under the mount -> handler.
 */
#ifndef AUTHSVC_ROUTER_H
#define AUTHSVC_ROUTER_H

#include "authsvc.h"

/* A route handler. params holds the path segments matched by '*' in the pattern. */
typedef int (*authsvc_route_fn)(request_rec *r, const char *const *params);

/* Dispatch a request under the mount: the handler's result, or a 404/405 problem. */
int authsvc_router_dispatch(request_rec *r);

/* post_config: note the <Location> paths whose SetHandler is authsvc. */
void authsvc_router_find_mounts(apr_pool_t *pconf);

/* The URL path the API is mounted at ("/api"), without a trailing slash. */
const char *authsvc_router_mount(request_rec *r);

/* The login page ("/api/login") of the first mount in this request's virtual host, else
 * in the main server, or NULL when there is none: where the guard sends browsers unless
 * AuthsvcLoginURL says otherwise. */
const char *authsvc_router_login_url(request_rec *r);

/* The pattern of route i of the table, and whether it is an HTML page, or NULL past
 * the last route: the endpoints metrics.c times requests by. */
const char *authsvc_router_route(int i, int *page);

/* The endpoint handlers (h_*.c). */
int authsvc_h_register(request_rec *r, const char *const *params);
int authsvc_h_login(request_rec *r, const char *const *params);
int authsvc_h_email_code(request_rec *r, const char *const *params);
int authsvc_h_email_code_verify(request_rec *r, const char *const *params);
int authsvc_h_logout(request_rec *r, const char *const *params);
int authsvc_h_me(request_rec *r, const char *const *params);
int authsvc_h_me_update(request_rec *r, const char *const *params);
int authsvc_h_sessions(request_rec *r, const char *const *params);
int authsvc_h_events(request_rec *r, const char *const *params);
int authsvc_h_session_revoke(request_rec *r, const char *const *params);
int authsvc_h_sessions_revoke_others(request_rec *r, const char *const *params);
int authsvc_h_check(request_rec *r, const char *const *params);
int authsvc_h_verify_email(request_rec *r, const char *const *params);
int authsvc_h_verify_resend(request_rec *r, const char *const *params);
int authsvc_h_forgot_password(request_rec *r, const char *const *params);
int authsvc_h_reset_password(request_rec *r, const char *const *params);
int authsvc_h_change_password(request_rec *r, const char *const *params);
int authsvc_h_change_email(request_rec *r, const char *const *params);
int authsvc_h_delete_account(request_rec *r, const char *const *params);
int authsvc_h_login_mfa(request_rec *r, const char *const *params);
int authsvc_h_reauthenticate(request_rec *r, const char *const *params);
int authsvc_h_mfa_status(request_rec *r, const char *const *params);
int authsvc_h_mfa_begin(request_rec *r, const char *const *params);
int authsvc_h_mfa_confirm(request_rec *r, const char *const *params);
int authsvc_h_mfa_disable(request_rec *r, const char *const *params);
int authsvc_h_mfa_codes(request_rec *r, const char *const *params);
int authsvc_h_devices(request_rec *r, const char *const *params);
int authsvc_h_device_forget(request_rec *r, const char *const *params);
int authsvc_h_devices_forget(request_rec *r, const char *const *params);
/* Passkeys (h_passkey.c; issue 11). */
int authsvc_h_passkey_reg_options(request_rec *r, const char *const *params);
int authsvc_h_passkey_add(request_rec *r, const char *const *params);
int authsvc_h_passkeys(request_rec *r, const char *const *params);
int authsvc_h_passkey_rename(request_rec *r, const char *const *params);
int authsvc_h_passkey_remove(request_rec *r, const char *const *params);
int authsvc_h_passkey_login_options(request_rec *r, const char *const *params);
int authsvc_h_passkey_login(request_rec *r, const char *const *params);
int authsvc_h_page_passkey_login(request_rec *r, const char *const *params);
int authsvc_h_page_passkey_js(request_rec *r, const char *const *params);
int authsvc_h_refresh(request_rec *r, const char *const *params);
int authsvc_h_introspect(request_rec *r, const char *const *params);
int authsvc_h_jwks(request_rec *r, const char *const *params);
/* The administration API (h_admin.c). */
int authsvc_h_admin_users(request_rec *r, const char *const *params);
int authsvc_h_admin_user(request_rec *r, const char *const *params);
int authsvc_h_admin_disable(request_rec *r, const char *const *params);
int authsvc_h_admin_enable(request_rec *r, const char *const *params);
int authsvc_h_admin_unlock(request_rec *r, const char *const *params);
int authsvc_h_admin_delete(request_rec *r, const char *const *params);
int authsvc_h_admin_sessions_revoke(request_rec *r, const char *const *params);
int authsvc_h_admin_mfa_reset(request_rec *r, const char *const *params);
int authsvc_h_admin_role_add(request_rec *r, const char *const *params);
int authsvc_h_admin_role_remove(request_rec *r, const char *const *params);
int authsvc_h_admin_audit(request_rec *r, const char *const *params);

/* The pages (h_pages.c). */
int authsvc_h_page_login(request_rec *r, const char *const *params);
int authsvc_h_page_login_post(request_rec *r, const char *const *params);
int authsvc_h_page_mfa(request_rec *r, const char *const *params);
int authsvc_h_page_mfa_post(request_rec *r, const char *const *params);
int authsvc_h_page_register(request_rec *r, const char *const *params);
int authsvc_h_page_register_post(request_rec *r, const char *const *params);
int authsvc_h_page_logout(request_rec *r, const char *const *params);
int authsvc_h_page_logout_post(request_rec *r, const char *const *params);
int authsvc_h_page_forgot(request_rec *r, const char *const *params);
int authsvc_h_page_forgot_post(request_rec *r, const char *const *params);
int authsvc_h_page_email_code(request_rec *r, const char *const *params);
int authsvc_h_page_email_code_post(request_rec *r, const char *const *params);
int authsvc_h_page_email_code_verify(request_rec *r, const char *const *params);
int authsvc_h_page_reset(request_rec *r, const char *const *params);
int authsvc_h_page_reset_post(request_rec *r, const char *const *params);
int authsvc_h_page_verify(request_rec *r, const char *const *params);
int authsvc_h_page_verify_post(request_rec *r, const char *const *params);
int authsvc_h_page_account(request_rec *r, const char *const *params);
int authsvc_h_page_account_post(request_rec *r, const char *const *params);
int authsvc_h_page_css(request_rec *r, const char *const *params);

/* SetHandler authsvc-health (h_health.c). */
int authsvc_h_health(request_rec *r);

#endif

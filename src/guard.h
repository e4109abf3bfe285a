/*
 * guard.h - "Require authsvc" in front of anything Apache serves.
 *
 * An authn hook resolves the session cookie into r->user; the authz provider
 * "authsvc" grants when this module authenticated the request.
 */
#ifndef AUTHSVC_GUARD_H
#define AUTHSVC_GUARD_H

#include "authsvc.h"

/* Register the authn hook and the authz provider (AP_AUTH_INTERNAL_PER_CONF). */
void authsvc_guard_register(apr_pool_t *p);

#endif

/*
 * account_limits.h - limits on an account's roles, shared by the module (flow_admin.c)
 * and authsvc-admin, which runs outside httpd: the API and the tool refuse the same
 * role lists. Pure: no httpd or APR header.
 */
#ifndef AUTHSVC_ACCOUNT_LIMITS_H
#define AUTHSVC_ACCOUNT_LIMITS_H

#include <string.h>

#define AUTHSVC_ROLE_MAX 64          /* bytes in one role */
#define AUTHSVC_ROLES_MAX 32         /* roles an account may have ... */
#define AUTHSVC_ROLES_BYTES_MAX 1024 /* ... and their length, spaces included */

/* 1 when roles (single-space-separated, as stored) are more than an account may have
 * (AUTHSVC_ROLES_MAX words or AUTHSVC_ROLES_BYTES_MAX bytes); 0 otherwise. Never fails. */
static inline int authsvc_roles_too_many(const char *roles)
{
    int n = *roles != '\0';
    const char *p;

    for (p = roles; (p = strchr(p, ' ')) != NULL; p++) {
        n++;
    }
    return n > AUTHSVC_ROLES_MAX || strlen(roles) > AUTHSVC_ROLES_BYTES_MAX;
}

#endif

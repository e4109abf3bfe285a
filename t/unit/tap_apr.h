/* tap_apr.h - APR set-up and tear-down for the C unit tests that use pools.
 *
 *   apr_pool_t *p = tap_apr_start();   initialise APR and make a root pool; if either
 *                                      fails, print "Bail out!" and exit 2
 *   return tap_apr_end(p);             destroy the pool, end APR, then done_testing()
 */
#ifndef AUTHSVC_TAP_APR_H
#define AUTHSVC_TAP_APR_H

#include <stdio.h>
#include <stdlib.h>

#include "apr_general.h"
#include "apr_pools.h"

#include "tap.h"

static inline apr_pool_t *tap_apr_start(void)
{
    apr_pool_t *p = NULL;

    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        printf("Bail out! APR initialisation failed\n");
        fflush(stdout);
        exit(2);
    }
    return p;
}

static inline int tap_apr_end(apr_pool_t *p)
{
    apr_pool_destroy(p);
    apr_terminate();
    return done_testing();
}

#endif

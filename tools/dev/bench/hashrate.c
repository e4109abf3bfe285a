/*
 * hashrate.c - how many Argon2id hashes per second one core does at given parameters
 * (the ceiling for logins and registrations per core). Built and run by bench.sh.
 */
#include <stdio.h>
#include <stdlib.h>

#include "apr_general.h"
#include "apr_time.h"
#include "password.h"

int main(int argc, char **argv)
{
    apr_pool_t *p;
    authsvc_argon2_params_t params = {AUTHSVC_ARGON2_M_DEFAULT, AUTHSVC_ARGON2_T_DEFAULT,
                                      AUTHSVC_ARGON2_P_DEFAULT};
    int n = argc > 1 ? atoi(argv[1]) : 20, i;
    apr_time_t t0;
    const char *out;

    apr_initialize();
    apr_pool_create(&p, NULL);
    t0 = apr_time_now();
    for (i = 0; i < n; i++) {
        if (authsvc_password_hash(p, "correct horse battery staple", 28, &params, &out) !=
            APR_SUCCESS) {
            return 1;
        }
    }
    printf("%.1f\n", n / ((double)(apr_time_now() - t0) / APR_USEC_PER_SEC));
    return 0;
}

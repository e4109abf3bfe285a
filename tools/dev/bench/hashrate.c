/*
 * hashrate.c - how many Argon2id hashes per second one core does at the default
 * parameters (m=19456 t=2 p=1): the ceiling for logins and registrations per core.
 * Built and run by bench.sh, alternately with its login runs.
 *
 *   hashrate [N] [mmap]
 *
 * Hashes N times (default 20) after one untimed warm-up hash and prints the rate,
 * hashes per second, with one decimal. With "mmap" it first sets
 * M_MMAP_THRESHOLD to 1 MiB as mod_authsvc's child_init does, so that every hash
 * maps (and the kernel zeroes) a fresh 19 MiB block, as in the server; without it,
 * glibc reuses the freed block from the heap (the library's raw speed).
 * Exit status 0, or 1 if a hash fails.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apr_general.h"
#include "apr_time.h"
#include "password.h"

int main(int argc, char **argv)
{
    apr_pool_t *p;
    authsvc_argon2_params_t params = {AUTHSVC_ARGON2_M_DEFAULT, AUTHSVC_ARGON2_T_DEFAULT,
                                      AUTHSVC_ARGON2_P_DEFAULT};
    int n = argc > 1 ? atoi(argv[1]) : 20, i;
    apr_time_t t0 = 0;
    const char *out;

    if (n < 1) {
        n = 20;
    }
    if (argc > 2 && strcmp(argv[2], "mmap") == 0) {
        mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    for (i = 0; i <= n; i++) {
        if (i == 1) {
            t0 = apr_time_now(); /* hash 0 was the warm-up */
        }
        if (authsvc_password_hash(p, "correct horse battery staple", 28, &params, &out) !=
            APR_SUCCESS) {
            return 1;
        }
    }
    printf("%.1f\n", n / ((double)(apr_time_now() - t0) / APR_USEC_PER_SEC));
    return 0;
}

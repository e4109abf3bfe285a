/* breach.c - authsvc-admin breach-index IN OUT: the compact index of a Pwned
 * Passwords SHA-1 file for AuthsvcPasswordBreachCorpus (src/breach.h has the format).
 * Needs no database. */
#include <stdio.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "breach.h"
#include "admin.h"

/* Build, then open the result as the module would (header, size, order), and print
 * what was done. The index replaces OUT only when complete (breach.c renames it). */
int cmd_breach_index(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    apr_uint64_t lines = 0, records = 0;
    apr_time_t start = apr_time_now();
    authsvc_breach_t *b = NULL;
    const char *err;

    (void)argc;
    err = authsvc_breach_index(ctx->pool, argv[0], argv[1], &lines, &records);
    if (err == NULL) {
        err = authsvc_breach_open(ctx->pool, argv[1], &b);
    }
    if (err != NULL) {
        return cmd_error(ctx, "%s", err);
    }
    printf("%s: %" APR_UINT64_T_FMT " lines, %" APR_UINT64_T_FMT " records, %"
           APR_UINT64_T_FMT " octets in %.1f s\n", argv[1], lines, records,
           (apr_uint64_t)AUTHSVC_BREACH_HEADER + records * AUTHSVC_BREACH_RECORD,
           (double)(apr_time_now() - start) / APR_USEC_PER_SEC);
    return EXIT_OK;
}

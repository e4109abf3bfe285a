/* fuzz_fields.c - the other checks a request's fields go through in the pure units:
 * the password policy (policy.c: length in code points, UTF-8, controls, the built-in
 * blocklist, the email/name context, complexity), the mail address check (mail.c:
 * what may go into a header or SMTP command) and the rate-limit key of a client
 * address (ratelimit.c). Input: password, NUL, email, NUL, name (for the policy
 * context); the whole input is also taken as an address and an IP. */
#include "fuzz.h"
#include "mail.h"
#include "policy.h"
#include "ratelimit.h"

FUZZ_PLAIN_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    authsvc_policy_t pol = {12, 64, 3, NULL, NULL, 1};
    authsvc_policy_ctx_t ctx;
    apr_pool_t *p;
    const char *part[3], *code, *all;
    size_t len[3];

    apr_pool_create(&p, NULL);
    fuzz_split(p, data, size, '\0', 3, part, len);
    pol.blocklist = authsvc_blocklist_builtin();
    ctx.email = part[1];
    ctx.username = part[2];
    ctx.first_name = part[2];
    ctx.last_name = NULL;
    authsvc_policy_check(p, &pol, part[0], len[0], &ctx, &code);
    authsvc_blocklist_contains(pol.blocklist, part[0], len[0]);
    all = apr_pstrmemdup(p, (const char *)data, size);
    authsvc_mail_check_address(p, all);
    authsvc_ratelimit_ip_key(p, all, 64);
    authsvc_ratelimit_ip_key(p, all, 128);
    apr_pool_destroy(p);
    return 0;
}

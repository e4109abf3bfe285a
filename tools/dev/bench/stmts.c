#include <stdio.h>
#include "store.h"
static const authsvc_stmt_t *const tables[] = {
    authsvc_store_users_stmts, authsvc_store_sessions_stmts, authsvc_store_audit_stmts,
    authsvc_store_schema_stmts, authsvc_store_tokens_stmts, authsvc_store_outbox_stmts,
    authsvc_store_lockout_stmts, authsvc_store_mfa_stmts, authsvc_store_refresh_stmts,
    authsvc_store_metrics_stmts, authsvc_store_emailcode_stmts,
    authsvc_store_remembered_stmts, authsvc_store_passkeys_stmts, NULL};
int main(void)
{
    for (int t = 0; tables[t]; t++)
        for (const authsvc_stmt_t *st = tables[t]; st->label; st++)
            printf("%s\t%s\n", st->label, st->sql);
    return 0;
}

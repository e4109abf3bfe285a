/*
 * session_sql.h - SQL text about sessions shared by the module (store_sessions.c,
 * store_metrics.c) and authsvc-admin, which runs outside httpd: what counts as a live
 * session is written once. Pure: no header needed.
 */
#ifndef AUTHSVC_SESSION_SQL_H
#define AUTHSVC_SESSION_SQL_H

/* A live session, as its user sees it listed (and may end it): not revoked or past its
 * absolute expiry, and either its cookie has not idled out or a token client still
 * holds a refresh token of it. Three "now" parameters; the table is named sessions. */
#define AUTHSVC_SESSION_LIVE                                                           \
    "revoked_at IS NULL AND expires_at > %lld AND (idle_expires_at > %lld OR EXISTS "  \
    "(SELECT 1 FROM refresh_tokens t WHERE t.session_hash = sessions.token_hash "      \
    "AND t.revoked_at IS NULL AND t.rotated_at IS NULL AND t.expires_at > %lld))"

#endif

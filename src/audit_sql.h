/*
 * audit_sql.h - SQL text shared by the module (store_audit.c) and authsvc-admin, which
 * runs outside httpd: the rules about the audit trail live once.
 */
#ifndef AUTHSVC_AUDIT_SQL_H
#define AUTHSVC_AUDIT_SQL_H

/* A deleted account: its events stay (with the id), its personal data goes: the login
 * as typed everywhere; ip, agent and detail on the rows the user made. Rows an
 * administrator wrote keep their detail ({"admin":...} from the API, "via":
 * "authsvc-admin" from the tool), ip and agent, which are the administrator's: who
 * did what to the account must survive its deletion. The detail is compact JSON and a
 * quote inside a JSON string is escaped, so these patterns match only a real key;
 * they hold no '_' nor backslash and our keys are lower case, so SQLite's
 * case-insensitive LIKE and PostgreSQL's agree. A NULL detail is no admin's row.
 * (%% is how apr_dbd's statement syntax writes %.) */
#define AUTHSVC_SQL_AUDIT_BY_ADMIN                                                     \
    "(detail LIKE '%%\"admin\":\"%%' OR detail LIKE '%%\"via\":\"authsvc-admin\"%%')"
#define AUTHSVC_SQL_AUDIT_SCRUB                                                        \
    "UPDATE audit_log SET login = NULL, "                                              \
    "ip = CASE WHEN " AUTHSVC_SQL_AUDIT_BY_ADMIN " THEN ip ELSE NULL END, "            \
    "user_agent = CASE WHEN " AUTHSVC_SQL_AUDIT_BY_ADMIN " THEN user_agent ELSE NULL END, " \
    "detail = CASE WHEN " AUTHSVC_SQL_AUDIT_BY_ADMIN " THEN detail ELSE NULL END "     \
    "WHERE user_id = %s"

#endif

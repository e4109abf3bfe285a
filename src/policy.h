/* policy.h - password policy: what a new password must look like.
 *
 * Pure unit: apr only. Lengths are counted in Unicode code points, so that
 * "12 characters" means what a user typing them would count.
 */
#ifndef AUTHSVC_POLICY_H
#define AUTHSVC_POLICY_H

#include <stddef.h>

#include <apr_pools.h>

#include "breach.h"

/* The longest blocklist entry, in octets; a longer line in a list file is an error. */
#define AUTHSVC_BLOCKLIST_LINE_MAX 1024

/* A password blocklist: lower-case (ASCII), sorted in strcmp order, no duplicates, no
 * empty entries. The words live as long as the list (static, or the loading pool). */
typedef struct {
    const char *const *words;
    apr_size_t n;
} authsvc_blocklist_t;

typedef struct {
    int min_length;  /* code points */
    int max_length;  /* code points */
    int complexity;  /* 0..4: character classes required (0: no rule) */
    const authsvc_blocklist_t *blocklist;  /* NULL: no blocklist */
    const authsvc_breach_t *breach;        /* NULL: no breached-password corpus */
    apr_int64_t breach_min;                /* refused when seen this often (>= 1) */
} authsvc_policy_t;

/* What a password must not contain; any field may be NULL. NUL-terminated strings. */
typedef struct {
    const char *email;
    const char *username;
    const char *first_name;
    const char *last_name;
} authsvc_policy_ctx_t;

/* Stable machine codes returned in *code. */
#define AUTHSVC_POLICY_TOO_SHORT "password_too_short"
#define AUTHSVC_POLICY_TOO_LONG  "password_too_long"
#define AUTHSVC_POLICY_INVALID   "password_invalid"
#define AUTHSVC_POLICY_BREACHED  "password_breached"
#define AUTHSVC_POLICY_RULE      "password_policy"

/* Check a candidate password: valid UTF-8, no control characters (all printable
 * characters including spaces and emoji are allowed), min_length <= code points <=
 * max_length (longer is rejected, never truncated). Returns NULL if acceptable (and
 * sets *code to NULL), else sets *code to a stable machine code ("password_too_short",
 * "password_too_long", "password_invalid") and returns a clear human message in p
 * (e.g. "must be at least 12 characters"). code may be NULL. */
const char *authsvc_policy_check_password(apr_pool_t *p, const authsvc_policy_t *pol,
                                          const char *pw, size_t len, const char **code);

/* The whole policy, in this order, stopping at the first failure:
 *  1. authsvc_policy_check_password (length, UTF-8, control characters);
 *  2. the blocklist (pol->blocklist, if set) -> "password_breached"; then the
 *     breached-password corpus (pol->breach, if set): seen at least pol->breach_min
 *     times -> "password_breached" (a corpus damaged where the search went ->
 *     "password_invalid", failing closed);
 *  3. the context (ctx may be NULL): the email local part (before the last '@', and
 *     also its part before the first '+'), the username, the first and the last name,
 *     each ignored when shorter than 3 code points, must not occur in the password,
 *     compared with ASCII case folding (non-ASCII octets exactly) -> "password_policy";
 *  4. pol->complexity classes among lower-case a-z, upper-case A-Z, digits 0-9 and
 *     other (everything else, non-ASCII letters included) -> "password_policy".
 * The history rule (password_reused) needs the database and is the caller's.
 * Returns NULL if acceptable (and *code NULL), else a message in p and *code as above.
 * code may be NULL. */
const char *authsvc_policy_check(apr_pool_t *p, const authsvc_policy_t *pol,
                                 const char *pw, size_t len,
                                 const authsvc_policy_ctx_t *ctx, const char **code);

/* The shipped list (conf/common-passwords.txt, embedded at build time by
 * tools/embed-blocklist.pl into src/blocklist_data.c). Never NULL. */
const authsvc_blocklist_t *authsvc_blocklist_builtin(void);

/* Read a blocklist file: one password per line, LF or CRLF line ends, empty lines
 * skipped, no comment syntax (a line "#" is a password like any other), an optional
 * UTF-8 byte order mark at the start ignored. Entries are lower-cased (ASCII), sorted
 * and deduplicated. Returns NULL and sets *out (allocated in p), or returns an error
 * message in p naming the file (and the line, for a line over
 * AUTHSVC_BLOCKLIST_LINE_MAX octets, with invalid UTF-8 or a control character), or
 * saying that it cannot be read or holds no password; *out is untouched on error. */
const char *authsvc_blocklist_load(apr_pool_t *p, const char *path,
                                   authsvc_blocklist_t **out);

/* 1 if pw[0..len), lower-cased (ASCII), is in bl, else 0 (also for a NULL bl, or a pw
 * that no entry can equal: longer than AUTHSVC_BLOCKLIST_LINE_MAX or holding a NUL).
 * A binary search; allocates nothing. */
int authsvc_blocklist_contains(const authsvc_blocklist_t *bl, const char *pw,
                               size_t len);

#endif /* AUTHSVC_POLICY_H */

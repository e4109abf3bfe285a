/*
 * policy.c - password policy checks (length in code points, printable text only),
 * the blocklist of common passwords, context words and character classes.
 *
 * NIST SP 800-63B section 5.1.1.2: any printable character, spaces and emoji included;
 * a maximum that is enforced, never silently truncated; candidates compared against
 * passwords from previous breaches and context-specific words. Composition rules
 * (complexity) are off by default and only there for sites whose rules demand them.
 */
#include <stdlib.h>
#include <string.h>

#include "apr_file_io.h"
#include "apr_strings.h"

#include "policy.h"
#include "text.h"

static const char *fail(const char **code, const char *what, const char *message)
{
    if (code != NULL) {
        *code = what;
    }
    return message;
}

/* Validity first (invalid UTF-8 has no length to report), then the two bounds. A
 * missing policy fails closed as "password_invalid" rather than accepting anything. */
const char *authsvc_policy_check_password(apr_pool_t *p, const authsvc_policy_t *pol,
                                          const char *pw, size_t len, const char **code)
{
    apr_ssize_t n;

    if (code != NULL) {
        *code = NULL;
    }
    if (pol == NULL || (pw == NULL && len != 0)) {
        return fail(code, AUTHSVC_POLICY_INVALID, "cannot be checked");
    }
    n = authsvc_text_utf8_length(pw, len);
    if (n < 0) {
        return fail(code, AUTHSVC_POLICY_INVALID, "must be valid UTF-8 text");
    }
    if (authsvc_text_has_control(pw, len)) {
        return fail(code, AUTHSVC_POLICY_INVALID,
                    "must not contain control characters");
    }
    if (n < pol->min_length) {
        return fail(code, AUTHSVC_POLICY_TOO_SHORT,
                    apr_psprintf(p, "must be at least %d character%s", pol->min_length,
                                 pol->min_length == 1 ? "" : "s"));
    }
    if (n > pol->max_length) {
        return fail(code, AUTHSVC_POLICY_TOO_LONG,
                    apr_psprintf(p, "must be at most %d character%s", pol->max_length,
                                 pol->max_length == 1 ? "" : "s"));
    }
    return NULL;
}

/* ---- blocklist ---------------------------------------------------------------- */

/* ASCII only, whatever the process locale: non-ASCII octets are compared exactly. */
static unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static void lower(char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        s[i] = (char)fold((unsigned char)s[i]);
    }
}

/* strcmp order on pointers to strings, for qsort and bsearch alike. */
static int by_octets(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The whole file into p, NUL-terminated. The size is taken once: a list file is
 * configuration, read at startup, not a file that grows while we read it. */
static const char *slurp(apr_pool_t *p, const char *path, char **buf, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    char err[120];

    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
        if (rv == APR_SUCCESS) {
            *buf = apr_palloc(p, (apr_size_t)fi.size + 1);
            rv = apr_file_read_full(f, *buf, (apr_size_t)fi.size, len);
            rv = (rv == APR_EOF) ? APR_SUCCESS : rv;
        }
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        return apr_psprintf(p, "cannot read password list %s: %s", path,
                            apr_strerror(rv, err, sizeof(err)));
    }
    (*buf)[*len] = '\0';
    return NULL;
}

/* One line, CR already stripped: short enough, UTF-8, printable (a NUL would cut the
 * entry short, and a password with a control character is refused anyway). */
static const char *check_line(apr_pool_t *p, const char *path, int lineno,
                              const char *s, size_t len)
{
    const char *what = NULL;

    if (len > AUTHSVC_BLOCKLIST_LINE_MAX) {
        what = "is longer than 1024 octets";
    }
    else if (authsvc_text_utf8_length(s, len) < 0) {
        what = "is not valid UTF-8";
    }
    else if (authsvc_text_has_control(s, len)) {
        what = "contains a control character";
    }
    return what ? apr_psprintf(p, "password list %s: line %d %s", path, lineno, what)
                : NULL;
}

/* Cut buf into lines in place and push each non-empty one, lower-cased, onto words. */
static const char *split_lines(apr_pool_t *p, const char *path, char *buf,
                               apr_size_t len, apr_array_header_t *words)
{
    char *line = buf, *end = buf + len, *nl;
    const char *err;
    size_t n;
    int lineno;

    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        line += 3;   /* a byte order mark some editors write */
    }
    for (lineno = 1; line < end; lineno++, line = nl + 1) {
        nl = memchr(line, '\n', (size_t)(end - line));
        nl = nl ? nl : end;
        n = (size_t)(nl - line);
        n -= (n > 0 && line[n - 1] == '\r') ? 1 : 0;
        if ((err = check_line(p, path, lineno, line, n)) != NULL) {
            return err;
        }
        line[n] = '\0';
        lower(line, n);
        if (n > 0) {
            APR_ARRAY_PUSH(words, const char *) = line;
        }
    }
    return NULL;
}

/* Sorted in place; keeps the first of each run of equal words. Returns the count. */
static apr_size_t sort_unique(const char **w, apr_size_t n)
{
    apr_size_t i, kept = 0;

    qsort(w, n, sizeof(*w), by_octets);
    for (i = 0; i < n; i++) {
        if (kept == 0 || strcmp(w[kept - 1], w[i]) != 0) {
            w[kept++] = w[i];
        }
    }
    return kept;
}

/* Read, split, check, sort: any bad line fails the whole file, so that a typo in the
 * path or an unexpected encoding is found at startup rather than silently ignored. */
const char *authsvc_blocklist_load(apr_pool_t *p, const char *path,
                                   authsvc_blocklist_t **out)
{
    apr_array_header_t *words = apr_array_make(p, 1024, sizeof(const char *));
    authsvc_blocklist_t *bl;
    const char *err;
    apr_size_t len;
    char *buf;

    if ((err = slurp(p, path, &buf, &len)) != NULL ||
        (err = split_lines(p, path, buf, len, words)) != NULL) {
        return err;
    }
    if (words->nelts == 0) {
        return apr_psprintf(p, "password list %s holds no password", path);
    }
    bl = apr_palloc(p, sizeof(*bl));
    bl->n = sort_unique((const char **)words->elts, (apr_size_t)words->nelts);
    bl->words = (const char *const *)words->elts;
    *out = bl;
    return NULL;
}

/* The lower-cased copy lives on the stack: no entry is longer than the buffer, so a
 * longer password cannot be in the list. */
int authsvc_blocklist_contains(const authsvc_blocklist_t *bl, const char *pw,
                               size_t len)
{
    char buf[AUTHSVC_BLOCKLIST_LINE_MAX + 1];
    const char *key = buf;

    if (bl == NULL || bl->n == 0 || pw == NULL || len > AUTHSVC_BLOCKLIST_LINE_MAX ||
        memchr(pw, '\0', len) != NULL) {
        return 0;
    }
    memcpy(buf, pw, len);
    buf[len] = '\0';
    lower(buf, len);
    return bsearch(&key, bl->words, bl->n, sizeof(*bl->words), by_octets) != NULL;
}

/* ---- context words and character classes -------------------------------------- */

/* 1 if a[0..n) and b[0..n) are equal but for ASCII case. */
static int equal_folded(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (fold((unsigned char)a[i]) != fold((unsigned char)b[i])) {
            return 0;
        }
    }
    return 1;
}

/* 1 if frag occurs in pw[0..len), ASCII case folded. A fragment shorter than 3 code
 * points (or not UTF-8) is not worth refusing a password for, and never matches.
 * Both are short (a bounded password, a name field), so the naive search will do. */
static int contains_word(const char *pw, size_t len, const char *frag, size_t flen)
{
    size_t i;

    if (authsvc_text_utf8_length(frag, flen) < 3) {
        return 0;
    }
    for (i = 0; i + flen <= len; i++) {
        if (equal_folded(pw + i, frag, flen)) {
            return 1;
        }
    }
    return 0;
}

static int contains_str(const char *pw, size_t len, const char *s)
{
    return s != NULL && contains_word(pw, len, s, strlen(s));
}

/* The local part of an email (before the last '@'), whole and up to the first '+':
 * "jane.doe+shop@example.com" refuses both "jane.doe+shop" and "jane.doe". */
static int contains_local(const char *pw, size_t len, const char *email)
{
    const char *at, *plus;
    size_t local;

    if (email == NULL) {
        return 0;
    }
    at = strrchr(email, '@');
    local = at ? (size_t)(at - email) : strlen(email);
    plus = memchr(email, '+', local);
    return contains_word(pw, len, email, local) ||
           (plus != NULL && contains_word(pw, len, email, (size_t)(plus - email)));
}

static const char *check_context(const char *pw, size_t len,
                                 const authsvc_policy_ctx_t *ctx)
{
    if (ctx == NULL) {
        return NULL;
    }
    if (contains_local(pw, len, ctx->email)) {
        return "must not contain the first part of your email address";
    }
    if (contains_str(pw, len, ctx->username)) {
        return "must not contain your username";
    }
    if (contains_str(pw, len, ctx->first_name)) {
        return "must not contain your first name";
    }
    if (contains_str(pw, len, ctx->last_name)) {
        return "must not contain your last name";
    }
    return NULL;
}

/* 0 lower-case, 1 upper-case, 2 digit, 3 other. Any octet >= 0x80 belongs to a
 * non-ASCII code point, which is "other" whether or not it is a letter in some script. */
static int class_of(unsigned char c)
{
    if (c >= 'a' && c <= 'z') {
        return 0;
    }
    if (c >= 'A' && c <= 'Z') {
        return 1;
    }
    return (c >= '0' && c <= '9') ? 2 : 3;
}

/* How many of the four classes occur in pw. */
static int classes(const char *pw, size_t len)
{
    int seen[4] = {0, 0, 0, 0};
    size_t i;

    for (i = 0; i < len; i++) {
        seen[class_of((unsigned char)pw[i])] = 1;
    }
    return seen[0] + seen[1] + seen[2] + seen[3];
}

/* The offline corpus of breached passwords (breach.c), after the cheaper blocklist. */
static const char *check_breach(const authsvc_policy_t *pol, const char *pw, size_t len,
                                const char **code)
{
    apr_int64_t seen;

    if (pol->breach == NULL) {
        return NULL;
    }
    seen = authsvc_breach_count(pol->breach, pw, len);
    if (seen < 0) {
        return fail(code, AUTHSVC_POLICY_INVALID,
                    "cannot be checked against the list of breached passwords");
    }
    if (seen >= (pol->breach_min > 0 ? pol->breach_min : 1)) {
        return fail(code, AUTHSVC_POLICY_BREACHED,
                    "has appeared in a data breach: choose a password no one has used");
    }
    return NULL;
}

/* Cheapest and most basic first, so the message names the first thing to fix. */
const char *authsvc_policy_check(apr_pool_t *p, const authsvc_policy_t *pol,
                                 const char *pw, size_t len,
                                 const authsvc_policy_ctx_t *ctx, const char **code)
{
    const char *msg = authsvc_policy_check_password(p, pol, pw, len, code);

    if (msg != NULL) {
        return msg;
    }
    if (authsvc_blocklist_contains(pol->blocklist, pw, len)) {
        return fail(code, AUTHSVC_POLICY_BREACHED,
                    "is too common: it appears in a list of passwords attackers try first");
    }
    if ((msg = check_breach(pol, pw, len, code)) != NULL) {
        return msg;
    }
    if ((msg = check_context(pw, len, ctx)) != NULL) {
        return fail(code, AUTHSVC_POLICY_RULE, msg);
    }
    if (classes(pw, len) < pol->complexity) {
        return fail(code, AUTHSVC_POLICY_RULE,
                    apr_psprintf(p, "must use at least %d of: lower-case letters, "
                                    "upper-case letters, digits, other characters",
                                 pol->complexity));
    }
    return NULL;
}

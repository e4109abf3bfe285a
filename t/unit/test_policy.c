/* test_policy.c - policy.c: lengths in code points, printable text only; the
 * blocklist, context words and character classes. */
#include <string.h>

#include "apr_file_io.h"
#include "apr_general.h"
#include "apr_strings.h"

#include "policy.h"
#include "tap_apr.h"

#define S(s) (s), (sizeof(s) - 1)

#define EMOJI "\xf0\x9f\x94\x91"   /* U+1F511 KEY: 4 octets, 1 code point */
#define EACUTE "\xc3\xa9"          /* U+00E9: 2 octets, 1 code point */

/* n copies of unit, in p. */
static const char *repeat(apr_pool_t *p, const char *unit, int n)
{
    size_t u = strlen(unit);
    char *s = apr_palloc(p, u * (size_t)n + 1);
    int i;

    for (i = 0; i < n; i++) {
        memcpy(s + u * (size_t)i, unit, u);
    }
    s[u * (size_t)n] = '\0';
    return s;
}

/* One verdict: expected code (NULL = accepted) and, if given, the exact message. */
static void expect(const char *msg, const char *code, const char *want_code,
                   const char *want_msg, const char *what)
{
    if (want_code == NULL) {
        ok(msg == NULL && code == NULL, "policy: %s accepted", what);
        if (msg != NULL) {
            diag("message: %s (%s)", msg, code ? code : "NULL");
        }
        return;
    }
    is_str(code, want_code, "policy: %s -> %s", what, want_code);
    if (want_msg != NULL) {
        is_str(msg, want_msg, "policy: %s message", what);
    }
    else {
        ok(msg != NULL && *msg != '\0', "policy: %s has a message", what);
    }
}

/* authsvc_policy_check_password alone. */
static void check(apr_pool_t *p, const authsvc_policy_t *pol, const char *pw, size_t len,
                  const char *want_code, const char *want_msg, const char *what)
{
    const char *code = "unset";
    const char *msg = authsvc_policy_check_password(p, pol, pw, len, &code);

    expect(msg, code, want_code, want_msg, what);
}

/* The whole policy, on a NUL-terminated password. */
static void check_all(apr_pool_t *p, const authsvc_policy_t *pol, const char *pw,
                      const authsvc_policy_ctx_t *ctx, const char *want_code,
                      const char *want_msg, const char *what)
{
    const char *code = "unset";
    const char *msg = authsvc_policy_check(p, pol, pw, strlen(pw), ctx, &code);

    expect(msg, code, want_code, want_msg, what);
}

/* ---- blocklist ---------------------------------------------------------------- */

#define BREACHED_MSG                                                                     \
    "is too common: it appears in a list of passwords attackers try first"

static int has_upper(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s >= 'A' && *s <= 'Z') {
            return 1;
        }
    }
    return 0;
}

/* Every adjacent pair strictly ascending (sorted, no duplicates), all lower-case, none
 * empty: what the binary search relies on. Reports the first offender. */
static void check_list_shape(const authsvc_blocklist_t *bl, const char *what)
{
    apr_size_t i, bad = 0;

    for (i = 0; i < bl->n && bad == 0; i++) {
        if (bl->words[i][0] == '\0' || has_upper(bl->words[i]) ||
            (i > 0 && strcmp(bl->words[i - 1], bl->words[i]) >= 0)) {
            bad = i + 1;
        }
    }
    ok(bad == 0, "blocklist: %s sorted, unique, lower-case, no empty entry", what);
    if (bad != 0) {
        diag("entry %lu: '%s'", (unsigned long)(bad - 1), bl->words[bad - 1]);
    }
}

static void test_builtin(apr_pool_t *p)
{
    const authsvc_blocklist_t *bl = authsvc_blocklist_builtin();
    authsvc_policy_t pol = {.min_length = 8, .max_length = 64};
    char big[1100];

    ok(bl != NULL && bl->n >= 10000, "blocklist: builtin has >= 10,000 entries (%lu)",
       bl ? (unsigned long)bl->n : 0UL);
    check_list_shape(bl, "builtin");
    ok(authsvc_blocklist_contains(bl, S("password")), "blocklist: has password");
    ok(authsvc_blocklist_contains(bl, S("123456")), "blocklist: has 123456");
    ok(authsvc_blocklist_contains(bl, S("qwerty")), "blocklist: has qwerty");
    ok(authsvc_blocklist_contains(bl, S("PassWord")), "blocklist: PassWord (any case)");
    ok(authsvc_blocklist_contains(bl, S("QWERTY")), "blocklist: QWERTY (any case)");
    ok(authsvc_blocklist_contains(bl, bl->words[0], strlen(bl->words[0])) &&
       authsvc_blocklist_contains(bl, bl->words[bl->n - 1], strlen(bl->words[bl->n - 1])),
       "blocklist: first and last entries found");
    ok(!authsvc_blocklist_contains(bl, S("passwordx")), "blocklist: no prefix match");
    ok(!authsvc_blocklist_contains(bl, S("password\0" "x")),
       "blocklist: a NUL does not end the password");
    ok(!authsvc_blocklist_contains(bl, S("vX9#qT2!mLp7$wR-ferry-lantern")),
       "blocklist: random-looking passphrase not in it");
    ok(!authsvc_blocklist_contains(NULL, S("password")), "blocklist: NULL list");
    memset(big, 'a', sizeof(big));
    ok(!authsvc_blocklist_contains(bl, big, sizeof(big)), "blocklist: over 1024 octets");

    pol.blocklist = bl;
    check_all(p, &pol, "PassWord", NULL, AUTHSVC_POLICY_BREACHED, BREACHED_MSG,
              "PassWord breached");
    check_all(p, &pol, "vX9#qT2!mLp7$wR-ferry-lantern", NULL, NULL, NULL,
              "strong passphrase");
    pol.blocklist = NULL;
    check_all(p, &pol, "password", NULL, NULL, NULL, "no blocklist: password accepted");
}

/* A temporary file holding data[0..len); its name, or NULL. */
static const char *temp_file(apr_pool_t *p, const char *data, apr_size_t len)
{
    const char *dir;
    char *path;
    apr_file_t *f;
    apr_size_t written;

    if (apr_temp_dir_get(&dir, p) != APR_SUCCESS) {
        return NULL;
    }
    path = apr_pstrcat(p, dir, "/test_policy.XXXXXX", NULL);
    if (apr_file_mktemp(&f, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE | APR_FOPEN_EXCL,
                        p) != APR_SUCCESS) {
        return NULL;
    }
    if (apr_file_write_full(f, data, len, &written) != APR_SUCCESS) {
        written = (apr_size_t)-1;
    }
    apr_file_close(f);
    return written == len ? path : NULL;
}

/* Load data from a temp file; the error (NULL on success) and *out. */
static const char *load(apr_pool_t *p, const char *data, apr_size_t len,
                        authsvc_blocklist_t **out)
{
    const char *path = temp_file(p, data, len);
    const char *err;

    if (path == NULL) {
        return "test could not write a temporary file";
    }
    err = authsvc_blocklist_load(p, path, out);
    apr_file_remove(path, p);
    return err;
}

/* A load that must fail, with a message holding both want1 and want2. */
static void load_fails(apr_pool_t *p, const char *data, apr_size_t len,
                       const char *want1, const char *want2, const char *what)
{
    authsvc_blocklist_t sentinel, *bl = &sentinel;
    const char *err = load(p, data, len, &bl);

    ok(err != NULL && strstr(err, want1) != NULL && strstr(err, want2) != NULL,
       "load: %s -> error with '%s' and '%s'", what, want1, want2);
    if (err != NULL && (strstr(err, want1) == NULL || strstr(err, want2) == NULL)) {
        diag("error: %s", err);
    }
    ok(bl == &sentinel, "load: %s leaves *out alone", what);
}

static void test_load(apr_pool_t *p)
{
    static const char list[] = "\xef\xbb\xbfZeta\r\nalpha\r\n\r\nALPHA\nbeta\n\n"
                               "zeta\n#\ncaf\xc3\xa9\nGamma";
    authsvc_blocklist_t *bl = NULL;
    const char *err = load(p, list, sizeof(list) - 1, &bl), *got;
    char *line = apr_palloc(p, 1030);

    is_str(err, NULL, "load: mixed list loads");
    if (bl == NULL) {
        return;
    }
    is_int(bl->n, 6, "load: BOM, CR, empty lines, duplicates and case handled");
    got = apr_pstrcat(p, bl->words[0], ",", bl->words[1], ",", bl->words[2], ",",
                      bl->words[3], ",", bl->words[4], ",", bl->words[5], NULL);
    is_str(got, "#,alpha,beta,caf\xc3\xa9,gamma,zeta", "load: sorted, lower-case");
    check_list_shape(bl, "loaded");
    ok(authsvc_blocklist_contains(bl, S("GAMMA")) &&
       authsvc_blocklist_contains(bl, S("CAF\xc3\xa9")),
       "load: contains GAMMA, CAFe-acute (ASCII fold)");
    ok(!authsvc_blocklist_contains(bl, S("delta")), "load: not delta");

    memset(line, 'a', 1024);
    memcpy(line + 1024, "\nb\n", 3);
    is_str(load(p, line, 1027, &bl), NULL, "load: a 1024-octet line is fine");
    line[1024] = 'a';
    memcpy(line + 1025, "\n", 1);
    load_fails(p, line, 1026, "line 1 ", "1024", "1025-octet line");
    load_fails(p, S("ok\nfine\nbad\xff\n"), "line 3 ", "UTF-8", "invalid UTF-8");
    load_fails(p, S("ok\nta\tb\n"), "line 2 ", "control", "tab in a line");
    load_fails(p, S("ok\nnu\0l\n"), "line 2 ", "control", "NUL in a line");
    load_fails(p, S(""), "holds no password", "test_policy.", "empty file");
    load_fails(p, S("\n\r\n\n"), "holds no password", "test_policy.", "only empty lines");
    bl = NULL;
    err = authsvc_blocklist_load(p, "/nonexistent/authsvc/list.txt", &bl);
    ok(err != NULL && strstr(err, "cannot read") != NULL &&
       strstr(err, "/nonexistent/authsvc/list.txt") != NULL && bl == NULL,
       "load: missing file -> 'cannot read' naming it");
}

/* ---- context words ------------------------------------------------------------ */

#define MSG_EMAIL "must not contain the first part of your email address"
#define MSG_USER  "must not contain your username"
#define MSG_FIRST "must not contain your first name"
#define MSG_LAST  "must not contain your last name"

static void test_context(apr_pool_t *p)
{
    authsvc_policy_t pol = {.min_length = 8, .max_length = 64};
    authsvc_policy_ctx_t ctx = {"Jane.Doe+shop@Example.com", "jdoe77", "Jane", "Doe"};
    authsvc_policy_ctx_t none = {NULL, NULL, NULL, NULL};
    authsvc_policy_ctx_t shorts = {"ab+x@example.com", "ab", "Al", "\xc3\xa9\xc3\xa9"};
    authsvc_policy_ctx_t intl = {NULL, NULL, NULL, "M\xc3\xbcller"};
    authsvc_policy_ctx_t odd = {"ab@cd@example.com", NULL, NULL, NULL};
    const char *rule = AUTHSVC_POLICY_RULE;

    check_all(p, &pol, "my jdoe77 secret", &ctx, rule, MSG_USER, "username");
    check_all(p, &pol, "xxJDOE77xx", &ctx, rule, MSG_USER, "username, other case");
    check_all(p, &pol, "JANE.DOE+SHOP rocks", &ctx, rule, MSG_EMAIL, "whole local part");
    check_all(p, &pol, "i am jane.doe!!", &ctx, rule, MSG_EMAIL, "local part before +");
    check_all(p, &pol, "i am example.com", &ctx, NULL, NULL, "domain is not checked");
    check_all(p, &pol, "xx ab@cd yy", &odd, rule, MSG_EMAIL, "local part ends at the last @");
    check_all(p, &pol, "hello jAnE there", &ctx, rule, MSG_FIRST, "first name");
    check_all(p, &pol, "the DOE ray me", &ctx, rule, MSG_LAST, "last name of 3");
    check_all(p, &pol, "jdoe77 jane.doe", &ctx, rule, MSG_EMAIL, "email reported first");
    check_all(p, &pol, "an unrelated phrase", &ctx, NULL, NULL, "unrelated accepted");
    check_all(p, &pol, "my jdoe77 secret", NULL, NULL, NULL, "NULL context");
    check_all(p, &pol, "my jdoe77 secret", &none, NULL, NULL, "all-NULL context");
    check_all(p, &pol, "abxAlal\xc3\xa9\xc3\xa9", &shorts, NULL, NULL,
              "fragments under 3 code points ignored (4-octet name too)");
    check_all(p, &pol, "this is ab+x too", &shorts, rule, MSG_EMAIL,
              "4-character local part still checked");
    check_all(p, &pol, "hi MuLLER there", &intl, NULL, NULL, "u is not u-umlaut");
    check_all(p, &pol, "hi M\xc3\xbcLLER there", &intl, rule, MSG_LAST,
              "ASCII folded around u-umlaut");
    check_all(p, &pol, "hi M\xc3\x9cller there", &intl, NULL, NULL,
              "non-ASCII compared exactly (U-umlaut)");
}

/* ---- character classes -------------------------------------------------------- */

static void test_complexity(apr_pool_t *p)
{
    /* Passwords with exactly k classes, k = 1..4, then other-class variants. */
    static const char *const by_classes[] = {"aaaa", "aaAA", "aA11", "aA1!"};
    static const char *const others[] = {"aA1 ", "aA1\xc3\xa9", "aA1" EMOJI,
                                         "aA1\xc3\x89"};
    authsvc_policy_t pol = {.min_length = 1, .max_length = 64};
    const char *code, *msg;
    const char *pw;
    int n, k;

    for (n = 0; n <= 4; n++) {
        pol.complexity = n;
        for (k = 1; k <= 4; k++) {
            pw = by_classes[k - 1];
            msg = authsvc_policy_check(p, &pol, pw, strlen(pw), NULL, &code);
            ok((msg == NULL) == (k >= n), "complexity %d: %d classes %s", n, k,
               k >= n ? "accepted" : "refused");
        }
    }
    pol.complexity = 4;
    for (k = 0; k < 4; k++) {
        check_all(p, &pol, others[k], NULL, NULL, NULL, "space/non-ASCII is other");
    }
    check_all(p, &pol, "aA1b", NULL, AUTHSVC_POLICY_RULE,
              "must use at least 4 of: lower-case letters, upper-case letters, digits, "
              "other characters", "complexity 4 message");
    pol.complexity = 3;
    check_all(p, &pol, "\xc3\xa9\xc3\x89" EMOJI, NULL, AUTHSVC_POLICY_RULE, NULL,
              "non-ASCII letters are one class, not lower and upper");
}

/* ---- order of the checks ------------------------------------------------------ */

static void test_order(apr_pool_t *p)
{
    authsvc_policy_t pol = {.min_length = 8, .max_length = 64, .complexity = 4};
    authsvc_policy_ctx_t ctx = {"qwerty@example.com", "password", "Jane", NULL};
    const char *code = "unset", *msg;

    pol.blocklist = authsvc_blocklist_builtin();
    check_all(p, &pol, "\xff" "password", &ctx, AUTHSVC_POLICY_INVALID, NULL,
              "invalid before all");
    check_all(p, &pol, "123456", &ctx, AUTHSVC_POLICY_TOO_SHORT, NULL,
              "short and blocklisted -> too short");
    check_all(p, &pol, "password", &ctx, AUTHSVC_POLICY_BREACHED, NULL,
              "blocklisted and the username -> breached");
    check_all(p, &pol, "janejanejane", &ctx, AUTHSVC_POLICY_RULE, MSG_FIRST,
              "first name and one class -> context");
    check_all(p, &pol, "Xy7!kkkkkkkk", &ctx, NULL, NULL, "all rules met");
    msg = authsvc_policy_check(p, &pol, S("Xy7!kkkkkkkk"), &ctx, &code);
    ok(msg == NULL && code == NULL, "check: success sets code to NULL");
    msg = authsvc_policy_check(p, &pol, S("password"), &ctx, NULL);
    is_str(msg, BREACHED_MSG, "check: code pointer may be NULL");
    check_all(p, NULL, "whatever it is", &ctx, AUTHSVC_POLICY_INVALID, NULL,
              "check: NULL policy");
}

int main(void)
{
    apr_pool_t *p;
    authsvc_policy_t pol = {.min_length = 12, .max_length = 128};
    authsvc_policy_t one = {.min_length = 1, .max_length = 1};
    const char *s, *msg;

    p = tap_apr_start();

    s = repeat(p, "a", 11);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_TOO_SHORT, "must be at least 12 characters",
          "11 ASCII");
    s = repeat(p, "a", 12);
    check(p, &pol, s, strlen(s), NULL, NULL, "12 ASCII");
    s = repeat(p, "a", 128);
    check(p, &pol, s, strlen(s), NULL, NULL, "128 ASCII");
    s = repeat(p, "a", 129);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_TOO_LONG, "must be at most 128 characters",
          "129 ASCII");

    /* Code points, not octets: 11 emoji are 44 octets and still too short. */
    s = repeat(p, EMOJI, 11);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_TOO_SHORT, "must be at least 12 characters",
          "11 emoji (44 octets)");
    s = repeat(p, EMOJI, 12);
    check(p, &pol, s, strlen(s), NULL, NULL, "12 emoji (48 octets)");
    s = repeat(p, EMOJI, 128);
    check(p, &pol, s, strlen(s), NULL, NULL, "128 emoji (512 octets)");
    s = repeat(p, EMOJI, 129);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_TOO_LONG, "must be at most 128 characters",
          "129 emoji");
    s = repeat(p, EACUTE, 11);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_TOO_SHORT, NULL,
          "11 e-acute (22 octets)");
    s = repeat(p, EACUTE, 128);
    check(p, &pol, s, strlen(s), NULL, NULL, "128 e-acute (256 octets)");
    s = repeat(p, EACUTE, 129);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_TOO_LONG, NULL, "129 e-acute");
    s = apr_pstrcat(p, repeat(p, "ab", 5), EACUTE, EMOJI, NULL);
    check(p, &pol, s, strlen(s), NULL, NULL, "mixed 1-, 2- and 4-octet, 12 code points");

    /* Spaces and other printable characters are allowed. */
    check(p, &pol, S("correct horse battery staple"), NULL, NULL, "spaces inside");
    check(p, &pol, S("  leading and trailing  "), NULL, NULL, "leading/trailing spaces");
    check(p, &pol, S("            "), NULL, NULL, "12 spaces");
    check(p, &pol, S("\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0"
                     "\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0"),
          NULL, NULL, "12 no-break spaces");
    check(p, &pol, S("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"), NULL, NULL,
          "ASCII punctuation");

    /* Control characters are not. */
    check(p, &pol, S("password\n1234"), AUTHSVC_POLICY_INVALID,
          "must not contain control characters", "newline");
    check(p, &pol, S("password\t1234"), AUTHSVC_POLICY_INVALID, NULL, "tab");
    check(p, &pol, S("password\0" "1234"), AUTHSVC_POLICY_INVALID, NULL, "NUL");
    check(p, &pol, S("password\x7f" "1234"), AUTHSVC_POLICY_INVALID, NULL, "DEL");
    check(p, &pol, S("password\xc2\x85" "1234"), AUTHSVC_POLICY_INVALID, NULL, "C1 NEL");

    /* Nor is invalid UTF-8, whatever its length. */
    check(p, &pol, S("password1234\xff"), AUTHSVC_POLICY_INVALID,
          "must be valid UTF-8 text", "0xFF octet");
    check(p, &pol, S("password1234\xc0\xaf"), AUTHSVC_POLICY_INVALID, NULL, "overlong /");
    check(p, &pol, S("password1234\xed\xa0\x80"), AUTHSVC_POLICY_INVALID, NULL,
          "surrogate U+D800");
    check(p, &pol, S("password1234\xf0\x9f\x94"), AUTHSVC_POLICY_INVALID, NULL,
          "truncated emoji");
    check(p, &pol, S("\xff"), AUTHSVC_POLICY_INVALID, NULL,
          "short and invalid reports invalid first");
    s = apr_pstrcat(p, repeat(p, "a", 200), "\x80", NULL);
    check(p, &pol, s, strlen(s), AUTHSVC_POLICY_INVALID, NULL,
          "long and invalid reports invalid first");

    /* Edges of the API. */
    check(p, &pol, S(""), AUTHSVC_POLICY_TOO_SHORT, NULL, "empty");
    check(p, &one, S("x"), NULL, NULL, "min = max = 1");
    check(p, &one, S(""), AUTHSVC_POLICY_TOO_SHORT, "must be at least 1 character",
          "singular message");
    check(p, &one, S("xy"), AUTHSVC_POLICY_TOO_LONG, "must be at most 1 character",
          "singular message, too long");
    check(p, NULL, S("whatever it is"), AUTHSVC_POLICY_INVALID, NULL, "NULL policy");
    msg = authsvc_policy_check_password(p, &pol, S("short"), NULL);
    is_str(msg, "must be at least 12 characters", "policy: code pointer may be NULL");

    test_builtin(p);
    test_load(p);
    test_context(p);
    test_complexity(p);
    test_order(p);

    return tap_apr_end(p);
}

/* test_breach.c - breach.c: the Pwned Passwords text format and the compact index,
 * format detection, lookups at the edges, damaged files refused, the index builder,
 * and the policy's use of both (AuthsvcPasswordBreachMinCount). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "apr_general.h"
#include "apr_strings.h"

#include "breach.h"
#include "policy.h"
#include "tap_apr.h"

#define FILLER 3000

typedef struct {
    unsigned char sha1[20];
    unsigned long count;
} entry_t;

static const char *dir;

static void sha1(const char *s, unsigned char out[20])
{
    unsigned int n;

    EVP_Digest(s, strlen(s), out, &n, EVP_sha1(), NULL);
}

static int by_hash(const void *a, const void *b)
{
    return memcmp(((const entry_t *)a)->sha1, ((const entry_t *)b)->sha1, 20);
}

/* FILLER hashes of made-up strings plus the known passwords, sorted. */
static entry_t *corpus(apr_pool_t *p, int *n)
{
    static const char *known[] = {"password", "correct horse battery staple",
                                  "Tr0ub4dor&3", "once-seen-password"};
    static const unsigned long counts[] = {9545824, 300, 5, 1};
    entry_t *e = apr_pcalloc(p, sizeof(*e) * (FILLER + 4));
    int i;

    for (i = 0; i < FILLER; i++) {
        sha1(apr_psprintf(p, "filler-%d", i), e[i].sha1);
        e[i].count = (unsigned long)(i % 50) + 1;
    }
    for (i = 0; i < 4; i++) {
        sha1(known[i], e[FILLER + i].sha1);
        e[FILLER + i].count = counts[i];
    }
    *n = FILLER + 4;
    qsort(e, (size_t)*n, sizeof(*e), by_hash);
    return e;
}

/* Write the entries as HIBP text; eol "\n" or "\r\n"; lower: lower-case hex. */
static const char *write_text(apr_pool_t *p, const char *name, const entry_t *e, int n,
                              const char *eol, int lower)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    FILE *f = fopen(path, "w");
    int i, k;

    for (i = 0; i < n; i++) {
        for (k = 0; k < 20; k++) {
            fprintf(f, lower ? "%02x" : "%02X", e[i].sha1[k]);
        }
        fprintf(f, ":%lu%s", e[i].count, (i == n - 1 && eol[0] == '\r') ? "" : eol);
    }
    fclose(f);
    return path;
}

static const char *write_raw(apr_pool_t *p, const char *name, const void *data, size_t len)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    FILE *f = fopen(path, "wb");

    fwrite(data, 1, len, f);
    fclose(f);
    return path;
}

static char *slurp(apr_pool_t *p, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;

    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = apr_palloc(p, *len + 1);
    *len = fread(buf, 1, *len, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static authsvc_breach_t *open_ok(apr_pool_t *p, const char *path, const char *what)
{
    authsvc_breach_t *b = NULL;
    const char *err = authsvc_breach_open(p, path, &b);

    ok(err == NULL && b != NULL, "open %s", what);
    if (err != NULL) {
        diag("%s", err);
    }
    return b;
}

static void refused(apr_pool_t *p, const char *path, const char *want, const char *what)
{
    authsvc_breach_t *b = NULL;
    const char *err = authsvc_breach_open(p, path, &b);

    ok(err != NULL && b == NULL && strstr(err, want) != NULL && strstr(err, path) != NULL,
       "refused: %s (\"%s\")", what, want);
    if (err == NULL || strstr(err, want) == NULL) {
        diag("got: %s", err ? err : "NULL");
    }
}

/* The same lookups whatever the format. */
static void lookups(apr_pool_t *p, const authsvc_breach_t *b, const entry_t *e, int n,
                    const char *what)
{
    unsigned char h[20];

    is_int(authsvc_breach_lookup(b, e[0].sha1), (long long)e[0].count, "%s: first", what);
    is_int(authsvc_breach_lookup(b, e[n - 1].sha1), (long long)e[n - 1].count,
           "%s: last", what);
    is_int(authsvc_breach_lookup(b, e[n / 2].sha1), (long long)e[n / 2].count,
           "%s: middle", what);
    is_int(authsvc_breach_lookup(b, e[1].sha1), (long long)e[1].count, "%s: second", what);
    is_int(authsvc_breach_lookup(b, e[n - 2].sha1), (long long)e[n - 2].count,
           "%s: next to last", what);
    is_int(authsvc_breach_count(b, "password", 8), 9545824, "%s: \"password\"", what);
    is_int(authsvc_breach_count(b, "Password", 8), 0, "%s: case matters", what);
    is_int(authsvc_breach_count(b, "not in the corpus at all", 24), 0, "%s: absent", what);
    memset(h, 0, sizeof(h));
    is_int(authsvc_breach_lookup(b, h), 0, "%s: below the first", what);
    memset(h, 0xff, sizeof(h));
    is_int(authsvc_breach_lookup(b, h), 0, "%s: above the last", what);
    memcpy(h, e[n / 3].sha1, 20);
    h[7] ^= 1;    /* between two records (the neighbours differ earlier) */
    is_int(authsvc_breach_lookup(b, h), 0, "%s: a near miss", what);
    /* Only the index's 8-octet prefix is compared: the documented false positive. */
    memcpy(h, e[n / 3].sha1, 20);
    h[19] ^= 1;
    is_int(authsvc_breach_lookup(b, h),
           authsvc_breach_format(b) == AUTHSVC_BREACH_INDEX ? (long long)e[n / 3].count : 0,
           "%s: differs after the 8th octet", what);
    (void)p;
}

static void policy(apr_pool_t *p, const authsvc_breach_t *b, const char *what)
{
    authsvc_policy_t pol = {.min_length = 8, .max_length = 64, .breach = b};
    const char *code = NULL, *msg;

    msg = authsvc_policy_check(p, &pol, "Tr0ub4dor&3", 11, NULL, &code);
    is_str(code, AUTHSVC_POLICY_BREACHED, "%s policy: breached -> password_breached", what);
    ok(msg != NULL, "%s policy: with a message", what);
    pol.breach_min = 5;
    msg = authsvc_policy_check(p, &pol, "Tr0ub4dor&3", 11, NULL, &code);
    is_str(code, AUTHSVC_POLICY_BREACHED, "%s policy: count 5 at min 5 refused", what);
    pol.breach_min = 6;
    msg = authsvc_policy_check(p, &pol, "Tr0ub4dor&3", 11, NULL, &code);
    ok(msg == NULL && code == NULL, "%s policy: count 5 at min 6 accepted", what);
    msg = authsvc_policy_check(p, &pol, "once-seen-password", 18, NULL, &code);
    ok(msg == NULL, "%s policy: count 1 at min 6 accepted", what);
    pol.breach_min = 0;   /* unset counts as 1 */
    msg = authsvc_policy_check(p, &pol, "once-seen-password", 18, NULL, &code);
    is_str(code, AUTHSVC_POLICY_BREACHED, "%s policy: count 1 at min 1 refused", what);
    msg = authsvc_policy_check(p, &pol, "a fine unbreached one", 21, NULL, &code);
    ok(msg == NULL, "%s policy: absent accepted", what);
    msg = authsvc_policy_check(p, &pol, "short", 5, NULL, &code);
    is_str(code, AUTHSVC_POLICY_TOO_SHORT, "%s policy: length checked first", what);
}

static void text_formats(apr_pool_t *p, const entry_t *e, int n)
{
    authsvc_breach_t *b;

    b = open_ok(p, write_text(p, "lf.txt", e, n, "\n", 0), "text LF");
    if (b != NULL) {
        is_int(authsvc_breach_format(b), AUTHSVC_BREACH_TEXT, "text LF: format text");
        lookups(p, b, e, n, "text LF");
        policy(p, b, "text");
    }
    b = open_ok(p, write_text(p, "crlf.txt", e, n, "\r\n", 0), "text CRLF");
    if (b != NULL) {
        lookups(p, b, e, n, "text CRLF");
    }
    b = open_ok(p, write_text(p, "lower.txt", e, n, "\n", 1), "text lower-case hex");
    if (b != NULL) {
        lookups(p, b, e, n, "text lower-case");
    }
    b = open_ok(p, write_text(p, "one.txt", e + 7, 1, "\n", 0), "text of one line");
    if (b != NULL) {
        is_int(authsvc_breach_lookup(b, e[7].sha1), (long long)e[7].count, "one line: hit");
        is_int(authsvc_breach_lookup(b, e[8].sha1), 0, "one line: miss");
    }
}

static void index_format(apr_pool_t *p, const entry_t *e, int n)
{
    const char *in = apr_pstrcat(p, dir, "/crlf.txt", NULL);
    const char *out = apr_pstrcat(p, dir, "/corpus.idx", NULL);
    apr_uint64_t lines = 0, records = 0;
    const char *err = authsvc_breach_index(p, in, out, &lines, &records);
    authsvc_breach_t *b;
    size_t len;
    char *buf;

    ok(err == NULL, "index: built from CRLF text");
    if (err != NULL) {
        diag("%s", err);
        return;
    }
    is_int((long long)lines, n, "index: lines read");
    is_int((long long)records, n, "index: records written");
    ok(access(apr_pstrcat(p, out, ".tmp", NULL), F_OK) != 0, "index: no .tmp left");
    buf = slurp(p, out, &len);
    is_int((long long)len, AUTHSVC_BREACH_HEADER + (long long)n * AUTHSVC_BREACH_RECORD,
           "index: size is header + 12 octets a record");
    ok(memcmp(buf, "AUTHSVCB", 8) == 0, "index: magic");
    b = open_ok(p, out, "index");
    if (b != NULL) {
        is_int(authsvc_breach_format(b), AUTHSVC_BREACH_INDEX, "index: format index");
        lookups(p, b, e, n, "index");
        policy(p, b, "index");
    }

    /* Damaged copies. */
    refused(p, write_raw(p, "trunc.idx", buf, len - 5), "truncated", "index cut short");
    refused(p, write_raw(p, "hdr.idx", buf, 20), "truncated", "index header cut short");
    {
        char *bad = apr_pmemdup(p, buf, len), tmp[AUTHSVC_BREACH_RECORD];
        char *r1 = bad + AUTHSVC_BREACH_HEADER + 10 * AUTHSVC_BREACH_RECORD;
        char *r2 = r1 + AUTHSVC_BREACH_RECORD;

        memcpy(tmp, r1, sizeof(tmp));
        memcpy(r1, r2, sizeof(tmp));
        memcpy(r2, tmp, sizeof(tmp));
        refused(p, write_raw(p, "unsorted.idx", bad, len), "not sorted",
                "index with two records swapped");
        bad = apr_pmemdup(p, buf, len);
        bad[11] = 2;
        refused(p, write_raw(p, "v2.idx", bad, len), "version 2", "index version 2");
        bad = apr_pmemdup(p, buf, len);
        memset(bad + 16, 0, 8);
        refused(p, write_raw(p, "zero.idx", bad, len), "no record", "index of 0 records");
    }

    /* The builder refuses what it cannot index. */
    {
        entry_t *rev = apr_pmemdup(p, e, sizeof(*e) * 3);
        entry_t t = rev[1];
        const char *path;

        rev[1] = rev[2];
        rev[2] = t;
        path = write_text(p, "unsorted-in.txt", rev, 3, "\n", 0);
        err = authsvc_breach_index(p, path, out, NULL, NULL);
        ok(err != NULL && strstr(err, "line 3 is out of order") != NULL,
           "index: unsorted input refused at its line");
        ok(access(apr_pstrcat(p, out, ".tmp", NULL), F_OK) != 0 &&
           access(out, F_OK) == 0, "index: refused build leaves the old index alone");
        rev[2] = rev[1];
        path = write_text(p, "dup-in.txt", rev, 3, "\n", 0);
        err = authsvc_breach_index(p, path, out, NULL, NULL);
        ok(err != NULL && strstr(err, "line 3") != NULL, "index: duplicate hash refused");
        path = write_raw(p, "junk-in.txt", "hello\n", 6);
        err = authsvc_breach_index(p, path, out, NULL, NULL);
        ok(err != NULL && strstr(err, "line 1 is malformed") != NULL,
           "index: malformed line refused");
        err = authsvc_breach_index(p, apr_pstrcat(p, dir, "/nope", NULL), out, NULL, NULL);
        ok(err != NULL && strstr(err, "cannot open") != NULL, "index: missing input");
    }

    /* Two hashes sharing their 8-octet prefix become one record with the sum. */
    {
        const char *two = "0000000000000000AAAAAAAAAAAAAAAAAAAAAAAA:3\n"
                          "0000000000000000BBBBBBBBBBBBBBBBBBBBBBBB:4\n"
                          "0000000000000001AAAAAAAAAAAAAAAAAAAAAAAA:1\n";
        unsigned char h[20];

        err = authsvc_breach_index(p, write_raw(p, "prefix.txt", two, strlen(two)), out,
                                   &lines, &records);
        ok(err == NULL && lines == 3 && records == 2, "index: shared prefix merged");
        b = open_ok(p, out, "merged index");
        memset(h, 0, sizeof(h));
        h[19] = 0x42;
        if (b != NULL) {
            is_int(authsvc_breach_lookup(b, h), 7, "index: merged count is the sum");
        }
    }
}

/* The start of line k (0-based) of buf. */
static char *line(char *buf, int k)
{
    for (; k > 0; k--) {
        buf = strchr(buf, '\n') + 1;
    }
    return buf;
}

static void damaged_text(apr_pool_t *p, const entry_t *e, int n)
{
    size_t len;
    char *buf = slurp(p, apr_pstrcat(p, dir, "/lf.txt", NULL), &len);
    char *bad, *nl;
    entry_t *swapped;
    entry_t t;

    swapped = apr_pmemdup(p, e, sizeof(*e) * (size_t)n);
    t = swapped[n / 2];
    swapped[n / 2] = swapped[n / 2 + 1];
    swapped[n / 2 + 1] = t;
    refused(p, write_text(p, "unsorted.txt", swapped, n, "\n", 0), "not sorted",
            "text with two lines swapped");
    t = swapped[n / 2];
    swapped[n / 2] = swapped[n / 2 + 1];
    swapped[n / 2 + 1] = swapped[0];   /* a duplicate */
    refused(p, write_text(p, "dup.txt", swapped, n, "\n", 0), "not sorted",
            "text with a duplicate line");

    bad = apr_pmemdup(p, buf, len);
    line(bad, 100)[3] = 'G';
    refused(p, write_raw(p, "badhex.txt", bad, len), "malformed", "a line with a G");
    bad = apr_pmemdup(p, buf, len);
    nl = line(bad, 200);
    nl[40] = ';';
    refused(p, write_raw(p, "badsep.txt", bad, len), "malformed", "a line without ':'");
    refused(p, write_raw(p, "cut.txt", buf, (size_t)(line(buf, n - 1) + 20 - buf)),
            "malformed",
            "text cut in the middle of a hash");
    refused(p, write_raw(p, "empty.txt", "", 0), "empty", "empty file");
    refused(p, write_raw(p, "blank.txt", "\n\n", 2), "no line", "only blank lines");
    refused(p, apr_pstrcat(p, dir, "/missing.txt", NULL), "cannot be read", "missing file");
    refused(p, dir, "not a regular file", "a directory");
    refused(p, write_raw(p, "notes.txt", "# my list\npassword\n", 19), "malformed",
            "a plain password list");
}

/* Files over 16 MiB are checked at 4096 places: a big sorted text file and its index
 * open and answer; the same with its last line out of order is refused (the last
 * line is always among the places). Hashes: the big-endian line number, spread out. */
static void big_files(apr_pool_t *p)
{
    const char *txt = apr_pstrcat(p, dir, "/big.txt", NULL);
    const char *bad = apr_pstrcat(p, dir, "/big-bad.txt", NULL);
    const char *idx = apr_pstrcat(p, dir, "/big.idx", NULL);
    const long n = 400000;   /* 44 octets a line: 17.6 MB */
    unsigned char h[20];
    authsvc_breach_t *b;
    FILE *f = fopen(txt, "w"), *g = fopen(bad, "w");
    long i;

    for (i = 0; i < n; i++) {
        fprintf(f, "%08lX%032X:7\n", (unsigned long)i * 10000u, 0);
        fprintf(g, "%08lX%032X:7\n", i == n - 1 ? 0ul : (unsigned long)i * 10000u, 0);
    }
    fclose(f);
    fclose(g);
    memset(h, 0, sizeof(h));
    h[0] = (unsigned char)(((n - 1) * 10000u) >> 24);
    h[1] = (unsigned char)(((n - 1) * 10000u) >> 16);
    h[2] = (unsigned char)(((n - 1) * 10000u) >> 8);
    h[3] = (unsigned char)((n - 1) * 10000u);
    if ((b = open_ok(p, txt, "a 17.6 MB text file (sampled)")) != NULL) {
        is_int(authsvc_breach_lookup(b, h), 7, "big text: last line");
        h[3] ^= 1;
        is_int(authsvc_breach_lookup(b, h), 0, "big text: absent");
        h[3] ^= 1;
    }
    refused(p, bad, "not sorted", "a big text file whose last line is out of order");
    ok(authsvc_breach_index(p, txt, idx, NULL, NULL) == NULL, "big index: built");
    if ((b = open_ok(p, idx, "a 4.8 MB index")) != NULL) {
        is_int(authsvc_breach_lookup(b, h), 7, "big index: last record");
    }
}

int main(void)
{
    apr_pool_t *p;
    char tmpl[] = "/tmp/test_breach.XXXXXX", cmd[64];
    entry_t *e;
    int n;

    p = tap_apr_start();
    if ((dir = mkdtemp(tmpl)) == NULL) {
        printf("Bail out! no temporary directory\n");
        return 2;
    }
    e = corpus(p, &n);
    text_formats(p, e, n);
    index_format(p, e, n);
    damaged_text(p, e, n);
    big_files(p);
    ok(authsvc_breach_count(NULL, "x", 1) == 0, "no corpus: count 0");
    apr_pool_destroy(p);   /* unmaps */
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
    if (system(cmd) != 0) {
        diag("could not remove %s", tmpl);
    }
    return done_testing();
}

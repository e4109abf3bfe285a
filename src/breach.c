/*
 * breach.c - the offline breached-password corpus: the Pwned Passwords SHA-1 text
 * file or the compact index built from it, mapped once and searched in place.
 *
 * Both searches are plain binary searches over the mapping: about 30 probes for the
 * full corpus, the first ones on pages every lookup touches (so they stay in the page
 * cache). Nothing is read into process memory; the file may be far larger than RAM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "apr_file_io.h"
#include "apr_mmap.h"
#include "apr_strings.h"

#include "breach.h"

#define SHA1_LEN 20
/* A text line is 40 + 1 + at most 20 digits + CRLF; a longer one is malformed. */
#define LINE_MAX_LEN 64
/* Files up to this size are checked record by record at open; larger ones sampled. */
#define FULL_CHECK_MAX (16 * 1024 * 1024)
#define SAMPLES 4096

struct authsvc_breach_t {
    const char *path;
    int format;
    const unsigned char *base;   /* the mapping */
    apr_size_t size;             /* text: without trailing line ends */
    apr_uint64_t n;              /* index: records */
};

/* ---- numbers and hex ------------------------------------------------------------ */

static apr_uint64_t get_be(const unsigned char *s, int n)
{
    apr_uint64_t v = 0;
    int i;

    for (i = 0; i < n; i++) {
        v = (v << 8) | s[i];
    }
    return v;
}

static void put_be(unsigned char *s, apr_uint64_t v, int n)
{
    int i;

    for (i = n - 1; i >= 0; i--) {
        s[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* The octet two hex digits at s stand for, or -1. */
static int hexbyte(const unsigned char *s)
{
    int hi = hexval(s[0]), lo = hexval(s[1]);

    return (hi < 0 || lo < 0) ? -1 : hi << 4 | lo;
}

/* One text line at s (at most avail octets, the end of the data): 40 hex digits, ':',
 * 1 to 20 digits, then "\n", "\r\n" or the end. Fills key and *count (saturated) and
 * returns the octets consumed including the line end, or 0 if malformed. */
static apr_size_t parse_line(const unsigned char *s, apr_size_t avail,
                             unsigned char key[SHA1_LEN], apr_uint64_t *count)
{
    apr_size_t i = 0;
    apr_uint64_t v = 0;
    int octet, digits = 0;

    if (avail < 2 * SHA1_LEN + 2) {
        return 0;
    }
    for (i = 0; i < SHA1_LEN; i++) {
        if ((octet = hexbyte(s + 2 * i)) < 0) {
            return 0;
        }
        key[i] = (unsigned char)octet;
    }
    i = 2 * SHA1_LEN;
    if (s[i++] != ':') {
        return 0;
    }
    for (; i < avail && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        v = (v > (APR_UINT64_MAX - 9) / 10) ? APR_UINT64_MAX : v * 10 + (s[i] - '0');
    }
    if (digits == 0 || digits > 20) {
        return 0;
    }
    *count = v;
    if (i < avail && s[i] == '\r') {
        i++;
        if (i >= avail || s[i] != '\n') {
            return 0;
        }
    }
    if (i < avail) {
        if (s[i] != '\n') {
            return 0;
        }
        i++;
    }
    return i;
}

/* The start of the line holding offset off, not before floor (itself a line start).
 * (apr_size_t)-1 if no line start is within LINE_MAX_LEN octets: a malformed file. */
static apr_size_t line_start(const authsvc_breach_t *b, apr_size_t floor, apr_size_t off)
{
    apr_size_t from = (off - floor > LINE_MAX_LEN) ? off - LINE_MAX_LEN : floor;
    const unsigned char *nl = memrchr(b->base + from, '\n', off - from);

    if (nl != NULL) {
        return (apr_size_t)(nl - b->base) + 1;
    }
    return (from == floor) ? floor : (apr_size_t)-1;
}

/* ---- lookup ----------------------------------------------------------------------- */

/* The line at s against sha1, decoding only as many hex digits as it takes to tell
 * them apart (the checks at open saw the file whole or sampled; here a damaged line
 * is still never read past the mapping). Returns <0, 0 or >0 as memcmp, with *count
 * (on 0) or *next, the start of the next line (on <0); 2 for a malformed line. */
static int probe(const authsvc_breach_t *b, apr_size_t s, const unsigned char *sha1,
                 apr_uint64_t *count, apr_size_t *next)
{
    const unsigned char *l = b->base + s, *nl;
    apr_size_t rest = b->size - s;
    int i, v = 0;
    unsigned char key[SHA1_LEN];

    if (rest < 2 * SHA1_LEN + 2 || l[2 * SHA1_LEN] != ':') {
        return 2;
    }
    for (i = 0; i < SHA1_LEN && (v = hexbyte(l + 2 * i)) == sha1[i]; i++) {
    }
    if (v < 0) {
        return 2;
    }
    if (i == SHA1_LEN) {
        return parse_line(l, rest, key, count) ? 0 : 2;
    }
    if (v > sha1[i]) {
        return 1;
    }
    rest = rest < LINE_MAX_LEN ? rest : LINE_MAX_LEN;
    nl = memchr(l + 2 * SHA1_LEN, '\n', rest - 2 * SHA1_LEN);
    if (nl == NULL && s + rest != b->size) {
        return 2;
    }
    *next = nl ? (apr_size_t)(nl - b->base) + 1 : b->size;
    return -1;
}

/* Binary search on byte offsets: [lo, hi) always starts at a line start and ends at a
 * line end; each probe resyncs to the start of the line under the middle octet. */
static apr_int64_t lookup_text(const authsvc_breach_t *b, const unsigned char *sha1)
{
    apr_size_t lo = 0, hi = b->size, s, next = 0;
    apr_uint64_t count = 0;
    int cmp;

    while (lo < hi) {
        s = line_start(b, lo, lo + (hi - lo) / 2);
        if (s == (apr_size_t)-1 || (cmp = probe(b, s, sha1, &count, &next)) == 2) {
            return -1;
        }
        if (cmp == 0) {
            return count > APR_INT64_MAX ? APR_INT64_MAX : (apr_int64_t)count;
        }
        if (cmp < 0) {
            lo = next;
        }
        else {
            hi = s;
        }
    }
    return 0;
}

static const unsigned char *record(const authsvc_breach_t *b, apr_uint64_t i)
{
    return b->base + AUTHSVC_BREACH_HEADER + i * AUTHSVC_BREACH_RECORD;
}

static apr_int64_t lookup_index(const authsvc_breach_t *b, const unsigned char *sha1)
{
    apr_uint64_t lo = 0, hi = b->n, mid;
    const unsigned char *r;
    int cmp;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        r = record(b, mid);
        cmp = memcmp(r, sha1, AUTHSVC_BREACH_PREFIX);
        if (cmp == 0) {
            return (apr_int64_t)get_be(r + AUTHSVC_BREACH_PREFIX, 4);
        }
        if (cmp < 0) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return 0;
}

apr_int64_t authsvc_breach_lookup(const authsvc_breach_t *b, const unsigned char sha1[20])
{
    if (b == NULL) {
        return 0;
    }
    return b->format == AUTHSVC_BREACH_INDEX ? lookup_index(b, sha1) : lookup_text(b, sha1);
}

/* SHA-1 here only because the corpus is a list of SHA-1 hashes: it is an index key,
 * never a password hash we store. */
apr_int64_t authsvc_breach_count(const authsvc_breach_t *b, const char *pw, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    apr_int64_t n = -1;

    if (b == NULL) {
        return 0;
    }
    /* The unsalted SHA-1 is as good as the password to a cracker: wiped after use. */
    if (EVP_Digest(pw, len, md, &mdlen, EVP_sha1(), NULL) == 1 && mdlen == SHA1_LEN) {
        n = authsvc_breach_lookup(b, md);
    }
    OPENSSL_cleanse(md, sizeof(md));
    return n;
}

int authsvc_breach_format(const authsvc_breach_t *b)
{
    return b->format;
}

/* ---- open and check --------------------------------------------------------------- */

/* The index header: magic already matched; version, prefix, size. */
static const char *check_header(apr_pool_t *p, authsvc_breach_t *b)
{
    const unsigned char *h = b->base;

    if (b->size < AUTHSVC_BREACH_HEADER) {
        return "is truncated (shorter than its header)";
    }
    if (get_be(h + 8, 4) != AUTHSVC_BREACH_VERSION) {
        return apr_psprintf(p, "has index version %" APR_UINT64_T_FMT ", this build reads "
                            "version %d", get_be(h + 8, 4), AUTHSVC_BREACH_VERSION);
    }
    if (get_be(h + 12, 4) != AUTHSVC_BREACH_PREFIX) {
        return "has an unsupported prefix length";
    }
    b->n = get_be(h + 16, 8);
    if (b->n == 0) {
        return "holds no record";
    }
    if (b->n > (b->size - AUTHSVC_BREACH_HEADER) / AUTHSVC_BREACH_RECORD ||
        b->size != AUTHSVC_BREACH_HEADER + b->n * AUTHSVC_BREACH_RECORD) {
        return apr_psprintf(p, "is truncated or damaged: %" APR_UINT64_T_FMT " records "
                            "need %" APR_UINT64_T_FMT " octets, the file has %"
                            APR_SIZE_T_FMT, b->n,
                            (apr_uint64_t)AUTHSVC_BREACH_HEADER
                                + b->n * AUTHSVC_BREACH_RECORD, b->size);
    }
    return NULL;
}

/* Records ascend strictly: every one for a small file, else SAMPLES spread evenly. */
static const char *check_index(authsvc_breach_t *b)
{
    apr_uint64_t i, k, m = b->n, prev = 0;

    if (b->size > FULL_CHECK_MAX && m > SAMPLES) {
        m = SAMPLES;
    }
    for (k = 0; k < m; k++) {
        i = (m == b->n) ? k : k * (b->n - 1) / (m - 1);
        if (k > 0 && i != prev &&
            memcmp(record(b, prev), record(b, i), AUTHSVC_BREACH_PREFIX) >= 0) {
            return "is not sorted";
        }
        prev = i;
    }
    return NULL;
}

/* Every line (small file) or the lines under SAMPLES evenly spread offsets parse and
 * ascend strictly. */
static const char *check_text(apr_pool_t *p, authsvc_breach_t *b)
{
    unsigned char key[SHA1_LEN], last[SHA1_LEN];
    apr_size_t off = 0, at, s, used, prev = 0;
    apr_uint64_t count, k = 0;
    int full = b->size <= FULL_CHECK_MAX, seen = 0;

    while (full ? off < b->size : k <= SAMPLES) {
        at = full ? off : (apr_size_t)(k * (b->size - 1) / SAMPLES);
        k++;
        s = line_start(b, 0, at);
        if (seen && s == prev) {
            continue;
        }
        if (s == (apr_size_t)-1 ||
            (used = parse_line(b->base + s, b->size - s, key, &count)) == 0) {
            return apr_psprintf(p, "has a malformed line near octet %" APR_SIZE_T_FMT
                                " (want HASH:COUNT, 40 hex digits)", at);
        }
        if (seen && memcmp(last, key, SHA1_LEN) >= 0) {
            return apr_psprintf(p, "is not sorted by hash (line at octet %" APR_SIZE_T_FMT
                                ")", s);
        }
        memcpy(last, key, SHA1_LEN);
        prev = s;
        seen = 1;
        off = s + used;
    }
    return NULL;
}

static const char *map_file(apr_pool_t *p, const char *path, authsvc_breach_t *b)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_mmap_t *mm = NULL;
    apr_status_t rv;
    char err[120];

    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
        if (rv == APR_SUCCESS && (fi.filetype != APR_REG || fi.size <= 0)) {
            apr_file_close(f);
            return fi.filetype != APR_REG ? "is not a regular file" : "is empty";
        }
        if (rv == APR_SUCCESS) {
            rv = apr_mmap_create(&mm, f, 0, (apr_size_t)fi.size, APR_MMAP_READ, p);
        }
        apr_file_close(f);   /* the mapping outlives the descriptor */
    }
    if (rv != APR_SUCCESS) {
        return apr_psprintf(p, "cannot be read: %s", apr_strerror(rv, err, sizeof(err)));
    }
    b->base = mm->mm;
    b->size = mm->size;
    /* Lookups jump about: read-ahead would only evict useful pages. */
    (void)posix_madvise(mm->mm, mm->size, POSIX_MADV_RANDOM);
    return NULL;
}

const char *authsvc_breach_open(apr_pool_t *p, const char *path, authsvc_breach_t **out)
{
    authsvc_breach_t *b = apr_pcalloc(p, sizeof(*b));
    const char *err;

    b->path = apr_pstrdup(p, path);
    err = map_file(p, path, b);
    if (err == NULL && b->size >= 8 && memcmp(b->base, AUTHSVC_BREACH_MAGIC, 8) == 0) {
        b->format = AUTHSVC_BREACH_INDEX;
        if ((err = check_header(p, b)) == NULL) {
            err = check_index(b);
        }
    }
    else if (err == NULL) {
        b->format = AUTHSVC_BREACH_TEXT;
        while (b->size > 0 && (b->base[b->size - 1] == '\n' || b->base[b->size - 1] == '\r')) {
            b->size--;   /* the last line's end, and any blank lines after it */
        }
        err = (b->size == 0) ? "holds no line" : check_text(p, b);
    }
    if (err != NULL) {
        return apr_psprintf(p, "breached-password corpus %s %s", path, err);
    }
    *out = b;
    return NULL;
}

/* ---- building the index --------------------------------------------------------- */

typedef struct {
    FILE *out;
    unsigned char prefix[AUTHSVC_BREACH_PREFIX];
    apr_uint64_t count;
    apr_uint64_t records;
    int pending;
} builder_t;

static int flush_record(builder_t *w)
{
    unsigned char rec[AUTHSVC_BREACH_RECORD];

    if (!w->pending) {
        return 1;
    }
    memcpy(rec, w->prefix, AUTHSVC_BREACH_PREFIX);
    put_be(rec + AUTHSVC_BREACH_PREFIX, w->count > 0xffffffffu ? 0xffffffffu : w->count, 4);
    w->records++;
    return fwrite(rec, sizeof(rec), 1, w->out) == 1;
}

/* One parsed line: merged with the pending record when the prefixes agree. */
static int add_key(builder_t *w, const unsigned char *key, apr_uint64_t count)
{
    if (w->pending && memcmp(w->prefix, key, AUTHSVC_BREACH_PREFIX) == 0) {
        w->count = (w->count > APR_UINT64_MAX - count) ? APR_UINT64_MAX : w->count + count;
        return 1;
    }
    if (!flush_record(w)) {
        return 0;
    }
    memcpy(w->prefix, key, AUTHSVC_BREACH_PREFIX);
    w->count = count;
    w->pending = 1;
    return 1;
}

static void write_header(unsigned char *h, apr_uint64_t records)
{
    memset(h, 0, AUTHSVC_BREACH_HEADER);
    memcpy(h, AUTHSVC_BREACH_MAGIC, 8);
    put_be(h + 8, AUTHSVC_BREACH_VERSION, 4);
    put_be(h + 12, AUTHSVC_BREACH_PREFIX, 4);
    put_be(h + 16, records, 8);
}

/* Read lines from in, write records; a message on the first bad or unsorted line. */
static const char *copy_lines(apr_pool_t *p, FILE *in, builder_t *w, apr_uint64_t *lines)
{
    char line[LINE_MAX_LEN + 2];
    unsigned char key[SHA1_LEN], last[SHA1_LEN];
    apr_uint64_t count, n = 0;
    size_t len;

    while (fgets(line, sizeof(line), in) != NULL) {
        n++;
        len = strlen(line);
        if (len == 0 || (line[len - 1] != '\n' && !feof(in)) ||
            parse_line((const unsigned char *)line, len, key, &count) != len) {
            if (len <= 2 && (line[0] == '\n' || line[0] == '\r')) {
                n--;      /* blank lines at the end, as the lookup allows */
                continue;
            }
            return apr_psprintf(p, "line %" APR_UINT64_T_FMT " is malformed (want "
                                "HASH:COUNT, 40 hex digits)", n);
        }
        if (n > 1 && memcmp(last, key, SHA1_LEN) >= 0) {
            return apr_psprintf(p, "line %" APR_UINT64_T_FMT " is out of order (the "
                                "input must be sorted by hash, without duplicates)", n);
        }
        memcpy(last, key, SHA1_LEN);
        if (!add_key(w, key, count)) {
            return apr_psprintf(p, "cannot write: %s", strerror(errno));
        }
    }
    if (ferror(in)) {
        return apr_psprintf(p, "cannot read: %s", strerror(errno));
    }
    *lines = n;
    return n == 0 ? "holds no line" : NULL;
}

const char *authsvc_breach_index(apr_pool_t *p, const char *in, const char *out,
                                 apr_uint64_t *lines, apr_uint64_t *records)
{
    const char *tmp = apr_pstrcat(p, out, ".tmp", NULL), *err = NULL;
    unsigned char h[AUTHSVC_BREACH_HEADER];
    builder_t w;
    apr_uint64_t n = 0;
    FILE *fin = strcmp(in, "-") == 0 ? stdin : fopen(in, "r");
    int fd = -1;

    memset(&w, 0, sizeof(w));
    if (fin == NULL) {
        return apr_psprintf(p, "cannot open %s: %s", in, strerror(errno));
    }
    /* O_EXCL | O_NOFOLLOW: the temporary name is predictable, and root may run this in
     * a directory others can write to; a file or link already there is refused, never
     * followed or truncated. */
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0 ||
        (w.out = fdopen(fd, "wb")) == NULL) {
        err = apr_psprintf(p, "cannot create %s: %s%s", tmp, strerror(errno),
                           errno == EEXIST ? " (left by an earlier run? remove it)" : "");
        if (fd >= 0) {
            close(fd);
        }
    }
    else {
        write_header(h, 0);
        err = fwrite(h, sizeof(h), 1, w.out) == 1 ? NULL : "cannot write the header";
        if (err == NULL && (err = copy_lines(p, fin, &w, &n)) != NULL) {
            err = apr_psprintf(p, "%s %s", in, err);
        }
        if (err == NULL && !flush_record(&w)) {
            err = apr_psprintf(p, "cannot write %s: %s", tmp, strerror(errno));
        }
        write_header(h, w.records);
        if (err == NULL && (fseek(w.out, 0, SEEK_SET) != 0 ||
                            fwrite(h, sizeof(h), 1, w.out) != 1 || fflush(w.out) != 0 ||
                            fsync(fileno(w.out)) != 0)) {
            err = apr_psprintf(p, "cannot write %s: %s", tmp, strerror(errno));
        }
        if (fclose(w.out) != 0 && err == NULL) {
            err = apr_psprintf(p, "cannot write %s: %s", tmp, strerror(errno));
        }
        if (err == NULL && rename(tmp, out) != 0) {
            err = apr_psprintf(p, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
        }
        if (err != NULL) {
            (void)remove(tmp);
        }
    }
    if (fin != stdin) {
        fclose(fin);
    }
    if (err == NULL) {
        if (lines != NULL) {
            *lines = n;
        }
        if (records != NULL) {
            *records = w.records;
        }
    }
    return err;
}

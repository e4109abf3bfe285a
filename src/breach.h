/* breach.h - the offline breached-password corpus (AuthsvcPasswordBreachCorpus).
 *
 * Pure unit: apr + OpenSSL, no httpd header (the module and authsvc-admin share it).
 *
 * Two file formats, told apart by their first octets:
 *
 *  - text: Have I Been Pwned's "Pwned Passwords" SHA-1 file as its downloader writes
 *    it: one "HASH:COUNT" line per password, HASH 40 hex digits (upper case in the
 *    official file; lower case is read too), COUNT decimal, LF or CRLF line ends,
 *    sorted by HASH. Looked up in place by a binary search on byte offsets.
 *
 *  - index: the compact file `authsvc-admin breach-index IN OUT` makes from it. A
 *    32-octet header, then fixed 12-octet records sorted by prefix:
 *        0  8  magic "AUTHSVCB"
 *        8  4  version, 1 (big-endian, as every number here)
 *       12  4  prefix length in octets, 8
 *       16  8  number of records N (>= 1)
 *       24  8  zero (reserved)
 *       32     N records: the first 8 octets of the SHA-1, then the count (4 octets;
 *              counts above 4294967295 are stored as 4294967295)
 *    File size = 32 + 12 N exactly. Two hashes sharing a 64-bit prefix become one
 *    record whose count is the sum. A password outside the corpus matches a record
 *    only if its 64-bit prefix collides: for the full corpus (850 million hashes)
 *    that is 850e6 / 2^64 = 4.6e-11 per lookup.
 *
 * The file is mapped read-only (mmap) once, by the process that opens it (httpd's
 * parent at configuration time; children inherit the mapping), and never copied:
 * memory use is the operating system's page cache. Replace the file by renaming a new
 * one over it and restarting httpd; truncating a mapped file in place crashes readers.
 */
#ifndef AUTHSVC_BREACH_H
#define AUTHSVC_BREACH_H

#include <stddef.h>

#include <apr_pools.h>

#define AUTHSVC_BREACH_TEXT  1
#define AUTHSVC_BREACH_INDEX 2

#define AUTHSVC_BREACH_MAGIC      "AUTHSVCB"
#define AUTHSVC_BREACH_VERSION    1
#define AUTHSVC_BREACH_HEADER     32
#define AUTHSVC_BREACH_PREFIX     8
#define AUTHSVC_BREACH_RECORD     12

typedef struct authsvc_breach_t authsvc_breach_t;

/* Open and map path, tell its format by the magic, and check it: an index's header
 * and size, a text file's line syntax, and that the keys ascend (every record of a
 * file up to 16 MiB, else 4096 records spread evenly over the file, the first and
 * the last among them). Returns NULL and sets *out, or an error message in p naming
 * the file and what is wrong (cannot be read, empty, bad magic or version, truncated,
 * a malformed line, not sorted); *out is untouched on error. The mapping lives until
 * p is cleared. */
const char *authsvc_breach_open(apr_pool_t *p, const char *path, authsvc_breach_t **out);

/* AUTHSVC_BREACH_TEXT or AUTHSVC_BREACH_INDEX. */
int authsvc_breach_format(const authsvc_breach_t *b);

/* How many times the SHA-1 digest sha1 occurs in b: the record's count, 0 when
 * absent, or -1 when the search met a malformed line (a text file damaged after it
 * was checked). Binary search; allocates nothing, safe from any thread. */
apr_int64_t authsvc_breach_lookup(const authsvc_breach_t *b, const unsigned char sha1[20]);

/* The same for a password: the SHA-1 of pw[0..len) (the corpus is made of SHA-1
 * hashes of the UTF-8 passwords), then authsvc_breach_lookup. Also -1 if OpenSSL
 * fails. */
apr_int64_t authsvc_breach_count(const authsvc_breach_t *b, const char *pw, size_t len);

/* Build the compact index at out from the text file in ('-': standard input),
 * streaming (memory use is constant). The input must be strictly ascending by hash;
 * the output is written to "out.tmp", flushed and renamed over out, so a reader never
 * sees a half-written index. *lines gets the lines read and *records the records
 * written (either may be NULL). Returns NULL, or an error message in p (with the line
 * number for a malformed or out-of-order line); on error out is left as it was. */
const char *authsvc_breach_index(apr_pool_t *p, const char *in, const char *out,
                                 apr_uint64_t *lines, apr_uint64_t *records);

#endif /* AUTHSVC_BREACH_H */

/* text.h - UTF-8 length, control characters, email and name fields.
 *
 * Pure unit: apr only. Lengths are in octets in, code points out.
 */
#ifndef AUTHSVC_TEXT_H
#define AUTHSVC_TEXT_H

#include <stddef.h>

#include <apr_pools.h>

#define AUTHSVC_EMAIL_MAX       254   /* octets, RFC 5321 path limit minus <> */
#define AUTHSVC_EMAIL_LOCAL_MAX 64    /* octets, RFC 5321 section 4.5.3.1.1 */
#define AUTHSVC_EMAIL_LABEL_MAX 63    /* octets per domain label, RFC 1035 */

/* Number of Unicode code points in s[0..len) if it is valid UTF-8 (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF), else -1. */
apr_ssize_t authsvc_text_utf8_length(const char *s, size_t len);

/* Non-zero if s contains a control character: C0 (U+0000-U+001F), DEL, or C1
 * (U+0080-U+009F); s must be valid UTF-8. */
int authsvc_text_has_control(const char *s, size_t len);

/* Validate an email address and return it lower-cased (ASCII lower-casing of the whole
 * address) in *out. Rules: exactly one '@'; local part 1..64 octets of RFC 5322 atext
 * (letters, digits, !#$%&'*+-/=?^_`{|}~) or non-ASCII UTF-8, dots only between atoms
 * (no quoted local parts); domain of at least two dot-separated labels, each 1..63
 * octets of letters, digits, '-' or non-ASCII UTF-8 (no IP literals; "a@localhost" is
 * rejected, as by the Flask validators this replaces); total <= 254 octets; valid
 * UTF-8; no control characters, no spaces. Returns NULL if valid, else a short message
 * in p (e.g. "must contain exactly one @"); *out is set only on success. */
const char *authsvc_text_email_normalize(apr_pool_t *p, const char *in, size_t len,
                                         const char **out);

/* Validate a person's name field: valid UTF-8, <= max code points, no control chars.
 * An empty name is valid (whether it is required is the caller's rule).
 * NULL if valid, else message. */
const char *authsvc_text_check_name(apr_pool_t *p, const char *in, size_t len,
                                    int max_cp);

/* A decimal number of 1 to 18 plain digits (no sign, no space) at s, ending at `end`
 * ('\0': the string's end); *rest points at that end. -1 when there is none or it is
 * longer (a 19th digit could overflow). */
apr_int64_t authsvc_text_digits(const char *s, char end, const char **rest);

#endif /* AUTHSVC_TEXT_H */

/*
 * text.c - UTF-8 validation and counting, control characters, email and name fields.
 *
 * Everything here works on (pointer, length) in octets: request bodies may hold NUL
 * bytes, and a NUL must count as a (control) character rather than end the string.
 */
#include <string.h>

#include "apr_strings.h"

#include "text.h"

/* Length of the well-formed UTF-8 sequence starting at s (len > 0 octets available),
 * or 0 if there is none. RFC 3629 section 4: the second octet's range depends on the
 * first, which is what excludes overlongs (C0, C1, E0 80..9F, F0 80..8F), surrogates
 * (ED A0..BF) and code points above U+10FFFF (F4 90.., F5..FF). */
static size_t sequence(const unsigned char *s, size_t len)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n, i;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
    }
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3;
        lo = s[0] == 0xE0 ? 0xA0 : 0x80;
        hi = s[0] == 0xED ? 0x9F : 0xBF;
    }
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4;
        lo = s[0] == 0xF0 ? 0x90 : 0x80;
        hi = s[0] == 0xF4 ? 0x8F : 0xBF;
    }
    else {
        return 0;   /* a continuation octet, C0, C1 or F5..FF */
    }
    if (len < n || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

/* Walks s one sequence at a time; -1 at the first octet that starts no valid one. */
apr_ssize_t authsvc_text_utf8_length(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_ssize_t count = 0;
    size_t i = 0, n;

    if (s == NULL) {
        return len == 0 ? 0 : -1;
    }
    while (i < len) {
        n = sequence(u + i, len - i);
        if (n == 0) {
            return -1;
        }
        i += n;
        count++;
    }
    return count;
}

/* In valid UTF-8 an octet below 0x80 is always a whole character, and U+0080..U+009F
 * are exactly C2 80..C2 9F, so this scans octets without decoding. On invalid input it
 * still reports any such octets it sees. */
int authsvc_text_has_control(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i;

    for (i = 0; i < len; i++) {
        if (u[i] < 0x20 || u[i] == 0x7F) {
            return 1;
        }
        if (u[i] == 0xC2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F) {
            return 1;
        }
    }
    return 0;
}

/* ASCII only, whatever the process locale (ctype's answers for octets >= 0x80 vary). */
static int ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 5322 atext, plus any octet of a non-ASCII (RFC 6531) character. */
static int local_char(unsigned char c)
{
    return c >= 0x80 || ascii_alnum(c) ||
           (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Letters, digits and hyphen (RFC 1035), plus non-ASCII for internationalised names. */
static int domain_char(unsigned char c)
{
    return c >= 0x80 || ascii_alnum(c) || c == '-';
}

/* The local part is a dot-atom: atoms of local_char joined by single dots. */
static const char *check_local(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > AUTHSVC_EMAIL_LOCAL_MAX) {
        return "the part before @ must be 1 to 64 octets";
    }
    if (s[0] == '.' || s[len - 1] == '.') {
        return "the part before @ must not start or end with a dot";
    }
    for (i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (s[i + 1] == '.') {
                return "the part before @ must not contain two dots in a row";
            }
        }
        else if (!local_char((unsigned char)s[i])) {
            return "the part before @ contains a character that is not allowed";
        }
    }
    return NULL;
}

/* At least two labels, each 1..63 octets of domain_char, not starting or ending
 * with a hyphen. */
static const char *check_domain(const char *s, size_t len)
{
    size_t start = 0, i, labels = 0;

    if (len == 0) {
        return "the part after @ must not be empty";
    }
    for (i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (!domain_char((unsigned char)s[i])) {
                return "the domain contains a character that is not allowed";
            }
            continue;
        }
        if (i == start) {
            return "the domain must not contain empty labels";
        }
        if (i - start > AUTHSVC_EMAIL_LABEL_MAX) {
            return "each domain label must be at most 63 octets";
        }
        if (s[start] == '-' || s[i - 1] == '-') {
            return "domain labels must not start or end with a hyphen";
        }
        labels++;
        start = i + 1;
    }
    if (labels < 2) {
        return "the domain must contain a dot";
    }
    return NULL;
}

/* Checks run from the cheapest and most general to the most specific, so the message
 * names the first thing wrong. The lower-cased copy is made only for a valid address. */
const char *authsvc_text_email_normalize(apr_pool_t *p, const char *in, size_t len,
                                         const char **out)
{
    const char *at, *err;
    size_t local, i;
    char *copy;

    if (in == NULL || len == 0) {
        return "must not be empty";
    }
    if (len > AUTHSVC_EMAIL_MAX) {
        return "must be at most 254 octets";
    }
    if (authsvc_text_utf8_length(in, len) < 0) {
        return "is not valid UTF-8";
    }
    if (authsvc_text_has_control(in, len)) {
        return "must not contain control characters";
    }
    if (memchr(in, ' ', len) != NULL) {
        return "must not contain spaces";
    }
    at = memchr(in, '@', len);
    local = at != NULL ? (size_t)(at - in) : 0;
    if (at == NULL || memchr(at + 1, '@', len - local - 1) != NULL) {
        return "must contain exactly one @";
    }
    if ((err = check_local(in, local)) != NULL ||
        (err = check_domain(at + 1, len - local - 1)) != NULL) {
        return err;
    }
    copy = apr_pstrmemdup(p, in, len);
    for (i = 0; i < len; i++) {
        if (copy[i] >= 'A' && copy[i] <= 'Z') {
            copy[i] = (char)(copy[i] - 'A' + 'a');
        }
    }
    *out = copy;
    return NULL;
}

/* Counts first (invalid UTF-8 is the first thing to report), then controls, then size. */
const char *authsvc_text_check_name(apr_pool_t *p, const char *in, size_t len,
                                    int max_cp)
{
    apr_ssize_t n = authsvc_text_utf8_length(in, len);

    if (n < 0) {
        return "is not valid UTF-8";
    }
    if (authsvc_text_has_control(in, len)) {
        return "must not contain control characters";
    }
    if (n > (max_cp > 0 ? max_cp : 0)) {
        return apr_psprintf(p, "must be at most %d characters", max_cp > 0 ? max_cp : 0);
    }
    return NULL;
}

apr_int64_t authsvc_text_digits(const char *s, char end, const char **rest)
{
    apr_int64_t v = 0;
    int n = 0;

    for (; *s >= '0' && *s <= '9' && n < 18; s++, n++) {
        v = v * 10 + (*s - '0');
    }
    if (n == 0 || *s != end) {
        return -1;
    }
    *rest = s;
    return v;
}

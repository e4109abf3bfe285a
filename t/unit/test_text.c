/* test_text.c - text.c: UTF-8 (cases from Markus Kuhn's UTF-8 decoder stress test,
 * https://www.cl.cam.ac.uk/~mgk25/ucs/examples/UTF-8-test.txt), control characters,
 * email addresses, name fields.
 */
#include <string.h>

#include "apr_general.h"
#include "apr_strings.h"

#include "tap_apr.h"
#include "text.h"

/* A literal and its exact length (embedded NULs included). */
#define S(s) (s), (sizeof(s) - 1)

typedef struct {
    const char *what;
    const char *s;
    size_t len;
    long long want;
} u8_t;

static void test_utf8(void)
{
    static const u8_t v[] = {
        {"empty", S(""), 0},
        {"ASCII", S("abc"), 3},
        {"NUL is a code point", S("a\0b"), 3},
        {"2-octet e-acute", S("\xc3\xa9"), 1},
        {"3-octet euro sign", S("\xe2\x82\xac"), 1},
        {"4-octet emoji U+1F600", S("\xf0\x9f\x98\x80"), 1},
        {"mixed a e-acute euro emoji", S("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), 4},
        {"Kuhn 1: Greek kosme", S("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"), 5},
        /* Kuhn 2.1 / 2.2: first and last of each length */
        {"2.1.2 U+0080", S("\xc2\x80"), 1},
        {"2.1.3 U+0800", S("\xe0\xa0\x80"), 1},
        {"2.1.4 U+10000", S("\xf0\x90\x80\x80"), 1},
        {"2.2.1 U+007F", S("\x7f"), 1},
        {"2.2.2 U+07FF", S("\xdf\xbf"), 1},
        {"2.2.3 U+FFFF", S("\xef\xbf\xbf"), 1},
        {"U+10FFFF", S("\xf4\x8f\xbf\xbf"), 1},
        /* Kuhn 2.3: other boundaries */
        {"2.3.1 U+D7FF", S("\xed\x9f\xbf"), 1},
        {"2.3.2 U+E000", S("\xee\x80\x80"), 1},
        {"2.3.3 U+FFFD", S("\xef\xbf\xbd"), 1},
        {"2.3.5 U+110000", S("\xf4\x90\x80\x80"), -1},
        {"F5 lead (> U+10FFFF)", S("\xf5\x80\x80\x80"), -1},
        {"2.1.5 5-octet sequence", S("\xf8\x88\x80\x80\x80"), -1},
        {"2.1.6 6-octet sequence", S("\xfc\x84\x80\x80\x80\x80"), -1},
        /* Kuhn 3.1: unexpected continuation octets */
        {"3.1.1 first continuation 80", S("\x80"), -1},
        {"3.1.2 last continuation BF", S("\xbf"), -1},
        {"3.1.3 two continuations", S("\x80\xbf"), -1},
        {"continuation after ASCII", S("a\x80"), -1},
        {"extra continuation after a 2-octet char", S("\xc3\xa9\xa9"), -1},
        /* Kuhn 3.2: lonely start characters */
        {"3.2.1 C0 then space", S("\xc0 "), -1},
        {"3.2.1 DF then space", S("\xdf "), -1},
        {"3.2.2 E0 then space", S("\xe0 "), -1},
        {"3.2.3 F0 then space", S("\xf0 "), -1},
        /* Kuhn 3.3: sequences with the last octet missing */
        {"3.3.1 C0 alone", S("\xc0"), -1},
        {"3.3.2 E0 80", S("\xe0\x80"), -1},
        {"3.3.6 DF alone", S("\xdf"), -1},
        {"3.3.7 EF BF", S("\xef\xbf"), -1},
        {"3.3.8 F7 BF BF", S("\xf7\xbf\xbf"), -1},
        {"truncated emoji", S("\xf0\x9f\x98"), -1},
        {"truncated euro before ASCII", S("\xe2\x82" "a"), -1},
        {"3.4 concatenated incomplete sequences",
         S("\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80"), -1},
        /* Kuhn 3.5: impossible octets */
        {"3.5.1 FE", S("\xfe"), -1},
        {"3.5.2 FF", S("\xff"), -1},
        {"3.5.3 FE FE FF FF", S("\xfe\xfe\xff\xff"), -1},
        /* Kuhn 4: overlong sequences */
        {"4.1.1 overlong / C0 AF", S("\xc0\xaf"), -1},
        {"4.1.2 overlong / E0 80 AF", S("\xe0\x80\xaf"), -1},
        {"4.1.3 overlong / F0 80 80 AF", S("\xf0\x80\x80\xaf"), -1},
        {"4.1.4 overlong / F8 80 80 80 AF", S("\xf8\x80\x80\x80\xaf"), -1},
        {"4.1.5 overlong / FC 80 80 80 80 AF", S("\xfc\x80\x80\x80\x80\xaf"), -1},
        {"4.2.1 max overlong C1 BF", S("\xc1\xbf"), -1},
        {"4.2.2 max overlong E0 9F BF", S("\xe0\x9f\xbf"), -1},
        {"4.2.3 max overlong F0 8F BF BF", S("\xf0\x8f\xbf\xbf"), -1},
        {"4.3.1 overlong NUL C0 80", S("\xc0\x80"), -1},
        {"4.3.2 overlong NUL E0 80 80", S("\xe0\x80\x80"), -1},
        {"4.3.3 overlong NUL F0 80 80 80", S("\xf0\x80\x80\x80"), -1},
        /* Kuhn 5: surrogates */
        {"5.1.1 U+D800 ED A0 80", S("\xed\xa0\x80"), -1},
        {"5.1.2 U+DB7F", S("\xed\xad\xbf"), -1},
        {"5.1.3 U+DB80", S("\xed\xae\x80"), -1},
        {"5.1.4 U+DBFF", S("\xed\xaf\xbf"), -1},
        {"5.1.5 U+DC00", S("\xed\xb0\x80"), -1},
        {"5.1.6 U+DF80", S("\xed\xbe\x80"), -1},
        {"5.1.7 U+DFFF", S("\xed\xbf\xbf"), -1},
        {"5.2.1 paired U+D800 U+DC00", S("\xed\xa0\x80\xed\xb0\x80"), -1},
        {"5.2.8 paired U+DBFF U+DFFF", S("\xed\xaf\xbf\xed\xbf\xbf"), -1},
        /* Kuhn 5.3: noncharacters are valid UTF-8 */
        {"5.3.1 U+FFFE", S("\xef\xbf\xbe"), 1},
        {"5.3.3 U+FDD0", S("\xef\xb7\x90"), 1},
    };
    size_t i;
    char one[2] = {0, 0}, two[3] = {0, ' ', 0};
    int bad = 0;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        is_int(authsvc_text_utf8_length(v[i].s, v[i].len), v[i].want, "utf8: %s",
               v[i].what);
    }
    is_int(authsvc_text_utf8_length("abc", 2), 2, "utf8: length argument respected");
    is_int(authsvc_text_utf8_length("\xf0\x9f\x98\x80", 3), -1,
           "utf8: sequence cut by the length argument");
    is_int(authsvc_text_utf8_length(NULL, 0), 0, "utf8: NULL, 0 is empty");

    /* Kuhn 3.1.9: every continuation octet alone; 3.2: every lead octet then a space. */
    for (i = 0x80; i <= 0xbf; i++) {
        one[0] = (char)i;
        bad += authsvc_text_utf8_length(one, 1) != -1;
    }
    is_int(bad, 0, "utf8: each of the 64 continuation octets alone is invalid");
    bad = 0;
    for (i = 0xc0; i <= 0xff; i++) {
        two[0] = (char)i;
        bad += authsvc_text_utf8_length(two, 2) != -1;
    }
    is_int(bad, 0, "utf8: each lead octet C0..FF followed by a space is invalid");
    bad = 0;
    for (i = 0; i < 0x80; i++) {
        one[0] = (char)i;
        bad += authsvc_text_utf8_length(one, 1) != 1;
    }
    is_int(bad, 0, "utf8: each ASCII octet is one code point");
}

static void test_control(void)
{
    static const u8_t v[] = {
        {"plain ASCII", S("abc"), 0},
        {"space", S("a b"), 0},
        {"tilde (U+007E)", S("~"), 0},
        {"NBSP U+00A0", S("\xc2\xa0"), 0},
        {"e-acute", S("\xc3\xa9"), 0},
        {"emoji", S("\xf0\x9f\x98\x80"), 0},
        {"U+0100 (C4 80)", S("\xc4\x80"), 0},
        {"NUL", S("a\0b"), 1},
        {"tab", S("a\tb"), 1},
        {"newline", S("a\n"), 1},
        {"carriage return", S("\r"), 1},
        {"U+001F", S("\x1f"), 1},
        {"DEL", S("\x7f"), 1},
        {"C1 U+0080", S("\xc2\x80"), 1},
        {"C1 U+0085 NEL", S("x\xc2\x85y"), 1},
        {"C1 U+009F", S("\xc2\x9f"), 1},
    };
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        is_int(authsvc_text_has_control(v[i].s, v[i].len) != 0, v[i].want, "control: %s",
               v[i].what);
    }
    is_int(authsvc_text_has_control("ab\n", 2), 0, "control: length argument respected");
}

typedef struct {
    const char *what;
    const char *in;
    size_t len;
    const char *want_out;  /* NULL: must be rejected */
    const char *needle;    /* part of the message when rejected */
} mail_t;

static void test_email(apr_pool_t *p)
{
    static const mail_t v[] = {
        {"upper case lowered", S("User@Example.COM"), "user@example.com", NULL},
        {"shortest plausible", S("a@b.co"), "a@b.co", NULL},
        {"dots, plus and subdomain", S("First.Last+tag@Sub.Example.org"),
         "first.last+tag@sub.example.org", NULL},
        {"atext specials", S("!#$%&'*+-/=?^_`{|}~@example.com"),
         "!#$%&'*+-/=?^_`{|}~@example.com", NULL},
        {"non-ASCII kept, only ASCII lowered", S("J\xc3\x96S\xc3\x89@EXAMPLE.com"),
         "j\xc3\x96s\xc3\x89@example.com", NULL},
        {"IDN domain", S("a@b\xc3\xbc" "cher.de"), "a@b\xc3\xbc" "cher.de", NULL},
        {"hyphen inside label", S("a@my-host.example"), "a@my-host.example", NULL},
        {"empty", S(""), NULL, "must not be empty"},
        {"no @", S("example.com"), NULL, "exactly one @"},
        {"two @", S("a@b@example.com"), NULL, "exactly one @"},
        {"empty local part", S("@example.com"), NULL, "1 to 64 octets"},
        {"empty domain", S("a@"), NULL, "after @ must not be empty"},
        {"a@localhost (no dot)", S("a@localhost"), NULL, "must contain a dot"},
        {"leading dot in domain", S("a@.example.com"), NULL, "empty labels"},
        {"two dots in domain", S("a@example..com"), NULL, "empty labels"},
        {"trailing dot in domain", S("a@example.com."), NULL, "empty labels"},
        {"label starts with hyphen", S("a@-example.com"), NULL, "hyphen"},
        {"label ends with hyphen", S("a@example-.com"), NULL, "hyphen"},
        {"underscore in domain", S("a@exa_mple.com"), NULL, "not allowed"},
        {"IP literal", S("a@[127.0.0.1]"), NULL, "not allowed"},
        {"space", S("a b@example.com"), NULL, "spaces"},
        {"tab", S("a\t@example.com"), NULL, "control"},
        {"CRLF injection", S("a@example.com\r\nBcc: x@y.z"), NULL, "control"},
        {"NUL", S("a\0b@example.com"), NULL, "control"},
        {"C1 NEL", S("a\xc2\x85@example.com"), NULL, "control"},
        {"invalid UTF-8", S("a\xff@example.com"), NULL, "UTF-8"},
        {"overlong UTF-8", S("a\xc0\xaf@example.com"), NULL, "UTF-8"},
        {"leading dot in local part", S(".a@example.com"), NULL, "start or end with a dot"},
        {"trailing dot in local part", S("a.@example.com"), NULL, "start or end with a dot"},
        {"two dots in local part", S("a..b@example.com"), NULL, "two dots"},
        {"angle bracket", S("a<b@example.com"), NULL, "not allowed"},
        {"comma", S("a,b@example.com"), NULL, "not allowed"},
        {"quoted local part", S("\"a\"@example.com"), NULL, "not allowed"},
        {"parenthesis", S("a(b)@example.com"), NULL, "not allowed"},
        {"backslash", S("a\\b@example.com"), NULL, "not allowed"},
        {"colon", S("a:b@example.com"), NULL, "not allowed"},
    };
    char buf[300];
    const char *out, *err;
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        out = "untouched";
        err = authsvc_text_email_normalize(p, v[i].in, v[i].len, &out);
        if (v[i].want_out != NULL) {
            is_str(err, NULL, "email: %s accepted", v[i].what);
            is_str(out, v[i].want_out, "email: %s normalised", v[i].what);
        }
        else {
            ok(err != NULL && strstr(err, v[i].needle) != NULL,
               "email: %s rejected (\"%s\")", v[i].what, v[i].needle);
            if (err != NULL && strstr(err, v[i].needle) == NULL) {
                diag("message was: %s", err);
            }
            is_str(out, "untouched", "email: %s leaves *out alone", v[i].what);
        }
    }

    /* Local part of 64 and 65 octets. */
    memset(buf, 'a', 65);
    memcpy(buf + 64, "@example.com", 13);
    is_str(authsvc_text_email_normalize(p, buf, strlen(buf), &out), NULL,
           "email: 64-octet local part accepted");
    memset(buf, 'a', 65);
    memcpy(buf + 65, "@example.com", 13);
    err = authsvc_text_email_normalize(p, buf, strlen(buf), &out);
    ok(err && strstr(err, "1 to 64 octets"), "email: 65-octet local part rejected");

    /* 254 and 255 octets: 64 + '@' + 63 '.' 63 '.' 57 '.' "com" = 254. */
    memset(buf, 'a', 64);
    buf[64] = '@';
    memset(buf + 65, 'b', 63);
    buf[128] = '.';
    memset(buf + 129, 'c', 63);
    buf[192] = '.';
    memset(buf + 193, 'd', 57);
    memcpy(buf + 250, ".com", 5);
    is_int(strlen(buf), 254, "email: built a 254-octet address");
    is_str(authsvc_text_email_normalize(p, buf, strlen(buf), &out), NULL,
           "email: 254 octets accepted");
    memset(buf + 193, 'd', 58);
    memcpy(buf + 251, ".com", 5);
    is_int(strlen(buf), 255, "email: built a 255-octet address");
    err = authsvc_text_email_normalize(p, buf, strlen(buf), &out);
    ok(err && strstr(err, "at most 254 octets"), "email: 255 octets rejected");

    /* Domain label of 63 and 64 octets. */
    memcpy(buf, "a@", 2);
    memset(buf + 2, 'x', 63);
    memcpy(buf + 65, ".com", 5);
    is_str(authsvc_text_email_normalize(p, buf, strlen(buf), &out), NULL,
           "email: 63-octet label accepted");
    memset(buf + 2, 'x', 64);
    memcpy(buf + 66, ".com", 5);
    err = authsvc_text_email_normalize(p, buf, strlen(buf), &out);
    ok(err && strstr(err, "at most 63 octets"), "email: 64-octet label rejected");

    ok(authsvc_text_email_normalize(p, NULL, 0, &out) != NULL, "email: NULL rejected");
    is_str(authsvc_text_email_normalize(p, "Ab@Cd.ef with junk", 8, &out), NULL,
           "email: length argument respected");
    is_str(out, "ab@cd.ef", "email: ... and the copy is NUL-terminated at len");
}

static void test_name(apr_pool_t *p)
{
    const char *err;

    is_str(authsvc_text_check_name(p, S("Zo\xc3\xab"), 10), NULL, "name: Zoe with diaeresis");
    is_str(authsvc_text_check_name(p, S("Jean-Luc Picard"), 100), NULL,
           "name: spaces and hyphen");
    is_str(authsvc_text_check_name(p, S(""), 10), NULL, "name: empty is valid");
    is_str(authsvc_text_check_name(p, NULL, 0, 10), NULL, "name: NULL, 0 is empty");
    is_str(authsvc_text_check_name(p, S("\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"), 3),
           NULL, "name: 3 emoji (12 octets) within 3 code points");
    err = authsvc_text_check_name(p, S("\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
                                       "\xf0\x9f\x98\x80"), 3);
    is_str(err, "must be at most 3 characters", "name: 4 emoji over 3 code points");
    err = authsvc_text_check_name(p, S("Bob\tTables"), 100);
    is_str(err, "must not contain control characters", "name: tab rejected");
    err = authsvc_text_check_name(p, S("Bob\0"), 100);
    is_str(err, "must not contain control characters", "name: NUL rejected");
    err = authsvc_text_check_name(p, S("Bob\xc2\x9b"), 100);
    is_str(err, "must not contain control characters", "name: C1 CSI rejected");
    err = authsvc_text_check_name(p, S("Bob\xed\xa0\x80"), 100);
    is_str(err, "is not valid UTF-8", "name: surrogate rejected");
    err = authsvc_text_check_name(p, S("Bob"), 0);
    is_str(err, "must be at most 0 characters", "name: max 0");
}

static void test_digits(void)
{
    const char *rest = NULL;

    is_int(authsvc_text_digits("42", '\0', &rest), 42, "digits: 42");
    ok(rest != NULL && *rest == '\0', "digits: rest at the end");
    is_int(authsvc_text_digits("0", '\0', &rest), 0, "digits: 0");
    is_int(authsvc_text_digits("123.abc", '.', &rest), 123, "digits: up to '.'");
    is_str(rest, ".abc", "digits: rest at '.'");
    is_int(authsvc_text_digits("123.abc", '\0', &rest), -1, "digits: '.' where the end is due");
    is_int(authsvc_text_digits("", '\0', &rest), -1, "digits: none");
    is_int(authsvc_text_digits("-1", '\0', &rest), -1, "digits: no sign");
    is_int(authsvc_text_digits(" 1", '\0', &rest), -1, "digits: no space");
    is_int(authsvc_text_digits("999999999999999999", '\0', &rest), 999999999999999999LL,
           "digits: 18 nines");
    is_int(authsvc_text_digits("9999999999999999999", '\0', &rest), -1,
           "digits: 19 digits refused (would overflow)");
}

int main(void)
{
    apr_pool_t *p;

    p = tap_apr_start();
    test_utf8();
    test_control();
    test_email(p);
    test_name(p);
    test_digits();
    return tap_apr_end(p);
}

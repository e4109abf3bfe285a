/* test_returnto.c - returnto.c: where a browser may be sent after signing in. The
 * refused cases are the usual open-redirect tricks: scheme-relative URLs, backslashes
 * (browsers read '\' as '/'), encoded and double-encoded slashes, userinfo, other
 * schemes, control characters (CRLF injection, tabs that browsers drop), length.
 */
#include <string.h>

#include "apr_general.h"
#include "apr_strings.h"
#include "apr_tables.h"

#include "returnto.h"
#include "tap_apr.h"

static apr_pool_t *pool;

/* An allow list from up to three entries (NULL ends it early). */
static apr_array_header_t *allow(const char *a, const char *b, const char *c)
{
    apr_array_header_t *arr = apr_array_make(pool, 3, sizeof(const char *));

    if (a != NULL) {
        APR_ARRAY_PUSH(arr, const char *) = a;
    }
    if (b != NULL) {
        APR_ARRAY_PUSH(arr, const char *) = b;
    }
    if (c != NULL) {
        APR_ARRAY_PUSH(arr, const char *) = c;
    }
    return arr;
}

/* Printable: control characters shown as \xNN, long values cut. */
static const char *show(const char *v)
{
    char *out, *o;
    size_t n = 0;

    if (v == NULL) {
        return "NULL";
    }
    o = out = apr_palloc(pool, 4 * 80 + 8);
    for (; *v != '\0' && n < 80; v++, n++) {
        unsigned char c = (unsigned char)*v;
        if (c < 0x20 || c >= 0x7f) {
            o += sprintf(o, "\\x%02x", c);
        }
        else {
            *o++ = (char)c;
        }
    }
    strcpy(o, *v ? "..." : "");
    return out;
}

static void accepted(const char *v, const apr_array_header_t *a, const char *what)
{
    const char *got = authsvc_return_to_check(pool, v, a);

    is_str(got, v, "accepted: %s (%s)", show(v), what);
}

static void refused(const char *v, const apr_array_header_t *a, const char *what)
{
    const char *got = authsvc_return_to_check(pool, v, a);

    ok(got == NULL, "refused: %s (%s)%s%s", show(v), what, got ? " - got " : "",
       got ? show(got) : "");
}

static void test_paths(void)
{
    accepted("/", NULL, "the root");
    accepted("/a", NULL, "a path");
    accepted("/a/b?x=1&y=2#f", NULL, "path, query and fragment");
    accepted("/a%20b", NULL, "an encoded blank in a path");
    accepted("/api/account", NULL, "the account page");
    accepted("/api/login?prompt=reauthenticate&return_to=%2Fapi%2Faccount", NULL,
             "a query holding an encoded path");
    accepted("/a/./b/../c", NULL, "dot segments");
    accepted("/x?next=https://evil.com", NULL, "a URL in the query is only data");
    accepted("/x#//evil.com", NULL, "slashes in the fragment");
    accepted("/a%2Fb", NULL, "an encoded slash inside a path");
    accepted("/~user/%41", NULL, "tilde and an encoded letter");
    accepted("/search?q=100%25", NULL, "an encoded percent sign (decodes to a lone %)");
}

static void test_bad_paths(void)
{
    char *big = apr_palloc(pool, AUTHSVC_RETURN_TO_MAX + 2);

    /* A stray '%' does not spare the decoded form its check (security review). */
    refused("/%5Cevil.example?%", NULL, "an encoded backslash and a stray %");
    refused("/%2F%2Fevil.example?q=%", NULL, "encoded slashes and a stray %");
    refused("/%252F%252Fevil.example?%25%", NULL, "double-encoded slashes and a stray %");
    refused("/%0d%0aSet-Cookie:x%", NULL, "encoded CRLF and a stray %");
    refused("/%09/evil.com?%", NULL, "an encoded tab and a stray %");
    accepted("/a%zz", NULL, "a stray % that decodes to nothing");
    refused(NULL, NULL, "NULL");
    refused("", NULL, "empty");
    refused("//evil.com", NULL, "scheme-relative");
    refused("///evil.com", NULL, "three slashes");
    refused("////evil.com", NULL, "four slashes");
    refused("/\\evil.com", NULL, "slash backslash");
    refused("\\\\evil.com", NULL, "two backslashes");
    refused("\\/evil.com", NULL, "backslash slash");
    refused("\\/\\/evil.com", NULL, "\\/\\/");
    refused("/a\\b", NULL, "a backslash anywhere");
    refused("/%2F%2Fevil.com", NULL, "encoded slashes after the first");
    refused("/%2f%2fevil.com", NULL, "lower-case encoded slashes");
    refused("/%2Fevil.com", NULL, "one encoded slash: decodes to //evil.com");
    refused("%2F%2Fevil.com", NULL, "fully encoded scheme-relative");
    refused("%2Fa", NULL, "an encoded first slash");
    refused("/%5Cevil.com", NULL, "an encoded backslash");
    refused("/%5cevil.com", NULL, "a lower-case encoded backslash");
    refused("/%255Cevil.com", NULL, "a double-encoded backslash");
    refused("/%252F%252Fevil.com", NULL, "double-encoded slashes");
    refused("/%25252F%25252Fevil.com", NULL, "triple-encoded slashes");
    refused("/%09/evil.com", NULL, "an encoded tab (browsers drop it: //evil.com)");
    refused(" /x", NULL, "a leading blank");
    refused("/x y", NULL, "a raw blank");
    refused("/x\r\nSet-Cookie: a=b", NULL, "CRLF header injection");
    refused("/x\nLocation: //evil.com", NULL, "a bare LF");
    refused("/%0d%0aSet-Cookie:a=b", NULL, "encoded CRLF");
    refused("/%0D%0ASet-Cookie:a=b", NULL, "encoded CRLF, upper case");
    refused("/%250d%250aSet-Cookie:a=b", NULL, "double-encoded CRLF");
    refused("/\t/evil.com", NULL, "a tab (browsers drop it)");
    refused("/x\x01", NULL, "a control character");
    refused("/x\x7f", NULL, "DEL");
    refused("/%00", NULL, "an encoded NUL");
    refused("javascript:alert(1)", NULL, "javascript:");
    refused("JaVaScRiPt:alert(1)", NULL, "javascript: in mixed case");
    refused(" javascript:alert(1)", NULL, "javascript: after a blank");
    refused("data:text/html,x", NULL, "data:");
    refused("vbscript:msgbox", NULL, "vbscript:");
    refused("evil.com", NULL, "a bare host name");
    refused("a/b", NULL, "a relative path");
    refused("?x=1", NULL, "only a query");
    refused("#f", NULL, "only a fragment");

    memset(big, 'a', AUTHSVC_RETURN_TO_MAX + 1);
    big[0] = '/';
    big[AUTHSVC_RETURN_TO_MAX + 1] = '\0';
    refused(big, NULL, "2049 octets");
    big[AUTHSVC_RETURN_TO_MAX] = '\0';
    accepted(big, NULL, "2048 octets: the limit itself");
    is_int(AUTHSVC_RETURN_TO_MAX, 2048, "the limit is 2048 octets");
}

static void test_absolute(void)
{
    apr_array_header_t *app = allow("app.example.com", NULL, NULL);
    apr_array_header_t *app8443 = allow("app.example.com:8443", NULL, NULL);
    apr_array_header_t *two = allow("other.example.net", "app.example.com", NULL);
    apr_array_header_t *empty = allow(NULL, NULL, NULL);

    accepted("https://app.example.com/x", app, "listed host");
    accepted("http://app.example.com/x", app, "listed host over http");
    accepted("https://app.example.com", app, "listed host, no path");
    accepted("https://app.example.com/", app, "listed host, root");
    accepted("https://app.example.com/a/b?c=d#e", app, "listed host, query, fragment");
    accepted("https://app.example.com/x", two, "second entry of the list");
    accepted("HTTPS://APP.EXAMPLE.COM/x", app, "scheme and host in upper case");
    accepted("https://App.Example.Com/x", app, "host in mixed case");
    accepted("https://app.example.com:8443/x", app8443, "host:port entry, that port");
    accepted("https://app.example.com:8443/x", app, "entry without a port: any port");
    accepted("http://app.example.com:8080/x", app, "entry without a port: another port");
    accepted("https://app.example.com:443/x", allow("app.example.com:443", NULL, NULL),
             "host:443 entry, explicit port 443");
    accepted("https://app.example.com/x", allow("app.example.com:443", NULL, NULL),
             "host:443 entry, https default port");
    accepted("http://app.example.com/x", allow("app.example.com:80", NULL, NULL),
             "host:80 entry, http default port");

    refused("https://app.example.com/x", NULL, "no allow list");
    refused("https://app.example.com", NULL, "no allow list, no path");
    refused("https://app.example.com/x", empty, "empty allow list");
    refused("https://app.example.com/x", app8443, "host:port entry, default port");
    refused("https://app.example.com:9443/x", app8443, "host:port entry, other port");
    refused("http://app.example.com/x", allow("app.example.com:443", NULL, NULL),
            "host:443 entry, http default port 80");
    refused("https://evil.com", app, "unlisted host");
    refused("http://evil.com", app, "unlisted host over http");
    refused("https://evil.com/x", NULL, "unlisted host, no list");
    refused("https://app.example.com.evil.com/", app, "listed host as a prefix");
    refused("https://evilapp.example.com/", app, "listed host as a suffix");
    refused("https://example.com/", app, "parent domain of a listed host");
    refused("https://sub.app.example.com/", app, "subdomain of a listed host");
    refused("https://evil.com#app.example.com", app, "listed host in the fragment");
    refused("https://evil.com?app.example.com", app, "listed host in the query");
    refused("https://evil.com/app.example.com", app, "listed host in the path");
    refused("https://app.example.com@evil.com/", app, "listed host as userinfo");
    refused("https://app.example.com:443@evil.com/", app, "listed host:port as userinfo");
    refused("https://user@app.example.com/", app, "userinfo on a listed host");
    refused("https://user:pw@app.example.com/", app, "user and password");
    refused("https://app.example.com%40evil.com/", app, "encoded @");
    refused("https://app.example.com\\@evil.com/", app, "backslash before @");
    refused("https://app.example.com\\.evil.com/", app, "backslash in the host");
    refused("https:\\\\app.example.com/", app, "backslashes for slashes");
    refused("https://app.example.com/x\r\nSet-Cookie: a=b", app, "CRLF on a listed host");
    refused("https://app.example.com/%0d%0aX:y", app, "encoded CRLF on a listed host");
    refused("https://app.example.com/\t", app, "a tab on a listed host");
    refused("https://app.example.com/a b", app, "a blank on a listed host");
    refused("http:/evil.com", app, "http:/ with one slash");
    refused("https:evil.com", app, "https: without slashes");
    refused("http:/app.example.com/", app, "http:/ with one slash, listed host");
    refused("https:app.example.com/", app, "https: without slashes, listed host");
    refused("https:///app.example.com/", app, "three slashes");
    refused("ftp://app.example.com/", app, "ftp scheme");
    refused("file:///etc/passwd", app, "file scheme");
    refused("javascript://app.example.com/%0aalert(1)", app, "javascript: with a host");
    refused("//app.example.com/x", app, "scheme-relative, even when listed");
    refused("https://", app, "no host");
    refused(" https://app.example.com/", app, "a leading blank");
}

static void origin_is(const char *v, const char *want, const char *what)
{
    is_str(authsvc_return_to_origin(pool, v), want, "origin: %s", what);
}

static void test_origin(void)
{
    origin_is("https://App.Example.COM", "https://app.example.com", "lower case");
    origin_is("https://app.example.com:443", "https://app.example.com", "the default port goes");
    origin_is("http://localhost:8080", "http://localhost:8080", "another port stays");
    origin_is("http://[::1]:8080", "http://[::1]:8080", "IPv6 with a port: brackets kept");
    origin_is("http://[::1]", "http://[::1]", "IPv6 without a port");
    origin_is("http://[::1:8080]", "http://[::1:8080]",
              "the IPv6 address ::1:8080 is not [::1]:8080");
    origin_is("http://[::1]:80", "http://[::1]", "IPv6, default port");
    origin_is(authsvc_return_to_origin(pool, "http://[::1]:8080"), "http://[::1]:8080",
              "an IPv6 origin normalised is its own origin");
    origin_is("https://app.example.com/", NULL, "a trailing slash");
    origin_is("https://user@app.example.com", NULL, "userinfo");
    origin_is("ftp://app.example.com", NULL, "another scheme");
    origin_is("null", NULL, "null");
    origin_is("http://a:0", NULL, "port 0");
    origin_is("http://[[]", NULL, "'[[]': not a host (was 'http://[')");
    origin_is("http://[a]", NULL, "'[a]': not an IPv6 literal (was the origin of 'http://a')");
    origin_is("http://[::1]x", NULL, "text after the brackets");
    origin_is("http://a:65616", NULL, "a port above 65535 (16 bits: was http://a)");
    origin_is("https://t:73979", NULL, "a port above 65535 (was https://t:8443)");
    origin_is("http://a:+80", NULL, "a signed port");
    origin_is("http://a:-65456", NULL, "a negative port");
    origin_is("http://a:0080", NULL, "a port with a leading zero");
    origin_is("http://a:65535", "http://a:65535", "port 65535");
    origin_is("http://[::ffff:1.2.3.4]:8443", "http://[::ffff:1.2.3.4]:8443",
              "IPv6 with an IPv4 tail");
    origin_is("http://a%2eb", NULL, "percent signs in a host name");
    origin_is("http://10.0.0.1:8080", "http://10.0.0.1:8080", "an IPv4 address");
}

int main(void)
{
    pool = tap_apr_start();
    test_paths();
    test_bad_paths();
    test_absolute();
    test_origin();
    return tap_apr_end(pool);
}

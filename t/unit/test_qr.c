/* test_qr.c - qr.c: the SVG is well-formed and self-contained, and its path draws
 * exactly the dark modules libqrencode computed (module by module), inside a 4-module
 * quiet zone. With rsvg-convert and zbarimg installed, the image is also rendered and
 * decoded back to the text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include <qrencode.h>

#include "qr.h"
#include "tap_apr.h"

#define URI                                                                              \
    "otpauth://totp/Example%20Co%3A%20Staging:alice%40example.com"                       \
    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example%20Co%3A%20Staging"          \
    "&algorithm=SHA1&digits=6&period=30"

static int count(const char *s, const char *what)
{
    int n = 0;

    for (; s != NULL && (s = strstr(s, what)) != NULL; s++) {
        n++;
    }
    return n;
}

/* Only the four tags the SVG may have, each '<' closed by a '>' before the next '<',
 * attribute quotes paired, <svg> opened first and closed last. */
static int well_formed(const char *svg)
{
    static const char *const tags[] = {"<svg ", "<rect ", "<path ", "</svg>"};
    const char *s, *gt;
    size_t i;
    int known, quotes;

    if (strncmp(svg, "<svg ", 5) != 0 || strlen(svg) < 6 ||
        strcmp(svg + strlen(svg) - 6, "</svg>") != 0 || count(svg, "<svg") != 1 ||
        count(svg, "</svg>") != 1) {
        return 0;
    }
    for (s = svg; (s = strchr(s, '<')) != NULL; s = gt) {
        gt = strchr(s, '>');
        if (gt == NULL || memchr(s + 1, '<', (size_t)(gt - s - 1)) != NULL) {
            return 0;
        }
        for (known = 0, i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
            known |= strncmp(s, tags[i], strlen(tags[i])) == 0;
        }
        for (quotes = 0, i = 0; s + i < gt; i++) {
            quotes += s[i] == '"';
        }
        if (!known || quotes % 2 != 0 ||
            (strncmp(s, "</svg>", 6) != 0 && gt[-1] != '/' &&
             strncmp(s, "<svg ", 5) != 0)) {
            return 0;
        }
    }
    /* Nothing but tags: no text between them. */
    for (s = svg; (s = strchr(s, '>')) != NULL && s[1] != '\0'; s++) {
        if (s[1] != '<') {
            return 0;
        }
    }
    return 1;
}

/* The modules the path draws, as a size x size grid of counts; -1 when the path is
 * not a sequence of "M<x> <y>h<n>v1h-<n>z" inside the grid. */
static int draw(const char *svg, unsigned char *grid, int size)
{
    const char *d = strstr(svg, " d=\"");
    int x, y, n, n2, used, runs = 0, i;

    if (d == NULL) {
        return -1;
    }
    for (d += 4; *d == 'M'; d += used, runs++) {
        used = 0;
        if (sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &n, &n2, &used) != 4 || used == 0 ||
            n != n2 || n < 1 || x < 0 || y < 0 || x + n > size || y >= size) {
            return -1;
        }
        for (i = 0; i < n; i++) {
            grid[y * size + x + i]++;
        }
    }
    return *d == '"' ? runs : -1;
}

static void check_text(apr_pool_t *p, const char *text, const char *name)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    const char *svg = authsvc_qr_svg(p, text), *head;
    int w = qr ? qr->width : 0, n = w + 8, x, y, runs, same = 1, inside = 1, dark = 0;
    unsigned char *grid = calloc((size_t)(n * n), 1);

    ok(qr != NULL && svg != NULL, "%s: an SVG (width %d)", name, w);
    if (qr == NULL || svg == NULL || grid == NULL) {
        QRcode_free(qr);
        free(grid);
        return;
    }
    ok(well_formed(svg), "%s: well-formed: <svg>, <rect/>, <path/>, </svg> only", name);
    head = apr_psprintf(p,
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                        "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">",
                        n, n, n * 5, n * 5);
    ok(strncmp(svg, head, strlen(head)) == 0,
       "%s: viewBox of width + 8 modules (%d), 5 px each", name, n);
    ok(strstr(svg, apr_psprintf(p, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>", n,
                                n)) != NULL,
       "%s: a white background over the whole viewBox", name);
    is_int(count(svg, "<path "), 1, "%s: one path", name);
    is_int(count(svg, "fill=\"#000\""), 1, "%s: the path is black", name);
    ok(strstr(svg, "script") == NULL && strstr(svg, "href") == NULL &&
           strstr(svg, "url(") == NULL && strstr(svg, "<!") == NULL &&
           strstr(svg, "<?") == NULL,
       "%s: no script, link, url(), DTD or processing instruction", name);

    runs = draw(svg, grid, n);
    ok(runs > 0, "%s: the path is M x y h n v1 h -n z runs (%d)", name, runs);
    for (y = 0; y < n; y++) {
        for (x = 0; x < n; x++) {
            int in = x >= 4 && x < 4 + w && y >= 4 && y < 4 + w;
            int want = in && (qr->data[(y - 4) * w + (x - 4)] & 1);
            dark += want;
            same = same && grid[y * n + x] == want;
            inside = inside && (in || grid[y * n + x] == 0);
        }
    }
    ok(same, "%s: every module as libqrencode has it, each drawn once (%d dark)", name,
       dark);
    ok(inside, "%s: nothing drawn in the quiet zone", name);
    /* Runs are maximal: no two on one row touch (fewer, longer subpaths). */
    {
        int rows_runs = 0;
        for (y = 0; y < w; y++) {
            for (x = 0; x < w; x++) {
                rows_runs += (qr->data[y * w + x] & 1) &&
                             (x == 0 || !(qr->data[y * w + x - 1] & 1));
            }
        }
        is_int(runs, rows_runs, "%s: one subpath per horizontal run", name);
    }
    QRcode_free(qr);
    free(grid);
}

/* xmllint parses it; rendered with rsvg-convert and decoded with zbarimg, the text
 * comes back. */
static void check_decodes(apr_pool_t *p, const char *text)
{
    char dir[] = "/tmp/authsvc-qr-XXXXXX";
    const char *svg = authsvc_qr_svg(p, text), *cmd;
    char got[4096] = "";
    FILE *f;
    size_t n;

    if (system("command -v rsvg-convert >/dev/null && command -v zbarimg >/dev/null && "
               "command -v xmllint >/dev/null") != 0) {
        note("rsvg-convert, zbarimg or xmllint missing (tools/dev/deps.sh): not checked");
        return;
    }
    if (svg == NULL || mkdtemp(dir) == NULL) {
        ok(0, "decode: SVG or temporary directory");
        return;
    }
    f = fopen(apr_pstrcat(p, dir, "/qr.svg", NULL), "w");
    if (f != NULL) {
        fputs(svg, f);
        fclose(f);
    }
    is_int(system(apr_psprintf(p, "xmllint --noout %s/qr.svg", dir)), 0,
           "decode: xmllint finds the SVG well-formed XML");
    /* zbarimg talks to D-Bus and complains on stderr where there is none. */
    cmd = apr_psprintf(p,
                       "rsvg-convert -o %s/qr.png %s/qr.svg && "
                       "zbarimg --quiet --raw %s/qr.png 2>/dev/null",
                       dir, dir, dir);
    f = popen(cmd, "r");
    n = f != NULL ? fread(got, 1, sizeof(got) - 1, f) : 0;
    got[n] = '\0';
    if (f != NULL) {
        pclose(f);
    }
    if (n > 0 && got[n - 1] == '\n') {
        got[n - 1] = '\0';
    }
    is_str(got, text, "decode: rsvg-convert + zbarimg read the text back");
    if (system(apr_pstrcat(p, "rm -rf '", dir, "'", NULL)) != 0) {
        diag("could not remove %s", dir);
    }
}

int main(void)
{
    apr_pool_t *p;
    char *big, *huge;

    p = tap_apr_start();

    check_text(p, URI, "otpauth URI");
    check_text(p, "a", "one byte");
    /* Level M's capacity in 8-bit mode: version 40, the largest symbol (177 x 177). */
    big = apr_palloc(p, 2332);
    memset(big, 'x', 2331);
    big[2331] = '\0';
    big[1000] = '~';
    check_text(p, big, "2331 bytes (version 40)");
    check_decodes(p, URI);

    is_str(authsvc_qr_svg(p, NULL), NULL, "NULL text: NULL");
    is_str(authsvc_qr_svg(p, ""), NULL, "empty text: NULL");
    huge = apr_palloc(p, 3001);
    memset(huge, 'x', 3000);
    huge[3000] = '\0';
    is_str(authsvc_qr_svg(p, huge), NULL, "3000 bytes (beyond level M's capacity): NULL");
    huge[2332] = '\0';
    is_str(authsvc_qr_svg(p, huge), NULL, "2332 bytes (one beyond): NULL");

    return tap_apr_end(p);
}

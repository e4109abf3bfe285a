/*
 * qr.c - QR code to SVG (pure): libqrencode draws the symbol, this file only writes
 * the dark modules out as one SVG path.
 */
#include <stdarg.h>
#include <stdio.h>

#include <apr_strings.h>
#include <qrencode.h>

#include "qr.h"

/* A path being written into a buffer sized in advance; a write that would not fit
 * marks the buffer failed instead of truncating the image. */
typedef struct {
    char *buf;
    apr_size_t size, used;
    int failed;
} svgbuf_t;

/* The longest subpath: "M" x " " y "h" run "v1h-" run "z", each number at most 3
 * digits (a version 40 symbol is 177 modules wide, 185 with the quiet zone). */
#define RUN_MAX_CHARS 20

#if defined(__GNUC__)
static void put(svgbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif

static void put(svgbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(b->buf + b->used, b->size - b->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (apr_size_t)n >= b->size - b->used) {
        b->failed = 1;
        return;
    }
    b->used += (apr_size_t)n;
}

/* Bit 0 of each module byte is dark/light; the other bits say what the module is for
 * (finder, timing, data ...) and do not matter for drawing. */
static int dark(const QRcode *qr, int x, int y)
{
    return qr->data[y * qr->width + x] & 1;
}

/* One subpath per horizontal run of dark modules: a third of the size of one square
 * per module, and still only axis-aligned rectangles (crisp at any scale). */
static void put_row(svgbuf_t *b, const QRcode *qr, int y)
{
    int x = 0, start;

    while (x < qr->width) {
        if (!dark(qr, x, y)) {
            x++;
            continue;
        }
        for (start = x; x < qr->width && dark(qr, x, y); x++) {
        }
        put(b, "M%d %dh%dv1h-%dz", start + AUTHSVC_QR_QUIET, y + AUTHSVC_QR_QUIET,
            x - start, x - start);
    }
}

static const char *render(apr_pool_t *p, const QRcode *qr)
{
    int n = qr->width + 2 * AUTHSVC_QR_QUIET, px = n * AUTHSVC_QR_MODULE_PX, y;
    svgbuf_t b;

    /* At most (width + 1) / 2 runs per row, plus the fixed text around the path. */
    b.size =
        (apr_size_t)qr->width * (apr_size_t)((qr->width + 1) / 2) * RUN_MAX_CHARS + 512;
    b.buf = apr_palloc(p, b.size);
    b.used = 0;
    b.failed = 0;
    put(&b,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
        "height=\"%d\" shape-rendering=\"crispEdges\">",
        n, n, px, px);
    put(&b, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"", n,
        n);
    for (y = 0; y < qr->width; y++) {
        put_row(&b, qr, y);
    }
    put(&b, "%s", "\"/></svg>");
    return b.failed ? NULL : b.buf;
}

/* libqrencode allocates with malloc: the symbol is freed on every path. It refuses
 * an empty text (EINVAL) and one beyond the largest symbol (ERANGE) itself. */
const char *authsvc_qr_svg(apr_pool_t *p, const char *text)
{
    QRcode *qr;
    const char *svg = NULL;

    if (text == NULL) {
        return NULL;
    }
    qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (qr == NULL) {
        return NULL;
    }
    if (qr->width > 0 && qr->width <= 177 && qr->data != NULL) {
        svg = render(p, qr);
    }
    QRcode_free(qr);
    return svg;
}

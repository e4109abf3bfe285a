/*
 * qr.h - a QR code as an inline SVG image (libqrencode), for the otpauth:// URI that
 * authenticator apps scan during enrollment.
 *
 * Pure unit: apr and libqrencode only; no httpd header. Thread-safe (libqrencode
 * keeps no shared state once built with pthreads, as Debian's is).
 */
#ifndef AUTHSVC_QR_H
#define AUTHSVC_QR_H

#include <apr_pools.h>

/* The quiet zone the QR standard asks for around the symbol, in modules. */
#define AUTHSVC_QR_QUIET 4
/* Pixels per module in the width/height attributes (the viewBox counts modules). */
#define AUTHSVC_QR_MODULE_PX 5

/* text as a QR code (libqrencode, 8-bit mode, EC level M, 4-module quiet zone) in one
 * self-contained SVG element: <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 N N"
 * width=... height=... shape-rendering="crispEdges"> a white background rect and one
 * black <path d="M..h1v1h-1z..."/>; NULL on failure. Pure XML, no scripts, no external
 * refs. N is the symbol's width in modules plus twice the quiet zone. Dark modules
 * come as one subpath per horizontal run: "M<x> <y>h<run>v1h-<run>z". */
const char *authsvc_qr_svg(apr_pool_t *p, const char *text);

#endif

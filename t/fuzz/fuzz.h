/* fuzz.h - what every libFuzzer target here shares: apr_initialize once, a fresh pool
 * per input (destroyed after it, so LeakSanitizer sees no pool memory as leaked), and
 * splitting an input into NUL-terminated parts at a separator byte. */
#ifndef AUTHSVC_FUZZ_H
#define AUTHSVC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/lsan_interface.h>

#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The process-wide pool for what a target sets up once (keys, catalogues). */
static apr_pool_t *fuzz_global;

/* Start of LLVMFuzzerInitialize. What it sets up lives in fuzz_global for the whole
 * run, and APR's allocator (built to use mmap on Debian) hides pool memory from
 * LeakSanitizer, so malloc'ed objects only a pool points to (jansson values, OpenSSL
 * keys) would be reported as leaked at the first leak check: leak checking is off
 * until fuzz_ready(). Per-input pools are destroyed, so they need no such care. */
__attribute__((unused)) static void fuzz_init(void)
{
    __lsan_disable();
    apr_initialize();
    apr_pool_create(&fuzz_global, NULL);
}

/* End of LLVMFuzzerInitialize. */
__attribute__((unused)) static int fuzz_ready(void)
{
    __lsan_enable();
    return 0;
}

/* The LLVMFuzzerInitialize of a target with nothing of its own to set up. */
#define FUZZ_PLAIN_INIT                                                                  \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                                    \
    {                                                                                    \
        (void)argc;                                                                      \
        (void)argv;                                                                      \
        fuzz_init();                                                                     \
        return fuzz_ready();                                                             \
    }

/* mkdtemp(tmpl) for a target's scratch files; aborts the run when it fails. */
__attribute__((unused)) static void fuzz_tmpdir(char *tmpl)
{
    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        abort();
    }
}

/* Split data[0..size) at the first n-1 occurrences of sep into n NUL-terminated copies
 * in p (missing parts are ""); lens[i] gets each part's length. */
__attribute__((unused)) static void fuzz_split(apr_pool_t *p, const uint8_t *data, size_t size, char sep, int n,
                       const char **parts, size_t *lens)
{
    int i;

    for (i = 0; i < n; i++) {
        const uint8_t *end = i + 1 < n ? memchr(data, sep, size) : NULL;
        size_t len = end ? (size_t)(end - data) : size;

        parts[i] = apr_pstrmemdup(p, (const char *)data, len);
        lens[i] = len;
        if (end) {
            data += len + 1;
            size -= len + 1;
        }
        else {
            data += len;
            size = 0;
        }
    }
}

#endif

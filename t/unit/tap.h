/* tap.h - a tiny Test Anything Protocol producer for the C unit tests.
 *
 *   ok(cond, "format", ...)           "ok N - ..." or "not ok N - ..."
 *   is_int(got, want, "format", ...)  with a diagnostic of both values on failure
 *   is_str(got, want, "format", ...)  NULL-safe
 *   diag("format", ...)               "# ..." on stderr
 *   note("format", ...)               "# ..." on stdout
 *   return done_testing();            prints the plan "1..N"; exit status 0 if all
 *                                     passed, else 1
 *
 * The plan comes last so that tests need no count; prove accepts a trailing plan.
 * Header-only: every function is static inline, so an unused one costs no warning.
 */
#ifndef AUTHSVC_TAP_H
#define AUTHSVC_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__)
#define TAP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TAP_PRINTF(f, a)
#endif

typedef struct {
    int run;
    int failed;
} tap_state_t;

static inline tap_state_t *tap_state(void)
{
    static tap_state_t state;
    return &state;
}

/* Descriptions stay on one line: a newline would end the TAP line early. */
static inline void tap_vline(FILE *f, const char *fmt, va_list ap) TAP_PRINTF(2, 0);
static inline void tap_vline(FILE *f, const char *fmt, va_list ap)
{
    char buf[512];
    size_t i;

    vsnprintf(buf, sizeof(buf), fmt, ap);
    for (i = 0; buf[i] != '\0'; i++) {
        if (buf[i] == '\n' || buf[i] == '\r') {
            buf[i] = ' ';
        }
    }
    fputs(buf, f);
}

static inline int tap_vok(const char *file, int line, int pass, const char *fmt,
                          va_list ap) TAP_PRINTF(4, 0);
static inline int tap_vok(const char *file, int line, int pass, const char *fmt,
                          va_list ap)
{
    tap_state_t *st = tap_state();

    st->run++;
    printf("%sok %d - ", pass ? "" : "not ", st->run);
    tap_vline(stdout, fmt, ap);
    putchar('\n');
    if (!pass) {
        st->failed++;
        fflush(stdout);
        fprintf(stderr, "#   Failed test %d at %s line %d.\n", st->run, file, line);
    }
    fflush(stdout);
    return pass;
}

static inline int tap_ok(const char *file, int line, int pass, const char *fmt, ...)
    TAP_PRINTF(4, 5);
static inline int tap_is_int(const char *file, int line, long long got, long long want,
                             const char *fmt, ...) TAP_PRINTF(5, 6);
static inline int tap_is_str(const char *file, int line, const char *got,
                             const char *want, const char *fmt, ...) TAP_PRINTF(5, 6);
static inline void diag(const char *fmt, ...) TAP_PRINTF(1, 2);
static inline void note(const char *fmt, ...) TAP_PRINTF(1, 2);

static inline int tap_ok(const char *file, int line, int pass, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = tap_vok(file, line, pass, fmt, ap);
    va_end(ap);
    return r;
}

static inline int tap_is_int(const char *file, int line, long long got, long long want,
                             const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = tap_vok(file, line, got == want, fmt, ap);
    va_end(ap);
    if (!r) {
        fprintf(stderr, "#          got: %lld\n#     expected: %lld\n", got, want);
    }
    return r;
}

static inline int tap_is_str(const char *file, int line, const char *got,
                             const char *want, const char *fmt, ...)
{
    va_list ap;
    int same = (got == NULL || want == NULL) ? got == want : strcmp(got, want) == 0;
    int r;

    va_start(ap, fmt);
    r = tap_vok(file, line, same, fmt, ap);
    va_end(ap);
    if (!r) {
        fprintf(stderr, "#          got: %s%s%s\n#     expected: %s%s%s\n",
                got ? "'" : "", got ? got : "NULL", got ? "'" : "",
                want ? "'" : "", want ? want : "NULL", want ? "'" : "");
    }
    return r;
}

static inline void diag(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("# ", stderr);
    va_start(ap, fmt);
    tap_vline(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static inline void note(const char *fmt, ...)
{
    va_list ap;

    fputs("# ", stdout);
    va_start(ap, fmt);
    tap_vline(stdout, fmt, ap);
    va_end(ap);
    putchar('\n');
}

static inline int done_testing(void)
{
    tap_state_t *st = tap_state();

    printf("1..%d\n", st->run);
    if (st->failed) {
        fflush(stdout);
        fprintf(stderr, "# Looks like you failed %d test%s of %d.\n", st->failed,
                st->failed == 1 ? "" : "s", st->run);
    }
    fflush(stdout);
    return st->failed ? 1 : 0;
}

#define ok(cond, ...) tap_ok(__FILE__, __LINE__, (cond) ? 1 : 0, __VA_ARGS__)
#define is_int(got, want, ...)                                                           \
    tap_is_int(__FILE__, __LINE__, (long long)(got), (long long)(want), __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str(__FILE__, __LINE__, (got), (want), __VA_ARGS__)

#endif /* AUTHSVC_TAP_H */

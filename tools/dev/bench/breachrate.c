/*
 * breachrate.c - lookups per second in a breached-password corpus (src/breach.c).
 * Built and run by bench.sh (section breach).
 *
 *   breachrate TEXT CORPUS [N]
 *
 * Opens CORPUS (the text file or its index) as the module does and reports how long
 * the open (with its checks) took, then N lookups (default 1000000) of hashes in the
 * corpus (taken from random lines of TEXT, the Pwned Passwords file CORPUS holds) and N
 * of random hashes (almost surely absent), after one untimed pass of each to fault
 * the pages in. Times are the process's CPU time (the machines here are shared). One
 * line:
 *   open_ms hit_per_s hit_us miss_per_s miss_us
 * Exit status 0, or 1 if a hash from TEXT is not found or the corpus cannot be opened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apr_general.h"

#include "breach.h"

static int hexval(int c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* n hashes from random lines of the text file (the line after a random offset). */
static unsigned char *sample_hits(const char *path, long n)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    const char *m, *line;
    unsigned char *h = malloc((size_t)n * 20);
    long i;
    int k;

    if (fd < 0 || h == NULL || fstat(fd, &st) != 0 || st.st_size < 200 ||
        (m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        line = memchr(m + (size_t)(((double)rand() / RAND_MAX) * (double)(st.st_size - 100)),
                      '\n', 100) + 1;
        for (k = 0; k < 20; k++) {
            h[i * 20 + k] = (unsigned char)(hexval(line[2 * k]) << 4 | hexval(line[2 * k + 1]));
        }
    }
    munmap((void *)m, (size_t)st.st_size);
    close(fd);
    return h;
}

/* CPU seconds of this process: on a shared, loaded machine the wall clock measures the
 * neighbours too. */
static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds for one lookup of each hash; *found counts the hits. */
static double pass(const authsvc_breach_t *b, const unsigned char *h, long n, long *found)
{
    double t0 = cpu_now();
    long i;

    *found = 0;
    for (i = 0; i < n; i++) {
        *found += authsvc_breach_lookup(b, h + i * 20) > 0;
    }
    return cpu_now() - t0;
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    authsvc_breach_t *b = NULL;
    long n = argc > 3 ? atol(argv[3]) : 1000000, found, i;
    unsigned char *hits, *miss;
    const char *err;
    double t0, open_ms, th, tm;

    if (argc < 3 || n <= 0 || apr_initialize() != APR_SUCCESS ||
        apr_pool_create(&p, NULL) != APR_SUCCESS) {
        fprintf(stderr, "usage: breachrate TEXT CORPUS [N]\n");
        return 1;
    }
    srand(11);
    t0 = cpu_now();
    err = authsvc_breach_open(p, argv[2], &b);
    open_ms = (cpu_now() - t0) * 1000.0;
    if (err != NULL || (hits = sample_hits(argv[1], n)) == NULL ||
        (miss = malloc((size_t)n * 20)) == NULL) {
        fprintf(stderr, "breachrate: %s\n", err ? err : "cannot sample the text file");
        return 1;
    }
    for (i = 0; i < n * 20; i++) {
        miss[i] = (unsigned char)rand();
    }
    pass(b, hits, n, &found);
    th = pass(b, hits, n, &found);
    if (found != n) {
        fprintf(stderr, "breachrate: %ld of %ld hashes from the file not found\n", n - found, n);
        return 1;
    }
    pass(b, miss, n, &found);
    tm = pass(b, miss, n, &found);
    printf("%.1f %.0f %.3f %.0f %.3f\n", open_ms, n / th, th * 1e6 / n, n / tm, tm * 1e6 / n);
    return 0;
}

/*
 * keyfile.h - key files for the unit tests of the units that read them (secretbox,
 * jwt): written into a scratch directory with a given mode.
 */
#ifndef AUTHSVC_TEST_KEYFILE_H
#define AUTHSVC_TEST_KEYFILE_H

#include <stdio.h>
#include <sys/stat.h>

#include <apr_strings.h>

/* The scratch directory (the test makes it, e.g. with mkdtemp). */
static char dir[64];

/* Write text to dir/name with mode; returns the path (also when writing failed, so that
 * the caller's check fails on the missing file). */
static inline const char *keyfile(apr_pool_t *p, const char *name, const char *text,
                                  int mode)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    FILE *f = fopen(path, "w");

    if (f == NULL) {
        return path;
    }
    fputs(text, f);
    fclose(f);
    chmod(path, (mode_t)mode);
    return path;
}

#endif

/* config.c - authsvc-admin --config FILE: DBDriver and DBDParams (and the breached-
 * password corpus, AuthsvcPasswordBreachCorpus and AuthsvcPasswordBreachMinCount) from an
 * httpd configuration file.
 *
 * A line scan, not httpd's parser: lines joined at a trailing backslash, comments
 * skipped, directive names in any case, Include and IncludeOptional followed (wildcards
 * and directories too; relative paths from ServerRoot when the files set it, else from
 * the directory of FILE, as Debian's apache2.conf expects). The first DBDriver, the
 * first DBDParams and the first of each Authsvc directive read win, whatever
 * <VirtualHost>, <IfModule> or <IfDefine> they are in; ${VARIABLES} are not expanded. A second, different value is reported on stderr.
 * A file that includes itself (through any chain) and a directory a wildcard cannot be
 * read in are errors.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <apr_strings.h>

#include "admin.h"

#define CONFIG_DEPTH_MAX 16
#define CONFIG_LINE_MAX  16384

typedef struct {
    apr_pool_t *p;
    const char *root;           /* where relative Include paths start */
    const char *driver;
    const char *params;
    const char *breach;         /* AuthsvcPasswordBreachCorpus, as written */
    const char *breach_min;     /* AuthsvcPasswordBreachMinCount, as written */
    apr_array_header_t *open;   /* realpath()s of the files being read, outermost first */
} config_scan_t;

/* The directory glob() could not read, for its error message (set by glob_failed). */
static char glob_path[PATH_MAX];
static int glob_errno;

static int scan_file(config_scan_t *cs, const char *path, int depth, int optional);

/* The value of a directive: the rest of the line, without surrounding blanks and one
 * pair of double quotes around all of it. */
static const char *directive_value(apr_pool_t *p, const char *s)
{
    size_t len;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1])) {
        len--;
    }
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }
    return apr_pstrmemdup(p, s, len);
}

/* glob()'s error callback: a directory that is not there matches nothing; any other
 * failure is remembered, and stops glob() (GLOB_ABORTED). */
static int glob_failed(const char *epath, int eerrno)
{
    if (eerrno == ENOENT || eerrno == ENOTDIR) {
        return 0;
    }
    apr_cpystrn(glob_path, epath, sizeof(glob_path));
    glob_errno = eerrno;
    return 1;
}

/* Include PATTERN: every file it names (a directory: every file in it, sorted). A
 * directory the pattern cannot be matched in is an error, not an empty match. */
static int scan_include(config_scan_t *cs, const char *pattern, int depth, int optional)
{
    const char *full = pattern[0] == '/' ? pattern
                                         : apr_pstrcat(cs->p, cs->root, "/", pattern, NULL);
    struct stat st;
    glob_t g;
    size_t i;
    int rc = EXIT_OK, grc;

    if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
        full = apr_pstrcat(cs->p, full, "/*", NULL);
        optional = 1;           /* an empty directory is fine */
    }
    glob_path[0] = '\0';
    glob_errno = 0;
    grc = glob(full, 0, glob_failed, &g);
    if (grc != 0 && grc != GLOB_NOMATCH) {
        globfree(&g);
        if (grc == GLOB_ABORTED && glob_path[0] != '\0') {
            fprintf(stderr, "%s: --config: Include %s: cannot read %s: %s\n", progname,
                    full, glob_path, strerror(glob_errno));
        }
        else {
            fprintf(stderr, "%s: --config: Include %s: %s\n", progname, full,
                    grc == GLOB_NOSPACE ? "out of memory" : "cannot be expanded");
        }
        return EXIT_FAIL;
    }
    if (grc == GLOB_NOMATCH) {
        globfree(&g);
        if (optional || strpbrk(full, "*?[") != NULL) {
            return EXIT_OK;
        }
        fprintf(stderr, "%s: --config: Include %s: no such file\n", progname, full);
        return EXIT_FAIL;
    }
    for (i = 0; grc == 0 && rc == EXIT_OK && i < g.gl_pathc; i++) {
        if (stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) {
            rc = scan_file(cs, g.gl_pathv[i], depth + 1, optional);
        }
    }
    globfree(&g);
    return rc;
}

/* One value: the first wins, a different later one is reported. */
static void take(config_scan_t *cs, const char **slot, const char *name, const char *v,
                 const char *path, int line)
{
    if (*slot == NULL) {
        *slot = v;
    }
    else if (strcmp(*slot, v) != 0) {
        fprintf(stderr, "%s: --config: %s:%d: another %s ignored (the first one is "
                "used)\n", progname, path, line, name);
    }
    (void)cs;
}

static int scan_line(config_scan_t *cs, char *line, const char *path, int lineno,
                     int depth)
{
    char *s = line, *name;
    size_t n;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (*s == '#' || *s == '\0' || *s == '<') {
        return EXIT_OK;
    }
    name = s;
    while (*s && !isspace((unsigned char)*s)) {
        s++;
    }
    n = (size_t)(s - name);
    if (n == 8 && strncasecmp(name, "DBDriver", n) == 0) {
        take(cs, &cs->driver, "DBDriver", directive_value(cs->p, s), path, lineno);
    }
    else if (n == 9 && strncasecmp(name, "DBDParams", n) == 0) {
        take(cs, &cs->params, "DBDParams", directive_value(cs->p, s), path, lineno);
    }
    else if (n == 27 && strncasecmp(name, "AuthsvcPasswordBreachCorpus", n) == 0) {
        take(cs, &cs->breach, "AuthsvcPasswordBreachCorpus", directive_value(cs->p, s),
             path, lineno);
    }
    else if (n == 29 && strncasecmp(name, "AuthsvcPasswordBreachMinCount", n) == 0) {
        take(cs, &cs->breach_min, "AuthsvcPasswordBreachMinCount",
             directive_value(cs->p, s), path, lineno);
    }
    else if (n == 10 && strncasecmp(name, "ServerRoot", n) == 0) {
        cs->root = directive_value(cs->p, s);
    }
    else if (n == 7 && strncasecmp(name, "Include", n) == 0) {
        return scan_include(cs, directive_value(cs->p, s), depth, 0);
    }
    else if (n == 15 && strncasecmp(name, "IncludeOptional", n) == 0) {
        return scan_include(cs, directive_value(cs->p, s), depth, 1);
    }
    return EXIT_OK;
}

/* 1 when the file at real path `real` is already being read (an Include loop), the
 * chain that leads back to it printed; 0 otherwise. */
static int include_loop(const config_scan_t *cs, const char *real)
{
    int i, at = -1;

    for (i = 0; i < cs->open->nelts && at < 0; i++) {
        if (strcmp(APR_ARRAY_IDX(cs->open, i, const char *), real) == 0) {
            at = i;
        }
    }
    if (at < 0) {
        return 0;
    }
    fprintf(stderr, "%s: --config: Include loop: %s", progname, real);
    for (i = at + 1; i < cs->open->nelts; i++) {
        fprintf(stderr, " includes %s", APR_ARRAY_IDX(cs->open, i, const char *));
    }
    fprintf(stderr, " includes %s again\n", real);
    return 1;
}

/* One configuration file, scanned line by line: EXIT_OK, or EXIT_FAIL with the
 * reason printed (unreadable, a line too long, an Include loop or nested too deep). */
static int scan_file(config_scan_t *cs, const char *path, int depth, int optional)
{
    char real[PATH_MAX];
    char *buf = apr_palloc(cs->p, CONFIG_LINE_MAX);
    char *line = apr_palloc(cs->p, CONFIG_LINE_MAX);
    size_t used = 0;
    int lineno = 0, start = 1, rc = EXIT_OK;
    FILE *f;

    if (depth > CONFIG_DEPTH_MAX) {
        fprintf(stderr, "%s: --config: %s: Includes nested more than %d deep\n",
                progname, path, CONFIG_DEPTH_MAX);
        return EXIT_FAIL;
    }
    if ((f = fopen(path, "r")) == NULL) {
        if (optional && errno == ENOENT) {
            return EXIT_OK;
        }
        fprintf(stderr, "%s: --config: cannot read %s: %s\n", progname, path,
                strerror(errno));
        return EXIT_FAIL;
    }
    if (realpath(path, real) == NULL) {
        fprintf(stderr, "%s: --config: %s: %s\n", progname, path, strerror(errno));
        fclose(f);
        return EXIT_FAIL;
    }
    if (include_loop(cs, real)) {
        fclose(f);
        return EXIT_FAIL;
    }
    APR_ARRAY_PUSH(cs->open, const char *) = apr_pstrdup(cs->p, real);
    line[0] = '\0';
    while (rc == EXIT_OK && fgets(buf, CONFIG_LINE_MAX, f) != NULL) {
        size_t len = strlen(buf);

        lineno++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
            buf[--len] = '\0';
        }
        if (used == 0) {
            start = lineno;
        }
        if (used + len + 1 > CONFIG_LINE_MAX) {
            fprintf(stderr, "%s: --config: %s:%d: line too long\n", progname, path,
                    lineno);
            rc = EXIT_FAIL;
            break;
        }
        memcpy(line + used, buf, len + 1);
        used += len;
        if (used > 0 && line[used - 1] == '\\') {
            line[used - 1] = ' ';       /* continued on the next line */
            continue;
        }
        rc = scan_line(cs, line, path, start, depth);
        used = 0;
    }
    if (rc == EXIT_OK && used > 0) {
        rc = scan_line(cs, line, path, start, depth);
    }
    fclose(f);
    apr_array_pop(cs->open);
    return rc;
}

int config_read(apr_pool_t *p, const char *file, admin_config_t *out)
{
    config_scan_t cs = {p, NULL, NULL, NULL, NULL, NULL,
                        apr_array_make(p, CONFIG_DEPTH_MAX + 1, sizeof(const char *))};
    const char *slash = strrchr(file, '/');
    char *end = NULL;
    long long min;
    int rc;

    cs.root = slash ? apr_pstrmemdup(p, file, (size_t)(slash - file)) : ".";
    if (slash == file) {
        cs.root = "/";
    }
    rc = scan_file(&cs, file, 0, 0);
    if (rc != EXIT_OK) {
        return rc;
    }
    if (cs.driver == NULL && cs.params == NULL) {
        fprintf(stderr, "%s: --config: no DBDriver or DBDParams in %s or the files it "
                "includes\n", progname, file);
        return EXIT_FAIL;
    }
    out->driver = cs.driver;
    out->params = cs.params;
    /* As httpd reads it: relative to ServerRoot; "none" is no corpus. */
    if (cs.breach != NULL && strcasecmp(cs.breach, "none") != 0) {
        out->breach = cs.breach[0] == '/' ? cs.breach
                                          : apr_pstrcat(p, cs.root, "/", cs.breach, NULL);
    }
    if (cs.breach_min != NULL) {
        errno = 0;
        min = strtoll(cs.breach_min, &end, 10);
        if (errno != 0 || end == cs.breach_min || *end != '\0' || min < 1 ||
            min > 1000000000) {
            fprintf(stderr, "%s: --config: AuthsvcPasswordBreachMinCount %s: not a count "
                    "from 1 to 1000000000\n", progname, cs.breach_min);
            return EXIT_FAIL;
        }
        out->breach_min = min;
    }
    return EXIT_OK;
}

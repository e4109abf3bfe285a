/* import.c - authsvc-admin import FILE [--format jsonl|csv] [--dry-run]: accounts
 * with their password hashes from another system.
 *
 * Every record is checked completely (fields as registration checks them; the hash
 * by src/password.c, which parses it and computes it once with an empty password:
 * BADHASH means a format or cost the module would refuse at sign-in) and then
 * written in a transaction of its own with its audit row, so a bad line costs only
 * itself. Errors go to stderr as "line N: reason" (N: the line the record starts on),
 * the summary to stdout.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "admin.h"
#include "json.h"
#include "password.h"

/* The largest file import reads (it is held in memory whole). */
#define IMPORT_BYTES_MAX ((apr_off_t)1 << 30)
#define IMPORT_BYTES_MAX_TEXT "1 GiB"

/* The fields of a record; email and password_hash are required. */
static const char *const fields[] = {"email", "username", "first_name", "last_name",
                                     "password_hash", "verified", "roles", NULL};

typedef struct {
    admin_ctx_t *ctx;
    int dry_run;
    apr_pool_t *pool;           /* the command's pool */
    apr_pool_t *scratch;        /* one record's, cleared for the next */
    apr_hash_t *seen;           /* email and lower-case username -> first line */
    int ok, failed;
} import_t;

/* Work on one record in a pool of its own (ctx->pool while it lasts), so a large file
 * takes the memory of one record at a time. */
static void record_pool(import_t *im, int on)
{
    if (on) {
        apr_pool_clear(im->scratch);
    }
    im->ctx->pool = on ? im->scratch : im->pool;
}

/* ---- one record ------------------------------------------------------------ */

static const char *lower(apr_pool_t *p, const char *s)
{
    char *c = apr_pstrdup(p, s), *q;

    for (q = c; *q; q++) {
        *q = (char)tolower((unsigned char)*q);
    }
    return c;
}

/* The checks that need neither the database nor another record. */
static const char *record_check(apr_pool_t *p, admin_account_t *a)
{
    const char *msg = account_check(p, a);

    if (msg != NULL) {
        return msg;
    }
    if (a->password_hash == NULL || *a->password_hash == '\0') {
        return "password_hash is missing";
    }
    if (authsvc_password_verify(p, "", 0, a->password_hash, NULL) == AUTHSVC_PW_BADHASH) {
        return "password_hash: not a format the module verifies (argon2id/argon2i, "
               "bcrypt $2a$/$2b$/$2y$, Werkzeug pbkdf2: or scrypt:, passlib $pbkdf2-...), "
               "or its cost is over the module's limits";
    }
    return NULL;
}

/* The key of a record written (or, in a dry run, that would be): "what:key". */
static const char *seen_key(import_t *im, const char *what, const char *key)
{
    return apr_pstrcat(im->ctx->pool, what, ":", key, NULL);
}

/* A key of a record written on an earlier line: that line's message, else NULL. */
static const char *seen_before(import_t *im, const char *what, const char *key)
{
    const int *first = apr_hash_get(im->seen, seen_key(im, what, key),
                                    APR_HASH_KEY_STRING);

    return first ? apr_psprintf(im->ctx->pool, "%s is the same as on line %d", what,
                                *first)
                 : NULL;
}

/* Remember the keys of a record written (or passed in a dry run) on line: a record
 * that failed leaves its email and username free for a later line. */
static void remember(import_t *im, const admin_account_t *a, int line)
{
    int *l = apr_palloc(im->pool, sizeof(*l));

    *l = line;
    apr_hash_set(im->seen, apr_pstrcat(im->pool, "email:", a->email, NULL),
                 APR_HASH_KEY_STRING, l);
    if (a->username) {
        apr_hash_set(im->seen,
                     apr_pstrcat(im->pool, "username:", lower(im->ctx->pool, a->username),
                                 NULL),
                     APR_HASH_KEY_STRING, l);
    }
}

/* Check a record and, unless a dry run, write it; counts and reports the outcome. */
static void import_record(import_t *im, admin_account_t *a, int line, const char *msg)
{
    admin_ctx_t *ctx = im->ctx;
    const char *id = NULL;
    int n;

    if (msg == NULL) {
        msg = record_check(ctx->pool, a);
    }
    if (msg == NULL) {
        msg = seen_before(im, "email", a->email);
    }
    if (msg == NULL && a->username) {
        msg = seen_before(im, "username", lower(ctx->pool, a->username));
    }
    if (msg == NULL && im->dry_run) {
        n = account_taken(ctx, a);
        msg = n < 0 ? "database error" : n ? "an account with this email or username exists"
                                           : NULL;
    }
    else if (msg == NULL) {
        if (!db_begin(ctx)) {
            msg = "database error";
        }
        else if ((n = account_insert(ctx, a, "admin_user_imported", NULL, &id)) <= 0) {
            db_rollback(ctx);
            msg = n < 0 ? "database error" : "an account with this email or username exists";
        }
        else if (!db_commit(ctx)) {
            msg = "database error";
        }
    }
    if (msg != NULL) {
        fprintf(stderr, "line %d: %s\n", line, msg);
        im->failed++;
    }
    else {
        remember(im, a, line);
        im->ok++;
    }
}

/* ---- JSON lines -------------------------------------------------------------- */

/* A string member, or NULL for absent or null: NULL, or the message. */
static const char *json_field(apr_pool_t *p, authsvc_json_t *o, const char *key,
                              const char **out)
{
    apr_size_t len = 0;
    authsvc_json_found_t f = authsvc_json_get_string(o, key, out, &len);

    if (f == AUTHSVC_JSON_MISSING || f == AUTHSVC_JSON_NULL) {
        *out = NULL;
        return NULL;
    }
    if (f != AUTHSVC_JSON_OK) {
        return apr_psprintf(p, "%s must be a string", key);
    }
    if (memchr(*out, '\0', len) != NULL) {
        return apr_psprintf(p, "%s contains a NUL character", key);
    }
    return NULL;
}

static const char *jsonl_record(apr_pool_t *p, const char *text, size_t len,
                                admin_account_t *a)
{
    const char *err = NULL, *unknown = NULL, *msg = NULL;
    authsvc_json_t *o = authsvc_json_parse(p, text, len, &err);
    apr_array_header_t *roles = NULL;
    authsvc_json_found_t f;
    int i;

    if (o == NULL) {
        return apr_psprintf(p, "not a JSON object: %s", err);
    }
    if (!authsvc_json_only_keys(o, fields, &unknown)) {
        return apr_psprintf(p, "unknown field '%s'", unknown);
    }
    if ((msg = json_field(p, o, "email", &a->email)) ||
        (msg = json_field(p, o, "username", &a->username)) ||
        (msg = json_field(p, o, "first_name", &a->first_name)) ||
        (msg = json_field(p, o, "last_name", &a->last_name)) ||
        (msg = json_field(p, o, "password_hash", &a->password_hash))) {
        return msg;
    }
    f = authsvc_json_get_bool(o, "verified", &a->verified);
    if (f == AUTHSVC_JSON_WRONG_TYPE) {
        return "verified must be true or false";
    }
    f = authsvc_json_get_strings(p, o, "roles", &roles);
    if (f == AUTHSVC_JSON_WRONG_TYPE) {
        return "roles must be a string or an array of strings";
    }
    a->roles = "";
    for (i = 0; roles && i < roles->nelts; i++) {
        a->roles = apr_pstrcat(p, a->roles, " ", APR_ARRAY_IDX(roles, i, const char *), NULL);
    }
    return NULL;
}

static void import_jsonl(import_t *im, char *data, size_t size)
{
    char *s = data, *end = data + size;
    int line = 0;

    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        admin_account_t a = {0};
        const char *msg;
        size_t i;

        line++;
        for (i = 0; i < len && isspace((unsigned char)s[i]); i++) {
        }
        if (i < len) {
            record_pool(im, 1);
            msg = jsonl_record(im->ctx->pool, s, len, &a);
            import_record(im, &a, line, msg);
            record_pool(im, 0);
        }
        s += len + 1;
    }
}

/* ---- CSV ----------------------------------------------------------------------- */

/* One RFC 4180 record from *s (quoted fields may hold commas, "" and line breaks):
 * its fields, *s moved past it, *lines advanced by the line breaks it spans. The fields
 * are unquoted in place (what is written never passes what is read); *nul set when a
 * field holds a NUL byte (the record is refused, as in JSON lines: the field would be
 * cut there). NULL with *msg on a quoting error (the rest of the file is not read: its
 * lines cannot be told apart any more). */
static apr_array_header_t *csv_record(apr_pool_t *p, char **s, char *end, int *lines,
                                      int *nul, const char **msg)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));
    char *c = *s, *w = *s;
    char sep;

    for (;;) {
        char *field = w;

        if (c < end && *c == '"') {
            for (c++;; c++) {
                if (c >= end) {
                    *msg = "a quoted field is not closed";
                    return NULL;
                }
                if (*c == '"' && c + 1 < end && c[1] == '"') {
                    *w++ = '"';
                    c++;
                }
                else if (*c == '"') {
                    c++;
                    break;
                }
                else {
                    *lines += *c == '\n';
                    *nul |= *c == '\0';
                    *w++ = *c;
                }
            }
            if (c < end && *c != ',' && *c != '\n' && *c != '\r') {
                *msg = "text after a closing quote";
                return NULL;
            }
        }
        else {
            while (c < end && *c != ',' && *c != '\n' && *c != '\r') {
                if (*c == '"') {
                    *msg = "a quote inside an unquoted field";
                    return NULL;
                }
                *nul |= *c == '\0';
                *w++ = *c++;
            }
        }
        sep = c < end ? *c : '\0';     /* read before the NUL may overwrite it */
        *w++ = '\0';
        APR_ARRAY_PUSH(out, const char *) = field;
        if (sep == ',') {
            c++;
            continue;
        }
        if (sep == '\r' || sep == '\n') {      /* CR LF, LF, or a lone CR */
            c++;
            if (sep == '\r' && c < end && *c == '\n') {
                c++;
            }
            (*lines)++;
        }
        *s = c;
        return out;
    }
}

static int csv_bool(const char *v, int *out)
{
    static const char *const yes[] = {"true", "1", "yes"}, *const no[] = {"false", "0", "no", ""};
    size_t i;

    for (i = 0; i < 3; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            return *out = 1, 1;
        }
    }
    for (i = 0; i < 4; i++) {
        if (strcasecmp(v, no[i]) == 0) {
            return *out = 0, 1;
        }
    }
    return 0;
}

/* The header: column i holds field cols[i]. 0 with the error printed. */
static int csv_header(apr_pool_t *p, apr_array_header_t *h, const char ***cols)
{
    int i, j, email = 0, hash = 0;

    *cols = apr_pcalloc(p, sizeof(const char *) * (size_t)h->nelts);
    for (i = 0; i < h->nelts; i++) {
        const char *name = lower(p, APR_ARRAY_IDX(h, i, const char *));

        for (j = 0; fields[j] && strcmp(fields[j], name) != 0; j++) {
        }
        if (fields[j] == NULL) {
            fprintf(stderr, "line 1: unknown column '%s' (the header names the columns: "
                    "email, password_hash, username, first_name, last_name, verified, "
                    "roles)\n", name);
            return 0;
        }
        for (j = 0; j < i; j++) {
            if (strcmp((*cols)[j], name) == 0) {
                fprintf(stderr, "line 1: column '%s' twice\n", name);
                return 0;
            }
        }
        (*cols)[i] = name;
        email |= strcmp(name, "email") == 0;
        hash |= strcmp(name, "password_hash") == 0;
    }
    if (!email || !hash) {
        fprintf(stderr, "line 1: the header must name the columns email and "
                "password_hash\n");
        return 0;
    }
    return 1;
}

static const char *csv_account(apr_pool_t *p, const char **cols, int ncols,
                               apr_array_header_t *rec, admin_account_t *a)
{
    int i;

    if (rec->nelts != ncols) {
        return apr_psprintf(p, "%d field(s), the header has %d", rec->nelts, ncols);
    }
    for (i = 0; i < ncols; i++) {
        const char *v = APR_ARRAY_IDX(rec, i, const char *);

        if (strcmp(cols[i], "email") == 0) {
            a->email = v;
        }
        else if (strcmp(cols[i], "username") == 0) {
            a->username = v;
        }
        else if (strcmp(cols[i], "first_name") == 0) {
            a->first_name = v;
        }
        else if (strcmp(cols[i], "last_name") == 0) {
            a->last_name = v;
        }
        else if (strcmp(cols[i], "password_hash") == 0) {
            a->password_hash = v;
        }
        else if (strcmp(cols[i], "roles") == 0) {
            a->roles = v;
        }
        else if (!csv_bool(v, &a->verified)) {
            return apr_psprintf(p, "verified is true or false, not '%s'", v);
        }
    }
    return NULL;
}

/* 0, or EXIT_FAIL when the file cannot be read on (bad header or quoting). */
static int import_csv(import_t *im, char *data, size_t size)
{
    apr_pool_t *p = im->ctx->pool;
    char *s = data, *end = data + size;
    const char **cols = NULL;
    const char *msg = NULL;
    apr_array_header_t *rec;
    int line = 1, next = 1, ncols, nul = 0;

    if (size >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;                         /* a byte order mark, as spreadsheets write */
    }
    if ((rec = csv_record(p, &s, end, &next, &nul, &msg)) == NULL || nul) {
        fprintf(stderr, "line 1: %s\n", rec ? "the header contains a NUL character" : msg);
        return EXIT_FAIL;
    }
    if (!csv_header(p, rec, &cols)) {
        return EXIT_FAIL;
    }
    ncols = rec->nelts;
    while (s < end) {
        admin_account_t a = {0};

        line = next;
        nul = 0;
        record_pool(im, 1);
        if ((rec = csv_record(im->scratch, &s, end, &next, &nul, &msg)) == NULL) {
            fprintf(stderr, "line %d: %s; the rest of the file is not read\n", line, msg);
            im->failed++;
            record_pool(im, 0);
            return EXIT_FAIL;
        }
        /* An empty line is a record of one empty field: skipped. */
        if (rec->nelts > 1 || *APR_ARRAY_IDX(rec, 0, const char *) != '\0') {
            msg = nul ? "a field contains a NUL character"
                      : csv_account(im->scratch, cols, ncols, rec, &a);
            import_record(im, &a, line, msg);
        }
        record_pool(im, 0);
    }
    return EXIT_OK;
}

/* ---- the command ------------------------------------------------------------------ */

int check_import(const admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *fmt = opt_get(ctx, "format");

    (void)argc;
    (void)argv;
    if (fmt && strcmp(fmt, "jsonl") != 0 && strcmp(fmt, "csv") != 0) {
        return usage_error("import: --format is jsonl or csv, not '%s'", fmt);
    }
    return EXIT_OK;
}

/* Frees the buffer read_all() grows with realloc (a pool would keep every superseded
 * one until the command ends). */
static apr_status_t free_buffer(void *data)
{
    free(*(char **)data);
    return APR_SUCCESS;
}

/* Say that path is too large to import; returns 0. */
static int too_large(const admin_ctx_t *ctx, const char *path)
{
    cmd_error(ctx, "%s is larger than " IMPORT_BYTES_MAX_TEXT " (split it)", path);
    return 0;
}

/* The whole of path ("-": standard input) in memory, at most IMPORT_BYTES_MAX: 1, or
 * 0 (printed: unreadable, too large, out of memory). The buffer lives as long as
 * ctx->pool. */
static int read_all(admin_ctx_t *ctx, const char *path, char **data, size_t *size)
{
    char **out = apr_pcalloc(ctx->pool, sizeof(*out));
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_status_t rv;
    char buf[65536];
    apr_size_t n;
    size_t used = 0, cap = 0;

    apr_pool_cleanup_register(ctx->pool, out, free_buffer, apr_pool_cleanup_null);
    rv = strcmp(path, "-") == 0 ? apr_file_open_stdin(&f, ctx->pool)
                                : apr_file_open(&f, path, APR_FOPEN_READ, 0, ctx->pool);
    if (rv == APR_SUCCESS && apr_file_info_get(&fi, APR_FINFO_TYPE | APR_FINFO_SIZE, f)
                             == APR_SUCCESS
        && fi.filetype == APR_REG && fi.size > IMPORT_BYTES_MAX) {
        return too_large(ctx, path);
    }
    while (rv == APR_SUCCESS) {
        n = sizeof(buf);
        rv = apr_file_read(f, buf, &n);
        if (n == 0) {
            continue;
        }
        if ((apr_off_t)(used + n) > IMPORT_BYTES_MAX) {
            return too_large(ctx, path);
        }
        if (used + n + 1 > cap) {
            size_t want = (used + n + 1) * 2;
            char *bigger;

            if (want > (size_t)IMPORT_BYTES_MAX + 1) {
                want = (size_t)IMPORT_BYTES_MAX + 1;
            }
            if ((bigger = realloc(*out, want)) == NULL) {
                cmd_error(ctx, "reading %s: out of memory", path);
                return 0;
            }
            *out = bigger;
            cap = want;
        }
        memcpy(*out + used, buf, n);
        used += n;
    }
    if (rv != APR_EOF) {
        fail(ctx, rv, apr_psprintf(ctx->pool, "cannot read %s: %s", path,
                                    apr_strerror(rv, buf, sizeof(buf))));
        return 0;
    }
    *data = *out ? *out : apr_pstrdup(ctx->pool, "");
    (*data)[used] = '\0';
    *size = used;
    return 1;
}

int cmd_import(admin_ctx_t *ctx, int argc, const char *const *argv)
{
    const char *path = argv[0], *fmt = opt_get(ctx, "format");
    import_t im = {ctx, opt_get(ctx, "dry-run") != NULL, ctx->pool, NULL,
                   apr_hash_make(ctx->pool), 0, 0};
    size_t size = 0, len = strlen(path);
    char *data = NULL;
    int rc;

    (void)argc;
    if ((rc = need_latest(ctx)) != EXIT_OK) {
        return rc;
    }
    if (!read_all(ctx, path, &data, &size) ||
        apr_pool_create(&im.scratch, ctx->pool) != APR_SUCCESS) {
        return EXIT_FAIL;
    }
    if (fmt == NULL) {
        fmt = len > 4 && strcasecmp(path + len - 4, ".csv") == 0 ? "csv" : "jsonl";
    }
    if (strcmp(fmt, "csv") == 0) {
        rc = import_csv(&im, data, size);
    }
    else {
        import_jsonl(&im, data, size);
    }
    if (im.dry_run) {
        printf("dry run: %d account(s) would be imported, %d record(s) failed; nothing "
               "written\n", im.ok, im.failed);
    }
    else {
        printf("imported %d account(s), %d record(s) failed\n", im.ok, im.failed);
    }
    return rc != EXIT_OK || im.failed > 0 ? EXIT_FAIL : EXIT_OK;
}

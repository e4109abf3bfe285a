/* fuzz_mail.c - composing a mail from client-supplied values (mail.c): the recipient,
 * the display name and every template variable (names, addresses, links, user agents
 * reach mail from requests). The input's first octet picks a built-in template, the
 * rest is cut at NUL into the recipient, the sender's display name and the variables'
 * values in AUTHSVC_MAIL_VARS order. A message composed is checked: CRLF line ends only
 * (no bare CR or LF), and its header block names only the fields mail.c writes, with
 * exactly one From and one To (no header injected). */
#include "fuzz.h"
#include "mail.h"

static const char *const vars[] = {AUTHSVC_MAIL_VARS};
#define NVARS (int)(sizeof(vars) / sizeof(vars[0]))

static const char *const fields[] = {"From",         "To",
                                     "Subject",      "Date",
                                     "Message-ID",   "MIME-Version",
                                     "Auto-Submitted", "Content-Type",
                                     "Content-Language"};

static authsvc_mail_tpls_t *tpls;
static const authsvc_mail_builtin_t *builtins;
static int nbuiltins;

/* The field named at the start of a header line (no ':': not a field), counted. */
static void field(const char *line, size_t len, int *from, int *to)
{
    const char *colon = memchr(line, ':', len);
    size_t i;

    if (colon == NULL) {
        abort();
    }
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strlen(fields[i]) == (size_t)(colon - line) &&
            strncmp(line, fields[i], (size_t)(colon - line)) == 0) {
            *from += i == 0;
            *to += i == 1;
            return;
        }
    }
    abort();
}

static void check(const char *msg)
{
    const char *end = strstr(msg, "\r\n\r\n"), *l, *nl;
    int from = 0, to = 0;
    size_t i, n = strlen(msg);

    for (i = 0; i < n; i++) {
        if ((msg[i] == '\r' && msg[i + 1] != '\n') ||
            (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))) {
            abort();
        }
    }
    if (end == NULL) {
        abort();
    }
    for (l = msg; l < end + 2; l = nl + 2) {
        nl = strstr(l, "\r\n");
        if (*l != ' ' && *l != '\t') { /* not a folded continuation */
            field(l, (size_t)(nl - l), &from, &to);
        }
    }
    if (from != 1 || to != 1) {
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    if (authsvc_mail_templates_load(fuzz_global, NULL, &tpls) != NULL ||
        (builtins = authsvc_mail_builtins(&nbuiltins)) == NULL || nbuiltins < 1) {
        abort();
    }
    return fuzz_ready();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *parts[2 + NVARS], *msg = NULL;
    size_t lens[2 + NVARS];
    const authsvc_mail_tpl_t *tpl;
    apr_table_t *v;
    int i;

    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, NULL);
    tpl = authsvc_mail_template(tpls, builtins[data[0] % nbuiltins].name);
    fuzz_split(p, data + 1, size - 1, '\0', 2 + NVARS, parts, lens);
    v = apr_table_make(p, NVARS);
    for (i = 0; i < NVARS; i++) {
        if (lens[2 + i] > 0) {
            apr_table_setn(v, vars[i], parts[2 + i]);
        }
    }
    if (tpl == NULL) {
        abort();
    }
    if (authsvc_mail_compose(p, tpl, "noreply@example.com", parts[1], parts[0], v,
                             APR_TIME_C(1700000000) * APR_USEC_PER_SEC, &msg) == NULL) {
        check(msg);
    }
    apr_pool_destroy(p);
    return 0;
}

/*
 * mail_transport.c - deliver a composed message: to a sendmail command, to an SMTP
 * server through libcurl, or into a directory (tests, or a spool another program
 * picks up).
 *
 * This runs in a background thread of an httpd child: nothing here may block for
 * long (timeouts everywhere, a stuck sendmail is killed), and nothing it reports may
 * carry the message or a password, since reports go to the log and the outbox.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "apr_encode.h"
#include "apr_file_io.h"
#include "apr_general.h"
#include "apr_network_io.h"
#include "apr_strings.h"
#include "apr_thread_proc.h"
#include <curl/curl.h>

#include "mail_transport.h"

#define AUTHFILE_MAX 1024 /* octets: one line user:password */
#define WAIT_STEP apr_time_from_msec(10)
#define HOSTNAME "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"

typedef enum { KIND_SENDMAIL, KIND_SMTP, KIND_FILE } kind_t;

struct authsvc_mail_transport {
    kind_t kind;
    const char *spec;            /* as configured; holds no secret */
    char **argv;                 /* sendmail: the command and its arguments */
    const char *dir;             /* file: the directory */
    const char *url;             /* smtp: the URL, with our EHLO name as its path */
    long use_ssl;                /* smtp: CURLUSESSL_TRY or CURLUSESSL_ALL */
    const char *user, *password; /* smtp: from the AUTHFILE, or NULL */
    const char *description;
};

/* ---- parsing ------------------------------------------------------------- */

static const char *parse_sendmail(apr_pool_t *p, const char *cmd,
                                  authsvc_mail_transport_t *t)
{
    t->kind = KIND_SENDMAIL;
    if (apr_tokenize_to_argv(cmd, &t->argv, p) != APR_SUCCESS || t->argv[0] == NULL) {
        return "sendmail: needs a command, e.g. sendmail:/usr/sbin/sendmail -t -i";
    }
    if (t->argv[0][0] != '/') {
        return apr_psprintf(p, "sendmail: the command '%s' must be an absolute path",
                            t->argv[0]);
    }
    return NULL;
}

static const char *parse_file(apr_pool_t *p, const char *dir, authsvc_mail_transport_t *t)
{
    t->kind = KIND_FILE;
    t->dir = dir;
    if (dir[0] != '/') {
        return apr_psprintf(p, "file: the directory '%s' must be an absolute path", dir);
    }
    return NULL;
}

/* Only HOST[:PORT] after the scheme: a path or query would change what curl does, and
 * credentials in the URL would end up in logs. The URL's path is the name curl greets
 * the server with (EHLO), which is "localhost" when there is none. */
static const char *parse_smtp(apr_pool_t *p, const char *spec, int smtps,
                              authsvc_mail_transport_t *t)
{
    const char *hostport = strstr(spec, "://") + 3;
    char *host = NULL, *scope = NULL, me[256];
    apr_port_t port = 0;

    t->kind = KIND_SMTP;
    t->use_ssl = smtps ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY;
    if (hostport[strcspn(hostport, "/?#@ ")] != '\0' ||
        apr_parse_addr_port(&host, &scope, &port, hostport, p) != APR_SUCCESS ||
        host == NULL || scope != NULL) {
        return apr_psprintf(p,
                            "'%s' is not %s://HOST:PORT (no user, path or query: "
                            "credentials go into the AUTHFILE)",
                            spec, smtps ? "smtps" : "smtp");
    }
    if (apr_gethostname(me, sizeof(me), p) != APR_SUCCESS || me[strspn(me, HOSTNAME)]) {
        me[0] = '\0';
    }
    t->url = apr_pstrcat(p, spec, "/", me, NULL);
    return NULL;
}

/* One line user:password (a final line end allowed), read at startup: the file
 * may be readable by root only. */
static const char *read_authfile(apr_pool_t *p, const char *path,
                                 authsvc_mail_transport_t *t)
{
    char *buf = apr_pcalloc(p, AUTHFILE_MAX + 1), *colon;
    apr_size_t got = 0;
    apr_file_t *f;
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);

    if (rv == APR_SUCCESS) {
        rv = apr_file_read_full(f, buf, AUTHFILE_MAX, &got);
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return apr_psprintf(p, "cannot read the AUTHFILE %s: %pm", path, &rv);
    }
    got -= got < AUTHFILE_MAX && got > 0 && buf[got - 1] == '\n';
    got -= got < AUTHFILE_MAX && got > 0 && buf[got - 1] == '\r';
    buf[got] = '\0';
    colon = strchr(buf, ':');
    if (got >= AUTHFILE_MAX || strlen(buf) != got || strpbrk(buf, "\r\n") != NULL ||
        colon == NULL || colon == buf || colon[1] == '\0') {
        return apr_psprintf(p, "the AUTHFILE %s must hold one line user:password", path);
    }
    *colon = '\0';
    t->user = buf;
    t->password = colon + 1;
    /* The server learns the password only over TLS: STARTTLS becomes a must. */
    t->use_ssl = (long)CURLUSESSL_ALL;
    return NULL;
}

static const char *describe(apr_pool_t *p, const authsvc_mail_transport_t *t)
{
    if (t->kind != KIND_SMTP) {
        return t->spec;
    }
    return apr_pstrcat(p, t->spec, t->user ? " as " : "", t->user ? t->user : "",
                       strncmp(t->spec, "smtps:", 6) == 0   ? ""
                       : t->use_ssl == (long)CURLUSESSL_ALL ? ", STARTTLS required"
                                                            : ", STARTTLS if offered",
                       NULL);
}

const char *authsvc_mail_transport_parse(apr_pool_t *p, const char *spec,
                                         const char *authfile,
                                         authsvc_mail_transport_t **out)
{
    authsvc_mail_transport_t *t = apr_pcalloc(p, sizeof(*t));
    const char *err;

    t->spec = spec ? spec : "";
    if (strncmp(t->spec, "sendmail:", 9) == 0) {
        err = parse_sendmail(p, t->spec + 9, t);
    }
    else if (strncmp(t->spec, "file:", 5) == 0) {
        err = parse_file(p, t->spec + 5, t);
    }
    else if (strncmp(t->spec, "smtp://", 7) == 0 ||
             strncmp(t->spec, "smtps://", 8) == 0) {
        err = parse_smtp(p, t->spec, t->spec[4] == 's', t);
    }
    else {
        return apr_psprintf(p,
                            "unknown transport '%s' (want sendmail:/PATH/TO/CMD ARGS, "
                            "smtp://HOST:PORT, smtps://HOST:PORT or file:/DIR)",
                            t->spec);
    }
    if (err == NULL && authfile != NULL) {
        err = t->kind == KIND_SMTP ? read_authfile(p, authfile, t)
                                   : "an AUTHFILE goes only with smtp:// or smtps://";
    }
    if (err == NULL) {
        t->description = describe(p, t);
        *out = t;
    }
    return err;
}

const char *authsvc_mail_transport_describe(const authsvc_mail_transport_t *t)
{
    return t ? t->description : "(none)";
}

/* ---- sendmail ------------------------------------------------------------ */

/* sendmail wants the local line ends: CRLF becomes LF. */
static const char *unix_lines(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) + 1), *o = out;

    for (; *s != '\0'; s++) {
        if (s[0] != '\r' || s[1] != '\n') {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

/* Wait for the command until the deadline, then kill it: a hung sendmail must not
 * hold the delivery thread. The exit status tells more than a failed write (a
 * command that exits early breaks the pipe), so it is looked at first. */
static const char *reap(apr_pool_t *p, apr_proc_t *proc, apr_time_t deadline,
                        apr_status_t wrote)
{
    int code = 0;
    apr_exit_why_e why = APR_PROC_EXIT;
    apr_status_t rv;

    while ((rv = apr_proc_wait(proc, &code, &why, APR_NOWAIT)) == APR_CHILD_NOTDONE &&
           apr_time_now() < deadline) {
        apr_sleep(WAIT_STEP);
    }
    if (rv == APR_CHILD_NOTDONE) {
        apr_proc_kill(proc, SIGKILL);
        apr_proc_wait(proc, &code, &why, APR_WAIT);
        return apr_psprintf(p, "sendmail did not finish within %d seconds (killed)",
                            AUTHSVC_MAIL_SEND_TIMEOUT);
    }
    if (rv != APR_CHILD_DONE) {
        return apr_psprintf(p, "cannot wait for sendmail: %pm", &rv);
    }
    if (APR_PROC_CHECK_SIGNALED(why)) {
        return apr_psprintf(p, "sendmail was killed by signal %d", code);
    }
    if (code != 0) {
        return apr_psprintf(p, "sendmail exited with status %d", code);
    }
    if (wrote != APR_SUCCESS) {
        return apr_psprintf(p, "cannot write to sendmail: %pm", &wrote);
    }
    return NULL;
}

/* stdin a pipe whose end here does not block (so that the write can time out),
 * stdout to /dev/null, stderr inherited: in httpd that is the error log, where
 * sendmail's own complaints are worth reading. */
static const char *send_sendmail(apr_pool_t *p, const authsvc_mail_transport_t *t,
                                 const char *message)
{
    apr_time_t deadline = apr_time_now() + apr_time_from_sec(AUTHSVC_MAIL_SEND_TIMEOUT);
    const char *lf = unix_lines(p, message);
    apr_procattr_t *attr;
    apr_file_t *devnull;
    apr_proc_t proc;
    apr_status_t rv;

    if ((rv = apr_file_open(&devnull, "/dev/null", APR_FOPEN_WRITE, APR_FPROT_OS_DEFAULT,
                            p)) != APR_SUCCESS ||
        (rv = apr_procattr_create(&attr, p)) != APR_SUCCESS ||
        (rv = apr_procattr_io_set(attr, APR_CHILD_BLOCK, APR_NO_PIPE, APR_NO_PIPE)) !=
            APR_SUCCESS ||
        (rv = apr_procattr_child_out_set(attr, devnull, NULL)) != APR_SUCCESS ||
        (rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM_ENV)) != APR_SUCCESS ||
        (rv = apr_procattr_error_check_set(attr, 1)) != APR_SUCCESS ||
        (rv = apr_proc_create(&proc, t->argv[0], (const char *const *)t->argv, NULL, attr,
                              p)) != APR_SUCCESS) {
        return apr_psprintf(p, "cannot run %s: %pm", t->argv[0], &rv);
    }
    apr_file_close(devnull);
    rv = apr_file_pipe_timeout_set(proc.in, apr_time_from_sec(AUTHSVC_MAIL_SEND_TIMEOUT));
    if (rv == APR_SUCCESS) {
        rv = apr_file_write_full(proc.in, lf, strlen(lf), NULL);
    }
    apr_file_close(proc.in);
    return reap(p, &proc, deadline, rv);
}

/* ---- file ---------------------------------------------------------------- */

/* Written under a .tmp name and renamed, so that whoever reads the directory never
 * sees half a message; the name is unique across processes and threads. */
static const char *send_file(apr_pool_t *p, const authsvc_mail_transport_t *t,
                             const char *message)
{
    unsigned char r[8];
    const char *name, *tmp;
    apr_file_t *f;
    apr_status_t rv = apr_generate_random_bytes(r, sizeof(r)), closed;

    if (rv != APR_SUCCESS) {
        return "no random bytes for a file name";
    }
    name = apr_psprintf(
        p, "%s/%" APR_TIME_T_FMT "-%ld-%s.eml", t->dir, apr_time_now(), (long)getpid(),
        apr_pencode_base16_binary(p, r, sizeof(r), APR_ENCODE_LOWER, NULL));
    tmp = apr_pstrcat(p, name, ".tmp", NULL);
    rv = apr_file_open(
        &f, tmp, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL | APR_FOPEN_BINARY,
        APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_write_full(f, message, strlen(message), NULL);
        rv = rv == APR_SUCCESS ? apr_file_sync(f) : rv;
        closed = apr_file_close(f);
        rv = rv == APR_SUCCESS ? closed : rv;
        rv = rv == APR_SUCCESS ? apr_file_rename(tmp, name, p) : rv;
        if (rv != APR_SUCCESS) {
            apr_file_remove(tmp, p);
        }
    }
    return rv == APR_SUCCESS ? NULL : apr_psprintf(p, "cannot write %s: %pm", tmp, &rv);
}

/* ---- smtp ---------------------------------------------------------------- */

typedef struct {
    const char *data;
    size_t left;
} upload_t;

static size_t upload(char *buf, size_t size, size_t n, void *arg)
{
    upload_t *u = arg;
    size_t k = size * n < u->left ? size * n : u->left;

    memcpy(buf, u->data, k);
    u->data += k;
    u->left -= k;
    return k;
}

static void smtp_options(CURL *h, const authsvc_mail_transport_t *t, const char *from,
                         struct curl_slist *rcpt, upload_t *u, char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_URL, t->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_USE_SSL, t->use_ssl);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, upload);
    curl_easy_setopt(h, CURLOPT_READDATA, u);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    /* No SIGALRM for DNS timeouts: signals and httpd's threads do not mix. */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)AUTHSVC_MAIL_SEND_TIMEOUT);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)AUTHSVC_MAIL_CONNECT_TIMEOUT);
    if (t->user != NULL) {
        curl_easy_setopt(h, CURLOPT_USERNAME, t->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, t->password);
    }
}

/* curl's error buffer names the failing step and the server's reply ("RCPT failed:
 * 550"); it never holds the password. */
static const char *send_smtp(apr_pool_t *p, const authsvc_mail_transport_t *t,
                             const char *from, const char *to, const char *message)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    upload_t u = {message, strlen(message)};
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    CURL *h = rcpt ? curl_easy_init() : NULL;
    CURLcode rc = CURLE_FAILED_INIT;

    if (h != NULL) {
        smtp_options(h, t, from, rcpt, &u, errbuf);
        rc = curl_easy_perform(h);
        curl_easy_cleanup(h);
    }
    curl_slist_free_all(rcpt);
    if (rc == CURLE_OK) {
        return NULL;
    }
    return apr_pstrcat(p, t->spec, ": ", *errbuf ? errbuf : curl_easy_strerror(rc), NULL);
}

/* ---- sending ------------------------------------------------------------- */

apr_status_t authsvc_mail_transport_send(apr_pool_t *p, const authsvc_mail_transport_t *t,
                                         const char *envelope_from,
                                         const char *envelope_to, const char *message,
                                         const char **error)
{
    const char *err;

    /* The envelope goes into SMTP commands: one line, one address each. */
    if (t == NULL || message == NULL || envelope_from == NULL || envelope_to == NULL ||
        strpbrk(envelope_from, "\r\n<> ") != NULL ||
        strpbrk(envelope_to, "\r\n<> ") != NULL) {
        err = "bad envelope address or no message";
    }
    else if (t->kind == KIND_SENDMAIL) {
        err = send_sendmail(p, t, message);
    }
    else if (t->kind == KIND_FILE) {
        err = send_file(p, t, message);
    }
    else {
        err = send_smtp(p, t, envelope_from, envelope_to, message);
    }
    *error = err;
    return err == NULL ? APR_SUCCESS : APR_EGENERAL;
}

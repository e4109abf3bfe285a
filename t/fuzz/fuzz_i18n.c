/* fuzz_i18n.c - the message catalogues and language negotiation (i18n.c). First byte
 * even: the rest is an Accept-Language header, negotiated against the shipped
 * languages (and the language-tag check run on it). Odd: the rest is a catalogue file
 * AuthsvcI18nDir would hold, loaded as fr.json (overriding the built-in French, so it
 * is checked against English) and looked up / rendered through. */
#include <unistd.h>

#include "fuzz.h"
#include "i18n.h"

static char dir[] = "/tmp/fuzz_i18n.XXXXXX";
static const char *cat_path;
static authsvc_i18n_t *builtin;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *err;

    (void)argc;
    (void)argv;
    fuzz_init();
    fuzz_tmpdir(dir);
    cat_path = apr_pstrcat(fuzz_global, dir, "/fr.json", NULL);
    if ((err = authsvc_i18n_load(fuzz_global, NULL, &builtin)) != NULL) {
        fprintf(stderr, "fuzz_i18n: %s\n", err);
        abort();
    }
    return fuzz_ready();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    authsvc_i18n_t *c;
    const char *s;
    FILE *f;

    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, NULL);
    s = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    if ((data[0] & 1) == 0) {
        authsvc_i18n_negotiate(p, s, authsvc_i18n_languages(builtin), "en");
        authsvc_i18n_negotiate(p, s, authsvc_i18n_languages(builtin), "de");
        authsvc_i18n_tag_check(s);
        authsvc_i18n_text(builtin, s, "c.sign_in");
    }
    else {
        f = fopen(cat_path, "wb");
        if (f == NULL || fwrite(data + 1, 1, size - 1, f) != size - 1 || fclose(f) != 0) {
            abort();
        }
        if (authsvc_i18n_load(p, dir, &c) == NULL) {
            authsvc_i18n_text(c, "fr", "c.sign_in");
            authsvc_i18n_translate(c, "fr", "Sign in");
            authsvc_i18n_msgs(p, c, "fr");
        }
        unlink(cat_path);
    }
    apr_pool_destroy(p);
    return 0;
}

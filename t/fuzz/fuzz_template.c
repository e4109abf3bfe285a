/* fuzz_template.c - the template engine (template.c): syntax check against a name list
 * (plain, raw and with messages) and rendering, HTML and text. Input: the template, a
 * NUL byte, then the data as JSON (an object; anything else renders without data). */
#include "fuzz.h"
#include "json.h"
#include "template.h"

FUZZ_PLAIN_INIT

static const char *msg_text(void *baton, const char *id)
{
    (void)baton;
    return strcmp(id, "greet") == 0 ? "Hello {{name}}" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"name", "email", "link", "items", "show", "html",
                                        NULL};
    static const char *const raw[] = {"html", NULL};
    static const authsvc_template_msgs_t msgs = {msg_text, NULL};
    apr_pool_t *p;
    const char *part[2], *err;
    size_t len[2];
    authsvc_json_t *d;

    apr_pool_create(&p, NULL);
    fuzz_split(p, data, size, '\0', 2, part, len);
    d = authsvc_json_parse(p, part[1], len[1], &err);
    authsvc_template_check(p, part[0], names);
    authsvc_template_check_raw(p, part[0], names, raw);
    authsvc_template_check_msgs(p, part[0], names, raw, &msgs);
    authsvc_template_render(p, part[0], d, 1, &err);
    authsvc_template_render(p, part[0], d, 0, &err);
    authsvc_template_render_msgs(p, part[0], d, &msgs, 1, &err);
    apr_pool_destroy(p);
    return 0;
}

/*
 * fuzz_mule_conf.c: libFuzzer harness for the muled.conf parser
 * (mule_conf).  Any text parses or fails with a line number inside the
 * text and a NUL-terminated reason; a parsed config passes or fails
 * mule_conf_check() cleanly; nothing leaks (ASan).  Short inputs also run
 * every prefix (truncation loop).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mule/mule_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
    if (!cond)
        abort();
}

static void
one(const uint8_t *data, size_t size)
{
    mule_conf c;
    mule_conf_error err;
    size_t lines = 1;

    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    mule_conf_default(&c);
    if (mule_conf_parse((const char *)data, size, &c, &err) != 0) {
        check(err.line >= 1 && err.line <= lines);
        check(memchr(err.text, '\0', sizeof(err.text)) != NULL && err.text[0] != '\0');
    } else if (mule_conf_check(&c, &err) == 0) {
        check(c.node_id != 0 && c.spool_dir != NULL && c.routes != NULL);
        check(c.hostname != NULL && c.deliver != NULL && c.maildir != NULL);
        check(c.backoff_min_ms <= c.backoff_max_ms);
    }
    mule_conf_fini(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    if (size <= 512)
        for (size_t n = 0; n < size; n++)
            one(data, n);
    return 0;
}

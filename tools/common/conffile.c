/*
 * conffile.c: loading muled.conf (conffile.h).
 */
#include "tools/common/conffile.h"

#include <stdio.h>
#include <string.h>

#include "tools/common/fileio.h"

int
conf_file_load(const char *path, mule_conf *c, buf *text, char *msg, size_t msglen)
{
    buf own;
    buf *b = text != NULL ? text : &own;
    mule_conf_error err;
    int rc;

    if (text == NULL)
        buf_init(&own, NULL, SIZE_MAX);
    mule_conf_default(c);
    rc = fio_read_file(path, CONF_FILE_MAX, b);
    if (rc < 0) {
        snprintf(msg, msglen, "%s: %s", path, strerror(-rc));
        if (text == NULL)
            buf_fini(&own);
        return CONF_FILE_UNREADABLE;
    }
    memset(&err, 0, sizeof err);
    rc = mule_conf_parse((const char *)b->data, b->len, c, &err);
    if (rc == 0)
        rc = mule_conf_check(c, &err);
    if (text == NULL)
        buf_fini(&own);
    if (rc < 0) {
        snprintf(msg, msglen, "%s:%u: %s", path, err.line, err.text);
        mule_conf_fini(c);
        mule_conf_default(c);
        return CONF_FILE_BAD;
    }
    return 0;
}

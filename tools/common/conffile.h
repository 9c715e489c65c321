/*
 * conffile.h: loading muled.conf, the one way the programs that read it
 * (muled, mulectl, mule-submit) do: read the file (1 MiB at most), parse,
 * check, and say what went wrong in the operator's terms.
 */
#ifndef TOOLS_CONFFILE_H
#define TOOLS_CONFFILE_H

#include <stddef.h>

#include "mule/mule_conf.h"
#include "pmul/util/buf.h"

#define CONF_FILE_MAX ((size_t)1 << 20)

enum { CONF_FILE_BAD = -1, CONF_FILE_UNREADABLE = -2 };

/*
 * Load path into *c.  Returns 0; CONF_FILE_UNREADABLE with msg
 * "path: reason"; or CONF_FILE_BAD with msg "path:line: reason", *c then
 * freed back to its defaults.  text (may be NULL) receives the file's
 * octets whenever it could be read, good or bad (mulectl still finds its
 * socket in a file that does not parse).
 */
int conf_file_load(const char *path, mule_conf *c, buf *text, char *msg, size_t msglen);

#endif

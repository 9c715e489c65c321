/*
 * NAME
 *	log - injected log sink and the stderr sink for programs
 * SYNOPSIS
 *	#include "pmul/util/log.h"
 * DESCRIPTION
 *	The only file below the programs that may write to stderr.  Formatting
 *	happens into a fixed stack buffer so that logging never allocates and
 *	never fails loudly; over-long lines are truncated with "...".
 * SECURITY
 *	Peer text must go through log_printable() before it is logged.
 * DIAGNOSTICS
 *	None: logging cannot fail.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "log.h"

#include <stdio.h>
#include <string.h>

void
log_emitv(const logger *lg, int level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    int n;

    if (lg == NULL || lg->fn == NULL || level < lg->min_level)
        return;
    n = vsnprintf(line, sizeof(line), fmt, ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        memcpy(line + sizeof(line) - 4, "...", 4);
    lg->fn(lg->arg, level, line);
}

void
log_emit(const logger *lg, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_emitv(lg, level, fmt, ap);
    va_end(ap);
}

const char *
log_level_name(int level)
{
    static const char *const names[] = { "debug", "info", "warn", "error", "fatal" };

    if (level < 0 || level > LOG_LVL_FATAL)
        return "?";
    return names[level];
}

void
log_stderr(void *arg, int level, const char *line)
{
    if (arg != NULL)
        fprintf(stderr, "%s: %s: %s\n", (const char *)arg, log_level_name(level), line);
    else
        fprintf(stderr, "%s: %s\n", log_level_name(level), line);
}

const char *
log_printable(char *out, size_t outlen, const void *text, size_t len)
{
    const unsigned char *s = text;
    size_t i;

    if (outlen == 0)
        return "";
    if (len > outlen - 1)
        len = outlen - 1;
    for (i = 0; i < len; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    out[len] = '\0';
    return out;
}

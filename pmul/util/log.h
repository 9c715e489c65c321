/*
 * log.h: the injected log sink.
 *
 * Libraries never print: they format a line and hand it to the caller's
 * function (a NULL function means silence).  Lines are a stable event ID
 * followed by key=value pairs.  Programs use log_stderr as their sink or
 * write their own.  Includes only libc.
 */
#ifndef PMUL_UTIL_LOG_H
#define PMUL_UTIL_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
    LOG_LVL_DEBUG = 0,
    LOG_LVL_INFO,
    LOG_LVL_WARN,
    LOG_LVL_ERROR,
    LOG_LVL_FATAL,
};

typedef void (*log_fn)(void *arg, int level, const char *line);

typedef struct logger {
    log_fn fn;          /* NULL: drop everything */
    void *arg;
    int min_level;      /* lines below this level are not even formatted */
} logger;

/* Format and emit one line (at most LOG_LINE_MAX bytes; longer is cut). */
#define LOG_LINE_MAX 1024
void log_emit(const logger *lg, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_emitv(const logger *lg, int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* A sink for programs: "LEVEL line\n" on stderr.  arg is a prefix or NULL. */
void log_stderr(void *arg, int level, const char *line);
const char *log_level_name(int level);

/* Copy at most max bytes of untrusted text into out (size outlen),
 * replacing anything that is not printable ASCII by '?'.  For logging peer
 * text (docs/architecture.md, "logging"). */
const char *log_printable(char *out, size_t outlen, const void *text, size_t len);

#endif

/*
 * muled_log.c: muled's log lines.  One line per event, each starting with
 * the queue ID it concerns, so that `grep ID` tells a mail's whole story
 * (queued, transmitted msid=, acked by, received, delivered, DSN,
 * removed).  Foreground: stderr with a UTC time stamp; daemon: syslog
 * with LOG_MAIL.
 *
 * Deliveries are logged as Postfix logs them, so that its log tools
 * (pflogsumm, qshape-like scripts) read muled's lines too:
 *   muled[PID]: 1LH81DK00000: to=<bob@example.net>, relay=pmul:198.18.0.3,
 *       delay=3.2, status=sent (acknowledged, msid=00000001)
 *   muled[PID]: 1LH81DK00002: from=<alice@example.org>, size=186, nrcpt=1
 *       (queue active; ...)
 *
 * Text from peers (addresses, reply text, library warnings about
 * received PDUs) is printable-escaped, and warnings are rate-limited (a
 * flooding peer must not fill the disk): at most WARN_BURST per
 * WARN_WINDOW_S seconds, then one line saying how many were suppressed.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "tools/muled/muled.h"

#define WARN_BURST      50
#define WARN_WINDOW_S   10

static struct {
    time_t window;
    unsigned count;
    unsigned suppressed;
} rl;

static bool
rate_ok(int level)
{
    time_t now = time(NULL);

    if (level < LOG_LVL_WARN)
        return true;
    if (now - rl.window >= WARN_WINDOW_S) {
        rl.window = now;
        rl.count = 0;
    }
    if (rl.count++ < WARN_BURST)
        return true;
    rl.suppressed++;
    return false;
}

static int
syslog_prio(int level)
{
    switch (level) {
    case LOG_LVL_DEBUG:
        return LOG_DEBUG;
    case LOG_LVL_INFO:
        return LOG_INFO;
    case LOG_LVL_WARN:
        return LOG_WARNING;
    default:
        return LOG_ERR;
    }
}

/* Copy line into out with controls and non-ASCII as \xHH. */
static void
escape(const char *line, char *out, size_t outlen)
{
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *)line; *p != '\0' && o + 5 < outlen;
         p++) {
        if (*p >= 0x20 && *p < 0x7f)
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p);
    }
    out[o] = '\0';
}

static void
put(muled *d, int level, const char *esc)
{
    if (d->foreground) {
        char ts[32];
        time_t t = time(NULL);
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(stderr, "%s muled[%s] %s: %s\n", ts, d->cf.node_id_text, log_level_name(level),
                esc);
        fflush(stderr);
    } else {
        syslog(syslog_prio(level), "%s", esc);
    }
}

static void
emit(muled *d, int level, const char *line)
{
    char esc[LOG_LINE_MAX * 4 + 1];

    if (level < d->lg.min_level || !rate_ok(level))
        return;
    if (rl.suppressed > 0) {
        snprintf(esc, sizeof(esc), "%u warning(s) suppressed by the rate limit",
                 rl.suppressed);
        rl.suppressed = 0;
        put(d, LOG_LVL_WARN, esc);
    }
    escape(line, esc, sizeof(esc));
    put(d, level, esc);
}

void
muled_log(muled *d, int level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    emit(d, level, line);
}

void
muled_log_dlv(muled *d, const char *id, const char *rcpt, const char *relay, double delay_s,
              const char *status, const char *text)
{
    muled_log(d, strcmp(status, "sent") == 0 ? LOG_LVL_INFO : LOG_LVL_WARN,
              "%s: to=<%s>, relay=%s, delay=%.1f, status=%s (%s)", id, rcpt, relay,
              delay_s < 0 ? 0.0 : delay_s, status, text);
}

/* The logger the libraries get (engine, spool, relay). */
void
muled_log_sink(void *arg, int level, const char *line)
{
    emit(arg, level, line);
}

void
muled_log_open(muled *d)
{
    if (!d->foreground)
        openlog("muled", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

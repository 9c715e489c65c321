/*
 * NAME
 *	cap_common - capture set-up and frame loop of pmul-dump and pmul-replay
 * SYNOPSIS
 *	#include "tools/capture/cap_common.h"
 * DESCRIPTION
 *	The parts both capture tools had written out twice: opening a file
 *	or a live interface with a filter, the stop flag set by SIGINT and
 *	SIGTERM (which also wakes a reader blocked in libpcap), reading the
 *	next frame with the same report of a corrupt capture, and output
 *	lines that are built in a buf and written to stdout, with one
 *	message for a failed format and a final check that stdout took
 *	everything.  Each program keeps its own options, frame handling and
 *	summary.
 *
 *	The stop flag and the reader it wakes are the only static state:
 *	a signal handler can reach nothing else.  This file is program code
 *	(layer L4), not a library.
 * SECURITY
 *	Frames are parsed by pmul_pcap_read.c; nothing here reads packet
 *	octets.  Messages name the file or interface the operator gave.
 * DIAGNOSTICS
 *	Messages on stderr as "PROG: ...".  cap_open() returns -1 and
 *	cap_next() a negative PMUL_PCAP_ERR_* after saying why.
 * SEE ALSO
 *	pmul-dump(1), pmul-replay(1), pmul_pcap(3).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "tools/capture/cap_common.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tools/capture/dump_opt.h"

/* Read timeout of a live capture: how often the loop checks its clock. */
#define CAP_LIVE_TIMEOUT_MS 200

static volatile sig_atomic_t cap_stop;
static pmul_pcap_reader *volatile cap_rd;

void
cap_out_init(cap_out *o, const char *prog)
{
    buf_init(&o->b, NULL, SIZE_MAX);
    o->prog = prog;
    o->error = false;
}

void
cap_out_flush(cap_out *o)
{
    if (o->b.len > 0 && fwrite(o->b.data, 1, o->b.len, stdout) != o->b.len)
        o->error = true;
    buf_reset(&o->b);
}

void
cap_out_failed(cap_out *o)
{
    /* Only a cap or memory can fail a buf: say so once and go on. */
    if (!o->error)
        fprintf(stderr, "%s: out of memory formatting output\n", o->prog);
    o->error = true;
    buf_reset(&o->b);
}

bool
cap_out_fini(cap_out *o)
{
    bool lost = o->error;

    buf_fini(&o->b);
    if (fflush(stdout) != 0 || ferror(stdout))
        lost = true;
    if (lost)
        fprintf(stderr, "%s: writing the output failed\n", o->prog);
    return lost;
}

void
cap_logger_init(logger *l, const char *prog)
{
    l->fn = log_stderr;
    l->arg = (void *)(uintptr_t)prog;   /* log_stderr only reads it */
    l->min_level = LOG_LVL_DEBUG;
}

int
cap_open(pmul_pcap_reader **rd, const char *prog, const char *file,
         const char *iface, bool promisc, const char *filter)
{
    char err[DUMP_ERRBUF_LEN];
    int rc;

    if (file != NULL)
        rc = pmul_pcap_reader_open(rd, file, err, sizeof(err));
    else
        rc = pmul_pcap_reader_open_live(rd, iface, promisc, CAP_LIVE_TIMEOUT_MS,
                                        err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "%s: %s: %s: %s\n", prog, file != NULL ? file : iface,
                pmul_pcap_strerror(rc), err);
        return -1;
    }
    rc = pmul_pcap_reader_set_filter(*rd, filter, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "%s: filter \"%s\": %s\n", prog, filter, err);
        return -1;
    }
    return 0;
}

static void
on_signal(int sig)
{
    pmul_pcap_reader *rd = cap_rd;

    (void)sig;
    cap_stop = 1;
    if (rd != NULL)
        pmul_pcap_reader_stop(rd);
}

void
cap_signals_install(pmul_pcap_reader *rd)
{
    struct sigaction sa;

    cap_rd = rd;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
}

void
cap_signals_release(void)
{
    cap_rd = NULL;
}

bool
cap_stopped(void)
{
    return cap_stop != 0;
}

int
cap_next(pmul_pcap_reader *rd, const char *prog, const char *name,
         uint64_t frames, pmul_pcap_frame *f, int *verdict)
{
    int rc = pmul_pcap_reader_next(rd, f, verdict);

    if (rc >= 0 || rc == PMUL_PCAP_ERR_EOF)
        return rc;
    fprintf(stderr, "%s: %s: %s after frame %" PRIu64 ": %s\n", prog, name,
            pmul_pcap_strerror(rc), frames, pmul_pcap_reader_error(rd));
    return rc;
}

bool
cap_frame_is_multicast(const pmul_pcap_frame *f)
{
    if (f->ip_version == 4)
        return (f->dst_ip4 >> 28) == 0xEu;
    return f->ip_version == 6 && f->dst_ip6[0] == 0xFFu;
}

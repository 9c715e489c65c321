/*
 * cap_common.h: the set-up and frame loop shared by pmul-dump and
 * pmul-replay.
 *
 * Both programs open a capture (file or live interface) with a BPF
 * filter, stop cleanly on SIGINT/SIGTERM, read frames until the end or a
 * read error (reported the same way), build their output lines in a buf
 * and write them to stdout, and check at exit that stdout took it all.
 * What each program does with a frame stays in the program.
 */
#ifndef CAP_COMMON_H
#define CAP_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "pmul/pmul_pcap.h"
#include "pmul/util/buf.h"
#include "pmul/util/log.h"

/* Output lines of a program, written to stdout by cap_out_flush(). */
typedef struct cap_out {
    buf b;                      /* lines being built */
    const char *prog;           /* for messages: "pmul-dump" */
    bool error;                 /* a write or a format failed */
} cap_out;

/* prog is borrowed for the program's lifetime. */
void cap_out_init(cap_out *o, const char *prog);

/* Write what was built to stdout; a short write sets o->error. */
void cap_out_flush(cap_out *o);

/* A line could not be formatted (a buf cap or memory): say so once on
 * stderr, drop what was built and go on. */
void cap_out_failed(cap_out *o);

/* Flush stdout and free the buf.  Returns true (after a message on
 * stderr) when any output was lost: the caller exits 1. */
bool cap_out_fini(cap_out *o);

/* The programs' log sink: log_stderr prefixed with prog, every level. */
void cap_logger_init(logger *l, const char *prog);

/*
 * Open the capture file (file != NULL, "-" for stdin) or the live
 * interface iface (200 ms read timeout), then set the BPF filter (NULL:
 * none).  On failure prints "PROG: ..." on stderr and returns -1 (*rd may
 * be set: close it); the caller exits 2.  Returns 0 on success.
 */
int cap_open(pmul_pcap_reader **rd, const char *prog, const char *file,
             const char *iface, bool promisc, const char *filter);

/* SIGINT and SIGTERM set the stop flag and wake rd's reader (borrowed
 * until cap_signals_release()).  One reader per process. */
void cap_signals_install(pmul_pcap_reader *rd);
void cap_signals_release(void);
bool cap_stopped(void);

/*
 * Read the next frame of rd into *f and *verdict (pmul_pcap_reader_next).
 * Returns 1 with a frame, 0 when a live capture saw nothing within its
 * timeout, PMUL_PCAP_ERR_EOF at the end, or another negative
 * PMUL_PCAP_ERR_* after printing "PROG: NAME: error after frame N: why"
 * on stderr (frames = frames read so far); reading must then stop.
 */
int cap_next(pmul_pcap_reader *rd, const char *prog, const char *name,
             uint64_t frames, pmul_pcap_frame *f, int *verdict);

/* Whether the datagram went to a multicast group (IPv4 224/4, IPv6 ff00::/8). */
bool cap_frame_is_multicast(const pmul_pcap_frame *f);

#endif

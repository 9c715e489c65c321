/*
 * NAME
 *	mule-bench-spool - durable submission rate, recovery time and memory
 *	of the muled spool
 * SYNOPSIS
 *	mule-bench-spool submit DIR [seconds]
 *	mule-bench-spool fill DIR [mails]
 *	mule-bench-spool recover DIR
 *	mule-bench-spool mail
 * DESCRIPTION
 *	DIR (created if missing) should be on the disk muled would use: on
 *	tmpfs fsync costs nothing and the submission figures mean nothing.
 *
 *	submit: 4 KB mails (header fields and text, two recipients, two
 *	   destinations) through mule_spool_fs_submit(), one mail per call
 *	   with full durability (write, fsync, close, rename, fsync of q/
 *	   each), for "seconds" (default 5) of wall time; then the same with
 *	   group commit, 16 mails per mule_spool_fs_submit_batch() (one
 *	   directory fsync per batch).  Reports mails/s and mean latency.
 *	fill: puts "mails" (default 100,000) such mails into DIR through a
 *	   file-operations table whose fsync is a no-op (setup, not what is
 *	   measured: the files are the same), then sync(2).
 *	recover: in a fresh process, times mule_spool_fs_open() on DIR (purge
 *	   of tmp/, node journal, scan and parse of every file) and reports
 *	   the VmRSS it added per queued mail next to the index's own count
 *	   (mule_spool_mem_bytes()).  The page cache is as the caller left
 *	   it (drop it first for a cold figure).
 *
 *	mail: writes the 4 KB mail to stdout (for other submitters:
 *	   tools/bench/spool_vs_postfix.sh feeds it to Postfix's sendmail).
 *
 *	Output is Markdown table rows on stdout.  Timing uses
 *	clock_gettime(CLOCK_MONOTONIC), which programs may read.  Not a
 *	test: numbers depend on the machine.
 * SECURITY
 *	Writes only under DIR.
 * DIAGNOSTICS
 *	Exits 1 with a message on stderr when a spool call fails.
 * SEE ALSO
 *	mule/mule_spool_fs.h, docs/spool.md, docs/benchmarks.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mule/mule_spool_fs.h"
#include "pmul/util/num.h"

#define MAIL_LEN 4096
#define BATCH    16

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, int rc)
{
    fprintf(stderr, "mule-bench-spool: %s: %s\n", what, mule_strerror(rc));
    exit(1);
}

static long
rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* A 4 KB mail of header lines and text (not random bytes). */
static void
make_mail(char *m, size_t len)
{
    static const char *const w[] = {"convoy", "report", "position", "the", "of", "and",
                                    "fuel", "north", "at", "grid", "arrive", "status"};
    size_t n = (size_t)snprintf(m, len,
                                "From: ops@n1.example\r\nTo: log@n2.example\r\n"
                                "Subject: daily status\r\nMessage-ID: <b@n1.example>\r\n"
                                "Date: Sat, 5 Dec 2026 01:00:00 +0000\r\n\r\n");
    unsigned s = 1;

    while (n + 2 < len) {
        s = s * 1103515245u + 12345u;
        const char *x = w[(s >> 16) % 12];
        size_t k = strlen(x);


        if (n + k + 3 >= len)
            break;
        memcpy(m + n, x, k);
        n += k;
        m[n++] = (s >> 8) % 11 == 0 ? '\n' : ' ';
    }
    while (n < len)
        m[n++] = '.';
}

static int
nosync(void *arg, int fd)
{
    (void)arg;
    (void)fd;
    return 0;
}

static mule_spool_fs *
open_spool(const char *dir, const mule_spool_fops *fops, mule_spool_scan *scan)
{
    mule_spool_fs *fs;
    mule_spool_fs_cfg cfg = {dir, fops, NULL, NULL, NULL, 0};
    mule_spool_policy pol = {60, 3600, 1024, 2000000};
    int rc;

    cfg.policy = &pol;
    if ((rc = mule_spool_fs_open(&fs, &cfg, 1764896400, scan)) != 0)
        die("open", rc);
    return fs;
}

static void
usage(void)
{
    fprintf(stderr, "usage: mule-bench-spool submit DIR [seconds]\n"
                    "       mule-bench-spool fill DIR [mails]\n"
                    "       mule-bench-spool recover DIR\n"
                    "       mule-bench-spool mail\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    static char mail[MAIL_LEN];
    static const mule_spool_rcpt rc2[2] = {{{"log@n2.example", 14}, {"", 0}},
                                           {{"log@n3.example", 14}, {"", 0}}};
    static const uint32_t nodes[2] = {2, 3};
    mule_spool_msg m = {0}, batch[BATCH];
    char ids[BATCH][MULE_SPOOL_ID_SIZE];
    mule_spool_fops fast = mule_spool_fops_posix;
    mule_spool_scan scan;
    mule_spool_fs *fs;
    double t0, t1, rate;
    size_t n, cnt;
    long rss0, rss1;
    int rc;

    if (argc < 3 && !(argc == 2 && strcmp(argv[1], "mail") == 0))
        usage();
    make_mail(mail, sizeof mail);
    m.kind = MULE_SPOOL_OUT;
    m.content_kind = MULE_SPOOL_C_MESSAGE;
    m.arrival_s = 1764896400;
    m.expiry_s = m.arrival_s + 86400;
    m.mail_from = (mule_spool_str){"ops@n1.example", 14};
    m.rcpts = rc2;
    m.rcpt_cnt = 2;
    m.target_nodes = nodes;
    m.target_cnt = 2;
    m.content = (const uint8_t *)mail;
    m.content_len = sizeof mail;
    for (size_t i = 0; i < BATCH; i++)
        batch[i] = m;

    if (strcmp(argv[1], "mail") == 0) {
        /* The same mail for other submitters (tools/bench/spool_vs_postfix.sh). */
        if (fwrite(mail, 1, sizeof mail, stdout) != sizeof mail)
            return 1;
    } else if (strcmp(argv[1], "submit") == 0) {
        uint64_t ms = 5000;
        double secs;

        if (argc > 3 && num_parse_duration_ms(argv[3], 1000, 100, 3600000, &ms) != 0)
            die("submit: time (e.g. 5, 10s, 500ms)", MULE_ERR_INVAL);
        secs = (double)ms / 1000.0;

        /* 1. Durable submissions: one per call, then group commit. */
        fs = open_spool(argv[2], NULL, NULL);
        n = 0;
        t0 = now_s();
        do {
            if ((rc = mule_spool_fs_submit(fs, &m, 1764896400, ids[0])) != 0)
                die("submit", rc);
            n++;
        } while ((t1 = now_s()) - t0 < secs);
        rate = (double)n / (t1 - t0);
        printf("| submit, 4 KB, fsync file + rename + fsync dir each | %zu | %.0f/s | "
               "%.2f ms |\n", n, rate, 1e3 / rate);
        n = 0;
        t0 = now_s();
        do {
            if ((rc = mule_spool_fs_submit_batch(fs, batch, BATCH, 1764896400, ids)) != 0)
                die("submit batch", rc);
            n += BATCH;
        } while ((t1 = now_s()) - t0 < secs);
        rate = (double)n / (t1 - t0);
        printf("| submit, 4 KB, group commit of %d (one dir fsync) | %zu | %.0f/s | "
               "%.2f ms |\n", BATCH, n, rate, 1e3 / rate);
        mule_spool_fs_free(fs);
    } else if (strcmp(argv[1], "fill") == 0) {
        /* 2a. Fill a spool for the recovery run, without fsync: setup
         * only, the files are the same. */
        uint64_t c64 = 100000;

        if (argc > 3 && num_parse_u64(argv[3], 1, 10000000, &c64) != 0)
            die("fill: count must be 1..10000000", MULE_ERR_INVAL);
        cnt = (size_t)c64;
        fast.fsync = nosync;
        fast.fdatasync = nosync;
        fs = open_spool(argv[2], &fast, NULL);
        for (n = 0; n < cnt; n += BATCH) {
            size_t k = cnt - n < BATCH ? cnt - n : BATCH;

            if ((rc = mule_spool_fs_submit_batch(fs, batch, k, 1764896400, ids)) != 0)
                die("fill", rc);
        }
        mule_spool_fs_free(fs);
        sync();
    } else if (strcmp(argv[1], "recover") == 0) {
        /* 2b, 3. A fresh process: time the open, and the RSS it adds. */
        rss0 = rss_kb();
        t0 = now_s();
        fs = open_spool(argv[2], NULL, &scan);
        t1 = now_s();
        rss1 = rss_kb();
        cnt = scan.loaded ? scan.loaded : 1;
        printf("| recovery (open: purge, node journal, scan, parse) | %zu | %.2f s | "
               "%.1f us/mail |\n", scan.loaded, t1 - t0, (t1 - t0) * 1e6 / (double)cnt);
        printf("| memory with them queued | %zu | RSS +%ld kB: %.0f bytes/mail | "
               "index: %.0f bytes/mail |\n", scan.loaded, rss1 - rss0,
               (double)(rss1 - rss0) * 1024.0 / (double)cnt,
               (double)mule_spool_mem_bytes(mule_spool_fs_core(fs)) / (double)cnt);
        mule_spool_fs_free(fs);
    } else {
        usage();
    }
    return 0;
}

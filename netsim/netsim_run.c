/*
 * NAME
 *	netsim-run - run a netsim scenario with the P_MUL engine
 * SYNOPSIS
 *	netsim-run [--seed N] [--pcap FILE] [--json] [--hash]
 *	           [--transcript FILE] [--verbose] SCENARIO
 * DESCRIPTION
 *	Reads the scenario file (format: netsim/README.md), runs it on
 *	virtual time with one P_MUL engine per node, and prints one line per
 *	message, one line per failed expectation, and last the summary line
 *	"delivered D/N expired E time T s bytes B ratio R".  --json prints
 *	the same as JSON Lines (the summary object last).  --hash adds the
 *	transcript hash (always in the JSON summary).  --pcap writes every
 *	datagram, when it goes on the air, with virtual time as timestamps
 *	(wall-start + virtual time).  --transcript writes one line per
 *	datagram and event ("-" for standard error).  --verbose sends the
 *	engines' log to standard error.
 *
 *	The same scenario and seed give byte-identical output.
 * EXIT STATUS
 *	0 when the run meets every expectation, 1 when it does not, 2 on a
 *	usage, scenario or run-time error.
 * SECURITY
 *	Reads one local file written by a developer; the parser limits it.
 * SEE ALSO
 *	netsim(7), tshark(1).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netsim/netsim.h"
#include "netsim/netsim_pmul.h"
#include "pmul/pmul_pcap.h"
#include "pmul/util/arr.h"

#define SCENARIO_MAX (16u << 20)

static void
usage(void)
{
    fprintf(stderr, "usage: netsim-run [--seed N] [--pcap FILE] [--json] [--hash]\n"
                    "                  [--transcript FILE|-] [--verbose] SCENARIO\n");
    exit(2);
}

static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t n = 0, cap = 0, got;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (n == cap) {
            /* libc's allocator (mem NULL), so free() releases it. */
            int rc = arr_grow(NULL, (void **)&data, &cap, cap != 0 ? cap + 1 : 8192, 1,
                              SCENARIO_MAX);

            if (rc != 0) {
                errno = rc == UTIL_ERR_FULL ? EFBIG : ENOMEM;
                goto fail;
            }
        }
        got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    if (fclose(f) != 0) {
        f = NULL;
        goto fail;
    }
    *len = n;
    return data;
fail:
    if (f != NULL)
        (void)fclose(f);
    free(data);
    return NULL;
}

typedef struct hooks {
    pmul_pcap_writer *pcap;
    int pcap_err;
    FILE *transcript;
} hooks;

static int
on_tx(void *arg, uint64_t t_us, uint32_t src_ip, uint16_t src_port, uint32_t dst_ip,
      uint16_t dst_port, const uint8_t *p, size_t len)
{
    hooks *h = arg;

    if (h->pcap == NULL)
        return 0;
    h->pcap_err = pmul_pcap_write_udp4(h->pcap, t_us, src_ip, src_port, dst_ip, dst_port, p, len);
    return h->pcap_err;
}

static void
on_line(void *arg, const char *line)
{
    hooks *h = arg;

    fprintf(h->transcript, "%s\n", line);
}

static int
flush_buf(buf *b)
{
    if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
        return -1;
    buf_reset(b);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *pcap_path = NULL, *tr_path = NULL, *path = NULL;
    bool json = false, with_hash = false, verbose = false;
    netsim_scenario *sc = NULL;
    netsim *s = NULL;
    netsim_opts o;
    logger lg;
    hooks h;
    buf out;
    char err[300], *text;
    size_t len;
    long fails;
    int i, rc, status = 2;

    memset(&o, 0, sizeof(o));
    memset(&h, 0, sizeof(h));
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            char *end;

            errno = 0;
            o.seed = strtoull(argv[++i], &end, 10);
            if (errno != 0 || *end != '\0' || argv[i][0] == '-' || argv[i][0] == '\0')
                usage();
            o.seed_set = true;
        } else if (strcmp(argv[i], "--pcap") == 0 && i + 1 < argc) {
            pcap_path = argv[++i];
        } else if (strcmp(argv[i], "--transcript") == 0 && i + 1 < argc) {
            tr_path = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--hash") == 0) {
            with_hash = true;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            verbose = true;
        } else if (argv[i][0] == '-' || path != NULL) {
            usage();
        } else {
            path = argv[i];
        }
    }
    if (path == NULL)
        usage();
    text = read_file(path, &len);
    if (text == NULL) {
        fprintf(stderr, "netsim-run: %s: %s\n", path, strerror(errno));
        return 2;
    }
    rc = netsim_scen_parse(&sc, text, len, NULL, err, sizeof(err));
    free(text);
    if (rc != 0) {
        fprintf(stderr, "netsim-run: %s:%s\n", path,
                rc == NETSIM_ERR_PARSE ? err : netsim_strerror(rc));
        return 2;
    }
    buf_init(&out, NULL, SIZE_MAX);
    lg.fn = log_stderr;
    lg.arg = (void *)"netsim-run";
    lg.min_level = verbose ? LOG_LVL_DEBUG : LOG_LVL_WARN;
    o.ops = &netsim_pmul_ops;
    o.log = &lg;
    o.hook_arg = &h;
    if (pcap_path != NULL) {
        rc = pmul_pcap_writer_open(&h.pcap, pcap_path);
        if (rc != 0) {
            fprintf(stderr, "netsim-run: %s: %s\n", pcap_path, pmul_pcap_strerror(rc));
            goto done;
        }
        o.on_tx = on_tx;
    }
    if (tr_path != NULL) {
        h.transcript = strcmp(tr_path, "-") == 0 ? stderr : fopen(tr_path, "w");
        if (h.transcript == NULL) {
            fprintf(stderr, "netsim-run: %s: %s\n", tr_path, strerror(errno));
            goto done;
        }
        o.on_line = on_line;
    }
    rc = netsim_new(&s, sc, &o);
    if (rc != 0) {
        fprintf(stderr, "netsim-run: cannot set up the run: %s\n", netsim_strerror(rc));
        goto done;
    }
    rc = netsim_run(s);
    if (rc != 0) {
        fprintf(stderr, "netsim-run: run stopped: %s%s%s\n", netsim_strerror(rc),
                h.pcap_err != 0 ? ": " : "", h.pcap_err != 0 ? pmul_pcap_strerror(h.pcap_err) : "");
        goto done;
    }
    if (netsim_report_messages(s, &out, json) != 0 || flush_buf(&out) != 0)
        goto io_fail;
    fails = netsim_check(s, &out);
    if (fails < 0)
        goto io_fail;
    if (json && out.len > 0) {
        /* In JSON mode each failure line becomes a JSON string. */
        buf j;
        size_t k, st = 0;

        buf_init(&j, NULL, SIZE_MAX);
        for (k = 0; k < out.len; k++) {
            if (out.data[k] != '\n')
                continue;
            if (buf_printf(&j, "{\"fail\":\"%.*s\"}\n", (int)(k - st), (const char *)out.data + st) != 0) {
                buf_fini(&j);
                goto io_fail;
            }
            st = k + 1;
        }
        buf_reset(&out);
        rc = buf_append(&out, j.data, j.len);
        buf_fini(&j);
        if (rc != 0)
            goto io_fail;
    }
    if (netsim_report_summary(s, &out, json, with_hash) != 0 || flush_buf(&out) != 0
        || fflush(stdout) != 0)
        goto io_fail;
    status = fails == 0 ? 0 : 1;
    goto done;
io_fail:
    fprintf(stderr, "netsim-run: writing the report failed\n");
    status = 2;
done:
    netsim_free(s);
    netsim_scen_free(sc);
    buf_fini(&out);
    if (h.pcap != NULL && pmul_pcap_writer_close(h.pcap) != 0) {
        fprintf(stderr, "netsim-run: %s: closing the pcap failed\n", pcap_path);
        status = 2;
    }
    if (h.transcript != NULL && h.transcript != stderr && fclose(h.transcript) != 0) {
        fprintf(stderr, "netsim-run: %s: %s\n", tr_path, strerror(errno));
        status = 2;
    }
    return status;
}

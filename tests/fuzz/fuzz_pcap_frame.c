/*
 * NAME
 *	fuzz_pcap_frame - libFuzzer target for the capture frame parser
 * SYNOPSIS
 *	fuzz_pcap_frame [libFuzzer options] CORPUS_DIR...
 * DESCRIPTION
 *	pmul_pcap_parse_frame() is the one parser of link-layer, IP and UDP
 *	headers (pmul/pmul_pcap_read.c), fed by field captures.  Input:
 *	octet 0 picks the link type (Ethernet, Linux cooked v1/v2, raw IP,
 *	IPv4, IPv6, BSD loopback both ways), octet 1 how many octets the
 *	frame had on the wire beyond those captured (snaplen cuts), the rest
 *	is the frame, copied to a buffer of exactly its size so that any
 *	over-read is caught.  Checked: a frame that parses has its payload
 *	inside the frame; a payload goes on to what pmul-dump does with it
 *	(dump_pdu_decode with its repairs of malformed PDUs, and both output
 *	formats), so the salvage path is fuzzed too.
 *
 *	Seeds: frames of each link type around every P_MUL vector
 *	(seeds_pcap_frame.py).
 * SECURITY
 *	Test code: the inputs are hostile on purpose.
 * DIAGNOSTICS
 *	A broken invariant prints what differs and traps.
 * SEE ALSO
 *	pmul/pmul_pcap.h, tools/capture/dump_fmt.h, tests/fuzz/meson.build.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmul/pmul_pcap.h"
#include "pmul/util/buf.h"
#include "tools/capture/dump_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* DLT values (pcap/dlt.h), kept here so the harness needs no libpcap
 * header: Ethernet, Linux SLL, SLL2, raw, IPv4, IPv6, NULL, LOOP. */
static const int linktypes[] = { 1, 113, 276, 12, 228, 229, 0, 108 };

static dump_decoder *
decoder(void)
{
    static dump_decoder dec;
    static bool ready;

    if (!ready) {
        if (dump_decoder_init(&dec) != 0)
            abort();
        ready = true;
    }
    return &dec;
}

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_pcap_frame: %s\n", #cond);                 \
            __builtin_trap();                                                \
        }                                                                    \
    } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pmul_pcap_frame f;
    dump_pdu d;
    uint8_t *frame;
    size_t len;
    buf out;
    int rc;

    if (size < 2)
        return 0;
    len = size - 2;
    frame = malloc(len > 0 ? len : 1);
    if (frame == NULL)
        return 0;
    if (len > 0)
        memcpy(frame, data + 2, len);
    memset(&f, 0, sizeof(f));
    f.number = 1;
    rc = pmul_pcap_parse_frame(linktypes[data[0] % 8], len > 0 ? frame : NULL, len,
                               len + data[1], &f);
    if (rc == 0) {
        CHECK(f.payload_len <= len);
        CHECK(f.payload_len == 0 ||
              (f.payload >= frame && (size_t)(f.payload - frame) <= len - f.payload_len));
        CHECK(f.ip_version == 4 || f.ip_version == 6);
        dump_pdu_decode(decoder(), f.payload, f.payload_len, &d);
        CHECK(d.err != 0 || d.have_fields);
        CHECK(!d.salvaged || d.err != 0);
        buf_init(&out, NULL, (size_t)1 << 24);
        CHECK(dump_put_frame_pdu(&out, &f, &d, false) == 0);
        CHECK(dump_put_frame_pdu(&out, &f, &d, true) == 0);
        buf_fini(&out);
    } else {
        CHECK(rc < 0);
        CHECK(f.payload == NULL);
        buf_init(&out, NULL, (size_t)1 << 20);
        CHECK(dump_put_frame_error(&out, &f, rc, true) == 0);
        buf_fini(&out);
    }
    free(frame);
    return 0;
}

/*
 * NAME
 *	fuzz_pcap_frag - libFuzzer target for the capture fragment reassembler
 * SYNOPSIS
 *	tools/fuzz.sh fuzz_pcap_frag SECONDS
 * DESCRIPTION
 *	The input is a sequence of fragments, each an 8-octet record head
 *	followed by its data:
 *	  octet 0  bit 0: IPv6; bit 1: More Fragments; bits 2-3: source
 *	           (one of four); bits 4-7: protocol (17 or not)
 *	  octet 1  Identification (one of 256)
 *	  2-3      fragment offset in 8-octet units (13 bits used)
 *	  4-5      data length (taken from what follows, cut to what is left)
 *	  6-7      capture time step in milliseconds
 *	All are fed to one reassembler with small limits (8 datagrams, 64 KiB,
 *	1 s), so eviction, expiry and every refusal path are reached.  Checks:
 *	a completed datagram is at most 65535 octets and repeats, at each
 *	offset, the octets of the fragment that arrived there last (nothing is
 *	invented); holdings never exceed the limits; nothing leaks (ASan).
 * SECURITY
 *	Test code.
 * SEE ALSO
 *	pmul/pmul_pcap_frag.h, tests/fuzz/seeds_pcap_frag.py.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pmul/pmul_pcap_frag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_pcap_frag: %s\n", #cond);                  \
            __builtin_trap();                                                \
        }                                                                    \
    } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pmul_pcap_frag_limits l;
    pmul_pcap_frag_stats st;
    pmul_pcap_frag *r;
    uint64_t ts = 1000000;
    size_t pos = 0;

    pmul_pcap_frag_limits_default(&l);
    l.max_datagrams = 8;
    l.max_bytes = 64 * 1024;
    l.timeout_us = 1000000;
    if (pmul_pcap_frag_new(&r, NULL, &l) != 0)
        return 0;
    while (size - pos >= 8) {
        const uint8_t *h = data + pos;
        pmul_pcap_frame f;
        const uint8_t *out;
        size_t len, dlen = (size_t)h[4] << 8 | h[5];
        uint16_t parts;
        int rc;

        pos += 8;
        if (dlen > size - pos)
            dlen = size - pos;
        memset(&f, 0, sizeof(f));
        f.ip_version = (h[0] & 1u) ? 6 : 4;
        f.more_frags = (h[0] & 2u) != 0;
        f.src_ip4 = 0xC6120001u + ((h[0] >> 2) & 3u);
        f.src_ip6[15] = (uint8_t)((h[0] >> 2) & 3u);
        f.ip_proto = (h[0] >> 4) == 0 ? 17 : (uint8_t)(h[0] >> 4);
        f.ip_id = h[1];
        f.frag_offset = (uint16_t)(((unsigned)h[2] << 8 | h[3]) & 0x1FFFu);
        f.frag_data = data + pos;
        f.frag_len = dlen;
        ts += ((uint64_t)h[6] << 8 | h[7]) * 1000u;
        f.ts_us = ts;
        pos += dlen;

        rc = pmul_pcap_frag_push(r, &f, &out, &len, &parts);
        CHECK(rc == 0 || rc == 1 || rc == PMUL_PCAP_ERR_FRAG_BAD ||
              rc == PMUL_PCAP_ERR_FRAG_CAP || rc == PMUL_PCAP_ERR_INVAL ||
              rc == PMUL_PCAP_ERR_NOMEM);
        if (rc == 1) {
            size_t off = (size_t)f.frag_offset * 8u;

            CHECK(len <= 65535u && parts >= 1);
            CHECK(off + f.frag_len <= len);
            CHECK(f.frag_len == 0 || memcmp(out + off, f.frag_data, f.frag_len) == 0);
        }
        pmul_pcap_frag_get_stats(r, &st);
        CHECK(st.held_datagrams <= l.max_datagrams);
        CHECK(st.held_bytes <= l.max_bytes);
    }
    pmul_pcap_frag_free(r);
    return 0;
}

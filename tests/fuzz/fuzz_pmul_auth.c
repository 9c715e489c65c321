/*
 * fuzz_pmul_auth.c: libFuzzer harness for pmul_auth_open() (and seal).
 *
 * Input: octet 0 picks the IP source (one of 8), octets 1..2 a bit to
 * flip, the rest is a datagram.  Each input is used twice:
 *
 *   1. opened as it is by a receiver with the harness key: the result
 *      must be a drop code, or the PDU length (len - 30) for a datagram
 *      the seed script sealed with that key, which must then be refused
 *      as a replay when opened again;
 *   2. taken as a PDU (when 12..65535 octets), sealed by a sender and
 *      opened: the PDU must come back whole, a copy with the chosen bit
 *      flipped must be refused, and the original a second time too.
 *
 * The receiver tracks at most 4 sources, so runs of inputs with 8 IPs
 * exercise the LRU eviction, and refuses epochs over 10 minutes old.  Any violated property aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmul/pmul_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_KEY "fuzz_pmul_auth key, not a secret"
#define FUZZ_WALL_MS UINT64_C(1764950400000)

static void check(int cond)
{
    if (!cond)
        abort();
}

static int is_drop(ssize_t rc)
{
    return rc == PMUL_ERR_AUTH_MISSING || rc == PMUL_ERR_AUTH_BAD || rc == PMUL_ERR_AUTH_REPLAY;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[65535 + PMUL_AUTH_TRAILER_LEN], flipped[sizeof buf];
    pmul_auth_config cfg = {(const uint8_t *)FUZZ_KEY, sizeof FUZZ_KEY - 1, 1, 4, 600000};
    pmul_auth *rx = NULL, *tx = NULL;
    const uint8_t *pkt;
    uint32_t ip;
    size_t len, bit;
    ssize_t rc;

    if (size < 3)
        return 0;
    ip = 0xC6120000u | (data[0] & 7u);
    bit = (size_t)data[1] << 8 | data[2];
    pkt = data + 3;
    len = size - 3;
    check(pmul_auth_new(&rx, &cfg, NULL) == 0);
    check(pmul_auth_new(&tx, &cfg, NULL) == 0);

    /* 1: the datagram as it came. */
    rc = pmul_auth_open(rx, FUZZ_WALL_MS, ip, pkt, len);
    if (rc >= 0) {
        check((size_t)rc + PMUL_AUTH_TRAILER_LEN == len);
        check(pmul_auth_open(rx, FUZZ_WALL_MS, ip, pkt, len) == PMUL_ERR_AUTH_REPLAY);
    } else {
        check(is_drop(rc));
    }

    /* 2: sealed by us, then opened, tampered with and replayed. */
    if (len >= 12 && len <= 65535) {
        memcpy(buf, pkt, len);
        rc = pmul_auth_seal(tx, FUZZ_WALL_MS + data[0], ip, buf, len, sizeof buf);
        check(rc == (ssize_t)(len + PMUL_AUTH_TRAILER_LEN));
        memcpy(flipped, buf, (size_t)rc);
        bit %= (size_t)rc * 8;
        flipped[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        check(is_drop(pmul_auth_open(rx, FUZZ_WALL_MS, ip, flipped, (size_t)rc)));
        check(pmul_auth_open(rx, FUZZ_WALL_MS, ip ^ 8u, buf, (size_t)rc) == PMUL_ERR_AUTH_BAD);
        check(pmul_auth_open(rx, FUZZ_WALL_MS, ip, buf, (size_t)rc) == (ssize_t)len);
        check(memcmp(buf, pkt, len) == 0);
        check(pmul_auth_open(rx, FUZZ_WALL_MS, ip, buf, (size_t)rc) == PMUL_ERR_AUTH_REPLAY);
    }
    pmul_auth_free(rx);
    pmul_auth_free(tx);
    return 0;
}

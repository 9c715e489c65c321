/*
 * NAME
 *	pmul_pcap_frag - bounded IPv4/IPv6 fragment reassembly for captures
 * SYNOPSIS
 *	#include "pmul/pmul_pcap_frag.h"
 * DESCRIPTION
 *	Holds the fragments of each IP datagram under reassembly in one
 *	buffer per datagram, with a bitmap of the 8-octet units received
 *	(fragment offsets count 8-octet units, RFC 791 and RFC 8200 4.5),
 *	and hands the datagram's IP payload out when every unit up to the
 *	end announced by the last fragment is there.
 *
 *	The datagrams under reassembly are few (a capture interleaves a
 *	handful at a time), so they live in a small array searched
 *	linearly; its length is bounded by max_datagrams.  Buffers grow in
 *	steps of 4 KiB up to the highest octet seen, so a datagram of
 *	3840 octets costs 4 KiB plus its 1 KiB bitmap, not 64 KiB.
 * SECURITY
 *	Sees untrusted capture contents.  Offsets and lengths are checked
 *	against the 65535-octet limit before use; every allocation is
 *	bounded by max_bytes; a datagram that never completes is dropped
 *	after timeout_us of capture time or when newer ones need room.
 * DIAGNOSTICS
 *	Returns PMUL_PCAP_ERR_FRAG_BAD, _FRAG_CAP, _NOMEM per fragment;
 *	counts completed, expired, bad and evicted datagrams.  Logs nothing.
 * SEE ALSO
 *	pmul_pcap.h (the frame parser and the reader that calls this),
 *	RFC 791, RFC 8200 section 4.5, RFC 5722.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdbool.h>
#include <string.h>

#include "pmul/pmul_pcap_frag.h"
#include "pmul/util/arr.h"

#define FRAG_MAX_LEN    65535u          /* largest IP payload we rebuild */
#define FRAG_UNITS      ((FRAG_MAX_LEN + 7u) / 8u)
#define FRAG_BUF_STEP   4096u

typedef struct fragdg {
    uint8_t ver, proto;
    uint8_t src[16], dst[16];
    uint32_t id;
    uint64_t first_us;
    uint8_t *buf;
    size_t cap;                 /* octets allocated in buf */
    size_t total;               /* datagram length, 0 until the last
                                 * fragment arrived */
    size_t high;                /* highest end offset seen */
    size_t units_held;
    uint16_t parts;
    uint8_t have[(FRAG_UNITS + 7u) / 8u];
} fragdg;

struct pmul_pcap_frag {
    const mem *m;
    pmul_pcap_frag_limits lim;
    fragdg **dg;                /* under reassembly, any order */
    size_t dg_cnt, dg_cap;
    size_t held_bytes;
    uint8_t *out;               /* the last datagram handed out */
    pmul_pcap_frag_stats st;
};

void
pmul_pcap_frag_limits_default(pmul_pcap_frag_limits *l)
{
    l->max_datagrams = 256;
    l->max_bytes = (size_t)16 << 20;
    l->timeout_us = 30ull * 1000000ull;
}

int
pmul_pcap_frag_new(pmul_pcap_frag **out, const mem *m, const pmul_pcap_frag_limits *l)
{
    pmul_pcap_frag *r;

    if (out == NULL)
        return PMUL_PCAP_ERR_INVAL;
    *out = NULL;
    if (l != NULL && (l->max_datagrams == 0 || l->max_bytes == 0 || l->timeout_us == 0))
        return PMUL_PCAP_ERR_INVAL;
    if ((r = mem_calloc(m, 1, sizeof(*r))) == NULL)
        return PMUL_PCAP_ERR_NOMEM;
    r->m = m;
    if (l != NULL)
        r->lim = *l;
    else
        pmul_pcap_frag_limits_default(&r->lim);
    *out = r;
    return 0;
}

static size_t
dg_cost(const fragdg *d)
{
    return sizeof(*d) + d->cap;
}

/* Forget datagram i (swap with the last: the array has no order). */
static void
dg_drop(pmul_pcap_frag *r, size_t i)
{
    fragdg *d = r->dg[i];

    r->held_bytes -= dg_cost(d);
    mem_free(r->m, d->buf);
    mem_free(r->m, d);
    r->dg[i] = r->dg[--r->dg_cnt];
}

void
pmul_pcap_frag_free(pmul_pcap_frag *r)
{
    if (r == NULL)
        return;
    while (r->dg_cnt > 0)
        dg_drop(r, r->dg_cnt - 1);
    mem_free(r->m, r->dg);
    mem_free(r->m, r->out);
    mem_free(r->m, r);
}

void
pmul_pcap_frag_get_stats(const pmul_pcap_frag *r, pmul_pcap_frag_stats *out)
{
    *out = r->st;
    out->held_datagrams = r->dg_cnt;
    out->held_bytes = r->held_bytes;
}

/* The oldest datagram other than `keep` (SIZE_MAX: none). */
static size_t
oldest(const pmul_pcap_frag *r, const fragdg *keep)
{
    size_t i, best = SIZE_MAX;

    for (i = 0; i < r->dg_cnt; i++)
        if (r->dg[i] != keep && (best == SIZE_MAX || r->dg[i]->first_us < r->dg[best]->first_us))
            best = i;
    return best;
}

/* Drop what has waited too long; capture time may step back a little
 * (merged captures), which only delays the timeout. */
static void
expire(pmul_pcap_frag *r, uint64_t now_us)
{
    size_t i = 0;

    while (i < r->dg_cnt) {
        const fragdg *d = r->dg[i];

        if (now_us > d->first_us && now_us - d->first_us > r->lim.timeout_us) {
            dg_drop(r, i);
            r->st.expired++;
        } else {
            i++;
        }
    }
}

static bool
same_key(const fragdg *d, const pmul_pcap_frame *f)
{
    if (d->ver != f->ip_version || d->proto != f->ip_proto || d->id != f->ip_id)
        return false;
    if (f->ip_version == 4) {
        uint8_t s[16] = { 0 }, t[16] = { 0 };

        memcpy(s, &f->src_ip4, sizeof(f->src_ip4));
        memcpy(t, &f->dst_ip4, sizeof(f->dst_ip4));
        return memcmp(d->src, s, 16) == 0 && memcmp(d->dst, t, 16) == 0;
    }
    return memcmp(d->src, f->src_ip6, 16) == 0 && memcmp(d->dst, f->dst_ip6, 16) == 0;
}

static void
set_key(fragdg *d, const pmul_pcap_frame *f)
{
    d->ver = f->ip_version;
    d->proto = f->ip_proto;
    d->id = f->ip_id;
    if (f->ip_version == 4) {
        memcpy(d->src, &f->src_ip4, sizeof(f->src_ip4));
        memcpy(d->dst, &f->dst_ip4, sizeof(f->dst_ip4));
    } else {
        memcpy(d->src, f->src_ip6, 16);
        memcpy(d->dst, f->dst_ip6, 16);
    }
}

/* Make room for `need` more octets held, dropping the oldest datagrams
 * other than d.  False when d alone would not fit. */
static bool
make_room(pmul_pcap_frag *r, const fragdg *d, size_t need)
{
    while (r->held_bytes + need > r->lim.max_bytes) {
        size_t i = oldest(r, d);

        if (i == SIZE_MAX)
            return false;
        dg_drop(r, i);
        r->st.evicted++;
    }
    return true;
}

static bool
unit_held(const fragdg *d, size_t u)
{
    return (d->have[u / 8u] >> (u % 8u)) & 1u;
}

/* Check the fragment [off, end) against what d holds and store it.  False
 * on a contradiction. */
static bool
store(fragdg *d, size_t off, const uint8_t *data, size_t len, bool last)
{
    size_t end = off + len, u, u_end = (end + 7u) / 8u;

    if (last) {
        if ((d->total != 0 && d->total != end) || d->high > end)
            return false;
        d->total = end;
    } else if (len % 8u != 0 || (d->total != 0 && end > d->total)) {
        return false;
    }
    /* Overlap with held units must repeat the same octets. */
    for (u = off / 8u; u < u_end; u++) {
        size_t a = u * 8u, b = a + 8u < end ? a + 8u : end;

        if (unit_held(d, u) && memcmp(d->buf + a, data + (a - off), b - a) != 0)
            return false;
    }
    if (len > 0)                        /* an empty last part has no buffer */
        memcpy(d->buf + off, data, len);
    for (u = off / 8u; u < u_end; u++) {
        if (!unit_held(d, u)) {
            d->have[u / 8u] |= (uint8_t)(1u << (u % 8u));
            d->units_held++;
        }
    }
    if (end > d->high)
        d->high = end;
    return true;
}

int
pmul_pcap_frag_push(pmul_pcap_frag *r, const pmul_pcap_frame *f,
                    const uint8_t **out, size_t *out_len, uint16_t *frag_cnt)
{
    size_t off, end, i, want;
    fragdg *d = NULL;
    void *p;

    if (r == NULL || f == NULL || out == NULL || out_len == NULL ||
        (f->ip_version != 4 && f->ip_version != 6) || f->frag_data == NULL ||
        (f->frag_offset == 0 && !f->more_frags))
        return PMUL_PCAP_ERR_INVAL;
    mem_free(r->m, r->out);
    r->out = NULL;
    expire(r, f->ts_us);

    off = (size_t)f->frag_offset * 8u;
    if (f->frag_len > FRAG_MAX_LEN - off) {
        r->st.bad++;
        return PMUL_PCAP_ERR_FRAG_BAD;
    }
    end = off + f->frag_len;

    for (i = 0; i < r->dg_cnt; i++) {
        if (same_key(r->dg[i], f)) {
            d = r->dg[i];
            break;
        }
    }
    if (d == NULL) {
        if (r->dg_cnt == r->lim.max_datagrams) {
            dg_drop(r, oldest(r, NULL));
            r->st.evicted++;
        }
        if (!make_room(r, NULL, sizeof(*d)))
            return PMUL_PCAP_ERR_FRAG_CAP;
        if (arr_grow(r->m, (void **)&r->dg, &r->dg_cap, r->dg_cnt + 1, sizeof(*r->dg),
                     r->lim.max_datagrams) != 0)
            return PMUL_PCAP_ERR_NOMEM;
        if ((d = mem_calloc(r->m, 1, sizeof(*d))) == NULL)
            return PMUL_PCAP_ERR_NOMEM;
        set_key(d, f);
        d->first_us = f->ts_us;
        i = r->dg_cnt;
        r->dg[r->dg_cnt++] = d;
        r->held_bytes += dg_cost(d);
    }

    if (end > d->cap) {
        want = (end + FRAG_BUF_STEP - 1u) / FRAG_BUF_STEP * FRAG_BUF_STEP;
        if (want > FRAG_MAX_LEN)
            want = FRAG_MAX_LEN;
        if (!make_room(r, d, want - d->cap)) {
            dg_drop(r, i);
            r->st.evicted++;
            return PMUL_PCAP_ERR_FRAG_CAP;
        }
        /* make_room may have moved d within the array. */
        for (i = 0; r->dg[i] != d; i++)
            continue;
        if ((p = mem_realloc(r->m, d->buf, want)) == NULL) {
            dg_drop(r, i);
            return PMUL_PCAP_ERR_NOMEM;
        }
        r->held_bytes += want - d->cap;
        d->buf = p;
        d->cap = want;
    }

    if (!store(d, off, f->frag_data, f->frag_len, !f->more_frags)) {
        dg_drop(r, i);
        r->st.bad++;
        return PMUL_PCAP_ERR_FRAG_BAD;
    }
    if (d->parts < UINT16_MAX)
        d->parts++;
    if (d->total == 0 || d->units_held != (d->total + 7u) / 8u)
        return 0;

    /* Whole: hand the buffer out and forget the datagram. */
    r->out = d->buf;
    *out = d->buf;
    *out_len = d->total;
    if (frag_cnt != NULL)
        *frag_cnt = d->parts;
    d->buf = NULL;
    r->held_bytes -= d->cap;
    d->cap = 0;
    dg_drop(r, i);
    r->st.completed++;
    return 1;
}

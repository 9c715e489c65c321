/*
 * NAME
 *	pmul_pdu - ACP 142 P_MUL PDU codec
 * SYNOPSIS
 *	#include "pmul/pmul_pdu.h"
 * DESCRIPTION
 *	Encodes and decodes the eleven P_MUL PDU types (docs/wire.md 2-5).
 *	Decoding is one pass in a fixed order: size of the common header,
 *	Length_of_PDU against the datagram, checksum (Fletcher or RFC 1071,
 *	computed without touching the input), type and MAP bits, then the
 *	type's body, where every count is checked against the bytes left, the
 *	spec limit and the caller's cap before it is used.  Only when the whole
 *	PDU is valid is it reported as decoded: nothing is half-applied.
 *
 *	The encoder applies the same rules to what we send (strict in what we
 *	send) and writes through a bounds-checked write cursor.
 * SECURITY
 *	Sees untrusted datagrams.  Trusts nothing in them; never allocates.
 * DIAGNOSTICS
 *	Returns the PMUL_ERR_* codes of pmul_err.h; logs nothing.
 * SEE ALSO
 *	docs/wire.md, RFC 1071, ISO 8473 (Fletcher), Wireshark packet-p_mul.c.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_pdu.h"

#include <string.h>

#include "pmul/util/cur.h"

#define CKSUM_OFF 6

/*
 * Fletcher sums as ACP 142 Annex B computes them: mod 255 over the whole
 * PDU with the checksum octets read as zero.  Sums are reduced every 4096
 * octets; 32-bit accumulators cannot overflow in that span.
 */
static void
fletcher_sums(const uint8_t *p, size_t len, uint32_t *c0_out, uint32_t *c1_out)
{
    uint32_t c0 = 0, c1 = 0;
    size_t i, n;

    for (i = 0; i < len;) {
        n = len - i > 4096 ? 4096 : len - i;
        for (; n > 0; n--, i++) {
            c0 += (i == CKSUM_OFF || i == CKSUM_OFF + 1) ? 0 : p[i];
            c1 += c0;
        }
        c0 %= 255;
        c1 %= 255;
    }
    *c0_out = c0;
    *c1_out = c1;
}

uint16_t
pmul_cksum_fletcher(const uint8_t *pdu, size_t len)
{
    uint32_t c0, c1, k, x, y;

    fletcher_sums(pdu, len, &c0, &c1);
    /* k = octets after octet 6; placing X, Y there zeroes both sums.  The
     * ISO 8473 "0 becomes 255" rule is not applied: Wireshark compares the
     * exact value (vector discard_cksum_x00_as_ff). */
    k = (uint32_t)((len - 7) % 255);
    x = (k * c0 + 255 - c1) % 255;
    y = (c1 + 255 * 255 - ((k + 1) % 255) * c0) % 255;
    return (uint16_t)(x << 8 | y);
}

uint16_t
pmul_cksum_inet(const uint8_t *pdu, size_t len)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        if (i == CKSUM_OFF)
            continue;
        sum += (uint32_t)pdu[i] << 8 | pdu[i + 1];
    }
    if (len & 1)
        sum += (uint32_t)pdu[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

const char *
pmul_pdu_type_name(unsigned type)
{
    switch (type) {
    case PMUL_PDU_DATA: return "Data_PDU";
    case PMUL_PDU_ACK: return "Ack_PDU";
    case PMUL_PDU_ADDRESS: return "Address_PDU";
    case PMUL_PDU_DISCARD: return "Discard_Message_PDU";
    case PMUL_PDU_ANNOUNCE: return "Announce_PDU";
    case PMUL_PDU_REQUEST: return "Request_PDU";
    case PMUL_PDU_REJECT: return "Reject_PDU";
    case PMUL_PDU_RELEASE: return "Release_PDU";
    case PMUL_PDU_FEC_ADDRESS: return "FEC_Address_PDU";
    case PMUL_PDU_EXTRA_ADDRESS: return "Extra_Address_PDU";
    case PMUL_PDU_EXTRA_FEC_ADDRESS: return "Extra_FEC_Address_PDU";
    }
    return "unknown";
}

bool
pmul_pdu_is_address(unsigned type)
{
    return type == PMUL_PDU_ADDRESS || type == PMUL_PDU_EXTRA_ADDRESS ||
           type == PMUL_PDU_FEC_ADDRESS || type == PMUL_PDU_EXTRA_FEC_ADDRESS;
}

static bool
is_fec(unsigned type)
{
    return type == PMUL_PDU_FEC_ADDRESS || type == PMUL_PDU_EXTRA_FEC_ADDRESS;
}

static bool
is_known_type(unsigned type)
{
    return type <= PMUL_PDU_RELEASE || type == PMUL_PDU_FEC_ADDRESS ||
           type == PMUL_PDU_EXTRA_ADDRESS || type == PMUL_PDU_EXTRA_FEC_ADDRESS;
}

/* MAP is meaningful only where a destination list may be split (2.2). */
static bool
uses_map(unsigned type)
{
    return pmul_pdu_is_address(type) || type == PMUL_PDU_ANNOUNCE;
}

/*
 * Check the syntax of a missing list as Wireshark 4.0 reads it (4.4.1):
 * singles, "a, 0, b" ranges with a < b, and a value not above the previous
 * one ends the list.  A zero that does not sit inside a range triple is
 * invalid.
 */
static int
missing_check(const uint16_t *w, size_t cnt)
{
    size_t i = 0;
    uint32_t prev = 0;

    while (i < cnt) {
        if (w[i] == 0)
            return PMUL_ERR_ACK_MISSING;
        if (w[i] <= prev)
            return 0;                   /* end of list indicator */
        if (i + 1 < cnt && w[i + 1] == 0) {
            if (i + 2 >= cnt)
                return PMUL_ERR_ACK_MISSING;
            if (w[i] >= w[i + 2])
                return PMUL_ERR_ACK_RANGE;
            prev = w[i + 2];
            i += 3;
        } else {
            prev = w[i];
            i += 1;
        }
    }
    return 0;
}

bool
pmul_missing_next(const uint16_t *w, size_t cnt, size_t *pos, uint16_t *lo, uint16_t *hi)
{
    size_t i = *pos;
    uint16_t prev;

    if (i >= cnt || w[i] == 0)
        return false;
    /* The previous value is the last word of the previous item. */
    prev = i > 0 ? w[i - 1] : 0;
    if (w[i] <= prev)
        return false;
    if (i + 2 < cnt && w[i + 1] == 0) {
        *lo = w[i];
        *hi = w[i + 2];
        *pos = i + 3;
    } else {
        *lo = *hi = w[i];
        *pos = i + 1;
    }
    return true;
}

uint32_t
pmul_missing_count(const uint16_t *w, size_t cnt)
{
    size_t pos = 0;
    uint16_t lo, hi;
    uint32_t n = 0;

    while (pmul_missing_next(w, cnt, &pos, &lo, &hi))
        n += (uint32_t)(hi - lo) + 1;
    return n;
}

size_t
pmul_pdu_data_max_frag(size_t pdu_max)
{
    if (pdu_max > PMUL_PDU_MAX_LEN)
        pdu_max = PMUL_PDU_MAX_LEN;
    return pdu_max > PMUL_DATA_HDR_LEN ? pdu_max - PMUL_DATA_HDR_LEN : 0;
}

size_t
pmul_pdu_address_max_dests(size_t pdu_max, size_t reserved_len)
{
    size_t n;

    if (pdu_max > PMUL_PDU_MAX_LEN)
        pdu_max = PMUL_PDU_MAX_LEN;
    if (pdu_max <= PMUL_ADDRESS_HDR_LEN || reserved_len > PMUL_PDU_MAX_LEN)
        return 0;
    n = (pdu_max - PMUL_ADDRESS_HDR_LEN) / (PMUL_DEST_ENTRY_LEN + reserved_len);
    return n > 0xffff ? 0xffff : n;
}

/* ---- decoding ---------------------------------------------------------- */

/* Destination entries fill the rest of the body exactly (4.2). */
static int
decode_dests(cur *c, pmul_pdu *pdu, pmul_pdu_scratch *s)
{
    size_t entry_len = PMUL_DEST_ENTRY_LEN + pdu->u.address.reserved_len;
    size_t cnt = pdu->u.address.dest_cnt, i;

    /* cnt <= 65535 and entry_len <= 65543: the product fits in 64 bits
     * (not always in a 32-bit size_t). */
    if ((uint64_t)cnt * entry_len > c->left)
        return PMUL_ERR_TRUNCATED;
    if ((uint64_t)cnt * entry_len < c->left)
        return PMUL_ERR_DEST_COUNT;
    if (pdu->u.address.reserved_len > s->max_reserved_len)
        return PMUL_ERR_CAP;
    if (cnt > s->dests_cap)
        return PMUL_ERR_CAP;
    for (i = 0; i < cnt; i++) {
        pmul_dest_entry *d = &s->dests[i];

        if (!cur_u32be(c, &d->dest_id) || !cur_u32be(c, &d->msg_seq_no) ||
            !cur_view(c, &d->reserved, pdu->u.address.reserved_len))
            return PMUL_ERR_TRUNCATED;
        if (pdu->u.address.reserved_len == 0)
            d->reserved = NULL;
    }
    pdu->u.address.dests = cnt > 0 ? s->dests : NULL;
    return 0;
}

static int
decode_address(cur *c, pmul_pdu *pdu, pmul_pdu_scratch *s)
{
    pdu->u.address.fec_id = 0;
    pdu->u.address.fec_param_len = 0;
    pdu->u.address.fec_params = NULL;
    if (!cur_u32be(c, &pdu->u.address.expiry_time))
        return PMUL_ERR_TRUNCATED;
    if (is_fec(pdu->type)) {
        if (!cur_u8(c, &pdu->u.address.fec_param_len) ||
            !cur_u8(c, &pdu->u.address.fec_id) ||
            !cur_view(c, &pdu->u.address.fec_params, pdu->u.address.fec_param_len))
            return PMUL_ERR_TRUNCATED;
    }
    if (!cur_u16be(c, &pdu->u.address.dest_cnt) ||
        !cur_u16be(c, &pdu->u.address.reserved_len))
        return PMUL_ERR_TRUNCATED;
    return decode_dests(c, pdu, s);
}

static int
decode_ack(cur *c, pmul_pdu *pdu, pmul_pdu_scratch *s)
{
    uint16_t cnt, elen, i, j, m;
    size_t used = 0;
    int err;

    if (!cur_u16be(c, &cnt))
        return PMUL_ERR_TRUNCATED;
    if (cnt == 0)
        return PMUL_ERR_ACK_COUNT;
    /* Each entry takes at least 10 octets: a count the body cannot hold is
     * rejected before the cap is even consulted. */
    if ((size_t)cnt * PMUL_ACK_ENTRY_HDR_LEN > c->left)
        return PMUL_ERR_TRUNCATED;
    if (cnt > s->acks_cap)
        return PMUL_ERR_CAP;
    for (i = 0; i < cnt; i++) {
        pmul_ack_entry *e = &s->acks[i];
        cur ec;

        if (!cur_u16be(c, &elen))
            return PMUL_ERR_TRUNCATED;
        if (elen < PMUL_ACK_ENTRY_HDR_LEN || (elen & 1) != 0)
            return PMUL_ERR_ACK_ENTRY_LEN;
        /* The entry length counts its own two octets. */
        if (!cur_sub(c, &ec, (size_t)elen - 2))
            return PMUL_ERR_ACK_ENTRY_LEN;
        (void)cur_u32be(&ec, &e->source_id);
        (void)cur_u32be(&ec, &e->msid);
        m = (uint16_t)((elen - PMUL_ACK_ENTRY_HDR_LEN) / 2);
        if (m > s->missing_cap - used)
            return PMUL_ERR_CAP;
        for (j = 0; j < m; j++)
            (void)cur_u16be(&ec, &s->missing[used + j]);
        e->missing = m > 0 ? &s->missing[used] : NULL;
        e->missing_cnt = m;
        if ((err = missing_check(e->missing, m)) != 0)
            return err;
        used += m;
    }
    pdu->u.ack.entry_cnt = cnt;
    pdu->u.ack.entries = s->acks;
    pdu->u.ack.has_timestamp = false;
    pdu->u.ack.timestamp = 0;
    if (c->left == PMUL_ACK_TIMESTAMP_LEN) {
        (void)cur_u64be(c, &pdu->u.ack.timestamp);
        pdu->u.ack.has_timestamp = true;
    } else if (c->left != 0) {
        return PMUL_ERR_TIMESTAMP;
    }
    return 0;
}

static int
decode_announce(cur *c, pmul_pdu *pdu, pmul_pdu_scratch *s)
{
    uint16_t cnt = pdu->u.announce.dest_cnt, i;

    if (!cur_u32be(c, &pdu->msid) || !cur_u32be(c, &pdu->u.announce.expiry_time) ||
        !cur_u32be(c, &pdu->u.announce.mcast_group))
        return PMUL_ERR_TRUNCATED;
    if ((size_t)cnt * 4 > c->left)
        return PMUL_ERR_TRUNCATED;
    if ((size_t)cnt * 4 < c->left)
        return PMUL_ERR_DEST_COUNT;
    if (cnt > s->dest_ids_cap)
        return PMUL_ERR_CAP;
    for (i = 0; i < cnt; i++)
        (void)cur_u32be(c, &s->dest_ids[i]);
    pdu->u.announce.dest_ids = cnt > 0 ? s->dest_ids : NULL;
    return 0;
}

/* Record the first strict-mode error; true when the caller's flags allow
 * decoding to go on past it. */
static bool
relax(int *first, int err, unsigned flags, unsigned flag)
{
    if (*first == 0)
        *first = err;
    return (flags & flag) != 0;
}

/* A structural error ends decoding: report the first strict-mode error
 * (which may be an earlier, relaxed one) and return this one. */
static int
fail(int *first_err, int first, int err)
{
    *first_err = first != 0 ? first : err;
    return err;
}

int
pmul_pdu_decode(pmul_pdu *out, pmul_pdu_scratch *s, const uint8_t *pkt, size_t len)
{
    int first;

    return pmul_pdu_decode_ex(out, s, pkt, len, 0, &first);
}

int
pmul_pdu_decode_ex(pmul_pdu *out, pmul_pdu_scratch *s, const uint8_t *pkt, size_t len,
                   unsigned flags, int *first_err)
{
    pmul_pdu pdu;
    size_t max_len;
    uint16_t word45;
    uint8_t maptype;
    cur c;
    int err = 0, first = 0;

    *first_err = 0;
    memset(&pdu, 0, sizeof(pdu));
    max_len = s->max_pdu_len != 0 ? s->max_pdu_len : PMUL_PDU_MAX_LEN;
    if (len < PMUL_HDR_LEN)
        return *first_err = PMUL_ERR_SHORT;
    if (len > max_len || len > PMUL_PDU_MAX_LEN)
        return *first_err = PMUL_ERR_TOO_LONG;
    cur_init(&c, pkt, len);
    (void)cur_u16be(&c, &pdu.length);
    (void)cur_u8(&c, &pdu.priority);
    (void)cur_u8(&c, &maptype);
    (void)cur_u16be(&c, &word45);
    (void)cur_u16be(&c, &pdu.checksum);
    (void)cur_u32be(&c, &pdu.source_id);

    /* The datagram is the PDU: a shorter Length_of_PDU leaves trailing
     * octets (which a Fletcher check alone would not catch: appended zeros
     * keep both sums at 0).  Relaxed, the structure is read over the
     * shorter of the two. */
    if (pdu.length > len || pdu.length < PMUL_HDR_LEN) {
        if (!relax(&first, PMUL_ERR_LENGTH, flags, PMUL_DECODE_ANY_LENGTH))
            return fail(first_err, first, first);
    } else if (pdu.length < len) {
        if (!relax(&first, PMUL_ERR_TRAILING, flags, PMUL_DECODE_ANY_LENGTH))
            return fail(first_err, first, first);
        c.left -= len - pdu.length;
        len = pdu.length;
    }

    if (pdu.checksum == pmul_cksum_fletcher(pkt, len))
        pdu.cksum_kind = PMUL_CKSUM_FLETCHER;
    else if (pdu.checksum == pmul_cksum_inet(pkt, len))
        pdu.cksum_kind = PMUL_CKSUM_INET;
    else if (!relax(&first, PMUL_ERR_CHECKSUM, flags, PMUL_DECODE_ANY_CKSUM))
        return fail(first_err, first, PMUL_ERR_CHECKSUM);
    /* else cksum_kind stays 0: bad, but the caller asked to see the fields */

    pdu.type = maptype & (uint8_t)~PMUL_MAP_MASK;
    pdu.map = maptype & PMUL_MAP_MASK;
    if (!is_known_type(pdu.type))
        return fail(first_err, first, PMUL_ERR_TYPE);
    if (pdu.map != 0 && !uses_map(pdu.type))
        return fail(first_err, first, PMUL_ERR_MAP);

    switch (pdu.type) {
    case PMUL_PDU_DATA:
        if (!cur_u32be(&c, &pdu.msid))
            return fail(first_err, first, PMUL_ERR_TRUNCATED);
        if (word45 == 0)
            return fail(first_err, first, PMUL_ERR_SEQ_ZERO);
        pdu.u.data.seq = word45;
        pdu.u.data.frag_len = c.left;
        pdu.u.data.frag = c.left > 0 ? c.p : NULL;
        (void)cur_skip(&c, c.left);
        break;
    case PMUL_PDU_ADDRESS:
    case PMUL_PDU_EXTRA_ADDRESS:
    case PMUL_PDU_FEC_ADDRESS:
    case PMUL_PDU_EXTRA_FEC_ADDRESS:
        if (!cur_u32be(&c, &pdu.msid))
            return fail(first_err, first, PMUL_ERR_TRUNCATED);
        pdu.u.address.total_pdus = word45;
        err = decode_address(&c, &pdu, s);
        break;
    case PMUL_PDU_ACK:
        err = decode_ack(&c, &pdu, s);
        break;
    case PMUL_PDU_DISCARD:
        if (!cur_u32be(&c, &pdu.msid))
            return fail(first_err, first, PMUL_ERR_TRUNCATED);
        break;
    case PMUL_PDU_ANNOUNCE:
        pdu.u.announce.dest_cnt = word45;
        err = decode_announce(&c, &pdu, s);
        break;
    case PMUL_PDU_REQUEST:
    case PMUL_PDU_REJECT:
    case PMUL_PDU_RELEASE:
        if (!cur_u32be(&c, &pdu.msid) || !cur_u32be(&c, &pdu.u.group.mcast_group))
            return fail(first_err, first, PMUL_ERR_TRUNCATED);
        break;
    }
    if (err == 0 && c.left != 0)
        err = PMUL_ERR_TRAILING;
    if (err != 0)
        return fail(first_err, first, err);
    *first_err = first;
    *out = pdu;
    return 0;
}

/* ---- encoding ---------------------------------------------------------- */

/* Validate what we are about to send and compute its length. */
ssize_t
pmul_pdu_encoded_len(const pmul_pdu *pdu)
{
    size_t len, i, entry_len;
    int err;

    if (pdu == NULL)
        return PMUL_ERR_INVAL;
    if (!is_known_type(pdu->type))
        return PMUL_ERR_TYPE;
    if ((pdu->map & (uint8_t)~PMUL_MAP_MASK) != 0)
        return PMUL_ERR_INVAL;
    if (pdu->map != 0 && !uses_map(pdu->type))
        return PMUL_ERR_MAP;

    switch (pdu->type) {
    case PMUL_PDU_DATA:
        if (pdu->u.data.seq == 0)
            return PMUL_ERR_SEQ_ZERO;
        if (pdu->u.data.frag_len > PMUL_PDU_MAX_LEN - PMUL_DATA_HDR_LEN)
            return PMUL_ERR_RANGE;
        if (pdu->u.data.frag_len > 0 && pdu->u.data.frag == NULL)
            return PMUL_ERR_INVAL;
        len = PMUL_DATA_HDR_LEN + pdu->u.data.frag_len;
        break;
    case PMUL_PDU_ADDRESS:
    case PMUL_PDU_EXTRA_ADDRESS:
    case PMUL_PDU_FEC_ADDRESS:
    case PMUL_PDU_EXTRA_FEC_ADDRESS:
        len = PMUL_ADDRESS_HDR_LEN;
        if (is_fec(pdu->type)) {
            len += 2 + (size_t)pdu->u.address.fec_param_len;
            if (pdu->u.address.fec_param_len > 0 && pdu->u.address.fec_params == NULL)
                return PMUL_ERR_INVAL;
        }
        if (pdu->u.address.dest_cnt > 0 && pdu->u.address.dests == NULL)
            return PMUL_ERR_INVAL;
        entry_len = PMUL_DEST_ENTRY_LEN + pdu->u.address.reserved_len;
        if ((uint64_t)pdu->u.address.dest_cnt * entry_len > PMUL_PDU_MAX_LEN - len)
            return PMUL_ERR_RANGE;
        if (pdu->u.address.reserved_len > 0)
            for (i = 0; i < pdu->u.address.dest_cnt; i++)
                if (pdu->u.address.dests[i].reserved == NULL)
                    return PMUL_ERR_INVAL;
        len += (size_t)pdu->u.address.dest_cnt * entry_len;
        break;
    case PMUL_PDU_ACK:
        if (pdu->u.ack.entry_cnt == 0)
            return PMUL_ERR_ACK_COUNT;
        if (pdu->u.ack.entries == NULL)
            return PMUL_ERR_INVAL;
        len = PMUL_ACK_HDR_LEN;
        for (i = 0; i < pdu->u.ack.entry_cnt; i++) {
            const pmul_ack_entry *e = &pdu->u.ack.entries[i];

            if (e->missing_cnt > 0 && e->missing == NULL)
                return PMUL_ERR_INVAL;
            entry_len = PMUL_ACK_ENTRY_HDR_LEN + 2 * (size_t)e->missing_cnt;
            if (entry_len > 0xffff || entry_len > PMUL_PDU_MAX_LEN - len)
                return PMUL_ERR_RANGE;
            if ((err = missing_check(e->missing, e->missing_cnt)) != 0)
                return err;
            len += entry_len;
        }
        if (pdu->u.ack.has_timestamp) {
            if (PMUL_ACK_TIMESTAMP_LEN > PMUL_PDU_MAX_LEN - len)
                return PMUL_ERR_RANGE;
            len += PMUL_ACK_TIMESTAMP_LEN;
        }
        break;
    case PMUL_PDU_DISCARD:
        len = PMUL_DISCARD_LEN;
        break;
    case PMUL_PDU_ANNOUNCE:
        if (pdu->u.announce.dest_cnt > 0 && pdu->u.announce.dest_ids == NULL)
            return PMUL_ERR_INVAL;
        if ((size_t)pdu->u.announce.dest_cnt * 4 > PMUL_PDU_MAX_LEN - PMUL_ANNOUNCE_HDR_LEN)
            return PMUL_ERR_RANGE;
        len = PMUL_ANNOUNCE_HDR_LEN + (size_t)pdu->u.announce.dest_cnt * 4;
        break;
    default:                            /* Request, Reject, Release */
        len = PMUL_GROUP_PDU_LEN;
        break;
    }
    return (ssize_t)len;
}

ssize_t
pmul_pdu_encode(const pmul_pdu *pdu, uint8_t *out, size_t cap)
{
    ssize_t n;
    size_t i, j;
    uint16_t word45 = 0;
    uint8_t prio;
    wcur w;

    if ((n = pmul_pdu_encoded_len(pdu)) < 0)
        return n;
    if (out == NULL || (size_t)n > cap)
        return PMUL_ERR_NOSPACE;

    switch (pdu->type) {
    case PMUL_PDU_DATA: word45 = pdu->u.data.seq; break;
    case PMUL_PDU_ADDRESS:
    case PMUL_PDU_EXTRA_ADDRESS:
    case PMUL_PDU_FEC_ADDRESS:
    case PMUL_PDU_EXTRA_FEC_ADDRESS: word45 = pdu->u.address.total_pdus; break;
    case PMUL_PDU_ANNOUNCE: word45 = pdu->u.announce.dest_cnt; break;
    default: break;
    }
    /* Priority is unused (sent as 0) on the group-management PDUs. */
    prio = (pdu->type >= PMUL_PDU_ANNOUNCE && pdu->type <= PMUL_PDU_RELEASE) ? 0 : pdu->priority;

    wcur_init(&w, out, cap);
    wcur_u16be(&w, (uint16_t)n);
    wcur_u8(&w, prio);
    wcur_u8(&w, (uint8_t)(pdu->map | pdu->type));
    wcur_u16be(&w, word45);
    wcur_u16be(&w, 0);                  /* checksum, patched below */
    wcur_u32be(&w, pdu->source_id);

    switch (pdu->type) {
    case PMUL_PDU_DATA:
        wcur_u32be(&w, pdu->msid);
        wcur_bytes(&w, pdu->u.data.frag, pdu->u.data.frag_len);
        break;
    case PMUL_PDU_ADDRESS:
    case PMUL_PDU_EXTRA_ADDRESS:
    case PMUL_PDU_FEC_ADDRESS:
    case PMUL_PDU_EXTRA_FEC_ADDRESS:
        wcur_u32be(&w, pdu->msid);
        wcur_u32be(&w, pdu->u.address.expiry_time);
        if (is_fec(pdu->type)) {
            wcur_u8(&w, pdu->u.address.fec_param_len);
            wcur_u8(&w, pdu->u.address.fec_id);
            wcur_bytes(&w, pdu->u.address.fec_params, pdu->u.address.fec_param_len);
        }
        wcur_u16be(&w, pdu->u.address.dest_cnt);
        wcur_u16be(&w, pdu->u.address.reserved_len);
        for (i = 0; i < pdu->u.address.dest_cnt; i++) {
            const pmul_dest_entry *d = &pdu->u.address.dests[i];

            wcur_u32be(&w, d->dest_id);
            wcur_u32be(&w, d->msg_seq_no);
            wcur_bytes(&w, d->reserved, pdu->u.address.reserved_len);
        }
        break;
    case PMUL_PDU_ACK:
        wcur_u16be(&w, pdu->u.ack.entry_cnt);
        for (i = 0; i < pdu->u.ack.entry_cnt; i++) {
            const pmul_ack_entry *e = &pdu->u.ack.entries[i];

            wcur_u16be(&w, (uint16_t)(PMUL_ACK_ENTRY_HDR_LEN + 2 * (size_t)e->missing_cnt));
            wcur_u32be(&w, e->source_id);
            wcur_u32be(&w, e->msid);
            for (j = 0; j < e->missing_cnt; j++)
                wcur_u16be(&w, e->missing[j]);
        }
        if (pdu->u.ack.has_timestamp)
            wcur_u64be(&w, pdu->u.ack.timestamp);
        break;
    case PMUL_PDU_DISCARD:
        wcur_u32be(&w, pdu->msid);
        break;
    case PMUL_PDU_ANNOUNCE:
        wcur_u32be(&w, pdu->msid);
        wcur_u32be(&w, pdu->u.announce.expiry_time);
        wcur_u32be(&w, pdu->u.announce.mcast_group);
        for (i = 0; i < pdu->u.announce.dest_cnt; i++)
            wcur_u32be(&w, pdu->u.announce.dest_ids[i]);
        break;
    default:
        wcur_u32be(&w, pdu->msid);
        wcur_u32be(&w, pdu->u.group.mcast_group);
        break;
    }
    wcur_patch_u16be(&w, CKSUM_OFF, pmul_cksum_fletcher(out, (size_t)n));
    /* encoded_len and the writes above must agree; a mismatch is a bug. */
    if (w.overflow || w.len != (size_t)n)
        return PMUL_ERR_FATAL;
    return n;
}

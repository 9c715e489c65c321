/*
 * NAME
 *	pmul_auth 3
 * SUMMARY
 *	authenticated P_MUL: MAC trailer and replay window (sans-I/O)
 * SYNOPSIS
 *	#include "pmul/pmul_auth.h"
 * DESCRIPTION
 *	Seals outgoing datagrams with a 30-octet trailer (layout in
 *	pmul_auth.h and docs/pmul-auth.md) and opens incoming ones: trailer
 *	present, version and key ID ours, balance octets right, MAC right
 *	(CRYPTO_memcmp), and the sequence number new for its sender.  The
 *	replay check is the sliding window of IPsec ESP (RFC 4303 section
 *	3.4.3) with a bitmap of PMUL_AUTH_WINDOW sequence numbers below the
 *	highest one accepted, kept as a ring indexed by the sequence number
 *	(RFC 6479) so that advancing the window clears bits instead of
 *	shifting the whole map.
 *
 *	The module reads no clock and does no I/O (style.md 2): the sealing
 *	caller passes the wall clock in milliseconds.  It uses libcrypto's
 *	HMAC, which is arithmetic; it is built as its own library
 *	(pmul_auth) so that pmul_core stays free of libcrypto.
 * SECURITY
 *	Sees untrusted datagrams in pmul_auth_open().  Everything about them
 *	is checked before any state changes: the replay state of a sender is
 *	created or moved only for a datagram whose MAC verified, so a node
 *	without the key cannot fill or evict it.  Trusted: the key and the
 *	configuration.  Every node holding the key is trusted alike (one
 *	network key): the mode keeps outsiders out, it does not tell key
 *	holders apart, and it does not hide anything (no encryption).
 * DIAGNOSTICS
 *	Returns PMUL_ERR_AUTH_MISSING, _BAD, _REPLAY and counts each in
 *	pmul_auth_stats.drops; logs nothing (the adapter does).
 * SEE ALSO
 *	pmul_uv.c (the adapter that calls it), docs/pmul-auth.md.
 * LICENSE
 *	MIT (see LICENSE).
 */
#include "pmul/pmul_auth.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "pmul/pmul_pdu.h"
#include "pmul/util/cur.h"
#include "pmul/util/map.h"

/* Trailer field offsets (pmul_auth.h). */
#define T_MAGIC0    0x4du       /* 'M' */
#define T_MAGIC1    0x41u       /* 'A' */
#define T_HDR_LEN   12u         /* magic, version, key ID, sequence */
#define T_MAC_OFF   12u
#define T_BAL_OFF   28u

#define WINDOW_WORDS (PMUL_AUTH_WINDOW / 64u)
_Static_assert(PMUL_AUTH_WINDOW % 64u == 0, "the window is whole 64-bit words");
_Static_assert(T_BAL_OFF + 2u == PMUL_AUTH_TRAILER_LEN, "trailer layout");

/* Largest max_sources accepted: the replay state stays under ~150 MiB. */
#define MAX_SOURCES_LIMIT ((size_t)1 << 20)

#define NONE UINT32_MAX

/* Replay state of one sender, and its place in the LRU list. */
typedef struct auth_src {
    uint64_t top;                       /* highest sequence accepted */
    uint64_t bits[WINDOW_WORDS];        /* bit (seq % WINDOW): seq seen */
    uint32_t ip;
    uint32_t prev, next;                /* LRU: head is the most recent */
} auth_src;

struct pmul_auth {
    const mem *m;
    uint8_t key[PMUL_AUTH_KEY_MAX];
    size_t key_len;
    uint8_t key_id;
    uint64_t max_age_ms;

    EVP_MAC *mac;
    EVP_MAC_CTX *ctx;                   /* keyed once; re-initialised per use */

    /* Sender: see next_seq(). */
    uint64_t epoch_ms;                  /* 0: nothing sent yet */
    uint32_t ctr;                       /* next counter, 0 .. 65535 */

    /* Receiver: every slot is allocated up front (no peer-driven
     * allocation); map from IP to slot index. */
    auth_src *src;
    size_t src_cap, src_cnt;
    uint32_t lru_head, lru_tail;
    map by_ip;

    pmul_auth_stats st;
};

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

/*
 * Raw Fletcher sums (ACP 142 Annex B) over p[0..len), continuing from
 * *c0, *c1.  Sums are kept in 64 bits and reduced once per block: within
 * 4096 octets c0 stays under 2^21 and c1 under 2^33.
 */
static void fletcher_sums(const uint8_t *p, size_t len, uint32_t *c0, uint32_t *c1)
{
    uint64_t a = *c0, b = *c1;

    while (len > 0) {
        size_t n = len < 4096 ? len : 4096;

        for (size_t i = 0; i < n; i++) {
            a += p[i];
            b += a;
        }
        a %= 255;
        b %= 255;
        p += n;
        len -= n;
    }
    *c0 = (uint32_t)a;
    *c1 = (uint32_t)b;
}

/*
 * The two octets that, appended to p[0..len), bring both Fletcher sums of
 * the whole to 0 mod 255.  Wireshark computes the PDU's checksum over the
 * whole UDP payload (docs/wire.md 3); the PDU alone sums to zero, so the
 * trailer must too or every sealed PDU would show "Bad checksum".
 * With sums (c0, c1) before them, octets x, y give c0' = c0 + x + y and
 * c1' = c1 + 2 c0 + 2 x + y; both zero gives x = -(c0 + c1), y = -(c0 + x).
 */
static void balance_of(const uint8_t *p, size_t len, uint8_t out[2])
{
    uint32_t c0 = 0, c1 = 0, x, y;

    fletcher_sums(p, len, &c0, &c1);
    x = (2u * 255u - c0 - c1) % 255u;
    y = (2u * 255u - c0 - x) % 255u;
    out[0] = (uint8_t)x;
    out[1] = (uint8_t)y;
}

/* HMAC-SHA-256 over hdr || ip_src || pdu, truncated. */
static int mac_of(pmul_auth *a, const uint8_t hdr[T_HDR_LEN], uint32_t ip_src,
                  const uint8_t *pdu, size_t pdu_len, uint8_t out[PMUL_AUTH_MAC_LEN])
{
    uint8_t ip[4], full[EVP_MAX_MD_SIZE];
    size_t outl = 0;
    wcur w;
    int ok;

    wcur_init(&w, ip, sizeof ip);
    wcur_u32be(&w, ip_src);
    /* A NULL key re-uses the key set in pmul_auth_new(): HMAC keeps its
     * padded key states, so each datagram costs no key schedule. */
    ok = EVP_MAC_init(a->ctx, NULL, 0, NULL) == 1 &&
         EVP_MAC_update(a->ctx, hdr, T_HDR_LEN) == 1 &&
         EVP_MAC_update(a->ctx, ip, sizeof ip) == 1 &&
         EVP_MAC_update(a->ctx, pdu, pdu_len) == 1 &&
         EVP_MAC_final(a->ctx, full, &outl, sizeof full) == 1 &&
         outl >= PMUL_AUTH_MAC_LEN;
    if (ok)
        memcpy(out, full, PMUL_AUTH_MAC_LEN);
    OPENSSL_cleanse(full, sizeof full);
    return ok ? 0 : PMUL_ERR_FATAL;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                         */
/* ------------------------------------------------------------------ */

int pmul_auth_new(pmul_auth **out, const pmul_auth_config *cfg, const mem *m)
{
    OSSL_PARAM params[2];
    pmul_auth *a;
    size_t cap;
    int rc;

    if (out == NULL)
        return PMUL_ERR_INVAL;
    *out = NULL;
    if (cfg == NULL || cfg->key == NULL || cfg->key_len < PMUL_AUTH_KEY_MIN ||
        cfg->key_len > PMUL_AUTH_KEY_MAX || cfg->max_sources > MAX_SOURCES_LIMIT ||
        (cfg->max_age_ms != 0 && cfg->max_age_ms < PMUL_AUTH_MIN_AGE_MS))
        return PMUL_ERR_INVAL;
    cap = cfg->max_sources != 0 ? cfg->max_sources : PMUL_AUTH_MAX_SOURCES;
    a = mem_calloc(m, 1, sizeof(*a));
    if (a == NULL)
        return PMUL_ERR_NOMEM;
    a->m = m;
    memcpy(a->key, cfg->key, cfg->key_len);
    a->key_len = cfg->key_len;
    a->key_id = cfg->key_id;
    a->max_age_ms = cfg->max_age_ms;
    a->lru_head = a->lru_tail = NONE;
    /* Room for twice the cap: an eviction leaves a dead entry in the map
     * until it compacts, which it does without allocating only when half
     * of its array is dead. */
    map_init(&a->by_ip, m, 2 * cap);
    a->src_cap = cap;
    a->src = mem_calloc(m, cap, sizeof(*a->src));
    if (a->src == NULL) {
        rc = PMUL_ERR_NOMEM;
        goto fail;
    }
    /* All lookups are allocated now, so that open never allocates. */
    if (map_reserve(&a->by_ip, 2 * cap) != 0) {
        rc = PMUL_ERR_NOMEM;
        goto fail;
    }
    a->mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    a->ctx = a->mac != NULL ? EVP_MAC_CTX_new(a->mac) : NULL;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (a->ctx == NULL || EVP_MAC_init(a->ctx, a->key, a->key_len, params) != 1) {
        rc = PMUL_ERR_FATAL;
        goto fail;
    }
    *out = a;
    return 0;

fail:
    pmul_auth_free(a);
    return rc;
}

void pmul_auth_free(pmul_auth *a)
{
    if (a == NULL)
        return;
    EVP_MAC_CTX_free(a->ctx);
    EVP_MAC_free(a->mac);
    OPENSSL_cleanse(a->key, sizeof a->key);
    map_fini(&a->by_ip);
    mem_free(a->m, a->src);
    mem_free(a->m, a);
}

/* ------------------------------------------------------------------ */
/* Sealing                                                            */
/* ------------------------------------------------------------------ */

/*
 * The next sequence number: epoch_ms << 16 | counter.  The epoch is the
 * wall clock when the first datagram is sent and again after
 * PMUL_AUTH_REANCHOR_MS; when the counter wraps it moves on by one
 * millisecond at least.  It therefore never runs ahead of the wall clock
 * unless a node sends more than 65,536 datagrams in one millisecond, and
 * a restarted node (whose first epoch is its wall clock then) starts above
 * every number it used before: peers never take its new datagrams for
 * replays, with no state on disk.  The one hazard is a clock set back
 * across a restart: peers then drop the node's datagrams (counted as
 * auth-replay) until the clock passes the old epoch.  Re-anchoring also
 * keeps the epoch within a minute of the send time, which lets a receiver
 * refuse stale datagrams by age (max_age_ms).
 */
static uint64_t next_seq(pmul_auth *a, uint64_t wall_ms)
{
    uint64_t seq;

    wall_ms &= (UINT64_C(1) << 48) - 1;
    if (a->epoch_ms == 0 || a->ctr > 0xffffu ||
        (wall_ms > a->epoch_ms && wall_ms - a->epoch_ms >= PMUL_AUTH_REANCHOR_MS)) {
        uint64_t next = a->epoch_ms + 1;

        a->epoch_ms = wall_ms > next ? wall_ms : next;
        a->ctr = 0;
    }
    seq = a->epoch_ms << 16 | a->ctr;
    a->ctr++;
    return seq;
}

ssize_t pmul_auth_seal(pmul_auth *a, uint64_t wall_ms, uint32_t ip_src, uint8_t *buf,
                       size_t pdu_len, size_t cap)
{
    uint8_t *t;
    wcur w;
    int rc;

    if (a == NULL || buf == NULL || pdu_len < PMUL_HDR_LEN || pdu_len > 65535u)
        return PMUL_ERR_INVAL;
    if (cap < pdu_len || cap - pdu_len < PMUL_AUTH_TRAILER_LEN)
        return PMUL_ERR_NOSPACE;
    t = buf + pdu_len;
    wcur_init(&w, t, PMUL_AUTH_TRAILER_LEN);
    wcur_u8(&w, T_MAGIC0);
    wcur_u8(&w, T_MAGIC1);
    wcur_u8(&w, PMUL_AUTH_VERSION);
    wcur_u8(&w, a->key_id);
    wcur_u64be(&w, next_seq(a, wall_ms));
    if ((rc = mac_of(a, t, ip_src, buf, pdu_len, t + T_MAC_OFF)) < 0)
        return rc;
    balance_of(buf, pdu_len + T_BAL_OFF, t + T_BAL_OFF);
    a->st.sealed++;
    return (ssize_t)(pdu_len + PMUL_AUTH_TRAILER_LEN);
}

/* ------------------------------------------------------------------ */
/* Replay window                                                      */
/* ------------------------------------------------------------------ */

static void lru_unlink(pmul_auth *a, uint32_t i)
{
    auth_src *s = &a->src[i];

    if (s->prev != NONE)
        a->src[s->prev].next = s->next;
    else
        a->lru_head = s->next;
    if (s->next != NONE)
        a->src[s->next].prev = s->prev;
    else
        a->lru_tail = s->prev;
    s->prev = s->next = NONE;
}

static void lru_push_head(pmul_auth *a, uint32_t i)
{
    auth_src *s = &a->src[i];

    s->prev = NONE;
    s->next = a->lru_head;
    if (a->lru_head != NONE)
        a->src[a->lru_head].prev = i;
    a->lru_head = i;
    if (a->lru_tail == NONE)
        a->lru_tail = i;
}

static bool bit_get(const auth_src *s, uint64_t seq)
{
    uint64_t b = seq % PMUL_AUTH_WINDOW;

    return (s->bits[b / 64] >> (b % 64)) & 1u;
}

static void bit_set(auth_src *s, uint64_t seq)
{
    uint64_t b = seq % PMUL_AUTH_WINDOW;

    s->bits[b / 64] |= UINT64_C(1) << (b % 64);
}

/* Would seq be accepted from s?  (No change.) */
static bool is_fresh(const auth_src *s, uint64_t seq)
{
    if (seq > s->top)
        return true;
    if (s->top - seq >= PMUL_AUTH_WINDOW)
        return false;               /* older than the window */
    return !bit_get(s, seq);
}

/* Record seq as seen (is_fresh() said yes). */
static void window_accept(auth_src *s, uint64_t seq)
{
    if (seq > s->top) {
        uint64_t d = seq - s->top;

        if (d >= PMUL_AUTH_WINDOW) {
            memset(s->bits, 0, sizeof s->bits);
        } else {
            /* Positions top+1 .. seq held numbers a window older, now
             * outside it; top+1 .. seq-1 were not seen (yet). */
            for (uint64_t k = s->top + 1; k <= seq; k++) {
                uint64_t b = k % PMUL_AUTH_WINDOW;

                s->bits[b / 64] &= ~(UINT64_C(1) << (b % 64));
            }
        }
        s->top = seq;
    }
    bit_set(s, seq);
}

/*
 * The slot of ip, or a new one for it: a free slot while there are, else
 * the least recently used sender's (counted in evicted).  An evicted
 * sender's old datagrams would be accepted once again if replayed, so the
 * cap should exceed the number of nodes in the network
 * (docs/pmul-auth.md).  Never allocates: slots and the map were reserved.
 */
static uint32_t src_slot(pmul_auth *a, uint32_t ip)
{
    uint64_t v;
    uint32_t i;

    if (map_get(&a->by_ip, ip, &v))
        return (uint32_t)v;
    if (a->src_cnt < a->src_cap) {
        i = (uint32_t)a->src_cnt++;
    } else {
        i = a->lru_tail;
        lru_unlink(a, i);
        (void)map_del(&a->by_ip, a->src[i].ip);
        a->st.evicted++;
    }
    /* Reserved above: cannot fail for lack of memory or room. */
    if (map_put(&a->by_ip, ip, i) != 0)
        return NONE;
    memset(&a->src[i], 0, sizeof a->src[i]);
    a->src[i].ip = ip;
    a->src[i].prev = a->src[i].next = NONE;
    lru_push_head(a, i);
    return i;
}

/* ------------------------------------------------------------------ */
/* Opening                                                            */
/* ------------------------------------------------------------------ */

static ssize_t drop(pmul_auth *a, int why, int code)
{
    a->st.drops[why]++;
    return code;
}

ssize_t pmul_auth_open(pmul_auth *a, uint64_t wall_ms, uint32_t ip_src, const uint8_t *pkt,
                       size_t len)
{
    uint8_t magic0, magic1, version, key_id, mac[PMUL_AUTH_MAC_LEN], bal[2];
    const uint8_t *hdr, *got_mac, *got_bal;
    size_t pdu_len;
    uint64_t seq, v;
    uint32_t i;
    cur c;
    int rc;

    if (a == NULL || (pkt == NULL && len > 0))
        return PMUL_ERR_INVAL;
    if (len < PMUL_HDR_LEN + PMUL_AUTH_TRAILER_LEN || len > 65535u + PMUL_AUTH_TRAILER_LEN)
        return drop(a, PMUL_AUTH_DROP_MISSING, PMUL_ERR_AUTH_MISSING);
    pdu_len = len - PMUL_AUTH_TRAILER_LEN;
    cur_init(&c, pkt, len);
    if (!cur_skip(&c, pdu_len) || !cur_view(&c, &hdr, T_HDR_LEN) ||
        !cur_view(&c, &got_mac, PMUL_AUTH_MAC_LEN) || !cur_view(&c, &got_bal, 2))
        return drop(a, PMUL_AUTH_DROP_MISSING, PMUL_ERR_AUTH_MISSING);
    cur_init(&c, hdr, T_HDR_LEN);
    if (!cur_u8(&c, &magic0) || !cur_u8(&c, &magic1) || !cur_u8(&c, &version) ||
        !cur_u8(&c, &key_id) || !cur_u64be(&c, &seq))
        return drop(a, PMUL_AUTH_DROP_MISSING, PMUL_ERR_AUTH_MISSING);
    if (magic0 != T_MAGIC0 || magic1 != T_MAGIC1)
        return drop(a, PMUL_AUTH_DROP_MISSING, PMUL_ERR_AUTH_MISSING);
    if (version != PMUL_AUTH_VERSION || key_id != a->key_id)
        return drop(a, PMUL_AUTH_DROP_BAD, PMUL_ERR_AUTH_BAD);
    /* The balance octets are not under the MAC (they are computed from
     * it); checking them exactly makes every octet of the datagram count. */
    balance_of(pkt, len - 2, bal);
    if (CRYPTO_memcmp(bal, got_bal, 2) != 0)
        return drop(a, PMUL_AUTH_DROP_BAD, PMUL_ERR_AUTH_BAD);
    if ((rc = mac_of(a, hdr, ip_src, pkt, pdu_len, mac)) < 0)
        return rc;
    if (CRYPTO_memcmp(mac, got_mac, PMUL_AUTH_MAC_LEN) != 0)
        return drop(a, PMUL_AUTH_DROP_BAD, PMUL_ERR_AUTH_BAD);
    /* Authentic.  Too old (by the epoch, which a sender keeps within a
     * minute of its clock) is refused even from a sender we have no
     * window for: that is what limits replays after a restart. */
    if (a->max_age_ms != 0 && (seq >> 16) < wall_ms && wall_ms - (seq >> 16) > a->max_age_ms)
        return drop(a, PMUL_AUTH_DROP_REPLAY, PMUL_ERR_AUTH_REPLAY);
    /* Only now may the sender's replay state be touched. */
    if (map_get(&a->by_ip, ip_src, &v)) {
        i = (uint32_t)v;
        if (!is_fresh(&a->src[i], seq))
            return drop(a, PMUL_AUTH_DROP_REPLAY, PMUL_ERR_AUTH_REPLAY);
        lru_unlink(a, i);
        lru_push_head(a, i);
    } else {
        i = src_slot(a, ip_src);
        if (i == NONE)
            return PMUL_ERR_FATAL;
        a->src[i].top = seq;
    }
    window_accept(&a->src[i], seq);
    a->st.opened++;
    return (ssize_t)pdu_len;
}

/* ------------------------------------------------------------------ */
/* Counters                                                           */
/* ------------------------------------------------------------------ */

void pmul_auth_get_stats(const pmul_auth *a, pmul_auth_stats *st)
{
    if (st == NULL)
        return;
    memset(st, 0, sizeof(*st));
    if (a == NULL)
        return;
    *st = a->st;
    st->sources = a->src_cnt;
}

const char *pmul_auth_drop_name(int drop)
{
    static const char *const names[PMUL_AUTH_DROP_COUNT] = {
        [PMUL_AUTH_DROP_MISSING] = "auth-missing",
        [PMUL_AUTH_DROP_BAD] = "auth-bad",
        [PMUL_AUTH_DROP_REPLAY] = "auth-replay",
    };

    if (drop < 0 || drop >= PMUL_AUTH_DROP_COUNT)
        return "unknown";
    return names[drop];
}

/*
 * netsim_link.h: the per-node link model.
 *
 * Each node has an uplink (rate in bit/s, a serialisation queue with a byte
 * limit, a propagation delay) and two loss points: "tx" loss drops a
 * datagram for every receiver (the sender's transmission is lost), "rx"
 * loss drops it at one receiver.  A loss point combines one random model
 * (Bernoulli, or Gilbert-Elliott bursts) with fixed loss masks ("drop the
 * Nth datagram, or the Nth Address_PDU, that passes here"), as in
 * picoquic's loss masks.  Receivers may also duplicate a datagram or delay
 * it by a random extra amount (reordering).
 *
 * Everything random draws from netsim_rng streams, so a link behaves the
 * same for the same seed.  The structs ending in _cfg are what the scenario
 * parser fills; the others are run-time state.
 */
#ifndef NETSIM_LINK_H
#define NETSIM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netsim/netsim_rng.h"
#include "pmul/util/mem.h"

enum netsim_loss_kind {
    NETSIM_LOSS_NONE = 0,
    NETSIM_LOSS_BERNOULLI,      /* independent loss with probability p */
    NETSIM_LOSS_GE,             /* Gilbert-Elliott two-state bursts */
};

/* Any PDU type, in a mask entry. */
#define NETSIM_MASK_ANY (-1)

/* Drop datagrams lo..hi (1-based, inclusive) of the given PDU type (or of
 * all datagrams with NETSIM_MASK_ANY) that pass this loss point. */
typedef struct netsim_mask_ent {
    int type;
    uint32_t lo, hi;
} netsim_mask_ent;

#define NETSIM_MASK_MAX 32

typedef struct netsim_loss_cfg {
    int kind;                   /* enum netsim_loss_kind */
    double p;                   /* Bernoulli: loss; GE: P(good -> bad) */
    double r;                   /* GE: P(bad -> good) */
    double loss_good;           /* GE: loss probability in the good state */
    double loss_bad;            /* GE: loss probability in the bad state */
    netsim_mask_ent mask[NETSIM_MASK_MAX];
    size_t mask_cnt;
} netsim_loss_cfg;

/* Long-run mean loss rate of the random model (masks not counted). */
double netsim_loss_mean(const netsim_loss_cfg *cfg);

typedef struct netsim_loss {
    const netsim_loss_cfg *cfg; /* borrowed from the scenario */
    uint64_t thr_p, thr_r, thr_good, thr_bad;
    bool bad;                   /* GE state */
    uint32_t cnt_all;           /* datagrams seen (for masks) */
    uint32_t cnt_type[64];      /* per PDU type */
    netsim_rng rng;
    uint64_t seen, dropped;     /* statistics */
} netsim_loss;

/* Start a loss point from its configuration (borrowed for l's life). */
void netsim_loss_init(netsim_loss *l, const netsim_loss_cfg *cfg,
                      uint64_t seed, uint64_t label);

/*
 * Decide the fate of the next datagram, of PDU type pdu_type (negative if
 * it did not decode).  Returns true to drop it.  The random model draws
 * for every datagram, masked or not, so that adding a mask does not shift
 * the random pattern of the others.
 */
bool netsim_loss_drop(netsim_loss *l, int pdu_type);

/* Duplication and reordering at a receiver. */
typedef struct netsim_jitter_cfg {
    double dup_p;               /* probability a datagram arrives twice */
    uint64_t dup_delay_us;      /* the copy arrives this much later */
    double reorder_p;           /* probability a datagram is held back */
    uint64_t reorder_us;        /* by a uniform extra delay in [0, this] */
} netsim_jitter_cfg;

typedef struct netsim_jitter {
    uint64_t thr_dup, thr_reorder;
    uint64_t dup_delay_us, reorder_us;
    netsim_rng rng;
    uint64_t dups, reorders;    /* statistics */
} netsim_jitter;

void netsim_jitter_init(netsim_jitter *j, const netsim_jitter_cfg *cfg,
                        uint64_t seed, uint64_t label);

/*
 * Decide extra delays for one arriving datagram: *extra_us for the
 * datagram itself (0 unless reordered); returns true if a duplicate must
 * also arrive, *dup_extra_us after the original.
 */
bool netsim_jitter_apply(netsim_jitter *j, uint64_t *extra_us, uint64_t *dup_extra_us);

/*
 * Serialisation time of len octets plus overhead on an uplink of rate_bps
 * bit/s, rounded up to the microsecond; 0 when rate_bps is 0 (no limit).
 */
uint64_t netsim_tx_time_us(size_t len, size_t overhead, uint64_t rate_bps);

/* A FIFO of borrowed pointers with a byte limit: the uplink queue. */
typedef struct netsim_txq_ent {
    void *p;
    size_t len;
} netsim_txq_ent;

typedef struct netsim_txq {
    netsim_txq_ent *v;          /* owned ring */
    size_t head, len, size;
    size_t bytes;               /* octets queued */
    size_t limit;               /* byte limit (0: none) */
    const mem *m;
} netsim_txq;

void netsim_txq_init(netsim_txq *q, const mem *m, size_t limit);
/* Frees the ring only; the caller releases the queued items first. */
void netsim_txq_fini(netsim_txq *q);
/* Append p (of len octets).  Returns 0, NETSIM_ERR_LIMIT when the byte
 * limit would be exceeded (the datagram is dropped by the caller, as a
 * full modem queue does), or NETSIM_ERR_NOMEM. */
__attribute__((warn_unused_result))
int netsim_txq_push(netsim_txq *q, void *p, size_t len);
/* Remove and return the oldest item; NULL if empty. */
void *netsim_txq_pop(netsim_txq *q);

#endif

/*
 * pmul_engine_int.h: state shared by the .c files of the engine module
 * (pmul_engine.c: glue, queues, events; pmul_tx.c: transmitter, with
 * pmul_txack.c: its Acks; pmul_txgroup.c: its dynamic groups;
 * pmul_txpeer.c: what it learns of destinations; pmul_txfec.c: its
 * repair planning and loss estimate;
 * pmul_txjoint.c: its joint repair rounds of several messages;
 * pmul_rx.c: receiver, with pmul_rxack.c, pmul_rxsrc.c, pmul_rxfec.c,
 * pmul_rxjoint.c).  Not a public header: only those files and tests
 * include it.
 *
 * Ordering rule: every collection is kept in a deterministic order
 * (creation order or sorted by a protocol value) and scanned in that
 * order, so that output never depends on pointer values or allocators.
 */
#ifndef PMUL_ENGINE_INT_H
#define PMUL_ENGINE_INT_H

#include "pmul/pmul_ackq.h"
#include "pmul/pmul_engine.h"
#include "pmul/pmul_doneset.h"
#include "pmul/pmul_fec.h"
#include "pmul/pmul_seqset.h"
#include "pmul/pmul_group.h"
#include "pmul/pmul_pdu.h"
#include "pmul/pmul_rate.h"
#include "pmul/pmul_rob.h"
#include "pmul/util/heap.h"
#include "pmul/util/map.h"

/* ---- transmitter ------------------------------------------------------- */

enum pmul_txd_state {
    PMUL_TXD_WAIT = 0,          /* no Ack yet */
    PMUL_TXD_PARTIAL,           /* acked with a missing list */
    PMUL_TXD_DONE,              /* acked complete */
    PMUL_TXD_FAILED,            /* expired / cancelled */
};

typedef struct pmul_txdest {
    uint32_t id;
    uint32_t msn;               /* Message_Sequence_Number for this message */
    uint8_t state;              /* enum pmul_txd_state */
    bool emcon;                 /* in EMCON for this message */
    bool no_fec;                /* plain peer: gets sources, never repairs */
    bool answered;              /* acked since the end of the last round */
    bool heard;                 /* acked while the current round is sent */
    uint32_t sym_mark;          /* the message's sym_tx at its last Ack */
    uint16_t *miss;             /* missing ranges as lo,hi pairs (owned) */
    uint32_t miss_cnt;          /* pairs */
    uint32_t miss_cap;
    uint16_t fec_silent;        /* FEC-announced rounds that listed it
                                 * while it had never answered */
    uint32_t rep_mark;          /* the message's rep_tx at its last Ack */
    uint16_t jneed;             /* member of a joint round: its listed need
                                 * when the round was planned (0: no
                                 * evidence due, pmul_txpeer.c learn_joint) */
    uint8_t jsent;              /* that round's repairs when the set's
                                 * repairs so far cover the need it had
                                 * summed over the members (else 0) */
    uint64_t jround;            /* that round (engine's fec_joint_rounds) */
    bool jspent;                /* this message counted in its nojoint_left */
} pmul_txdest;

enum pmul_txphase {
    PMUL_TXP_REQUEST = 0,       /* Request_PDU sent, waiting for Rejects */
    PMUL_TXP_ANNOUNCE,          /* announcing the dynamic group */
    PMUL_TXP_SEND,              /* a round is being sent */
    PMUL_TXP_WAIT,              /* waiting for Acks / timers */
    PMUL_TXP_JOINT,             /* served by another message's joint round
                                 * (docs/wire.md 10.8), until it ends */
};

struct pmul_txmsg;

/* A joint round of several messages carried by one (docs/wire.md 10.8),
 * pmul_txjoint.c; allocated for a carrier when it is first planned. */
typedef struct pmul_txjoint {
    pmul_fec_joint g;           /* the set as announced */
    struct pmul_txmsg *mem[PMUL_FEC_JOINT_MAX]; /* members in g's order
                                 * (mem[0] the carrier) in the round;
                                 * NULL: finished, or not in it */
    const uint8_t *src[PMUL_FEC_JOINT_MAX]; /* each member's payload */
    uint8_t *own[PMUL_FEC_JOINT_MAX]; /* payloads of members that finished,
                                 * kept (owned) while the set may go again */
    uint8_t j0;                 /* first joint repair j of the round */
    uint8_t r;                  /* joint repairs of the round */
    uint8_t jnext;              /* next unused j of this set */
    uint16_t jbase;             /* the set's j0 on the wire: its repair j
                                 * is number G + jbase + j */
    uint16_t jline;             /* next number (past G) no set of this
                                 * carrier has used */
    uint8_t again;              /* rounds of this set in a row after its
                                 * first (choose_again()) */
    bool active;                /* the carrier's round is this joint round */
    size_t dests_cap;           /* destinations per FEC_Address_PDU with
                                 * these parameters */
} pmul_txjoint;

typedef struct pmul_txmsg {
    uint32_t msid;
    uint8_t prio;
    uint64_t tag;
    int64_t expiry_s;
    uint64_t order;             /* submission order */
    uint8_t *payload;           /* owned copy */
    size_t len;
    size_t frag;                /* fragment size (all but the last) */
    uint16_t npdus;
    uint32_t group;             /* multicast group in use */
    bool dynamic;               /* group from the pool (Release at the end) */
    uint32_t group_tries;
    pmul_txdest *dests;         /* sorted by id; owned */
    size_t dest_cnt, done_cnt, failed_cnt;
    uint8_t phase;              /* enum pmul_txphase */
    bool jwait;                 /* a joint candidate waiting for others
                                 * (pmul_txjoint.c; beside phase and the
                                 * timers: pmul__tx_deadline() scans them
                                 * for every message) */
    uint64_t phase_at;          /* REQUEST: end of the Reject wait;
                                 * ANNOUNCE: next Announce_PDU */
    uint64_t data_at;           /* ANNOUNCE: first Address_PDU */
    uint32_t announces;         /* Announce_PDUs sent */
    /* The round being sent. */
    size_t *round_idx;          /* indices of listed dests; owned */
    size_t round_cnt, addr_next;
    pmul_seqset plan;              /* Data_PDUs of the round */
    uint16_t data_next;
    uint16_t sent_hi;           /* highest Data_PDU number sent so far */
    bool round_emcon;           /* this round is an EMCON repetition */
    bool addr_tail;             /* sending the repeated Address_PDU(s) */
    bool all_sent;              /* every Data_PDU left at least once */
    bool resumed;               /* pmul_msg.resumed */
    bool probe;                 /* this round is Address_PDU(s) only */
    uint32_t sent_rounds;       /* rounds started, the first included */
    uint32_t data_rounds;       /* rounds that carried Data_PDUs */
    uint32_t asks;              /* rounds since the last whole one that
                                 * listed a destination not heard since */
    bool fresh_only;            /* plan from answers since the last round */
    bool collect;               /* rtx_at is the end of the answers' window */
    bool answer_seen;           /* an answer came since this round started */
    bool rtt_guess;             /* rtx_at was armed before any rtt sample */
    bool round_probe;           /* the round waited for was a probe */
    uint16_t loss_pm;           /* the round's loss estimate, per mille */
    uint32_t sym_tx;            /* Data_PDUs sent, sources and repairs */
    uint32_t rounds;            /* timer-driven retransmission rounds */
    uint32_t emcon_rounds;      /* EMCON repetitions */
    uint64_t rtx_at, emcon_at;  /* UINT64_MAX: not armed */
    uint64_t jwait_since;       /* when jwait began */
    uint64_t round_end_ms;
    uint64_t addr_sent_ms;
    /* FEC repair (docs/wire.md 10): fec is false for a plain message. */
    bool fec;
    pmul_fec_blocks lay;        /* source blocks */
    uint16_t sym_len;           /* S: every fragment but the last */
    uint8_t *fec_next;          /* per block: next unused repair j */
    uint8_t *fec_j0;            /* per block: first repair j of the round */
    uint8_t *fec_cnt;           /* per block: repairs in the round */
    uint8_t *fec_need, *fec_tmp; /* per block: scratch of pmul__txf_trim */
    uint8_t fec_round_r;        /* repair_cnt announced for the round */
    uint16_t rep_j, rep_b;      /* cursor over the round's repairs, in
                                 * sequence-number order (j, then b) */
    uint32_t rep_left;          /* repairs of the round still to send */
    bool rep_active;            /* sending the round's repairs */
    pmul_seqset fecset;         /* union of FEC receivers' missing lists */
    uint32_t addr_copies;       /* copies of the announcement left to send
                                 * after the current one (EMCON) */
    bool plain_fb;              /* announced plainly (Address_PDU, no
                                 * repairs) since the asks of a silent
                                 * destination failed: fec is false */
    uint32_t copy_gap;          /* EMCON: Data_PDUs between the copies of
                                 * the announcement (0: back to back) */
    uint32_t copy_pdus;         /* Data_PDUs sent since the last copy */
    uint32_t rep_tx;            /* repair Data_PDUs sent */
    /* Joint repair (docs/wire.md 10.8, pmul_txjoint.c). */
    pmul_txjoint *jt;           /* as a carrier (owned; NULL: never was) */
    struct pmul_txmsg *jcarrier; /* the carrier of the last joint set it is
                                 * in, while that set may go again
                                 * (PMUL_TXP_JOINT: whose round serves it) */
    bool jlearn;                /* its last data round was joint: the next
                                 * answers tell whether the destinations
                                 * use joint repairs */
    bool jkick;                 /* answers stand for it: check_fast() once
                                 * the Ack_PDU is read */
} pmul_txmsg;

/* Per-destination state that outlives messages. */
typedef struct pmul_dststate {
    uint32_t id;
    uint32_t next_msn;
    bool emcon;
    /* Loss seen by this destination: symbols of first transmissions sent
     * and received (its first Ack after round 1 tells), halved past a
     * window so that the estimate follows the link. */
    uint32_t ls_sent, ls_got;
    /* Whether it reads FEC_Address_PDUs (docs/engine.md 2, "Receivers
     * that do not know PDU type 8"): fec_ok once it answered a message
     * announced by them; plain_left messages to it still go plain after
     * it answered only a plain announcement, and plain_span is that
     * count, doubled each time the evidence comes again. */
    bool fec_ok;
    uint16_t plain_left, plain_span;
    /* Whether it decodes repairs: dec_ok once its list shrank after
     * repairs alone; nodec_left messages still treat it as a plain peer
     * after stall reached STALL_MIN, nodec_span as plain_span. */
    bool dec_ok;
    uint16_t nodec_left, nodec_span;
    uint16_t stall;             /* repairs sent while its missing lists did
                                 * not shrink, over messages (learn_dec) */
    /* Whether it uses joint repairs (docs/wire.md 10.8, transmitter 4):
     * jdec_ok once a member's list shrank after a joint round;
     * nojoint_left messages that would have been candidates are not,
     * after the findings of pmul_txpeer.c; nojoint_span as plain_span. */
    bool jdec_ok;
    uint16_t nojoint_left, nojoint_span;
    bool jaware;                /* it answered a joint round's closing copy
                                 * with entries for its members */
    uint8_t junans;             /* joint rounds in a row it answered without
                                 * them (pmul__txp_on_ack_pdu) */
    uint16_t jstall;            /* joint repairs that covered its need while
                                 * its lists did not shrink (learn_joint) */
    uint8_t jfails;             /* such rounds in a row */
    uint64_t jseen_round;       /* the last joint round whose answer
                                 * pmul__txp_on_ack_pdu() read */
    uint64_t jstall_round;      /* the last joint round counted in jstall
                                 * (every member's answer tells of it) */
} pmul_dststate;

/* A finished message, kept to answer late complete Acks with Ack-Ack. */
typedef struct pmul_txdone {
    uint32_t msid;
    uint32_t group;
    uint8_t prio;
    bool used;
    uint64_t ackack_ms;
} pmul_txdone;
#define PMUL_TXDONE_CNT 32

/* ---- receiver ---------------------------------------------------------- */

enum pmul_rx_state {
    PMUL_RXS_EARLY = 0,         /* Data_PDUs before any Address_PDU */
    PMUL_RXS_ACTIVE,            /* addressed to us, incomplete */
    PMUL_RXS_COMPLETE,          /* delivered; kept for Acks and dedup */
    PMUL_RXS_IGNORED,           /* not addressed to us: drop its PDUs */
};

/* A range of Message_Sequence_Numbers not seen yet, held before it is
 * reported lost (pmul_rx.c, "lost messages"). */
typedef struct pmul_msnrange {
    uint32_t lo, hi;
} pmul_msnrange;
#define PMUL_LOST_RANGES 64

typedef struct pmul_rxsrc {
    uint32_t id;
    pmul_budget budget;         /* reassembly bytes of this source */
    size_t msgs;                /* EARLY + ACTIVE */
    size_t done;                /* COMPLETE + IGNORED */
    size_t early, ignored;      /* of which EARLY, IGNORED: held on a peer's
                                 * word alone, the first to go when the
                                 * source table is full */
    pmul_doneset delivered;     /* MSIDs delivered and no longer held as
                                 * COMPLETE entries, until expiry */
    bool msn_known;
    bool msn_unreliable;        /* numbers are not counters: no alarms */
    uint8_t msn_backward;       /* new messages numbered below last_msn */
    uint32_t last_msn;          /* highest Message_Sequence_Number seen */
    pmul_msnrange gap[PMUL_LOST_RANGES]; /* pending gaps, ascending */
    size_t gap_cnt;
    uint64_t gap_since;         /* oldest pending gap detected */
    uint64_t gap_progress;      /* last sign that the sender is working
                                 * through its queue (a new message) */
    uint64_t new_ms;            /* last new message activated */
    uint32_t pace_ms;           /* smoothed interval between new messages */
    uint16_t addr_cnt;          /* listed messages activated (pace valid
                                 * from 2) */
    uint64_t last_ms;           /* last activity */
    uint64_t order;
    bool sent_known;            /* sent_prio, sent_msid valid */
    uint8_t sent_prio;          /* the message of its last Data_PDU or */
    uint32_t sent_msid;         /* listing Address_PDU (its send order) */
    bool fec_seen;              /* it announced with a FEC_Address_PDU:
                                 * no Java node, so its Totals are right
                                 * and numbers above them are repairs */
} pmul_rxsrc;

/* FEC decoding state of a message announced by a FEC_Address_PDU whose
 * parameters decoded (docs/wire.md 10.7), allocated once per message and
 * charged to its reassembly budgets. */
typedef struct pmul_rxfec {
    pmul_fec_params p;          /* layout of the first usable announcement */
    uint8_t repair_cnt;         /* r of the latest announcement */
    uint32_t need;              /* symbols still needed, over the blocks
                                 * that cannot be decoded yet */
    size_t charged;             /* octets charged to the rob's budgets */
    pmul_fec_block blk[];       /* p.blocks.block_cnt */
} pmul_rxfec;

typedef struct pmul_rxmsg {
    uint32_t src, msid;
    uint64_t order;
    uint8_t state;              /* enum pmul_rx_state */
    uint8_t prio;
    int64_t expiry_s;           /* 0 while EARLY */
    uint64_t early_until;       /* EARLY / IGNORED lifetime */
    uint16_t total;
    uint32_t msn;
    pmul_rob rob;
    pmul_seqset reported;          /* numbers already reported missing */
    uint16_t reported_hi;       /* highest number of the last list sent */
    uint16_t ack_hi;            /* highest number held when it was built */
    uint64_t last_pdu_ms;       /* when the last PDU of it came */
    uint8_t idle_acks;          /* Acks sent since the transmitter last sent
                                 * a PDU of this message (bounded re-acks) */
    bool round_acked;           /* an Ack left since the last Address_PDU */
    bool complete_acked;        /* the complete Ack left */
    bool acked_once;            /* an Ack of ours left for it, ever */
    bool probe_wait;            /* an Address_PDU without data after our
                                 * Ack: answer unless data follows within
                                 * about one PDU interval (a probe) */
    bool dup_addr;              /* duplicate Address_PDU after completion */
    uint64_t ack_at;            /* tail / ACK_PDU_TIME timer */
    uint64_t addr_rx_ms;        /* last Address_PDU arrival */
    uint16_t last_seq;          /* last Data_PDU seen in this round */
    uint64_t last_ack_ms;       /* when the last Ack for it left */
    uint16_t ndests;            /* destinations listed (0: MAP-split) */
    bool data_since_addr;       /* Data_PDUs came after the last Address */
    uint64_t pdu_rx_ms;         /* last PDU of this message arrived */
    uint32_t pdu_gap_ms;        /* observed interval between its PDUs in a
                                 * round (0: none yet) */
    bool tail_owed;             /* the queued Ack was owed by the tail
                                 * timer (withdrawn if data comes) */
    uint32_t *dests;            /* Destination_IDs seen, ascending (owned;
                                 * handed to the DELIVERED event) */
    uint64_t dl;                /* earliest of its timers (expiry, early,
                                 * ack_at): its key in rx_dl_heap */
    size_t heap_idx;            /* its place in rx_dl_heap */
    bool fec;                   /* announced by a FEC_Address_PDU, or by
                                 * a source that uses them: numbers above
                                 * Total are repair symbols, not proof
                                 * that Total is wrong */
    bool fec_plain;             /* FEC announced but not usable (bad
                                 * parameters or fragment lengths):
                                 * received plainly, repairs dropped */
    pmul_rxfec *fecd;           /* FEC decoder state (owned; NULL: none) */
    bool total_raised;          /* a Data_PDU above Total proved it wrong:
                                 * total is now the highest number seen */
    bool awaiting;              /* accept mode: COMPLETE and delivered, the
                                 * application's accept/defer still due; no
                                 * Ack may leave */
    bool deferred;              /* awaiting, DELIVERED again at ack_at */
    uint8_t *held;              /* accept mode: the payload, owned until
                                 * accepted (events point into it) */
    size_t held_len;
    size_t dest_cnt, dest_cap;  /* dest_cnt <= cfg.max_dests */
    uint64_t data_rx_ms;        /* last Data_PDU of it arrived */
    uint16_t keep_sym;          /* delivered with FEC as one block: its
                                 * symbol_len, for the keep store (0: not
                                 * to be kept) */
} pmul_rxmsg;

/* Kept payloads and joint repair state (pmul_rxjoint.c). */
typedef struct pmul_rxkeep pmul_rxkeep;
typedef struct pmul_rxjoint pmul_rxjoint;

/* ---- engine ------------------------------------------------------------ */

typedef struct pmul_ctl {
    pmul_addr to;
    uint8_t *bytes;             /* owned, encoded PDU */
    size_t len;
} pmul_ctl;

typedef struct pmul_evq_ent {
    pmul_event ev;
    uint8_t *owned;             /* DELIVERED payload */
    uint32_t *owned_dests;      /* DELIVERED destination list */
} pmul_evq_ent;

struct pmul_engine {
    pmul_config cfg;            /* arrays repointed to our copies */
    uint32_t *pool_copy, *emcon_copy;
    uint32_t *allowed;          /* sorted Source_IDs we accept (NULL: all) */
    uint32_t *self_ack;         /* sorted transmitters that want a
                                 * self-naming entry in our Acks */
    size_t self_ack_cnt;
    uint32_t *no_fec;           /* sorted destinations that do not decode
                                 * FEC (plain peers) */
    size_t no_fec_cnt;
    pmul_fec *fec_tx;           /* transmitter codec (cfg.fec) */
    uint8_t *fec_sym;           /* one repair symbol being sent */
    const uint8_t **fec_src;    /* a block's source fragments */
    size_t fec_dests_cap;       /* destinations per FEC_Address_PDU */
    uint32_t acks_in_row;       /* Ack_PDUs sent since our last other PDU */
    size_t allowed_cnt;
    pmul_env env;
    const mem *m;
    uint64_t now_ms;            /* latest monotonic time seen */
    int64_t wall_s;             /* latest wall-clock time seen */
    int64_t clock_off_ms;       /* least (now_ms - wall_s * 1000) seen */
    bool clock_off_set;
    uint64_t rand_state;        /* internal generator when env.rand NULL */
    bool emcon;
    pmul_rate rate;
    pmul_ackq ackq;
    pmul_groups groups;

    /* Transmitter. */
    pmul_txmsg **tx;            /* sorted by (prio, order) */
    size_t tx_cnt, tx_cap;
    uint64_t tx_order;
    uint32_t next_msid;
    pmul_dststate *dst;         /* sorted by id */
    size_t dst_cnt, dst_cap;
    pmul_dststate ls_all;       /* loss samples of every destination */
    pmul_txdone done[PMUL_TXDONE_CNT];
    size_t done_next;
    uint8_t *jt_pad;            /* joint rounds: the members' last fragments
                                 * zero-padded to symbol_len */
    size_t jt_pad_cap;
    uint32_t *jt_sum;           /* joint planning: need per destination */
    size_t jt_sum_cap;
    bool jt_in_ack;             /* reading an Ack_PDU: candidates are
                                 * served once all its entries are read */

    /* Control PDUs (Acks excepted) waiting to be sent, FIFO. */
    pmul_ctl *ctl;
    size_t ctl_head, ctl_cnt, ctl_cap;

    /* Receiver. */
    pmul_rxsrc **srcs;          /* creation order; each allocated alone
                                 * because robs point at their budgets */
    size_t src_cnt, src_cap;
    uint64_t src_order;
    pmul_rxmsg **rx;            /* creation order */
    size_t rx_cnt, rx_cap;
    map rx_by_id;               /* (Source_ID << 32 | MSID) -> pmul_rxmsg *:
                                 * the per-PDU lookup, O(1) whatever is
                                 * held */
    heap rx_dl_heap;            /* every pmul_rxmsg * by its dl: the next
                                 * deadline in O(1), expiry in O(due) */
    uint64_t rx_order;
    size_t rx_active;           /* EARLY + ACTIVE, all sources */
    size_t rx_unacc_cnt;        /* awaiting messages (accept mode) */
    size_t rx_unacc_bytes;      /* their held payload octets */
    pmul_budget rx_all;
    int64_t done_pruned_s;      /* when the delivered sets were last pruned */
    pmul_fec *rx_fec;           /* FEC decoder tables, created at the first
                                 * recovery (NULL until then) */
    uint8_t *fec_out;           /* recovered symbols scratch, grown to the
                                 * largest recovery seen */
    size_t fec_out_cap;
    /* Joint repair (docs/wire.md 10.8, pmul_rxjoint.c). */
    pmul_rxjoint **rx_joint;    /* per carrier, creation order */
    size_t rx_joint_cnt, rx_joint_cap;
    pmul_rxkeep *keep_old, *keep_new; /* kept payloads, FIFO by delivery */
    map keep_by_id;             /* (Source_ID << 32 | MSID) -> pmul_rxkeep * */
    heap keep_heap;             /* pmul_rxkeep * by Expiry_Time */
    size_t keep_bytes;          /* payload octets kept */
    uint8_t *jnt_buf;           /* joint decoding scratch (padded symbols,
                                 * recovered ones), grown */
    size_t jnt_buf_cap;

    /* Events, FIFO ring. */
    pmul_evq_ent *ev;
    size_t ev_head, ev_cnt, ev_cap;
    uint8_t *held;              /* payload of the last DELIVERED returned */
    uint32_t *held_dests;       /* and its destination list */

    /* Codec scratch, sized once from the configuration. */
    pmul_pdu_scratch dsc;
    pmul_dest_entry *enc_dests;
    size_t enc_dests_cap;
    uint32_t *enc_ids;
    size_t enc_ids_cap;
    pmul_ack_entry *enc_acks;
    uint16_t *enc_missing;
    size_t enc_missing_cap;
    pmul_ackq_ent *enc_batch;
    size_t enc_batch_cap;

    pmul_stats st;
    uint64_t next_dl;           /* cached next deadline */
};

/* ---- pmul_svc.c: services below tx and rx ------------------------------ */

uint32_t pmul__rand(pmul_engine *e);
/* A random delay in [0, bound]. */
uint64_t pmul__rand_delay(pmul_engine *e, uint32_t bound);
/* Typical Ack_PDU length (one entry with MM missing numbers). */
size_t pmul__ack_len(const pmul_engine *e);
uint64_t pmul__acks_air(const pmul_engine *e, uint64_t n);
uint64_t pmul__pdus_air(const pmul_engine *e, uint64_t n);
/* Monotonic time at which wall-clock second wall_s arrives (saturating;
 * `now` for the past). */
uint64_t pmul__wall_to_mono(const pmul_engine *e, int64_t wall_s);
uint64_t pmul__add_ms(uint64_t t, uint64_t ms);
/* Queue an event (payload ownership passes to the queue).  Returns 0 or
 * PMUL_ERR_NOMEM (payload freed). */
int pmul__ev_push(pmul_engine *e, const pmul_event *ev, uint8_t *owned);
/* Make room for one more event now (PMUL_ERR_NOMEM: none), so that a push
 * that must not fail (DELIVERED: the Ack depends on it) cannot. */
int pmul__ev_reserve(pmul_engine *e);
/* The same with a second owned block (DELIVERED: ev->dests). */
int pmul__ev_push2(pmul_engine *e, const pmul_event *ev, uint8_t *owned,
                   uint32_t *owned_dests);
/* Encode pdu and queue it for to.  Returns 0 or a negative code. */
int pmul__ctl_push(pmul_engine *e, const pmul_pdu *pdu, const pmul_addr *to);
/* Take the next queued control PDU into out (paced by the caller):
 * its length, 0 when none, or a negative code. */
ssize_t pmul__ctl_poll(pmul_engine *e, uint8_t *out, size_t cap, pmul_addr *to);
/* Count a drop and return err. */
int pmul__drop(pmul_engine *e, int reason, int err);
pmul_addr pmul__group_addr(uint32_t group, uint16_t port);

/* Does transmitter src want a self-naming entry in our Acks? */
bool pmul__wants_self_ack(const pmul_engine *e, uint32_t src);
/* Is dest a plain peer (does not decode FEC)? */
bool pmul__no_fec_peer(const pmul_engine *e, uint32_t dest);

/* ---- pmul_tx.c --------------------------------------------------------- */

int pmul__tx_submit(pmul_engine *e, const pmul_msg *m, uint32_t *msid);
int pmul__tx_on_ack(pmul_engine *e, const pmul_pdu *pdu);
int pmul__tx_on_reject(pmul_engine *e, const pmul_pdu *pdu);
int pmul__tx_on_request(pmul_engine *e, const pmul_pdu *pdu);
void pmul__tx_expire(pmul_engine *e);
bool pmul__tx_ready(const pmul_engine *e);
ssize_t pmul__tx_poll(pmul_engine *e, uint8_t *out, size_t cap, pmul_addr *to);
uint64_t pmul__tx_deadline(const pmul_engine *e);
int pmul__tx_cancel(pmul_engine *e, uint32_t msid, int reason);
void pmul__tx_dest_emcon(pmul_engine *e, uint32_t dest, bool on);
void pmul__tx_free_all(pmul_engine *e);
pmul_txmsg *pmul__tx_find(const pmul_engine *e, uint32_t msid);
/* Start a round of m: whole message or the union of the missing lists. */
void pmul__tx_start_round(pmul_engine *e, pmul_txmsg *m, bool whole, bool emcon_round);
/* Is a message other than m sending a round (the link is busy anyway)? */
bool pmul__tx_others_sending(const pmul_engine *e, const pmul_txmsg *m);
/* Shared with pmul_txack.c (the Ack side of the transmitter). */
void pmul__tx_event(pmul_engine *e, const pmul_txmsg *m, int kind, uint32_t dest, int reason);
/* A late complete Ack for a finished message: Ack-Ack again (rate-limited).
 * False when msid is not one of the recently finished. */
bool pmul__tx_memo_ackack(pmul_engine *e, uint32_t msid);
/* m is done (every destination acked, expired or cancelled): free it. */
void pmul__tx_finish(pmul_engine *e, pmul_txmsg *m, int reason);
/* Destinations of m still to serve: not in EMCON, in EMCON; never heard. */
void pmul__tx_count_pending(const pmul_txmsg *m, uint32_t *normal, uint32_t *emcon, bool *never);
uint32_t pmul__tx_rto_for(pmul_engine *e, const pmul_txmsg *m, uint32_t pending, bool probe);
/* Answers since the last round name something to send. */
bool pmul__tx_fresh_need(const pmul_txmsg *m);
/* A silent destination may be asked again rather than sent everything. */
bool pmul__tx_can_ask(const pmul_engine *e, const pmul_txmsg *m, uint32_t pending);
/* How long after a round's end its answers arrive. */
uint32_t pmul__tx_collect_ms(pmul_engine *e, const pmul_txmsg *m, uint32_t pending);
/* Every outstanding destination answered the round: the next at once
 * (pmul_txack.c).  Returns 0 or a negative code. */
int pmul__tx_check_fast(pmul_engine *e, pmul_txmsg *m);
/* Arm m's timers as after the last PDU of its round. */
void pmul__tx_end_round(pmul_engine *e, pmul_txmsg *m);

/* Does d still need m (no complete Ack, not failed)? */
static inline bool
pmul__txd_incomplete(const pmul_txdest *d)
{
    return d->state == PMUL_TXD_WAIT || d->state == PMUL_TXD_PARTIAL;
}

/* ---- pmul_txfec.c: repair planning and the loss estimate --------------- */

/* Set m up for repair, or leave it plain (m->fec false); at submit. */
int pmul__txf_setup(pmul_engine *e, pmul_txmsg *m, uint16_t npdus, size_t frag, size_t len);
/* The loss estimate the round of m sizes its margins by, per mille. */
uint16_t pmul__txf_round_loss_pm(const pmul_engine *e, const pmul_txmsg *m);
/* The largest loss estimate of m's destinations, other messages sent or
 * not (a joint round's margin). */
uint16_t pmul__txf_dests_loss_pm(const pmul_engine *e, const pmul_txmsg *m);
/* d's first answer a (after the first transmission) as a loss sample. */
void pmul__txf_loss_sample(pmul_engine *e, pmul_txmsg *m, const pmul_txdest *d,
                           const pmul_ack_entry *a);
/* Plan the round's repairs (and the sources that beat them) per block. */
void pmul__txf_plan(pmul_engine *e, pmul_txmsg *m, bool whole, bool emcon_tx);
/* Cut the round's unsent repairs to what mid-round Acks still want. */
void pmul__txf_trim(pmul_txmsg *m);
/* The round's next repair symbol into e->fec_sym and its number in *seq;
 * false when none is left or the codec failed. */
bool pmul__txf_repair(pmul_engine *e, pmul_txmsg *m, uint16_t *seq);
/* Every silent destination's last list is most likely covered by what
 * went since (FEC only): its Ack was lost, asking again is cheaper. */
bool pmul__txf_unheard_covered(const pmul_engine *e, const pmul_txmsg *m);

/* Symbols to send for a need at a loss of p per mille (the margin). */
unsigned pmul__txf_with_margin(unsigned need, unsigned p);

/* ---- pmul_txjoint.c: joint repair rounds (docs/wire.md 10.8) ---------- */

/* m's round on Acks is due: make it wait for a joint round when it is a
 * candidate (true: handled, m waits or its round started). */
bool pmul__txj_wait(pmul_engine *e, pmul_txmsg *m);
/* Start the joint rounds (or the lone rounds) that are due now. */
void pmul__txj_flush(pmul_engine *e);
/* Another message of m's destinations may join a joint round with it: one
 * waits, or one still has its first transmission to send. */
bool pmul__txj_company(const pmul_engine *e, const pmul_txmsg *m);
/* Every incomplete destination of m answered since its last round. */
bool pmul__txj_all_answered(const pmul_txmsg *m);
/* When the oldest waiting candidate must be served (UINT64_MAX: none). */
uint64_t pmul__txj_deadline(const pmul_engine *e, const pmul_txmsg *m);
/* Is m a carrier whose round is a joint round? */
bool pmul__txj_active(const pmul_txmsg *m);
/* Fill the carrier m's round (list, joint repairs) from its plan. */
void pmul__txj_round(pmul_engine *e, pmul_txmsg *m);
/* Does a member of carrier m's joint round still need dests[idx]? */
bool pmul__txj_listed(const pmul_txmsg *m, size_t idx);
/* The round's next joint repair into e->fec_sym, its number in *seq. */
bool pmul__txj_repair(pmul_engine *e, pmul_txmsg *m, uint16_t *seq);
/* Carrier m's closing copy left: every member's round ends now. */
void pmul__txj_round_end(pmul_engine *e, pmul_txmsg *m);
/* id's list of the carrier c did not shrink over its joint round: it
 * decoded nothing, and its lists of the other members stand as answers. */
void pmul__txj_members_stand(pmul_engine *e, const pmul_txmsg *c, uint32_t id);
/* m (removed from the table) is finished: out of any joint round. */
void pmul__txj_gone(pmul_engine *e, pmul_txmsg *m);
/* Free the engine's joint scratch. */
void pmul__txj_fini(pmul_engine *e);
/* Free a carrier's joint state and the payloads it kept. */
void pmul__txj_free(pmul_engine *e, pmul_txjoint *jt);
/* m's round is not a joint one: its last set will not go again. */
void pmul__txj_drop(pmul_engine *e, pmul_txmsg *m);

/* ---- pmul_txgroup.c ---------------------------------------------------- */

/* Request the next pool group for m (or fall back to the default group). */
void pmul__txg_request(pmul_engine *e, pmul_txmsg *m);
/* Queue a Release_PDU for (msid, group) to GG:TPORT. */
void pmul__txg_release(pmul_engine *e, uint32_t msid, uint32_t group);
/* Run m's REQUEST / ANNOUNCE phase timers. */
void pmul__txg_timers(pmul_engine *e, pmul_txmsg *m);

/* ---- pmul_txpeer.c: what the transmitter learns of each destination ---- */

/* Asks of a silent destination before it gets the whole message
 * (pmul_tx.c can_ask()). */
#define PMUL__PROBE_MAX 3u
/* Destination id's state, created when new (PMUL_ERR_NOMEM). */
int pmul__dst_get(pmul_engine *e, uint32_t id, pmul_dststate **out);
/* Destination id's state, or NULL. */
pmul_dststate *pmul__dst_find(const pmul_engine *e, uint32_t id);
/* The next Message_Sequence_Number for id (1 for one never sent to). */
uint32_t pmul__dst_next_msn(const pmul_engine *e, uint32_t id);
/* Destination id of m, or NULL. */
pmul_txdest *pmul__txdest_find(const pmul_txmsg *m, uint32_t id);
/* The PDUs d's last list names; the whole message if it never answered. */
uint32_t pmul__tx_listed_need(const pmul_txmsg *m, const pmul_txdest *d);
/* Has id answered a message announced by FEC_Address_PDUs? */
bool pmul__txp_reads_fec(const pmul_engine *e, uint32_t id);
/* A destination of m never answered it nor ever a FEC_Address_PDU (with
 * known: and another message found it does not know type 8). */
bool pmul__txp_blind_suspect(const pmul_engine *e, const pmul_txmsg *m, bool known);
/* m is announced plainly and sent without repairs from now on. */
void pmul__txp_go_plain(pmul_engine *e, pmul_txmsg *m);
/* An Ack_PDU from pdu->source_id, before its entries are read: does it
 * answer a joint round the way 10.8 asks (an entry per member)? */
void pmul__txp_on_ack_pdu(pmul_engine *e, const pmul_pdu *pdu);
/* d (still in its state before a) acked m with entry a: learn from it. */
void pmul__txp_on_ack(pmul_engine *e, const pmul_txmsg *m, pmul_txdest *d,
                      const pmul_ack_entry *a);

/* ---- pmul_rx.c --------------------------------------------------------- */

int pmul__rx_on_data(pmul_engine *e, const pmul_pdu *pdu);
int pmul__rx_on_address(pmul_engine *e, const pmul_pdu *pdu);
int pmul__rx_on_discard(pmul_engine *e, const pmul_pdu *pdu);
int pmul__rx_on_announce(pmul_engine *e, const pmul_pdu *pdu);
int pmul__rx_on_release(pmul_engine *e, const pmul_pdu *pdu);
void pmul__rx_expire(pmul_engine *e);
ssize_t pmul__rx_poll_ack(pmul_engine *e, uint8_t *out, size_t cap, pmul_addr *to);
uint64_t pmul__rx_deadline(const pmul_engine *e);
void pmul__rx_emcon_lifted(pmul_engine *e);
/* Message_Sequence_Number gaps held before being reported lost. */
bool pmul__rx_gaps_pending(const pmul_engine *e);
/* Set up the receiver's lookup map and timer heap (no allocation). */
void pmul__rx_init(pmul_engine *e);
void pmul__rx_free_all(pmul_engine *e);
/* Message (src, msid), or NULL. */
pmul_rxmsg *pmul__rx_find(const pmul_engine *e, uint32_t src, uint32_t msid);
/* After m's timers may have changed: its place in the deadline heap. */
void pmul__rx_retime(pmul_engine *e, pmul_rxmsg *m);
/* Sources of the ACTIVE message m were rebuilt (joint repair): deliver it
 * when complete, else Ack when one was the highest of our last list
 * (hit); m's place in the deadline heap. */
void pmul__rx_recovered(pmul_engine *e, pmul_rxmsg *m, bool hit);

/* ---- pmul_rxack.c: the receiver's Acks ---------------------------------- */

/* Owe an Ack for m, due after a random spreading delay. */
void pmul__rx_owe_ack(pmul_engine *e, pmul_rxmsg *m);
/* The spreading delay's due time for an Ack of m (one random draw). */
uint64_t pmul__rx_ack_due(pmul_engine *e, const pmul_rxmsg *m);
/* Owe an Ack for m at due (Acks owed to one source at one due time leave
 * in one Ack_PDU). */
void pmul__rx_owe_ack_at(pmul_engine *e, pmul_rxmsg *m, uint64_t due);
/* The tail wait of m (a probe wait after our Ack). */
uint32_t pmul__rx_tail_ms(const pmul_engine *e, const pmul_rxmsg *m);
/* A Data_PDU of m arrived: sample the interval between its PDUs. */
void pmul__rx_note_pdu_gap(const pmul_engine *e, pmul_rxmsg *m);
/* Tail mode until an Ack leaves in this round. */
void pmul__rx_arm_tail(pmul_engine *e, pmul_rxmsg *m);
/* Do m's receivers' Acks take more of its source's air than a Data_PDU? */
bool pmul__rx_acks_take_air(const pmul_engine *e, const pmul_rxmsg *m);
/* Until when the source's last PDU holds back m's owed Ack (0: not). */
uint64_t pmul__rx_held_until(const pmul_engine *e, const pmul_rxmsg *m, const pmul_rxsrc *s);
/* Missing numbers found since the last Ack was built. */
uint32_t pmul__rx_new_gaps(const pmul_rxmsg *m);

/* ---- pmul_rxfec.c: FEC repair on the receiver ----------------------------- */

/* Is pdu a FEC_Address_PDU (or its extended form)? */
bool pmul__rx_is_fec_pdu(const pmul_pdu *pdu);
/* A FEC_Address_PDU listing us for the ACTIVE message m: set up its
 * decoder (true) from the first usable layout, map what is held. */
bool pmul__rx_fec_attach(pmul_engine *e, pmul_rxmsg *m, const pmul_pdu *pdu);
/* Decode every block of m that can be and is not yet; *hit: a recovered
 * source is the highest of our last missing list. */
void pmul__rx_fec_recover_all(pmul_engine *e, pmul_rxmsg *m, bool *hit);
/* Fragment seq (len octets) of m was stored: record it, decode its block. */
void pmul__rx_fec_feed(pmul_engine *e, pmul_rxmsg *m, uint16_t seq, size_t len, bool *hit);
/* Is Data_PDU seq above m's Total a repair m can still use? */
bool pmul__rx_fec_repair_wanted(const pmul_rxmsg *m, uint16_t seq, size_t len);
/* Give m's decoder back (memory, budget); m->fec stays. */
void pmul__rx_fec_drop(pmul_engine *e, pmul_rxmsg *m);
/* Next source number >= from that m's missing list names under the FEC
 * Ack rule (lowest k_b - held_b missing of each block it cannot decode
 * yet), or 0 when none.  m->fecd is set. */
uint16_t pmul__rx_fec_next_missing(const pmul_rxmsg *m, uint32_t from);
/* Free the engine's codec context and recovery scratch. */
void pmul__rx_fec_fini(pmul_engine *e);
/* Source seq of m (len octets, stored by a joint recovery) held in its
 * decoder, without decoding its block. */
void pmul__rx_fec_note(pmul_rxmsg *m, uint16_t seq, size_t len);

/* ---- pmul_rxjoint.c: kept payloads and joint repair (wire.md 10.8) ------ */

/* Set up the keep store (no allocation). */
void pmul__rx_keep_init(pmul_engine *e);
/* m was delivered (or accepted) with payload[0..len) (borrowed): keep a
 * copy when it was announced with FEC as one block (m->keep_sym). */
void pmul__rx_keep_add(pmul_engine *e, const pmul_rxmsg *m, const uint8_t *payload, size_t len);
/* Drop kept payloads whose Expiry_Time has come (pmul__rx_expire). */
void pmul__rx_keep_expire(pmul_engine *e);
/* When the next kept payload expires (UINT64_MAX: none). */
uint64_t pmul__rx_keep_deadline(const pmul_engine *e);
/* Source src goes: its kept payloads go (counted as evicted). */
void pmul__rx_keep_forget_source(pmul_engine *e, uint32_t src);
/* The message (src, msid) is freed: the joint state it carries goes. */
void pmul__rx_joint_forget(pmul_engine *e, uint32_t src, uint32_t msid);
/*
 * A FEC_Address_PDU listing us for carrier m (ACTIVE or COMPLETE): take
 * its joint set (version 2), decode when it can.  May deliver messages
 * and free m: the caller finds m again.  Returns true when the copy closes
 * a joint round in which a member is still ACTIVE: answer it with
 * pmul__rx_joint_answer().
 */
bool pmul__rx_joint_on_address(pmul_engine *e, pmul_rxmsg *m, const pmul_pdu *pdu);
/*
 * Data_PDU pdu of carrier m: true when its number is a joint repair of
 * m's joint set (then handled: held, decoded or dropped; m may be freed
 * and the caller must not use it), false otherwise.
 */
bool pmul__rx_joint_on_data(pmul_engine *e, pmul_rxmsg *m, const pmul_pdu *pdu);
/* One Ack_PDU for carrier m's closing copy: m and every ACTIVE member. */
void pmul__rx_joint_answer(pmul_engine *e, pmul_rxmsg *m);
/* Free every joint state and kept payload (engine teardown). */
void pmul__rx_joint_fini(pmul_engine *e);

/* ---- pmul_rxsrc.c: sources and lost-message tracking -------------------- */

pmul_rxsrc *pmul__src_find(const pmul_engine *e, uint32_t id);
/* Find or create the source id (evicting an idle one past max_sources);
 * its last activity is now.  Returns 0, PMUL_ERR_BUSY or PMUL_ERR_NOMEM
 * (counted as drops). */
int pmul__src_get(pmul_engine *e, uint32_t id, pmul_rxsrc **out);
/* A Data_PDU, or an Address_PDU with destinations, of s arrived: its
 * message is the one s is sending now. */
void pmul__src_note_sent(pmul_rxsrc *s, const pmul_pdu *pdu);
/* Did s's last such PDU belong to a message it sends after m (so m's
 * round is over)? */
bool pmul__src_moved_past(const pmul_rxsrc *s, const pmul_rxmsg *m);
/* When s's oldest held gap is due to be reported (UINT64_MAX: none). */
uint64_t pmul__gap_deadline(const pmul_engine *e, const pmul_rxsrc *s);
/* Report every gap s holds as LOST_MESSAGE now. */
void pmul__gap_report_all(pmul_engine *e, pmul_rxsrc *s);
/* A message with Message_Sequence_Number msn arrived from s: fill or open
 * gaps. */
void pmul__check_lost(pmul_engine *e, pmul_rxsrc *s, uint32_t msn);

/* Free every message of source src (all EARLY or IGNORED: the source
 * is being evicted). */
void pmul__rx_forget_source(pmul_engine *e, uint32_t src);

enum { PMUL__VERDICT_ACCEPT, PMUL__VERDICT_DEFER, PMUL__VERDICT_REJECT };
/* pmul_engine_accept/defer/reject. */
int pmul__rx_verdict(pmul_engine *e, uint32_t src, uint32_t msid, int verdict);
int pmul__rx_restore_done(pmul_engine *e, uint32_t src, uint32_t msid, int64_t expiry_s);

#endif

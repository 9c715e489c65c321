/*
 * pmul_engine.h: the sans-I/O ACP 142 P_MUL protocol engine.
 *
 * One engine is one P_MUL node: it transmits messages to sets of
 * destinations over multicast and receives the messages other nodes send to
 * it.  It does no I/O, reads no clock and draws no randomness (style.md 2):
 *
 *   - every entry point takes `now` (monotonic milliseconds drive all
 *     timers; wall-clock Unix seconds are only compared with P_MUL's
 *     absolute Expiry_Time);
 *   - datagrams received from the network are pushed in with
 *     pmul_engine_recv();
 *   - datagrams to send are pulled out with pmul_engine_poll_tx() into the
 *     caller's buffer, together with their destination address; it returns
 *     0 while the pacing (link rate) does not allow the next datagram yet;
 *   - timers are one query, pmul_engine_next_deadline(), plus one call,
 *     pmul_engine_expire();
 *   - what happened to messages comes out as events, pmul_engine_poll_event();
 *   - allocation, logging and randomness come from the caller (pmul_env).
 *
 * A driver loop looks like this (netsim, pmul_uv, pmul-replay):
 *
 *     on datagram:  pmul_engine_recv(e, now, &from, pkt, len);
 *     on timer:     pmul_engine_expire(e, now);
 *     after either: while ((n = pmul_engine_poll_tx(e, now, buf, cap, &to)) > 0)
 *                       send(to, buf, n);
 *                   while (pmul_engine_poll_event(e, &ev) == 1)
 *                       handle(&ev);
 *                   arm_timer(pmul_engine_next_deadline(e));
 *
 * Determinism: for the same configuration, the same rand sequence and the
 * same sequence of calls with the same arguments, the engine emits
 * byte-identical datagrams and identical events in the same order.  Nothing
 * depends on pointer values or on the allocator.
 *
 * Behaviour: docs/wire.md section 7 with the decisions of
 * docs/decisions.md; design notes in docs/engine.md.
 */
#ifndef PMUL_ENGINE_H
#define PMUL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pmul/pmul_err.h"
#include "pmul/util/log.h"
#include "pmul/util/mem.h"

typedef struct pmul_engine pmul_engine;

/* ------------------------------------------------------------------ */
/* Time, environment, addresses                                       */
/* ------------------------------------------------------------------ */

/* The current time, passed to every call.  mono_ms never goes backwards
 * (a smaller value than in an earlier call is treated as the earlier one);
 * wall_s is Unix time in seconds, used only against Expiry_Time. */
typedef struct pmul_now {
    uint64_t mono_ms;
    int64_t wall_s;
} pmul_now;

/* Randomness: return 32 uniformly distributed random bits.  Used for the
 * Ack spreading delay and (when cfg->first_msid is 0) the first MSID. */
typedef uint32_t (*pmul_rand_fn)(void *arg);

/*
 * All outside effects of the engine.  The struct is copied by
 * pmul_engine_new(); the allocator and the log/rand arguments it points to
 * are borrowed and must outlive the engine.
 */
typedef struct pmul_env {
    const mem *mem;             /* NULL: libc */
    logger log;                 /* log.fn NULL: silence */
    pmul_rand_fn rand;          /* NULL only with cfg->first_msid set: an
                                 * internal xorshift seeded with node_id
                                 * (deterministic, for tests and tools);
                                 * otherwise pmul_engine_new() refuses it,
                                 * since a fixed sequence would make the
                                 * first MSID repeat after every restart */
    void *rand_arg;
} pmul_env;

/*
 * A UDP endpoint.  ip is an IPv4 address in host byte order.  For unicast
 * destinations the engine puts the peer's node ID in ip (a node ID is its
 * IPv4 address by default, decision 7); a driver that uses other IDs maps
 * them to real addresses itself.
 */
typedef struct pmul_addr {
    uint32_t ip;
    uint16_t port;
    bool is_multicast;
} pmul_addr;

/* Default ports (docs/wire.md 1). */
#define PMUL_TPORT_DEFAULT 2751u
#define PMUL_RPORT_DEFAULT 2752u
#define PMUL_DPORT_DEFAULT 2753u
#define PMUL_APORT_DEFAULT 2754u

/* pmul_msg.group value: pick a group from cfg->group_pool with the dynamic
 * group procedure (docs/wire.md 7.4). */
#define PMUL_GROUP_DYNAMIC UINT32_MAX

/* ------------------------------------------------------------------ */
/* Configuration                                                      */
/* ------------------------------------------------------------------ */

/*
 * Engine configuration.  Always start from pmul_config_default() and
 * change fields: new fields get sane defaults there.  Copied by
 * pmul_engine_new() (including the arrays it points to).
 * Times are milliseconds unless named _s.
 */
typedef struct pmul_config {
    uint32_t node_id;           /* our Source_ID / Destination_ID (IPv4) */
    uint16_t tport, rport, dport, aport;    /* 2751..2754 */
    uint32_t gg_group;          /* GG: global group for Request/Release/
                                 * Announce (default 239.1.1.1) */
    uint32_t default_group;     /* group for pmul_msg.group == 0
                                 * (default 239.1.1.2) */
    const uint32_t *group_pool; /* dynamic groups we may request */
    size_t group_pool_cnt;

    /* Sizes and rate. */
    size_t pdu_max_len;         /* max UDP payload we emit (default 1024,
                                 * 64..65535); any PDU up to 65535 octets
                                 * is accepted on receive */
    uint64_t link_rate_bps;     /* pacing ceiling in bit/s, counting 28
                                 * octets of IP/UDP per datagram; 0 = no
                                 * pacing (default 9600) */
    bool shared_medium;         /* the link is one channel that every node
                                 * sends on (a radio net): what we receive
                                 * took air our queued datagrams then
                                 * waited for, and with 12 or more
                                 * receivers their Acks take the source's
                                 * air: re-acks and answers that carry
                                 * nothing new wait or are left out
                                 * (pmul_rxack.c) (default false: a link
                                 * of our own, as on per-node uplinks) */
    size_t max_msg_len;         /* largest message we send or accept
                                 * (default 4 MiB, at most 65535 PDUs) */

    /* ACP 142 Annex B parameters (docs/wire.md 7.1). */
    uint32_t ack_rtx_min_ms;    /* ACK_RE-TRANSMISSION_TIME lower clamp
                                 * (default 2000) */
    uint32_t ack_rtx_max_ms;    /* upper clamp (default 120000) */
    bool ack_rtx_fixed;         /* true: ack_rtx_min_ms is the fixed ACP
                                 * timer, no adaptation (default false) */
    uint32_t backoff_factor_pct;/* BACK-OFF_FACTOR x 100 (default 125;
                                 * 100 = 1.0 as in ACP) */
    uint32_t emcon_rtc;         /* EMCON_RTC (default 4) */
    uint32_t emcon_rti_ms;      /* EMCON_RTI (default 30000) */
    uint16_t mm;                /* MM: new missing entries per Ack entry
                                 * (default 20) */
    uint32_t ack_pdu_time_ms;   /* ACK_PDU_TIME (default 10000) */
    uint32_t ack_spread_ms;     /* random Ack delay bound (default 1000) */
    uint32_t ack_batch_ms;      /* Acks to one transmitter due within this
                                 * window share one Ack_PDU (default 200) */
    uint32_t early_data_ms;     /* validity of Data_PDUs seen before their
                                 * Address_PDU (default 1800000) */
    uint32_t tail_floor_ms;     /* least wait after the last PDU of a round
                                 * before a receiver calls it quiet and
                                 * acks its missing list (default 200) */
    uint32_t lost_grace_ms;     /* a Message_Sequence_Number gap is reported
                                 * (LOST_MESSAGE) only when no new message
                                 * of its source came for max(this, 4 x the
                                 * source's message pace); default 60000 */
    uint32_t wait_for_reject_ms;/* WAIT_FOR_REJECT_TIME (default 5000) */
    uint32_t announce_delay_ms; /* ANNOUNCE_DELAY (default 5000) */
    uint32_t announce_ct;       /* ANNOUNCE_CT (default 5) */
    uint32_t max_group_tries;   /* Rejects before a dynamic-group message
                                 * falls back to default_group (default 3) */
    uint32_t default_expiry_s;  /* pmul_msg.expiry_s == 0 (default 86400) */
    uint32_t first_msid;        /* first MSID we allocate; 0 = random (a
                                 * daemon sets it from its persisted
                                 * counter: pmul_engine_next_msid()) */
    bool ack_timestamp;         /* emit the Ack timestamp option (decision
                                 * 8; default false).  Always accepted. */
    bool addr_repeat;           /* repeat the round's Address_PDU(s) after
                                 * its last Data_PDU, so a receiver that
                                 * lost the first can still ack at the end
                                 * of the round (default true) */
    bool emcon;                 /* start in EMCON (receive only) */
    const uint32_t *emcon_dests;/* destinations known to be in EMCON */
    size_t emcon_dest_cnt;

    /* Caps (style.md 3): everything a peer can grow is bounded. */
    size_t max_tx_msgs;         /* our messages in flight at least as urgent
                                 * as a new one (default 256): a more
                                 * urgent message is admitted past less
                                 * urgent ones, up to twice this in all */
    size_t max_dests;           /* destinations per message, sent or
                                 * accepted (default 1024) */
    size_t max_sources;         /* transmitters tracked at once (def. 256) */
    size_t max_rx_msgs_per_src; /* messages being received per source
                                 * (default 64) */
    size_t max_rx_bytes_per_src;/* reassembly bytes per source, early Data
                                 * included (default 8 MiB) */
    size_t max_rx_done_per_src; /* completed messages per source kept
                                 * whole (to answer with the complete Ack)
                                 * until Ack-Ack, Discard or expiry
                                 * (default 1024; the
                                 * oldest moves to the delivered set below) */
    size_t max_groups_joined;   /* dynamic multicast groups joined at once
                                 * on Announce_PDUs (default 16: below the
                                 * kernel's 20 memberships per socket, with
                                 * room for the default group and GG) */
    size_t max_rx_done_ranges;  /* delivered MSIDs remembered per source
                                 * until their Expiry_Time, as ranges of
                                 * consecutive MSIDs (default 4096 ranges,
                                 * 64 KiB); when full, new messages of that
                                 * source are refused until one expires,
                                 * never delivered twice */
    size_t max_rx_msgs;         /* messages being received, all sources
                                 * (default 1024) */
    size_t max_rx_bytes;        /* reassembly bytes, all sources
                                 * (default 64 MiB) */
    size_t max_missing;         /* missing words accepted per Ack_PDU
                                 * (default 4096) */
    size_t max_ack_entries;     /* Ack_Info_Entries accepted per Ack_PDU
                                 * (default 256) */
    /* Application-accept mode (the daemon's durability contract): */
    bool deliver_needs_accept;  /* true: DELIVERED owes no Ack; the
                                 * application calls pmul_engine_accept()
                                 * once the message is durable (then the
                                 * complete Ack is owed) or
                                 * pmul_engine_defer() (not now: no Ack,
                                 * DELIVERED again after defer_retry_ms).
                                 * Default false: acked on delivery. */
    size_t max_rx_unaccepted;   /* delivered messages awaiting accept or
                                 * defer (default 64); past it, or past
                                 * max_rx_unaccepted_bytes, a completed
                                 * message is held back undelivered and
                                 * unacknowledged until room frees */
    size_t max_rx_unaccepted_bytes; /* their payload octets (default 16 MiB) */
    uint32_t defer_retry_ms;    /* DELIVERED again this long after a defer
                                 * (default 30000) */
    size_t max_events;          /* queued events before the oldest
                                 * LOST/diagnostic ones are dropped; events
                                 * about messages are never dropped
                                 * (default 4096) */
    uint32_t rx_idle_ms;        /* free an incomplete message nothing of
                                 * which came for this long (default 6 h;
                                 * 0: keep it until its Expiry_Time).  It was
                                 * never delivered, so this cannot duplicate
                                 * anything; it stops a peer holding table
                                 * slots until 2106 (issue 13) */
    bool check_source_ip;       /* drop a PDU whose Source_ID is not the
                                 * datagram's IP source (default true; off
                                 * behind NAT or a relay that re-sends) */

    /* FEC repair (docs/wire.md 10): messages we send are announced by a
     * FEC_Address_PDU and carry Reed-Solomon repair Data_PDUs.  Receivers
     * that do not know FEC still complete by selective repeat. */
    bool fec;                   /* send with repair (default false) */
    uint32_t fec_ratio_pct;     /* proactive repairs per block in a whole
                                 * transmission: floor(pct x k / 100)
                                 * (default 10; 0: none) */
    uint32_t fec_emcon_repairs; /* fresh repairs per block in each EMCON
                                 * transmission (default 8) */
    uint32_t fec_max_block;     /* source PDUs per block, 1..254 (default
                                 * 128: k + every repair of later rounds
                                 * must stay <= 255) */
    uint32_t fec_emcon_addr;    /* FEC_Address_PDU copies per EMCON
                                 * transmission (default 3) */
    bool fec_adaptive;          /* size repairs from the loss the Acks
                                 * report: proactive repairs for the
                                 * expected loss and a margin on requested
                                 * ones, while the message is alone on the
                                 * link (default true) */
    /* Joint repair (docs/wire.md 10.8): repairs that answer the Acks of
     * several messages to the same destinations, coded over all of them,
     * so that each receiver's losses add up before the neediest is
     * served.  Receivers keep what they delivered for a while to use it. */
    bool fec_joint;             /* send joint rounds (default true; only
                                 * with fec) */
    uint32_t fec_joint_max;     /* messages per joint round, 2..30
                                 * (default 8) */
    uint32_t fec_joint_wait_ms; /* longest a message's repair round waits
                                 * for others to join it (default 60000) */
    uint32_t fec_keep_bytes;    /* receiver: payload octets of delivered FEC
                                 * messages kept for joint repair, over all
                                 * sources (default 1 MiB; 0: none) */
} pmul_config;

/* Fill *cfg with the defaults listed above (node_id 0: set it). */
void pmul_config_default(pmul_config *cfg);

/* ------------------------------------------------------------------ */
/* Messages and events                                                */
/* ------------------------------------------------------------------ */

/*
 * A message to send.  Everything is borrowed for the call and copied.
 */
typedef struct pmul_msg {
    const uint8_t *payload;     /* 1..cfg.max_msg_len octets */
    size_t payload_len;
    const uint32_t *dests;      /* destination node IDs, any order; no
                                 * duplicates, not our own ID */
    size_t dest_cnt;            /* 1..cfg.max_dests */
    const bool *dest_emcon;     /* NULL, or dest_cnt flags: this
                                 * destination is in EMCON (or-ed with the
                                 * engine's set) */
    uint32_t group;             /* IPv4 multicast group; 0 = default_group;
                                 * PMUL_GROUP_DYNAMIC = from the pool */
    uint8_t priority;           /* Priority octet; lower = more urgent */
    int64_t expiry_s;           /* Unix seconds; 0 = now + default_expiry_s */
    uint64_t tag;               /* opaque, echoed in the tx events */
    /* Resuming a message after a restart (or choosing its MSID): */
    uint32_t msid;              /* 0: the engine's next MSID; else this one
                                 * (must not be in flight already) */
    const uint32_t *dest_msns;  /* NULL: each destination's next
                                 * Message_Sequence_Number; else dest_cnt
                                 * numbers, as first sent (a resumed
                                 * message keeps them); the counters move
                                 * past them */
    bool resumed;               /* sent before a restart: a receiver may hold
                                 * it whole already and acknowledge it
                                 * before its data goes out again */
} pmul_msg;

enum pmul_event_kind {
    PMUL_EV_NONE = 0,
    /* Receiver side. */
    PMUL_EV_DELIVERED,          /* a message was received completely */
    PMUL_EV_RX_DISCARDED,       /* Discard_Message_PDU or expiry before
                                 * completion: the message is gone */
    PMUL_EV_LOST_MESSAGE,       /* Message_Sequence_Number gap: messages
                                 * seq_first..seq_last from source_id
                                 * addressed to us were never seen, and
                                 * did not come within the grace period
                                 * (cfg.lost_grace_ms) after the gap was
                                 * seen or the source last started a new
                                 * message */
    PMUL_EV_JOIN_GROUP,         /* driver: join multicast group `group` */
    PMUL_EV_LEAVE_GROUP,        /* driver: leave it */
    /* Transmitter side. */
    PMUL_EV_DEST_ACKED,         /* dest_id has the whole message */
    PMUL_EV_DEST_FAILED,        /* dest_id did not get it (reason) */
    PMUL_EV_MSG_DONE,           /* message finished: acked_cnt + failed_cnt
                                 * destinations; no more events for it */
    PMUL_EV_DEST_EMCON_OFF,     /* dest_id acknowledged while marked EMCON:
                                 * now in normal mode for this message */
};

/* Why a message or destination failed. */
enum pmul_reason {
    PMUL_REASON_NONE = 0,
    PMUL_REASON_EXPIRED,        /* Expiry_Time passed */
    PMUL_REASON_DISCARDED,      /* Discard_Message_PDU received */
    PMUL_REASON_CANCELLED,      /* pmul_engine_cancel() */
    PMUL_REASON_CAP,            /* a configured cap forced the drop */
    PMUL_REASON_NOMEM,          /* allocation failure forced the drop */
    PMUL_REASON_NOT_ADDRESSED,  /* Address_PDU does not list us */
    PMUL_REASON_IDLE,           /* incomplete, and nothing of it came for
                                 * cfg.rx_idle_ms */
};

/*
 * One event.  Only the fields named for its kind are meaningful; the rest
 * are 0.  payload and dests (DELIVERED) point into engine memory and are
 * valid until the next call of any pmul_engine_* function on this engine:
 * copy them.
 */
typedef struct pmul_event {
    int kind;                   /* enum pmul_event_kind */
    uint32_t source_id;         /* rx: the transmitter; tx: cfg.node_id */
    uint32_t msid;
    uint32_t dest_id;           /* DEST_*: the destination */
    uint64_t tag;               /* tx events: pmul_msg.tag */
    uint8_t priority;
    int reason;                 /* enum pmul_reason (FAILED/DISCARDED) */
    int64_t expiry_s;           /* the message's Expiry_Time */
    const uint8_t *payload;     /* DELIVERED */
    size_t payload_len;
    const uint32_t *dests;      /* DELIVERED: the message's Destination_IDs
                                 * (ascending, no duplicates, this node
                                 * included), the union of every part of
                                 * its Address_PDU(s) this node saw: all of
                                 * them when the first round's Address_PDUs
                                 * arrived (later rounds list only the
                                 * destinations not yet acked) */
    size_t dest_cnt;
    uint32_t group;             /* JOIN/LEAVE_GROUP */
    uint32_t seq_first;         /* LOST_MESSAGE: Message_Sequence_Numbers */
    uint32_t seq_last;
    uint32_t acked_cnt;         /* MSG_DONE */
    uint32_t failed_cnt;        /* MSG_DONE */
    bool total_raised;          /* DELIVERED: a Data_PDU above the Address_PDU's
                                 * Total_Number_of_PDUs proved that Total
                                 * wrong (a peer that puts the count of PDUs
                                 * resent in a round there, after the first
                                 * Address_PDU was lost); the payload is
                                 * every PDU up to the highest seen and may
                                 * lack a tail: check it whole before
                                 * accepting, pmul_engine_reject() if not */
} pmul_event;

/* ------------------------------------------------------------------ */
/* Statistics                                                         */
/* ------------------------------------------------------------------ */

/* Why a received datagram (or part of it) was dropped. */
enum pmul_drop {
    PMUL_DROP_MALFORMED = 0,    /* the codec rejected it */
    PMUL_DROP_OWN,              /* our own Source_ID (multicast loopback) */
    PMUL_DROP_NOT_FOR_US,       /* Address_PDU not listing us, Ack for a
                                 * message we do not know */
    PMUL_DROP_DUPLICATE,        /* Data_PDU or Address_PDU already held */
    PMUL_DROP_EXPIRED,          /* Expiry_Time already passed */
    PMUL_DROP_CAP_SOURCES,      /* max_sources */
    PMUL_DROP_CAP_MSGS,         /* max_rx_msgs(_per_src) */
    PMUL_DROP_CAP_BYTES,        /* max_rx_bytes(_per_src) */
    PMUL_DROP_INCONSISTENT,     /* contradicts what we hold (sequence
                                 * number above Total, fragment size) */
    PMUL_DROP_EARLY_TIMEOUT,    /* early Data_PDUs whose Address_PDU never
                                 * came (counted per PDU) */
    PMUL_DROP_NOMEM,            /* allocation failed */
    PMUL_DROP_UNEXPECTED,       /* valid PDU with no use here (Reject we
                                 * did not ask for, ...) */
    PMUL_DROP_SOURCE_MISMATCH,  /* Source_ID is not the datagram's IP source
                                 * (check_source_ip) */
    PMUL_DROP_NOT_ALLOWED,      /* Source_ID not in the allowlist */
    PMUL_DROP_COUNT
};

typedef struct pmul_stats {
    /* Indexed by PDU type value (enum pmul_pdu_type, < 32). */
    uint64_t tx_pdus[32];
    uint64_t tx_bytes[32];      /* UDP payload octets */
    uint64_t rx_pdus[32];       /* decoded successfully */
    uint64_t rx_bytes[32];
    uint64_t drops[PMUL_DROP_COUNT];
    uint64_t retx_data_pdus;    /* Data_PDUs sent again */
    uint64_t retx_rounds;       /* retransmission rounds (timer + EMCON) */
    uint64_t ack_acks;          /* Ack-Ack Address_PDUs sent */
    uint64_t msgs_submitted;
    uint64_t msgs_done;
    uint64_t dests_acked;
    uint64_t dests_failed;
    uint64_t msgs_delivered;
    uint64_t msgs_rx_discarded;
    uint64_t msgs_lost;         /* sum of LOST_MESSAGE range sizes */
    uint64_t lost_untracked;    /* Message_Sequence_Numbers in gaps no longer
                                 * tracked (more gaps than the per-source
                                 * cap): neither reported nor known */
    uint64_t events_dropped;
    uint64_t rx_late_dups;      /* PDUs of messages delivered earlier and
                                 * no longer held whole, recognised by the
                                 * delivered set (no second delivery) */
    uint64_t src_evicted;       /* sources holding only early data or
                                 * ignored messages, evicted for a new one */
    uint64_t rx_evicted;        /* incomplete messages evicted at a cap for
                                 * a progressing one (early, or stalled) */
    /* Current values. */
    size_t tx_msgs;             /* our messages in flight */
    size_t rx_msgs;             /* messages being received (incl. early) */
    size_t rx_held_bytes;       /* reassembly bytes held */
    size_t rx_unaccepted;       /* delivered, awaiting accept/defer */
    uint64_t msgs_accepted;     /* pmul_engine_accept() calls that owed an Ack */
    uint64_t msgs_deferred;     /* pmul_engine_defer() calls */
    uint64_t msgs_rejected;     /* pmul_engine_reject() calls */
    uint64_t join_failures;     /* pmul_engine_join_failed() calls */
    uint64_t rx_total_raised;   /* messages whose Total a Data_PDU above it
                                 * proved wrong */
    uint32_t srtt_ms;           /* round-trip estimate the retransmission
                                 * timer uses (0: none yet) */
    uint32_t rto_ms;            /* retransmission timeout last armed */
    uint64_t fec_repair_pdus;   /* FEC repair Data_PDUs sent */
    /* FEC repair on the receiver (docs/wire.md 10.7). */
    uint64_t rx_fec_recovered;  /* source Data_PDUs rebuilt from repairs */
    uint64_t rx_fec_rejected;   /* FEC_Address_PDUs whose FEC fields were
                                 * refused (message received plainly) */
    uint64_t rx_fec_unused;     /* Data_PDUs above Total not kept: repairs
                                 * of a block already decodable or of a
                                 * message received plainly or complete */
    /* Receivers that do not know PDU type 8 (docs/engine.md 2). */
    uint64_t fec_plain_fallbacks; /* FEC messages announced plainly, without
                                   * repairs, after the asks failed */
    uint64_t fec_blind_learned; /* destinations found to answer only plain
                                 * announcements (sent plain for a while) */
    uint64_t fec_nodec_learned; /* destinations found not to use repairs
                                 * (plain peers for a while) */
    /* Joint repair (docs/wire.md 10.8). */
    uint64_t fec_joint_rounds;  /* joint rounds sent */
    uint64_t fec_joint_members; /* messages served by them, summed */
    uint64_t fec_joint_repairs; /* joint repair Data_PDUs sent (also in
                                 * fec_repair_pdus) */
    uint64_t fec_nojoint_learned; /* destinations found not to use joint
                                   * repairs (none sent to them a while) */
    uint64_t rx_joint_recovered; /* source Data_PDUs rebuilt by joint
                                  * repairs */
    uint64_t rx_joint_unusable; /* joint rounds listing us that named a
                                 * member we neither hold nor kept */
    uint64_t rx_keep_evicted;   /* kept payloads dropped for room before
                                 * their time */
} pmul_stats;

/* What the transmitter has learnt of a destination's FEC (docs/engine.md 6,
 * "Receivers that do not know PDU type 8"). */
enum pmul_dest_fec {
    PMUL_DEST_FEC_UNKNOWN = 0,  /* never answered a FEC_Address_PDU, nothing
                                 * found against it */
    PMUL_DEST_FEC_READS,        /* answered a message announced by
                                 * FEC_Address_PDUs */
    PMUL_DEST_FEC_BLIND,        /* answered only plain announcements: its
                                 * next fec_left messages go plain */
    PMUL_DEST_FEC_NODEC,        /* its missing lists ignore repairs: a plain
                                 * peer for its next fec_left messages */
};

/* One destination as the engine knows it (pmul_engine_dest_info()). */
typedef struct pmul_dest_info {
    uint32_t id;
    uint32_t next_msn;          /* Message_Sequence_Number of the next
                                 * message to it */
    bool emcon;                 /* configured in EMCON (cfg.emcon_dests,
                                 * pmul_engine_set_dest_emcon()) */
    bool no_fec;                /* a configured plain peer
                                 * (pmul_engine_set_no_fec_peers()) */
    /* Loss estimate: symbols of first transmissions sent to it, and of
     * those received, as its Acks told; both halved past a window, so
     * that they follow the link.  The transmitter uses it from 8 sent. */
    uint32_t loss_sent, loss_got;
    int fec;                    /* enum pmul_dest_fec */
    uint16_t fec_left;          /* BLIND, NODEC: messages still served plainly */
    uint16_t fec_span;          /* BLIND, NODEC: the span they started from
                                 * (doubles with each new finding) */
    bool fec_decodes;           /* its lists shrank on repairs alone: it
                                 * decodes (never taken for NODEC again) */
    bool joint_decodes;         /* it decoded a joint round (docs/wire.md
                                 * 10.8): full-size sets from now on */
    uint16_t nojoint_left;      /* messages still kept out of joint rounds
                                 * after a finding that it leaves them
                                 * unused (0: none) */
} pmul_dest_info;

/* ------------------------------------------------------------------ */
/* Engine                                                             */
/* ------------------------------------------------------------------ */

/*
 * Create an engine.  cfg and env are copied (see pmul_env for what stays
 * borrowed).  Returns 0 and sets *out, or PMUL_ERR_INVAL (bad
 * configuration: node_id 0, pdu_max_len out of range, zero caps ...) or
 * PMUL_ERR_NOMEM; *out is NULL then.
 */
__attribute__((warn_unused_result))
int pmul_engine_new(pmul_engine **out, const pmul_config *cfg, const pmul_env *env);

/* Free the engine and everything it holds, without sending or reporting
 * anything.  NULL is a no-op. */
void pmul_engine_free(pmul_engine *e);

/*
 * Feed one received UDP payload.  from (the sender's address) and pkt are
 * borrowed for the call.  Returns 0 when the datagram was used, or a
 * negative code saying why it was (wholly or partly) dropped: a codec code
 * of pmul_err.h, PMUL_ERR_NOTFOUND, _EXPIRED, _DUPLICATE, _NOT_FOR_US,
 * _INCONSISTENT, _OWN, _UNEXPECTED, PMUL_ERR_BUSY for caps, or
 * PMUL_ERR_NOMEM.  The drop is counted in the stats and the engine stays
 * consistent, so the caller may ignore the code.
 */
int pmul_engine_recv(pmul_engine *e, pmul_now now, const pmul_addr *from,
                     const uint8_t *pkt, size_t len);

/*
 * Produce the next datagram to send into out[0..cap) and its destination
 * in *to.  Returns its length, 0 when nothing may be sent now (nothing
 * queued, or the pacing does not allow it yet: see next_deadline), or
 * PMUL_ERR_NOSPACE when cap < cfg.pdu_max_len (nothing is consumed).
 * Call it until it returns 0.  Datagrams of urgent messages (lower
 * Priority octet) come first; Acks and group-management PDUs precede data.
 */
ssize_t pmul_engine_poll_tx(pmul_engine *e, pmul_now now, uint8_t *out,
                            size_t cap, pmul_addr *to);

/*
 * The monotonic time at which poll_tx or expire must next be called
 * (a time not after the last `now` means "now"), or UINT64_MAX when the
 * engine waits only for datagrams or submissions.
 */
uint64_t pmul_engine_next_deadline(const pmul_engine *e);

/* Run every timer due at `now`.  Returns 0; never fails (allocation
 * failures inside are counted and retried). */
int pmul_engine_expire(pmul_engine *e, pmul_now now);

/*
 * Queue a message for transmission.  *m and its arrays are borrowed for
 * the call (copied).  On success stores the MSID in *msid (may be NULL).
 * Returns 0, or PMUL_ERR_INVAL (empty payload or destination list,
 * duplicates, our own ID, too long), PMUL_ERR_RANGE (more than 65535
 * Data_PDUs), PMUL_ERR_EXPIRED (expiry not after now.wall_s),
 * PMUL_ERR_BUSY (max_tx_msgs messages at least as urgent in flight, or
 * twice that in all: retry later) or PMUL_ERR_NOMEM
 * (retry later).  Nothing is queued on failure.
 */
__attribute__((warn_unused_result))
int pmul_engine_submit(pmul_engine *e, pmul_now now, const pmul_msg *m, uint32_t *msid);

/*
 * What a restart needs from the transmitter side: the next MSID the engine
 * would allocate (persist a bound above it before using MSIDs, so none is
 * reused within the expiry window) and the next Message_Sequence_Number
 * per destination (persist after each submit).  The setters restore them
 * after a restart; set_next_msn returns PMUL_ERR_NOMEM or 0.
 */
uint32_t pmul_engine_next_msid(const pmul_engine *e);
void pmul_engine_set_next_msid(pmul_engine *e, uint32_t msid);
uint32_t pmul_engine_next_msn(const pmul_engine *e, uint32_t dest);
int pmul_engine_set_next_msn(pmul_engine *e, uint32_t dest, uint32_t msn);

/*
 * Accept PDUs only from these Source_IDs (copied; cnt 0: from anyone, the
 * default).  Anything else is dropped before it touches any state and
 * counted (PMUL_DROP_NOT_ALLOWED).  Returns 0, PMUL_ERR_NOMEM (the old
 * list stays), PMUL_ERR_INVAL.
 */
int pmul_engine_set_allowed(pmul_engine *e, const uint32_t *ids, size_t cnt);

/*
 * Give up on one of our messages: send Discard_Message_PDU, report
 * DEST_FAILED (PMUL_REASON_CANCELLED) for every incomplete destination and
 * MSG_DONE.  Returns 0 or PMUL_ERR_NOTFOUND.
 */
int pmul_engine_cancel(pmul_engine *e, pmul_now now, uint32_t msid);

/*
 * Set this node's own EMCON state.  In EMCON the engine transmits nothing
 * at all (poll_tx returns 0) but keeps receiving and reassembling.  When
 * EMCON is lifted, the deferred Acks go out spread over ack_spread_ms and
 * queued transmissions resume.
 */
void pmul_engine_set_emcon(pmul_engine *e, pmul_now now, bool on);

/*
 * Mark destination `dest` as being in EMCON (or not) for messages
 * submitted from now on, and for messages in flight to it.  A destination
 * that acknowledges is switched to normal mode for that message anyway.
 */
int pmul_engine_set_dest_emcon(pmul_engine *e, pmul_now now, uint32_t dest, bool on);

/*
 * Take the next event.  Returns 1 and fills *ev, or 0 when there is none.
 * Events come out in the order they happened.
 */
int pmul_engine_poll_event(pmul_engine *e, pmul_event *ev);

/*
 * Application-accept mode (cfg.deliver_needs_accept).  The DELIVERED
 * event's payload and dests then stay valid until the message is accepted
 * or deferred (not only until the next call), and no Ack of any kind is
 * sent for the message until pmul_engine_accept().  A retransmitted
 * Address_PDU or Data_PDU of a message awaiting the verdict is dropped as a
 * duplicate: it is neither delivered again nor acknowledged.  If the
 * transmitter gives up (Discard_Message_PDU) or the message expires first,
 * an RX_DISCARDED event follows the DELIVERED one: the application must
 * then drop what it stored (the transmitter reports the destination as
 * failed).
 *
 * pmul_engine_accept(): the application holds the message (source, msid)
 * durably; the complete Ack is owed now.  Returns 0 (also when it was
 * accepted before), PMUL_ERR_NOTFOUND (unknown, or discarded/expired
 * meanwhile: do not deliver it), or PMUL_ERR_INVAL (accept mode is off, or
 * the message has not been delivered).
 *
 * pmul_engine_defer(): the application cannot take it now (disk full, I/O
 * error).  No Ack; DELIVERED comes again defer_retry_ms later (the engine
 * keeps the payload meanwhile, within max_rx_unaccepted_bytes).  Returns 0,
 * PMUL_ERR_NOTFOUND or PMUL_ERR_INVAL as above.
 */
int pmul_engine_accept(pmul_engine *e, pmul_now now, uint32_t source_id, uint32_t msid);
int pmul_engine_defer(pmul_engine *e, pmul_now now, uint32_t source_id, uint32_t msid);

/*
 * pmul_engine_reject(): the payload is not a whole message (it does not
 * decode: truncated or corrupt).  The engine forgets it without any Ack
 * and without remembering it as delivered, so the transmitter, having no
 * complete Ack from us, sends it again and it is received afresh.
 * Returns 0, PMUL_ERR_NOTFOUND or PMUL_ERR_INVAL as above.
 */
int pmul_engine_reject(pmul_engine *e, pmul_now now, uint32_t source_id, uint32_t msid);

/*
 * The driver could not join group after a JOIN_GROUP event (the kernel's
 * membership limit, no such interface): the engine forgets the joins that
 * use it, so that its count of joined groups stays true and later
 * Announce_PDUs for it ask again.  Messages sent to the group arrive only
 * if they also reach a joined one.  Returns 0.
 */
int pmul_engine_join_failed(pmul_engine *e, pmul_now now, uint32_t group);

/*
 * Compatibility with transmitters that accept only Ack_Info_Entries whose
 * Source_ID is the acker's own ID (a deployed Java P_MUL, quirk D1 of
 * docs/wire.md: it never accepts a conformant Ack and retransmits for
 * ever).  Every Ack_PDU to one of ids carries, after each conformant
 * entry, a copy naming this node as Source_ID; conformant transmitters
 * (this engine included) ignore it.  NULL/0 turns it off.  Returns 0,
 * PMUL_ERR_INVAL or PMUL_ERR_NOMEM (the previous list stays).
 */
int pmul_engine_set_self_naming_acks(pmul_engine *e, const uint32_t *ids, size_t cnt);

/*
 * Destinations that do not decode FEC (routing-table `peer NODES no-fec`):
 * a message with repair gives them the source PDUs they list, never
 * counting on repairs; a message to plain peers only is sent without
 * FEC.  Applies to messages submitted from now on.  NULL/0: none.
 * Returns 0, PMUL_ERR_INVAL or PMUL_ERR_NOMEM (the previous list stays).
 */
int pmul_engine_set_no_fec_peers(pmul_engine *e, const uint32_t *ids, size_t cnt);

/*
 * After a restart: the application already holds message (source, msid),
 * which expires at expiry_s (Unix seconds).  The engine remembers it as
 * delivered and acknowledged-once, so a retransmitted Address_PDU that
 * lists this node is answered with a complete Ack and the message is never
 * delivered again; the entry goes like any completed one (Ack-Ack, not
 * listed any more, Discard, expiry).  Call it for each held message before
 * feeding datagrams.  Returns 0 (also when already known as complete),
 * PMUL_ERR_EXPIRED (expiry_s not after now.wall_s: nothing to remember),
 * PMUL_ERR_BUSY (the source or done caps are full) or PMUL_ERR_NOMEM.
 */
int pmul_engine_restore_done(pmul_engine *e, pmul_now now, uint32_t source_id, uint32_t msid,
                             int64_t expiry_s);

/* Current counters. */
void pmul_engine_stats(const pmul_engine *e, pmul_stats *out);

/* The engine's configuration (its own copy; valid for the engine's life).
 * Drivers read ports, groups and the PDU size from it. */
const pmul_config *pmul_engine_config(const pmul_engine *e);

/* True when nothing is in flight, received, queued or pending (used by
 * drivers and tests to check that everything was released). */
bool pmul_engine_is_idle(const pmul_engine *e);

/* Static name of an event kind ("DELIVERED"), drop reason or reason. */
const char *pmul_event_name(int kind);
const char *pmul_drop_name(int drop);
const char *pmul_reason_name(int reason);

/*
 * The destinations the engine keeps state for: every node a message was
 * submitted to, and those given a Message_Sequence_Number or an EMCON
 * state, in ascending id order, for the engine's lifetime.  For an
 * operator's view (mulectl peers); read-only.  pmul_engine_dest_info()
 * fills *out with destination i (0 .. count - 1) and returns 0, or
 * PMUL_ERR_NOTFOUND when i is out of range.  The index is valid until the
 * next call that submits or sets a destination's state.
 */
size_t pmul_engine_dest_count(const pmul_engine *e);
int pmul_engine_dest_info(const pmul_engine *e, size_t i, pmul_dest_info *out);
/* Static name of an enum pmul_dest_fec value: "unknown", "reads",
 * "blind", "nodec" ("?" for another value). */
const char *pmul_dest_fec_name(int fec);

#endif

/*
 * netsim_int.h: state shared by the .c files of the netsim simulator
 * (netsim_sim.c, netsim_check.c, netsim_report.c, netsim_mule.c).  Not for
 * other modules.
 */
#ifndef NETSIM_INT_H
#define NETSIM_INT_H

#include "mule/mule_route.h"
#include "netsim/netsim.h"
#include "pmul/pmul_auth.h"
#include "pmul/pmul_pdu.h"

/* Per (message, destination) flags. */
#define NETSIM__D_DELIVERED  0x01u  /* delivered, byte-identical */
#define NETSIM__D_ACKED      0x02u  /* transmitter: DEST_ACKED */
#define NETSIM__D_FAILED     0x04u  /* transmitter: DEST_FAILED */
#define NETSIM__D_DISCARD    0x08u  /* a Discard_Message_PDU arrived */
#define NETSIM__D_ADDR_SEEN  0x10u  /* an Address_PDU arrived */
#define NETSIM__D_RX_DISC    0x20u  /* receiver reported RX_DISCARDED */
#define NETSIM__D_BAD        0x40u  /* a delivery differed from the payload */

typedef struct netsim__msg {
    const netsim_msg_cfg *cfg;
    uint8_t *payload;           /* owned */
    size_t len;
    uint32_t msid;
    bool submitted;
    int submit_err;             /* last refusal other than busy */
    uint32_t busy_retries;
    uint64_t submit_us;
    uint8_t *dflags;            /* owned, per destination */
    uint8_t *dcount;            /* owned, deliveries per destination (sat.) */
    uint64_t *deliver_us;       /* owned, first delivery per destination */
    uint64_t *ack_us;           /* owned, DEST_ACKED time per destination */
    bool done;
    uint32_t done_cnt;          /* MSG_DONE events (must be 1) */
    uint64_t done_us;
    uint64_t air_bytes;         /* octets on the air for this message */
    double limit_s;             /* physical limit */
    /* MULE (netsim_mule.c). */
    uint8_t *content;           /* a MULE mail's RFC 5322 text (owned) */
    size_t content_len;
    netsim_msg_cfg *own_cfg;    /* a message a node's MULE made: its cfg
                                 * (owned; cfg points here) */
} netsim__msg;

/* A message a node's MULE delivered locally (mail or DSN). */
typedef struct netsim__local {
    size_t node;
    size_t msg;                 /* the P_MUL message it arrived in, or the
                                 * message whose DSN it is */
    char *reverse_path;         /* owned, "" for <> */
    char *rcpts;                /* owned, "a,b" */
    uint8_t *content;           /* owned, with this node's Received field */
    size_t len;
    uint64_t at_us;
} netsim__local;

/* MULE messages (relays, DSNs) a run may create beyond the scenario's. */
#define NETSIM_MULE_MSGS_MAX 20000

typedef struct netsim__dgram {
    uint32_t refs;
    uint32_t src;               /* node index */
    uint32_t src_ip, dst_ip;
    uint16_t src_port, dst_port;
    int type;                   /* PDU type, or -1 if it did not decode */
    uint8_t map;
    uint16_t seq;               /* Data_PDU */
    uint16_t dest_cnt;          /* Address_PDU */
    uint32_t msid;              /* 0 for Ack_PDU */
    size_t msg;                 /* message index, or SIZE_MAX */
    size_t len;
    uint8_t data[];
} netsim__dgram;

typedef struct netsim__node {
    const netsim_node_cfg *cfg;
    void *eng;
    netsim_loss tx_loss, rx_loss;
    netsim_jitter jit;
    netsim_txq q;
    bool tx_busy;
    bool chan_wait;             /* in the shared channel's waiting line */
    bool emcon;
    uint64_t timer_gen;
    uint64_t timer_at;          /* armed timer, NETSIM_FOREVER: none */
    uint64_t emcon_violations;
    pmul_auth *auth;            /* the authenticated mode, or NULL */
} netsim__node;

/* An attack line at run time (netsim_attack.c). */
typedef struct netsim__attack {
    const netsim_attack_cfg *cfg;
    uint64_t sent;              /* floods: datagrams made so far */
    uint64_t reactions;         /* reactive kinds and replay: scheduled */
    map seen;                   /* reactive kinds: source << 32 | MSID ->
                                 * reactions to that message */
    netsim_rng rng;             /* garbage octets */
} netsim__attack;

struct netsim {
    const netsim_scenario *sc;
    netsim_opts o;
    const mem *m;
    uint64_t seed;
    uint64_t now_us;
    netsim_heap heap;
    netsim__node *nodes;
    netsim__msg *msgs;
    size_t msg_cnt, msg_cap;    /* the scenario's messages, then MULE ones */
    map by_ip;                  /* node address -> node index */
    map msg_tab;                /* source << 32 | MSID -> message index */
    uint64_t counters[NETSIM_C_COUNT];
    uint64_t hash;
    /* The shared channel ("medium shared"): busy while any node
     * transmits; nodes with something to send wait in a FIFO ring of
     * node_cnt entries (each node is in it at most once). */
    bool chan_busy;
    size_t *chan_q;             /* owned */
    size_t chan_head, chan_len;
    size_t msgs_left;           /* messages not yet finished */
    uint64_t end_at;            /* stop time once all are finished */
    buf problems;               /* invariant violations, one per line */
    size_t problem_cnt;
    uint8_t *txbuf;             /* poll_tx buffer */
    size_t txbuf_cap;
    pmul_pdu_scratch scratch;   /* for classifying datagrams */
    /* MULE (scenario "mule on"; netsim_mule.c). */
    mule_route_table **routes;  /* per node (owned) */
    netsim__local *locals;      /* owned */
    size_t local_cnt, local_cap;
    uint64_t dsn_seq;           /* DSN Message-IDs */
    /* Attackers (scenario "attack" lines; netsim_attack.c). */
    netsim__attack *attacks;    /* owned, sc->attack_cnt */
    bool auth_any;              /* some node has an "auth" key */
};

/* Message index for (source address, MSID), or SIZE_MAX. */
size_t netsim__msg_find(const netsim *s, uint32_t src_ip, uint32_t msid);
/* Position of node in msg's destination list, or SIZE_MAX. */
size_t netsim__dest_pos(const netsim__msg *mm, size_t node);
/* Combined mean loss from node a to node b. */
double netsim__path_loss(const netsim *s, size_t a, size_t b);

/* Services of netsim_sim.c for netsim_mule.c: a run-time failure line, a
 * transcript record (hashed) of a MULE decision, and a new message of node
 * cfg->from submitted now.  netsim__msg_add takes cfg (with cfg->to) and
 * payload, both allocated with s->m, whatever it returns. */
void netsim__problem(netsim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void netsim__trace_mule(netsim *s, size_t node, uint64_t a, uint64_t b, uint64_t c,
                        const char *extra);
__attribute__((warn_unused_result))
int netsim__msg_add(netsim *s, netsim_msg_cfg *cfg, uint8_t *payload, size_t len);
/* Free what a message owns. */
void netsim__msg_fini(netsim *s, netsim__msg *mm);

/* netsim_mule.c: the MULE layer of every node.  _new parses each node's
 * routes; _wrap turns a scenario mail (cfg->rcpt) into its CompressedData
 * payload, keeping the text in mm->content; _inbound is the node's MULE
 * on a delivered message (relays and DSNs go out through
 * netsim__msg_add); _check_local judges one "expect local" line (false and
 * why[] when it fails); _report appends the local deliveries. */
__attribute__((warn_unused_result))
int netsim__mule_new(netsim *s);
void netsim__mule_free(netsim *s);
__attribute__((warn_unused_result))
int netsim__mule_wrap(netsim *s, netsim__msg *mm);
__attribute__((warn_unused_result))
int netsim__mule_inbound(netsim *s, size_t node, size_t msg, const uint8_t *p, size_t len);
bool netsim__mule_check_local(const netsim *s, const netsim_expect *e, char *why, size_t len);
__attribute__((warn_unused_result))
int netsim__mule_report(const netsim *s, buf *out, bool json);

/* Event kind of an attacker's datagram (netsim_sim.c runs it): node is
 * the attack line, ptr the datagram to send or NULL for a flood's next. */
#define NETSIM__EV_ATTACK 6

/* Services of netsim_sim.c for netsim_attack.c: push an event; a new
 * datagram of node (refs 1, classified; NULL: no memory); put a datagram
 * made by attack line a on its attacker's uplink (takes d). */
netsim__dgram *netsim__dgram_new(netsim *s, size_t node, uint32_t src_ip, uint32_t to_ip,
                                 uint16_t to_port, const uint8_t *p, size_t len);
/* The same, but p is a whole datagram heard on the air, sent again as it
 * is (a replay: never sealed, whatever node's "auth" key). */
netsim__dgram *netsim__dgram_copy(netsim *s, size_t node, uint32_t src_ip, uint32_t to_ip,
                                  uint16_t to_port, const uint8_t *p, size_t len);
/* Decode a datagram as an observer on the air does: the PDU, or in a run
 * with "auth" keys the PDU before a trailer (which it does not check). */
__attribute__((warn_unused_result))
int netsim__decode(netsim *s, pmul_pdu *pdu, const uint8_t *p, size_t len);
__attribute__((warn_unused_result))
int netsim__push(netsim *s, uint64_t t, uint32_t kind, size_t node, uint64_t gen, void *ptr);
__attribute__((warn_unused_result))
int netsim__inject(netsim *s, size_t a, netsim__dgram *d);
void netsim__dgram_release(netsim *s, netsim__dgram *d);

/* netsim_attack.c: _new schedules every attack line's first event; _event
 * runs one (ptr: a datagram made earlier, or NULL); _observe sees every
 * datagram going on the air (the attackers' receiver: reactions and
 * captures); _free releases what they hold. */
__attribute__((warn_unused_result))
int netsim__attack_new(netsim *s);
__attribute__((warn_unused_result))
int netsim__attack_event(netsim *s, size_t a, netsim__dgram *d);
__attribute__((warn_unused_result))
int netsim__attack_observe(netsim *s, const netsim__dgram *d);
void netsim__attack_free(netsim *s);

#endif

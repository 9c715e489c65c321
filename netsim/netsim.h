/*
 * netsim.h: the deterministic discrete-event network simulator (public API).
 *
 * netsim drives one protocol engine per node on virtual time over a shared
 * multicast medium (style.md 2: one of the three drivers of the sans-I/O
 * P_MUL engine, modelled on ngtcp2 sim.h and picoquic sim_link.c).  A run
 * is described by a scenario (netsim_scen.h): nodes with their uplink rate,
 * queue, delay, loss models and EMCON schedules; messages with their
 * submit times; and expectations.  The simulator:
 *
 *   - pulls datagrams from each engine (poll_tx) into the node's uplink
 *     queue, serialises them at the link rate and fans them out: multicast
 *     to every other node, unicast (Acks) to the addressed node, each copy
 *     through the loss, duplication and reordering models;
 *   - feeds arrivals to the receiving engine (recv) at arrival time and runs
 *     engine timers (next_deadline / expire) on virtual time;
 *   - tells engines about EMCON (set_emcon; destinations' EMCON state at
 *     submit time) and asserts that a node in EMCON never transmits;
 *   - collects events: delivered payloads are compared byte for byte with
 *     what was submitted; duplicates, strangers and mismatches are failures;
 *   - hashes a binary transcript of every datagram and event (FNV-1a 64),
 *     so a test can prove that the same seed gives the same run.
 *
 * Engines plug in through netsim_engine_ops; netsim_pmul_ops (netsim_pmul.h)
 * is the adapter for the P_MUL engine.  The library does no I/O: pcap
 * writing and transcript printing are hooks owned by the caller.
 */
#ifndef NETSIM_H
#define NETSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netsim/netsim_err.h"
#include "netsim/netsim_heap.h"
#include "netsim/netsim_link.h"
#include "netsim/netsim_mail.h"
#include "netsim/netsim_rng.h"
#include "netsim/netsim_scen.h"
#include "pmul/util/buf.h"
#include "pmul/util/log.h"
#include "pmul/util/mem.h"

/* ------------------------------------------------------------------ */
/* The engine interface                                               */
/* ------------------------------------------------------------------ */

/* Events, normalised from the engine's own. */
enum netsim_ev_kind {
    NETSIM_EV_DELIVERED = 1,    /* receiver: payload complete */
    NETSIM_EV_RX_DISCARDED,     /* receiver: message dropped (Discard, expiry) */
    NETSIM_EV_LOST_MESSAGE,     /* receiver: sequence gap */
    NETSIM_EV_DEST_ACKED,       /* transmitter: dest_id has the message */
    NETSIM_EV_DEST_FAILED,      /* transmitter: dest_id did not get it */
    NETSIM_EV_MSG_DONE,         /* transmitter: message finished */
    NETSIM_EV_OTHER,            /* anything else (transcript only) */
};

typedef struct netsim_event {
    int kind;                   /* enum netsim_ev_kind */
    int engine_kind;            /* the engine's own event code */
    uint32_t source_id;         /* transmitter of the message */
    uint32_t msid;
    uint32_t dest_id;           /* DEST_* */
    const uint8_t *payload;     /* DELIVERED; valid until the next engine call */
    size_t payload_len;
    int reason;                 /* engine's reason code, FAILED/DISCARDED */
} netsim_event;

/* What a node's engine is created with (all borrowed for the call). */
typedef struct netsim_engine_init {
    uint32_t node_id;           /* the node's IPv4 address */
    uint64_t rate_bps;          /* its uplink rate (0: unlimited) */
    size_t overhead;            /* octets per datagram on the air */
    uint64_t seed;              /* for the engine's randomness */
    int64_t wall_start_s;       /* Unix time of virtual time 0 */
    uint32_t group;             /* multicast group for messages (0: default) */
    bool emcon;                 /* node starts in EMCON */
    const netsim_kv *kv;        /* "engine KEY VALUE" settings */
    size_t kv_cnt;
    const mem *m;
    const logger *log;          /* NULL: silence */
} netsim_engine_init;

typedef struct netsim_submit {
    const uint8_t *payload;
    size_t len;
    const uint32_t *dests;      /* node IDs */
    const bool *dest_emcon;     /* dest is in EMCON at submit time */
    size_t dest_cnt;
    uint8_t prio;
    uint64_t expiry_us;         /* relative to now; 0: engine default */
    uint64_t tag;               /* message index */
} netsim_submit;

/*
 * An engine adapter.  Every function gets the engine object and the
 * current virtual time in microseconds.  int functions return 0 or a
 * negative code of the engine (reported, not interpreted, by netsim), with
 * one exception: submit returns NETSIM_ERR_LIMIT for "busy, retry later".
 */
typedef struct netsim_engine_ops {
    const char *name;
    int (*create)(void **eng, const netsim_engine_init *init);
    void (*destroy)(void *eng);
    int (*submit)(void *eng, uint64_t now_us, const netsim_submit *m, uint32_t *msid);
    /* A received datagram; from is the sender's address and port. */
    int (*recv)(void *eng, uint64_t now_us, uint32_t from_ip, uint16_t from_port,
                const uint8_t *pkt, size_t len);
    /* Next datagram into out[0..cap) with its destination; 0: none now. */
    ssize_t (*poll_tx)(void *eng, uint64_t now_us, uint8_t *out, size_t cap,
                       uint32_t *to_ip, uint16_t *to_port);
    /* When poll_tx/expire must next be called; NETSIM_FOREVER: never. */
    uint64_t (*next_deadline_us)(void *eng);
    int (*expire)(void *eng, uint64_t now_us);
    /* 1 and *ev filled, or 0 when there is none. */
    int (*poll_event)(void *eng, netsim_event *ev);
    void (*set_emcon)(void *eng, uint64_t now_us, bool on);
    void (*set_dest_emcon)(void *eng, uint64_t now_us, uint32_t dest, bool on);
    /* Static name of an engine event code, for transcripts. */
    const char *(*event_name)(int engine_kind);
    /* A named statistic of the engine ("expect stat"): 0 and *out, or -1
     * for a name it does not know.  May be NULL (no statistics). */
    int (*stat)(void *eng, const char *name, uint64_t *out);
} netsim_engine_ops;

/* ------------------------------------------------------------------ */
/* Running a scenario                                                 */
/* ------------------------------------------------------------------ */

typedef struct netsim netsim;

/* Datagram hook: called once per datagram when it goes on the air (the
 * CLI writes the pcap here).  Return 0, or non-zero to stop the run with
 * NETSIM_ERR_SINK. */
typedef int (*netsim_tx_hook)(void *arg, uint64_t t_us, uint32_t src_ip, uint16_t src_port,
                              uint32_t dst_ip, uint16_t dst_port, const uint8_t *p, size_t len);
/* Transcript hook: one text line (no newline) per datagram and event. */
typedef void (*netsim_line_hook)(void *arg, const char *line);

typedef struct netsim_opts {
    const netsim_engine_ops *ops;   /* engine adapter (borrowed) */
    const mem *m;                   /* NULL: libc */
    const logger *log;              /* engines' log sink; NULL: silence */
    bool seed_set;                  /* use seed instead of the scenario's */
    uint64_t seed;
    netsim_tx_hook on_tx;           /* may be NULL */
    netsim_line_hook on_line;       /* may be NULL */
    void *hook_arg;
    size_t max_events;              /* pending events cap; 0: 1<<24 */
} netsim_opts;

/*
 * Prepare a run of *sc (borrowed: it must outlive the simulator) with the
 * options *o (copied).  Builds every payload and engine.  Returns 0 and
 * sets *out, or NETSIM_ERR_NOMEM, NETSIM_ERR_INVAL (no ops) or
 * NETSIM_ERR_ENGINE (an engine refused its configuration; see the log).
 */
__attribute__((warn_unused_result))
int netsim_new(netsim **out, const netsim_scenario *sc, const netsim_opts *o);

/*
 * Run to the end: until no event is pending, or the time limit, or the
 * linger time after the last message finished.  Returns 0 (whatever the
 * expectations say), or NETSIM_ERR_NOMEM, NETSIM_ERR_LIMIT (event cap),
 * NETSIM_ERR_SINK (a hook failed).  Invariant violations (EMCON
 * transmissions, duplicate or corrupt deliveries) are recorded for
 * netsim_check(), not returned.
 */
__attribute__((warn_unused_result))
int netsim_run(netsim *s);

/* Free the simulator and its engines.  NULL is a no-op. */
void netsim_free(netsim *s);

/* FNV-1a 64 of the transcript so far. */
uint64_t netsim_hash(const netsim *s);

/* A run counter (enum netsim_counter). */
uint64_t netsim_counter(const netsim *s, int counter);

/* Virtual time now (at the end of a run: when it stopped). */
uint64_t netsim_now_us(const netsim *s);

/*
 * Check the run against the scenario's expectations and the built-in
 * invariants.  Appends one line per failure to out ("FAIL line N: ...")
 * and returns the number of failures (0: the run is as expected); a
 * negative NETSIM_ERR_NOMEM if out cannot grow.
 */
long netsim_check(const netsim *s, buf *out);

/* Overall results, as on the summary line. */
typedef struct netsim_summary {
    size_t delivered;           /* (message, destination) pairs delivered
                                 * exactly once and byte-identical */
    size_t total;               /* (message, destination) pairs */
    size_t expired;             /* pairs the transmitter reported failed */
    size_t msgs, msgs_done;     /* messages, messages finished */
    uint64_t time_us;           /* first submit to last message finished */
    uint64_t air_bytes;         /* octets put on the air, all nodes */
    uint64_t payload_bytes;     /* sum of message sizes */
    double limit_s;             /* physical limit of the whole workload */
    double ratio;               /* time / limit (0 when no limit) */
} netsim_summary;

void netsim_summarize(const netsim *s, netsim_summary *out);

/*
 * Append the per-message lines (text or JSON Lines) to out.  Then the
 * summary line: "delivered D/N expired E time T s bytes B ratio R" (or
 * its JSON object).  Return 0 or NETSIM_ERR_NOMEM.
 */
__attribute__((warn_unused_result))
int netsim_report_messages(const netsim *s, buf *out, bool json);
__attribute__((warn_unused_result))
int netsim_report_summary(const netsim *s, buf *out, bool json, bool with_hash);

#endif

/*
 * netsim_scen.h: scenario files for netsim.
 *
 * A scenario is a small line-based text file (format: netsim/README.md and
 * docs/netsim.md) that names the nodes and their links, the messages to
 * send, the EMCON schedules, and what the run must show (EXPECT lines).
 * The parser works on a buffer (it reads no file) and reports the first
 * error with its line number.  The parsed struct is plain data owned by
 * the caller; the simulator borrows it for a run.
 */
#ifndef NETSIM_SCEN_H
#define NETSIM_SCEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netsim/netsim_link.h"
#include "pmul/util/map.h"
#include "pmul/util/mem.h"

#define NETSIM_NAME_MAX   32    /* node and message names, NUL included */
#define NETSIM_EMCON_MAX  16    /* EMCON intervals per node */
#define NETSIM_OUTAGE_MAX 16    /* link outages per node */
#define NETSIM_NODES_MAX  4096
#define NETSIM_MSGS_MAX   20000
#define NETSIM_KV_MAX     64    /* engine settings */
#define NETSIM_MSG_SIZE_MAX (4u << 20)
#define NETSIM_FOREVER    UINT64_MAX
#define NETSIM_AUTH_KEY_MIN 16  /* octets of an "auth" key (PMUL_AUTH_KEY_*) */
#define NETSIM_AUTH_KEY_MAX 64

/* A half-open interval [from_us, to_us) of virtual time. */
typedef struct netsim_interval {
    uint64_t from_us;
    uint64_t to_us;             /* NETSIM_FOREVER: until the end */
} netsim_interval;

typedef struct netsim_node_cfg {
    char name[NETSIM_NAME_MAX];
    uint32_t ip;                /* host byte order; also the node ID */
    uint64_t rate_bps;          /* uplink rate; 0: no limit */
    uint64_t delay_us;          /* propagation delay of this node's link */
    size_t queue_limit;         /* uplink queue, octets; 0: no limit */
    netsim_loss_cfg tx_loss;    /* loses a datagram for every receiver */
    netsim_loss_cfg rx_loss;    /* loses a datagram at this node only */
    netsim_jitter_cfg jitter;   /* duplication and reordering on receive */
    netsim_interval emcon[NETSIM_EMCON_MAX];
    size_t emcon_cnt;
    /* Link outages: nothing leaves or reaches the node, and unlike EMCON
     * its engine is not told. */
    netsim_interval outage[NETSIM_OUTAGE_MAX];
    size_t outage_cnt;
    char *routes;               /* owned MULE routing table text ("route"
                                 * lines), or NULL: no routes */
    size_t routes_len;
    bool attacker;              /* runs no engine: only its "attack" lines
                                 * send (netsim_attack.c) */
    /* "auth NODES key K": the authenticated mode (pmul_auth.h): every
     * datagram the node sends is sealed with this network key and every
     * one it receives opened before its engine sees it.  0: off. */
    size_t auth_key_len;
    uint8_t auth_key[NETSIM_AUTH_KEY_MAX];
    uint8_t auth_key_id;
    int line;
} netsim_node_cfg;

enum netsim_text_kind {
    NETSIM_TEXT_MAIL = 0,       /* generated RFC 5322 mail (netsim_mail.h) */
    NETSIM_TEXT_LITERAL,        /* the quoted string of the scenario */
    NETSIM_TEXT_BINARY,         /* seeded pseudo-random octets */
};

typedef struct netsim_msg_cfg {
    char name[NETSIM_NAME_MAX];
    size_t from;                /* node index */
    size_t *to;                 /* owned; sorted node indices, no dups */
    size_t to_cnt;
    size_t size;                /* payload octets (literal: its length) */
    uint8_t prio;               /* P_MUL Priority octet; lower = urgent */
    uint64_t at_us;             /* submit time */
    uint64_t expiry_us;         /* Expiry_Time - submit time; 0: default */
    int text;                   /* enum netsim_text_kind */
    char *literal;              /* owned, for NETSIM_TEXT_LITERAL */
    /* A MULE mail (rcpt given): the payload is the CompressedData of the
     * BSMTP-like payload <mail_from>, <rcpt>..., then the text above. */
    char *mail_from;            /* owned reverse-path without <> ("": <>) */
    char *rcpt;                 /* owned comma-separated recipients, or NULL */
    int line;
} netsim_msg_cfg;

enum netsim_expect_kind {
    NETSIM_X_DELIVERED = 1,     /* these nodes get the message exactly once */
    NETSIM_X_ACKED,             /* transmitter reports these as acked */
    NETSIM_X_FAILED,            /* ... and exactly these as failed */
    NETSIM_X_DISCARDED,         /* a Discard_Message_PDU reaches these */
    NETSIM_X_DONE,              /* the transmitter finishes the message */
    NETSIM_X_BEFORE,            /* all of msgs done before any of msgs2 */
    NETSIM_X_PRIO_BEFORE,       /* priority prio_a done before prio_b */
    NETSIM_X_MAX_TIME,          /* overall completion time <= within_us */
    NETSIM_X_COUNT,             /* a run counter compared with n */
    NETSIM_X_LOCAL,             /* MULE: n local deliveries to addr at a node */
    NETSIM_X_STAT,              /* an engine statistic of a node compared
                                 * with n (ops->stat) */
};

/* Run counters that EXPECT count can test (netsim_counter_name()). */
enum netsim_counter {
    NETSIM_C_DATAGRAMS = 0,     /* datagrams put on the air */
    NETSIM_C_AIR_BYTES,         /* their octets */
    NETSIM_C_DATA,              /* Data_PDUs sent */
    NETSIM_C_ADDRESS,           /* Address_PDUs (all kinds, incl. Ack-Ack) */
    NETSIM_C_ADDRESS_MAP,       /* Address_PDUs with MAP bits (split list) */
    NETSIM_C_ACKACK,            /* Address_PDUs with no destination */
    NETSIM_C_ACK,               /* Ack_PDUs sent */
    NETSIM_C_DISCARD,           /* Discard_Message_PDUs sent */
    NETSIM_C_LOST,              /* datagram copies dropped by loss models */
    NETSIM_C_QDROP,             /* datagrams dropped at a full uplink queue */
    NETSIM_C_DUP,               /* duplicate copies made */
    NETSIM_C_REORDER,           /* copies held back (reordered) */
    NETSIM_C_EARLY_DATA,        /* Data_PDUs that reached a node before
                                 * any Address_PDU of their message */
    NETSIM_C_DELIVERIES,        /* DELIVERED events (all nodes) */
    NETSIM_C_LOST_MESSAGE,      /* LOST_MESSAGE events */
    NETSIM_C_MULE_LOCAL,        /* MULE local deliveries (mail and DSNs) */
    NETSIM_C_MULE_RELAY,        /* P_MUL messages a node's MULE relayed */
    NETSIM_C_MULE_DSN,          /* DSNs built (sent or delivered locally) */
    NETSIM_C_MULE_UNUSABLE,     /* received messages MULE could not use */
    NETSIM_C_ATTACK,            /* datagrams attacker nodes sent */
    NETSIM_C_UNROUTED,          /* unicast datagrams to an address no
                                 * engine listens on (Acks to spoofed
                                 * Source_IDs, to an attacker) */
    NETSIM_C_OUTAGE,            /* datagrams (sent) or copies (arriving)
                                 * dropped by a link outage */
    NETSIM_C_AUTH_DROP,         /* copies a node in the authenticated mode
                                 * refused (no trailer, bad MAC, replay) */
    NETSIM_C_COUNT
};

enum netsim_cmp { NETSIM_CMP_EQ = 0, NETSIM_CMP_GE, NETSIM_CMP_LE, NETSIM_CMP_GT, NETSIM_CMP_LT };

typedef struct netsim_expect {
    int kind;                   /* enum netsim_expect_kind */
    int line;
    size_t *msgs;               /* owned message indices */
    size_t msg_cnt;
    size_t *msgs2;              /* BEFORE: the later set */
    size_t msg2_cnt;
    size_t *nodes;              /* owned node indices */
    size_t node_cnt;
    uint64_t within_us;         /* NETSIM_FOREVER if unset */
    uint64_t after_us;          /* 0 if unset */
    int prio_a, prio_b;         /* PRIO_BEFORE */
    int counter;                /* COUNT: enum netsim_counter */
    int cmp;                    /* COUNT: enum netsim_cmp */
    uint64_t n;                 /* COUNT; LOCAL: deliveries wanted */
    /* LOCAL (nodes: the one node): deliveries whose envelope holds addr,
     * with reverse-path from (NULL: any), content equal to message same's
     * mail apart from Received fields (-1: not checked), containing each
     * has[] text. */
    char *addr;                 /* owned */
    char *from;                 /* owned, or NULL */
    long same;
    char *has[8];               /* owned */
    size_t has_cnt;
    /* STAT (nodes: the one node; cmp and n as for COUNT). */
    char stat[NETSIM_NAME_MAX];
} netsim_expect;

/* What an attacker node sends (netsim_attack.c; netsim/README.md
 * "Attackers"). */
enum netsim_attack_kind {
    NETSIM_A_FLOOD_DATA = 1,    /* Data_PDUs of messages that never were */
    NETSIM_A_FLOOD_ADDRESS,     /* Address_PDUs listing the targets */
    NETSIM_A_FLOOD_ANNOUNCE,    /* Announce_PDUs of ever new groups */
    NETSIM_A_SPOOF_ACK,         /* on each Address_PDU seen: complete Acks
                                 * in the name of its destinations */
    NETSIM_A_SPOOF_ACKACK,      /* on each Address_PDU seen: an Ack-Ack in
                                 * the name of its transmitter */
    NETSIM_A_SPOOF_DISCARD,     /* ... a Discard_Message_PDU */
    NETSIM_A_REPLAY,            /* every datagram seen, sent again later */
    NETSIM_A_GARBAGE,           /* random octets with a valid length and
                                 * checksum */
};

#define NETSIM_ATTACKS_MAX 64

enum netsim_attack_expiry {
    NETSIM_EXPIRY_FAR = 0,      /* Expiry_Time 2106 (UINT32_MAX) */
    NETSIM_EXPIRY_NEAR,         /* one hour after the datagram */
};

typedef struct netsim_attack_cfg {
    int kind;                   /* enum netsim_attack_kind */
    size_t node;                /* the attacker node */
    uint64_t at_us;             /* first datagram; reactive kinds: start */
    uint64_t until_us;          /* reactive kinds: stop (NETSIM_FOREVER) */
    uint64_t count;             /* floods: datagrams; reactive: reactions
                                 * per message (0: no limit); replay:
                                 * datagrams (0: no limit) */
    uint64_t every_us;          /* floods: between datagrams (0: burst) */
    uint64_t delay_us;          /* reactive kinds: after what they saw */
    uint32_t sources;           /* floods: this many spoofed Source_IDs,
                                 * source_base upwards (0: see as_node) */
    uint32_t source_base;
    long as_node;               /* Source_ID of this node (-1: the
                                 * attacker's own, or sources) */
    size_t *targets;            /* owned: floods list them as destinations;
                                 * reactive kinds and replay watch only
                                 * their transmissions (none: everyone) */
    size_t target_cnt;
    uint32_t total;             /* flood-address: Total_Number_of_PDUs */
    int expiry;                 /* enum netsim_attack_expiry */
    bool spoof_ip;              /* IP source = the Source_ID used */
    size_t size;                /* flood-data: fragment octets; garbage:
                                 * largest datagram */
    int line;
} netsim_attack_cfg;

/* One "engine KEY VALUE" setting, handed to the engine adapter. */
typedef struct netsim_kv {
    char key[NETSIM_NAME_MAX];
    char val[NETSIM_NAME_MAX];
    int line;
} netsim_kv;

typedef struct netsim_scenario {
    uint64_t seed;              /* run seed (netsim-run --seed overrides) */
    uint64_t text_seed;         /* generated payloads; default 1 */
    uint64_t time_limit_us;     /* hard stop of virtual time */
    uint64_t linger_us;         /* run on after the last message finished */
    int64_t wall_start_s;       /* Unix time of virtual time 0 */
    uint32_t group;             /* multicast group for messages; 0: engine's */
    size_t overhead;            /* octets per datagram on the air (IP/UDP) */
    bool mule;                  /* every node runs MULE on what it gets */
    /* "medium shared RATE [delay T]": one radio channel for every node
     * (one transmission at a time, at shared_rate_bps, each path taking
     * shared_delay_us plus the nodes' own delays) instead of an uplink
     * per node. */
    bool shared;
    uint64_t shared_rate_bps;
    uint64_t shared_delay_us;
    netsim_node_cfg *nodes;     /* owned */
    size_t node_cnt, node_size;
    netsim_msg_cfg *msgs;       /* owned */
    size_t msg_cnt, msg_size;
    netsim_expect *expects;     /* owned */
    size_t expect_cnt, expect_size;
    netsim_kv kv[NETSIM_KV_MAX];
    size_t kv_cnt;
    netsim_attack_cfg *attacks; /* owned */
    size_t attack_cnt, attack_size;
    /* Name and address lookups (pmul/util/map.h): fnv64(name) -> index,
     * address -> node index.  Owned; filled by the parser only. */
    map node_names, node_ips, msg_names;
    const mem *m;               /* borrowed */
} netsim_scenario;

/*
 * Parse text[0..len) into a new scenario (*out, free with
 * netsim_scen_free()).  text is borrowed.  On a syntax or range error
 * writes "LINE: reason" into err (errlen octets, may be 0) and returns
 * NETSIM_ERR_PARSE; otherwise returns 0 or NETSIM_ERR_NOMEM.  *out is NULL
 * on failure.
 */
__attribute__((warn_unused_result))
int netsim_scen_parse(netsim_scenario **out, const char *text, size_t len,
                      const mem *m, char *err, size_t errlen);

/* Free a scenario and everything it owns.  NULL is a no-op. */
void netsim_scen_free(netsim_scenario *sc);

/* Index of the node or message with this name, or -1. */
long netsim_scen_node(const netsim_scenario *sc, const char *name);
long netsim_scen_msg(const netsim_scenario *sc, const char *name);

/* True if node n is in EMCON (in a link outage) at virtual time t. */
bool netsim_scen_in_emcon(const netsim_node_cfg *n, uint64_t t_us);
bool netsim_scen_in_outage(const netsim_node_cfg *n, uint64_t t_us);

/* Static names ("early-data", "ge" ...) for reports. */
const char *netsim_counter_name(int counter);

#endif

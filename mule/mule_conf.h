/*
 * mule_conf.h: muled.conf, the daemon's configuration (text in, struct
 * out; no file I/O here: muled and mule-submit read the file).
 *
 * Format: one "key = value" per line; '#' starts a comment line; blank
 * lines and the blanks around key and value are ignored; CRLF is fine.
 * An unknown key, a key given twice and a bad value are errors with the
 * line number and a short reason (muled prints "file:line: reason").
 * Numbers are strict (pmul/util/num.h): "2h" is two hours, "xyz" an
 * error.  Every option, its default and its meaning: docs/configuration.md,
 * "muled.conf"; the example with every option commented:
 * tools/muled/muled.conf.example.
 */
#ifndef MULE_CONF_H
#define MULE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MULE_CONF_LINE_MAX      4096u   /* octets per line */
#define MULE_CONF_EMCON_MAX     1024u   /* emcon_destinations entries */

enum { MULE_CONF_TLS_NONE = 0, MULE_CONF_TLS_MAY, MULE_CONF_TLS_REQUIRED };

#define MULE_CONF_SEEN_WORDS 2

typedef struct mule_conf {
    uint32_t node_id;               /* required */
    char node_id_text[16];
    char *spool_dir;                /* required, absolute */
    char *routes;                   /* required: routing table file */
    char *hostname;                 /* default: node_id_text */
    char *deliver;                  /* "maildir" | lmtp:... | smtp:... */
    char *maildir;                  /* default: <spool_dir>/maildir */
    bool emcon;
    uint32_t *emcon_destinations;
    size_t emcon_destination_cnt;
    uint32_t group;                 /* default 239.1.1.2 */
    char interface[16];             /* "" : node_id */
    unsigned mcast_ttl;
    uint64_t rate;                  /* bit/s, 0: unpaced */
    bool shared_medium;             /* one radio net: received air delays ours */
    size_t pdu_size;
    size_t max_message_size;
    uint64_t expiry_ms;
    uint64_t delivery_lifetime_ms;
    uint64_t backoff_min_ms, backoff_max_ms;
    uint64_t egress_timeout_ms;
    unsigned egress_concurrency;
    uint64_t pickup_interval_ms;
    uint64_t ack_rtx_min_ms, ack_rtx_max_ms;
    uint64_t emcon_rti_ms;
    unsigned emcon_rtc;
    unsigned compress_level;
    int log_level;                  /* LOG_LVL_* */
    char *smtpd_listen;             /* "HOST:PORT" / "[v6]:PORT", or NULL: none */
    char *lmtpd_listen;             /* "unix:/PATH" or "HOST:PORT", or NULL */
    char *mynetworks;               /* client networks allowed to submit
                                     * (CIDR list; default loopback) */
    unsigned smtpd_max_clients;     /* connections at once */
    unsigned smtpd_max_per_client;  /* connections at once from one address */
    uint64_t smtpd_timeout_ms;      /* idle limit per command/reply */
    uint64_t smtpd_txn_timeout_ms;  /* MAIL to the end of the message */
    uint64_t smtpd_commit_window_ms;    /* group commit: how long a mail may
                                     * wait for others (0: what is ready) */
    int smtpd_tls;                  /* MULE_CONF_TLS_* */
    char *smtpd_tls_cert;           /* PEM certificate chain */
    char *smtpd_tls_key;            /* PEM private key */
    char *smtpd_tls_ca;             /* PEM CAs of client certificates, or NULL */
    char *control_socket;           /* mulectl's Unix socket */
    char *control_group;            /* group that may use it (mode 0660) */
    char *user;                     /* drop to this user after start-up */
    char *audit_dir;                /* HMAC-chained audit log files */
    char *audit_key;                /* its key file (created if missing) */
    unsigned audit_retention_days;
    bool audit_fsync;               /* fsync after each record */
    bool check_source_ip;           /* P_MUL Source_ID must be the IP source */
    bool accept_unknown_nodes;      /* P_MUL from nodes no route names */
    bool pmul_auth;                 /* authenticated P_MUL (docs/pmul-auth.md) */
    char *pmul_auth_key;            /* its network key file */
    uint64_t pmul_auth_max_age_ms;  /* refuse older epochs (0: no limit) */
    /* Receiver caps of the P_MUL engine (docs/engine.md 5); 0: not set,
     * the engine's default applies. */
    unsigned pmul_max_sources;      /* transmitters tracked at once */
    unsigned pmul_max_rx_messages;  /* incomplete messages, all sources */
    unsigned pmul_max_rx_messages_per_source;
    size_t pmul_max_rx_bytes;       /* reassembly octets, all sources */
    size_t pmul_max_rx_bytes_per_source;
    uint64_t pmul_rx_idle_ms;       /* free an incomplete message idle this long */
    unsigned pmul_max_groups;       /* dynamic groups joined at once */
    bool pmul_fec;                  /* send with FEC repair */
    unsigned pmul_fec_ratio;        /* proactive repairs, % of a block */
    unsigned pmul_fec_emcon_repairs;/* repairs per block per EMCON transmission */
    bool pmul_fec_adaptive;     /* repairs sized from the loss Acks report */
    bool pmul_fec_joint;            /* joint repair rounds (docs/wire.md 10.8) */
    unsigned pmul_fec_joint_max;    /* messages per joint round */
    uint64_t pmul_fec_joint_wait_ms;/* longest a repair round waits to join */
    size_t pmul_fec_keep;           /* delivered payload octets kept for them */
    uint64_t seen[MULE_CONF_SEEN_WORDS]; /* private: keys given (duplicate check) */
} mule_conf;

typedef struct mule_conf_error {
    unsigned line;                  /* 0: not tied to a line */
    char text[160];
} mule_conf_error;

/* Defaults (strings NULL until parse/check fill them). */
void mule_conf_default(mule_conf *c);

/*
 * Parse text[0..len) over the defaults in *c.  Returns 0, MULE_ERR_CONFIG
 * (err says where and why), MULE_ERR_NOMEM.  On error *c may hold part of
 * the file: mule_conf_fini() it.
 */
__attribute__((warn_unused_result))
int mule_conf_parse(const char *text, size_t len, mule_conf *c, mule_conf_error *err);

/*
 * After parsing: the required keys are there, derived defaults are filled
 * (hostname, maildir) and the values agree with each other (backoff_min
 * <= backoff_max, ack_rtx_min <= ack_rtx_max).  Returns 0,
 * MULE_ERR_CONFIG (err->line 0), MULE_ERR_NOMEM.
 */
__attribute__((warn_unused_result))
int mule_conf_check(mule_conf *c, mule_conf_error *err);

/*
 * Reload: fresh (parsed and checked) is to replace live.  Every option a
 * running daemon cannot change (the node ID, sockets, engine and spool
 * settings, user, audit: all but routes, deliver, maildir,
 * delivery_lifetime, egress_timeout, egress_concurrency, log_level,
 * mynetworks, smtpd_max_clients, smtpd_max_per_client, smtpd_timeout,
 * smtpd_txn_timeout, expiry, compress_level, accept_unknown_nodes) that
 * differs is set back to
 * live's value in fresh, and its name added to kept (blank separated,
 * cut to keptlen).  The caller then swaps the two and frees the old one.
 * Returns the number of options kept.
 */
int mule_conf_reload(mule_conf *live, mule_conf *fresh, char *kept, size_t keptlen);

/* Free the strings and lists.  Safe on a defaulted or failed config. */
void mule_conf_fini(mule_conf *c);

#endif

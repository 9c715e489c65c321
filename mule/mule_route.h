/*
 * mule_route.h: the static MULE routing table (RFC 8494 section 3 step 5).
 *
 * Maps the domain of a recipient to its next ACP 142 destination: a
 * multicast group plus the P_MUL node IDs that must receive the message,
 * or "local" (this node delivers).  The table is built once from config
 * text (syntax in docs/configuration.md, "Routing table") and is then
 * read-only, so any number of lookups may run against it while a new
 * table is being parsed for a reload; mule_router swaps the two.
 *
 * Matching: an exact host entry beats the longest matching suffix entry,
 * which beats the default route.  Comparison is ASCII case-insensitive and
 * ignores one trailing dot.  Address literals ("[192.0.2.1]") match only
 * exact entries (then the default).  A lookup costs one hash probe per
 * label of the domain, independent of the table size.
 */
#ifndef MULE_ROUTE_H
#define MULE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/util/log.h"
#include "pmul/util/mem.h"

/* Caps on what a config may declare (the config is operator input, but a
 * typo must not exhaust memory). */
#define MULE_ROUTE_MAX_LINE     4096        /* bytes per config line */
#define MULE_ROUTE_MAX_ROUTES   (1u << 20)  /* route lines per table */
#define MULE_ROUTE_MAX_NODES    1024        /* node IDs per destination */
#define MULE_ROUTE_DOMAIN_MAX   255         /* RFC 5321 4.5.3.1.2 */

/*
 * An ACP 142 destination.  Two recipients go in the same P_MUL message
 * exactly when their destinations are equal: same group and same node set
 * (mule_dest_equal).  Within one table, equal destinations are stored once
 * and share the same id.
 */
typedef struct mule_dest {
    bool local;             /* this node delivers; group and nodes unused */
    uint32_t group;         /* IPv4 multicast group, host byte order */
    const uint32_t *nodes;  /* node IDs, ascending, no duplicates */
    size_t node_cnt;        /* >= 1 unless local */
    unsigned id;            /* index within its table */
} mule_dest;

/* How a lookup matched. */
enum mule_route_match {
    MULE_ROUTE_NONE = 0,    /* no entry and no default */
    MULE_ROUTE_EXACT,       /* "route host.example ..." */
    MULE_ROUTE_SUFFIX,      /* "route .example ..." */
    MULE_ROUTE_DEFAULT,     /* "default ..." */
};

/* Where a config was rejected: 1-based line number and a short reason. */
typedef struct mule_route_error {
    unsigned line;          /* 0: not tied to a line (e.g. out of memory) */
    char text[160];
} mule_route_error;

typedef struct mule_route_table mule_route_table;

/*
 * Parse config text into a new table.  text[0..len) is borrowed; it need
 * not be NUL-terminated.  m (NULL: libc) is kept by the table for its
 * frees.  lg (NULL: silent) receives one error line on failure and one
 * info line on success.  err (may be NULL) receives the line number and
 * reason on failure.
 *
 * Returns 0 and sets *out, or one of:
 *   MULE_ERR_CONFIG  syntax or semantic error at err->line (keep using the
 *                    old table and tell the operator);
 *   MULE_ERR_NOMEM   out of memory (keep the old table, retry later);
 *   MULE_ERR_INVAL   NULL out, or NULL text with len > 0.
 */
__attribute__((warn_unused_result))
int mule_route_table_parse(const char *text, size_t len, const mem *m,
                           const logger *lg, mule_route_table **out,
                           mule_route_error *err);

/* Free a table and its destinations.  NULL is a no-op.  No lookup result
 * from t may be used afterwards. */
void mule_route_table_free(mule_route_table *t);

/* Number of route entries (the default route not counted), and of
 * distinct destinations including the default's. */
size_t mule_route_table_route_cnt(const mule_route_table *t);
/* The peers of "peer NODES self-naming-acks" lines, ascending (*cnt of
 * them; NULL when none). */
const uint32_t *mule_route_table_self_ack(const mule_route_table *t, size_t *cnt);
/* The peers of "peer NODES no-fec" lines (receivers that do not decode FEC
 * repair), ascending (*cnt of them; NULL when none). */
const uint32_t *mule_route_table_no_fec(const mule_route_table *t, size_t *cnt);
size_t mule_route_table_dest_cnt(const mule_route_table *t);
/* Destination i (0 .. dest_cnt-1), or NULL: to list every node a table
 * names (muled's allowlist of P_MUL peers). */
const mule_dest *mule_route_table_dest(const mule_route_table *t, size_t i);

/*
 * The destination for a domain (the part after '@', or an address literal
 * with its brackets).  domain[0..len) is borrowed.  how (may be NULL)
 * receives the kind of match.  Returns a destination owned by t (valid
 * until t is freed), or NULL when nothing matches: no entry and no
 * default, or a domain that is empty or longer than 255 octets.
 */
const mule_dest *mule_route_lookup(const mule_route_table *t,
                                   const char *domain, size_t len,
                                   enum mule_route_match *how);

/* True when a and b are the same ACP 142 destination (both local, or same
 * group and node set), whichever tables they come from. */
bool mule_dest_equal(const mule_dest *a, const mule_dest *b);

/*
 * Render "local" or "group=239.1.1.1 nodes=198.18.0.2,198.18.0.3" for logs
 * and audit records into out (size outlen, always NUL-terminated when
 * outlen > 0).  A node list that does not fit ends in ",...".
 * Returns out.
 */
const char *mule_dest_format(const mule_dest *d, char *out, size_t outlen);

/* Write a 32-bit node ID or group as a dotted quad ("198.18.0.2") into out
 * (at least 16 bytes).  Returns out. */
const char *mule_route_ntoa(uint32_t v, char out[16]);

/*
 * Reload: lookups go through a mule_router, which holds the current
 * table.  A reload parses the new text into a second table first; only a
 * complete table is ever swapped in (one atomic pointer store), so a
 * lookup sees the old table or the new one, never a mix.  The old table
 * stays valid until the caller frees it, which it may do as soon as no
 * lookup result from it is in use (in the single-threaded daemon: right
 * after the swap, since relay results copy what they keep).
 */
typedef struct mule_router {
    mule_route_table *_Atomic cur;
} mule_router;

/* Start with table t (may be NULL: every lookup fails).  Takes ownership
 * of t. */
void mule_router_init(mule_router *r, mule_route_table *t);
/* Free the current table. */
void mule_router_fini(mule_router *r);
/* The current table (borrowed; valid until it is swapped out and freed). */
mule_route_table *mule_router_get(mule_router *r);
/* Install next (ownership passes to r) and return the previous table,
 * which the caller now owns and must free. */
mule_route_table *mule_router_swap(mule_router *r, mule_route_table *next);

#endif

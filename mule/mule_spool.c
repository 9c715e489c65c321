/*
 * NAME
 *	mule_spool - spool file format, queue model and recovery (sans-I/O)
 * SYNOPSIS
 *	#include "mule/mule_spool.h"
 * DESCRIPTION
 *	The spool of muled keeps one file per queued mail and one node
 *	journal (layout: mule_spool_fs(3), docs/spool.md).  Both are a file
 *	header and a sequence of typed, length-prefixed, crc32-checked
 *	records (Postfix record.c, with a checksum per record).  An entry
 *	file starts with its creation section (META, ENV, RCPT..., TARGETS,
 *	DESTS, BODY, END), written once, and continues with journal records
 *	(TSTATE, FLAG) appended as its targets move on.  The node journal
 *	holds MSID_HW, MSN, DONE and EMCON records.
 *
 *	The model is an index of entries (a map from the queue ID, read as
 *	a base-36 number, to a small struct with the targets' states),
 *	two heaps (entries waiting for a time; entries due, in priority
 *	order), the done set as sorted ranges of consecutive MSIDs per
 *	source, the MSN per destination and the EMCON flag.  Every change
 *	is a journal record: prep_* validates and encodes it, the adapter
 *	makes it durable, apply() decodes and applies it, and recovery
 *	replays the same records through the same code.
 * SECURITY
 *	Spool files are untrusted (style.md 7): every record is length
 *	checked against the bytes left and its type's cap, and its crc32
 *	verified, before any field is read; counts are checked against the
 *	format limits before any allocation; replayed state transitions
 *	must be legal.  A file that fails any check is reported, never
 *	half-applied.
 * DIAGNOSTICS
 *	Returns MULE_ERR_* codes (mule_err.h); logs nothing.
 * SEE ALSO
 *	mule_spool_fs(3), docs/spool.md, Postfix record(3).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "mule/mule_spool.h"

#include <assert.h>
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "pmul/util/arr.h"
#include "pmul/util/cur.h"
#include "pmul/util/heap.h"
#include "pmul/util/map.h"

/* File header: magic, version, file type, two reserved zero octets. */
static const uint8_t SPOOL_MAGIC[4] = {'M', 'S', 'P', 'L'};
#define SPOOL_VERSION   1u
#define FT_ENTRY        1u
#define FT_NODE         2u

/* Record framing: type (1), payload length (4), payload, crc32 (4) over
 * type, length and payload. */
#define REC_OVERHEAD    9u

enum rec_type {
    R_META = 1, R_ENV = 2, R_RCPT = 3, R_TARGETS = 4, R_DESTS = 5, R_BODY = 6,
    R_END = 7,
    R_TSTATE = 16, R_FLAG = 17,
    R_MSID_HW = 32, R_MSN = 33, R_DONE = 34, R_EMCON = 35,
};

#define META_LEN        45u     /* 3 + 12 + 8 + 8 + 4 + 4 + 3 * 2 */
#define TSTATE_LEN      25u     /* 2 + 1 + 2 + 4 + 4 + 4 + 8 */

/* One queued mail in the index.  Targets follow in the same allocation. */
typedef struct sp_ent {
    uint64_t key;               /* the queue ID as a base-36 number */
    int64_t arrival_s, expiry_s;
    int64_t due_s;              /* key in the timer heap */
    uint64_t file_len;          /* creation section + journal */
    uint32_t src_node, msid;
    size_t hidx;                /* index in the heap it is in */
    uint16_t ntg;
    uint8_t kind, flags;
    uint8_t where;              /* HEAP_TIMER or HEAP_READY */
    bool busy;                  /* a change is being made durable: not due */
    int8_t prio;
    mule_spool_target tg[];
} sp_ent;

enum { HEAP_TIMER = 1, HEAP_READY = 2 };

/* Heap element: a pointer to the entry (NULL for the capacity probe, see
 * heaps_reserve()) and a copy of the keys the order needs. */
typedef struct sp_hel {
    sp_ent *e;
    int64_t due_s;
} sp_hel;

typedef struct done_rng {
    uint32_t src, lo, hi;
    int64_t expiry_s;
} done_rng;

typedef struct msn_ent {
    uint32_t dest, msn;
} msn_ent;

struct mule_spool {
    const mem *m;
    mule_spool_policy pol;
    map idx;                    /* key -> (uintptr_t)sp_ent * */
    heap timer;                 /* by due_s */
    heap ready;                 /* due: by priority, arrival, key */
    size_t bytes;               /* entry allocations, for mem_bytes */
    uint32_t id_ctr;
    int64_t id_floor_s;         /* IDs are minted at this second or later */
    uint32_t msid_next, msid_hw;
    bool emcon;
    int64_t emcon_since_s;
    map msn;                    /* dest -> msn */
    done_rng *done;
    size_t done_len, done_cap;
};

/* ------------------------------------------------------------------ */
/* Queue IDs */

static const char ID_DIGITS[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* Parse an ID of exactly 12 characters of [0-9A-Z] into its base-36 value
 * (36^12 < 2^64, so the key is unique: no collision handling needed). */
static bool
id_key(const char *id, size_t len, uint64_t *key)
{
    uint64_t k = 0;

    if (id == NULL || len != MULE_SPOOL_ID_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        const char *d = memchr(ID_DIGITS, id[i], 36);

        if (d == NULL || id[i] == '\0')
            return false;
        k = k * 36 + (uint64_t)(d - ID_DIGITS);
    }
    *key = k;
    return true;
}

static bool
id_cstr_key(const char *id, uint64_t *key)
{
    return id != NULL && memchr(id, '\0', MULE_SPOOL_ID_SIZE) == id + MULE_SPOOL_ID_LEN
           && id_key(id, MULE_SPOOL_ID_LEN, key);
}

static void
key_id(uint64_t k, char id[MULE_SPOOL_ID_SIZE])
{
    for (int i = MULE_SPOOL_ID_LEN - 1; i >= 0; i--) {
        id[i] = ID_DIGITS[k % 36];
        k /= 36;
    }
    id[MULE_SPOOL_ID_LEN] = '\0';
}

static sp_ent *
ent_find(const mule_spool *sp, const char *id)
{
    uint64_t key, v;

    if (!id_cstr_key(id, &key) || !map_get(&sp->idx, key, &v))
        return NULL;
    return (sp_ent *)(uintptr_t)v;
}

/* ------------------------------------------------------------------ */
/* Records */

static uint32_t
rec_crc(uint8_t type, uint32_t len, const uint8_t *p)
{
    uint8_t h[5] = {type, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                    (uint8_t)len};
    uLong c = crc32(0L, Z_NULL, 0);

    c = crc32(c, h, 5);
    /* zlib takes uInt lengths; feed large bodies in pieces. */
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

        c = crc32(c, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)c;
}

/* Largest payload a record type may claim (the parser's cap). */
static size_t
rec_cap(uint8_t type)
{
    switch (type) {
    case R_META: return META_LEN;
    case R_ENV: case R_RCPT: return 2 * (2 + (size_t)MULE_SPOOL_MAX_STR);
    case R_TARGETS: return 4 * (size_t)MULE_SPOOL_MAX_TARGETS;
    case R_DESTS: return 4 * (size_t)MULE_SPOOL_MAX_DESTS;
    case R_BODY: return MULE_SPOOL_MAX_CONTENT;
    case R_END: return 0;
    case R_TSTATE: return TSTATE_LEN;
    case R_FLAG: return 1;
    case R_MSID_HW: return 4;
    case R_MSN: return 8;
    case R_DONE: return 20;
    case R_EMCON: return 9;
    default: return 0;
    }
}

enum { RD_OK = 0, RD_TORN = 1, RD_BAD = 2 };

/* A crash can leave the end of an appended file as zeros (the size grew,
 * the data never reached the disk): that is a torn tail too. */
static bool
all_zero(const cur *c)
{
    cur t = *c;
    uint8_t b;

    while (cur_u8(&t, &b))
        if (b != 0)
            return false;
    return true;
}

/*
 * Read the next record.  RD_TORN: the bytes end inside it, or its
 * checksum fails and it is the last thing in the input (a crash while it
 * was appended); RD_BAD: anything else wrong.  On RD_OK *c has moved past
 * it and *pl is its payload.
 */
static int
rec_next(cur *c, uint8_t *type, cur *pl)
{
    cur t = *c;
    uint32_t len, crc;
    const uint8_t *p;

    if (!cur_u8(&t, type) || !cur_u32be(&t, &len))
        return RD_TORN;
    if (len > rec_cap(*type) || (rec_cap(*type) == 0 && *type != R_END))
        return t.left < len || all_zero(c) ? RD_TORN : RD_BAD;
    if (!cur_view(&t, &p, len) || !cur_u32be(&t, &crc))
        return RD_TORN;
    if (crc != rec_crc(*type, len, p))
        return t.left == 0 || all_zero(c) ? RD_TORN : RD_BAD;
    cur_init(pl, p, len);
    *c = t;
    return RD_OK;
}

static void
rec_begin(wcur *w, uint8_t type)
{
    wcur_u8(w, type);
    wcur_u32be(w, 0);           /* length, patched by rec_finish */
}

static void
rec_finish(wcur *w, size_t start)
{
    size_t len;

    if (w->overflow)
        return;
    len = w->len - start - 5;
    w->p[start + 1] = (uint8_t)(len >> 24);
    w->p[start + 2] = (uint8_t)(len >> 16);
    w->p[start + 3] = (uint8_t)(len >> 8);
    w->p[start + 4] = (uint8_t)len;
    wcur_u32be(w, rec_crc(w->p[start], (uint32_t)len, w->p + start + 5));
}

static void
rec_small(mule_spool_rec *rec, uint8_t type, const uint8_t *pl, size_t len)
{
    wcur w;

    wcur_init(&w, rec->b, sizeof rec->b);
    rec_begin(&w, type);
    wcur_bytes(&w, pl, len);
    rec_finish(&w, 0);
    rec->len = w.overflow ? 0 : w.len;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void
put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t)(v >> 32));
    put_u32(p + 4, (uint32_t)v);
}

/* Append one record with a payload built from up to three pieces to a
 * buf (the creation section can be large: no fixed buffer). */
static int
buf_rec(buf *out, uint8_t type, const void *a, size_t alen, const void *b, size_t blen)
{
    uint8_t h[5];
    uint8_t t[4];
    size_t len = alen + blen;
    size_t start = out->len;
    uLong c;
    int rc;

    if (len > UINT32_MAX)
        return MULE_ERR_INVAL;
    h[0] = type;
    put_u32(h + 1, (uint32_t)len);
    c = crc32(crc32(0L, Z_NULL, 0), h, 5);
    if ((rc = buf_append(out, h, 5)) != 0 || (rc = buf_append(out, a, alen)) != 0 ||
        (rc = buf_append(out, b, blen)) != 0)
        goto fail;
    c = crc32(c, out->data + start + 5, (uInt)len);
    put_u32(t, (uint32_t)c);
    if ((rc = buf_append(out, t, 4)) != 0)
        goto fail;
    return 0;
fail:
    out->len = start;
    return MULE_ERR_NOMEM;
}

static int
file_header(buf *out, uint8_t ft)
{
    uint8_t h[MULE_SPOOL_HDR_LEN] = {SPOOL_MAGIC[0], SPOOL_MAGIC[1], SPOOL_MAGIC[2],
                                     SPOOL_MAGIC[3], SPOOL_VERSION, ft, 0, 0};

    return buf_append(out, h, sizeof h) == 0 ? 0 : MULE_ERR_NOMEM;
}

void
mule_spool_node_header(uint8_t out[MULE_SPOOL_HDR_LEN])
{
    const uint8_t h[MULE_SPOOL_HDR_LEN] = {SPOOL_MAGIC[0], SPOOL_MAGIC[1], SPOOL_MAGIC[2],
                                           SPOOL_MAGIC[3], SPOOL_VERSION, FT_NODE, 0, 0};

    memcpy(out, h, sizeof h);
}

/* Check the file header.  Returns 0, SPOOL_VERSION or SPOOL_CORRUPT. */
static int
header_check(cur *c, uint8_t ft)
{
    uint8_t h[MULE_SPOOL_HDR_LEN];

    if (!cur_bytes(c, h, sizeof h) || memcmp(h, SPOOL_MAGIC, 4) != 0)
        return MULE_ERR_SPOOL_CORRUPT;
    if (h[4] != SPOOL_VERSION)
        return MULE_ERR_SPOOL_VERSION;
    if (h[5] != ft || h[6] != 0 || h[7] != 0)
        return MULE_ERR_SPOOL_CORRUPT;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Entry files: encoder and the one parser */

static bool
str_ok(mule_spool_str s)
{
    return s.len <= MULE_SPOOL_MAX_STR && (s.len == 0 || s.p != NULL);
}

static int
msg_check(const mule_spool_msg *m)
{
    if (m->kind != MULE_SPOOL_OUT && m->kind != MULE_SPOOL_IN)
        return MULE_ERR_INVAL;
    if (m->content_kind != MULE_SPOOL_C_MESSAGE && m->content_kind != MULE_SPOOL_C_PAYLOAD)
        return MULE_ERR_INVAL;
    if (m->target_cnt == 0 || m->target_cnt > MULE_SPOOL_MAX_TARGETS)
        return MULE_ERR_INVAL;
    if (m->rcpt_cnt > MULE_SPOOL_MAX_RCPTS || (m->rcpt_cnt > 0 && m->rcpts == NULL))
        return MULE_ERR_INVAL;
    if (m->dest_cnt > MULE_SPOOL_MAX_DESTS || (m->dest_cnt > 0 && m->dests == NULL))
        return MULE_ERR_INVAL;
    if (m->kind == MULE_SPOOL_OUT && m->target_nodes == NULL)
        return MULE_ERR_INVAL;
    if (m->kind == MULE_SPOOL_IN && m->target_cnt != m->rcpt_cnt)
        return MULE_ERR_INVAL;
    if (m->content_len > MULE_SPOOL_MAX_CONTENT || (m->content_len > 0 && m->content == NULL))
        return MULE_ERR_INVAL;
    if (!str_ok(m->mail_from) || !str_ok(m->mail_params))
        return MULE_ERR_INVAL;
    for (size_t i = 0; i < m->rcpt_cnt; i++)
        if (!str_ok(m->rcpts[i].addr) || !str_ok(m->rcpts[i].params))
            return MULE_ERR_INVAL;
    return 0;
}

/* Two length-prefixed strings as one record payload. */
static int
buf_rec_2str(buf *out, uint8_t type, mule_spool_str a, mule_spool_str b)
{
    uint8_t tmp[2 * (2 + MULE_SPOOL_MAX_STR)];
    wcur w;

    wcur_init(&w, tmp, sizeof tmp);
    wcur_u16be(&w, (uint16_t)a.len);
    wcur_bytes(&w, a.p, a.len);
    wcur_u16be(&w, (uint16_t)b.len);
    wcur_bytes(&w, b.p, b.len);
    return buf_rec(out, type, tmp, w.len, NULL, 0);
}

static int
buf_rec_u32s(buf *out, uint8_t type, const uint32_t *v, size_t n)
{
    uint8_t tmp[4 * MULE_SPOOL_MAX_TARGETS];

    for (size_t i = 0; i < n; i++)
        put_u32(tmp + 4 * i, v != NULL ? v[i] : 0);
    return buf_rec(out, type, tmp, 4 * n, NULL, 0);
}

int
mule_spool_encode_entry(const mule_spool_msg *msg, const char *id, buf *out)
{
    uint8_t meta[META_LEN];
    uint64_t key;
    size_t start;
    int rc;

    if (msg == NULL || out == NULL || !id_cstr_key(id, &key))
        return MULE_ERR_INVAL;
    if ((rc = msg_check(msg)) != 0)
        return rc;
    start = out->len;
    meta[0] = msg->kind;
    meta[1] = msg->content_kind;
    meta[2] = (uint8_t)msg->priority;
    memcpy(meta + 3, id, MULE_SPOOL_ID_LEN);
    put_u64(meta + 15, (uint64_t)msg->arrival_s);
    put_u64(meta + 23, (uint64_t)msg->expiry_s);
    put_u32(meta + 31, msg->src_node);
    put_u32(meta + 35, msg->msid);
    meta[39] = (uint8_t)(msg->rcpt_cnt >> 8);
    meta[40] = (uint8_t)msg->rcpt_cnt;
    meta[41] = (uint8_t)(msg->target_cnt >> 8);
    meta[42] = (uint8_t)msg->target_cnt;
    meta[43] = (uint8_t)(msg->dest_cnt >> 8);
    meta[44] = (uint8_t)msg->dest_cnt;
    if ((rc = file_header(out, FT_ENTRY)) != 0 ||
        (rc = buf_rec(out, R_META, meta, sizeof meta, NULL, 0)) != 0 ||
        (rc = buf_rec_2str(out, R_ENV, msg->mail_from, msg->mail_params)) != 0)
        goto fail;
    for (size_t i = 0; i < msg->rcpt_cnt; i++)
        if ((rc = buf_rec_2str(out, R_RCPT, msg->rcpts[i].addr, msg->rcpts[i].params)) != 0)
            goto fail;
    if ((rc = buf_rec_u32s(out, R_TARGETS,
                           msg->kind == MULE_SPOOL_OUT ? msg->target_nodes : NULL,
                           msg->target_cnt)) != 0 ||
        (rc = buf_rec_u32s(out, R_DESTS, msg->dests, msg->dest_cnt)) != 0 ||
        (rc = buf_rec(out, R_BODY, msg->content, msg->content_len, NULL, 0)) != 0 ||
        (rc = buf_rec(out, R_END, NULL, 0, NULL, 0)) != 0)
        goto fail;
    return 0;
fail:
    out->len = start;
    return rc;
}

/* The parsed creation section: the message with views into the bytes,
 * cursors over the RCPT records and the node lists, the end offset. */
typedef struct parsed {
    mule_spool_msg msg;
    char id[MULE_SPOOL_ID_SIZE];
    cur rcpts;                  /* the RCPT records, still framed */
    cur targets, dests;         /* u32 arrays */
    size_t end_off;             /* octets up to and including END */
} parsed;

static bool
get_str(cur *c, mule_spool_str *s)
{
    uint16_t n;
    const uint8_t *p;

    if (!cur_u16be(c, &n) || !cur_view(c, &p, n))
        return false;
    s->p = (const char *)p;
    s->len = n;
    return true;
}

/* Next record, which must be of type want and whole. */
static bool
rec_want(cur *c, uint8_t want, cur *pl)
{
    uint8_t type;

    return rec_next(c, &type, pl) == RD_OK && type == want;
}

static bool
rcpt_decode(cur *pl, mule_spool_rcpt *r)
{
    return get_str(pl, &r->addr) && get_str(pl, &r->params) && pl->left == 0;
}

/* THE parser of the creation section.  Returns 0, SPOOL_VERSION or
 * SPOOL_CORRUPT (reject unless every check passes: style.md 7). */
static int
parse_entry(const uint8_t *bytes, size_t len, parsed *pe)
{
    cur c, pl;
    /* Zeroed: the META record's length was checked, so every read below
     * succeeds, but the compiler cannot see that. */
    uint8_t kind = 0, ck = 0, prio = 0;
    uint16_t nr = 0, nt = 0, nd = 0;
    uint64_t v64 = 0, key;
    int rc;

    memset(pe, 0, sizeof *pe);
    cur_init(&c, bytes, len);
    if ((rc = header_check(&c, FT_ENTRY)) != 0)
        return rc;
    if (!rec_want(&c, R_META, &pl) || pl.left != META_LEN)
        return MULE_ERR_SPOOL_CORRUPT;
    if (!(cur_u8(&pl, &kind) && cur_u8(&pl, &ck) && cur_u8(&pl, &prio) &&
          cur_bytes(&pl, pe->id, MULE_SPOOL_ID_LEN)))
        return MULE_ERR_SPOOL_CORRUPT;
    pe->id[MULE_SPOOL_ID_LEN] = '\0';
    pe->msg.kind = kind;
    pe->msg.content_kind = ck;
    pe->msg.priority = (int8_t)prio;
    if (!cur_u64be(&pl, &v64))
        return MULE_ERR_SPOOL_CORRUPT;
    pe->msg.arrival_s = (int64_t)v64;
    if (!cur_u64be(&pl, &v64))
        return MULE_ERR_SPOOL_CORRUPT;
    pe->msg.expiry_s = (int64_t)v64;
    if (!(cur_u32be(&pl, &pe->msg.src_node) && cur_u32be(&pl, &pe->msg.msid) &&
          cur_u16be(&pl, &nr) && cur_u16be(&pl, &nt) && cur_u16be(&pl, &nd)))
        return MULE_ERR_SPOOL_CORRUPT;
    pe->msg.rcpt_cnt = nr;
    pe->msg.target_cnt = nt;
    pe->msg.dest_cnt = nd;
    if (!id_key(pe->id, MULE_SPOOL_ID_LEN, &key))
        return MULE_ERR_SPOOL_CORRUPT;
    if (kind != MULE_SPOOL_OUT && kind != MULE_SPOOL_IN)
        return MULE_ERR_SPOOL_CORRUPT;
    if (ck != MULE_SPOOL_C_MESSAGE && ck != MULE_SPOOL_C_PAYLOAD)
        return MULE_ERR_SPOOL_CORRUPT;
    if (nt == 0 || nt > MULE_SPOOL_MAX_TARGETS || nr > MULE_SPOOL_MAX_RCPTS ||
        nd > MULE_SPOOL_MAX_DESTS || (kind == MULE_SPOOL_IN && nt != nr))
        return MULE_ERR_SPOOL_CORRUPT;
    if (!rec_want(&c, R_ENV, &pl) || !get_str(&pl, &pe->msg.mail_from) ||
        !get_str(&pl, &pe->msg.mail_params) || pl.left != 0)
        return MULE_ERR_SPOOL_CORRUPT;
    /* The RCPT records are checked now and decoded again later into the
     * caller's array (no allocation by a count read from the file). */
    pe->rcpts = c;
    for (size_t i = 0; i < nr; i++) {
        mule_spool_rcpt r;

        if (!rec_want(&c, R_RCPT, &pl) || !rcpt_decode(&pl, &r))
            return MULE_ERR_SPOOL_CORRUPT;
    }
    pe->rcpts.left -= c.left;
    if (!rec_want(&c, R_TARGETS, &pe->targets) || pe->targets.left != 4 * (size_t)nt)
        return MULE_ERR_SPOOL_CORRUPT;
    if (!rec_want(&c, R_DESTS, &pe->dests) || pe->dests.left != 4 * (size_t)nd)
        return MULE_ERR_SPOOL_CORRUPT;
    if (!rec_want(&c, R_BODY, &pl))
        return MULE_ERR_SPOOL_CORRUPT;
    pe->msg.content = pl.p;
    pe->msg.content_len = pl.left;
    if (!rec_want(&c, R_END, &pl))
        return MULE_ERR_SPOOL_CORRUPT;
    pe->end_off = len - c.left;
    return 0;
}

int
mule_spool_decode_entry(const uint8_t *bytes, size_t len, mule_spool_msg *msg,
                        char id[MULE_SPOOL_ID_SIZE], mule_spool_rcpt *rcpt_buf,
                        size_t rcpt_cap, uint32_t *node_buf, uint32_t *dest_buf,
                        size_t node_cap)
{
    parsed pe;
    int rc;

    if (bytes == NULL || msg == NULL)
        return MULE_ERR_INVAL;
    if ((rc = parse_entry(bytes, len, &pe)) != 0)
        return rc;
    if ((rcpt_buf != NULL && pe.msg.rcpt_cnt > rcpt_cap) ||
        (node_buf != NULL && pe.msg.target_cnt > node_cap) ||
        (dest_buf != NULL && pe.msg.dest_cnt > node_cap))
        return MULE_ERR_NOSPACE;
    if (rcpt_buf != NULL) {
        cur c = pe.rcpts, pl;

        for (size_t i = 0; i < pe.msg.rcpt_cnt; i++)
            (void)(rec_want(&c, R_RCPT, &pl) && rcpt_decode(&pl, &rcpt_buf[i]));
        pe.msg.rcpts = rcpt_buf;
    }
    if (node_buf != NULL) {
        for (size_t i = 0; i < pe.msg.target_cnt; i++)
            (void)cur_u32be(&pe.targets, &node_buf[i]);
        pe.msg.target_nodes = pe.msg.kind == MULE_SPOOL_OUT ? node_buf : NULL;
    }
    if (dest_buf != NULL) {
        for (size_t i = 0; i < pe.msg.dest_cnt; i++)
            (void)cur_u32be(&pe.dests, &dest_buf[i]);
        pe.msg.dests = dest_buf;
    }
    *msg = pe.msg;
    if (id != NULL)
        memcpy(id, pe.id, MULE_SPOOL_ID_SIZE);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Scheduling: two heaps */

static int
timer_cmp(const void *a, const void *b, void *arg)
{
    const sp_hel *x = a, *y = b;

    (void)arg;
    if (x->due_s != y->due_s)
        return x->due_s < y->due_s ? -1 : 1;
    if (x->e == NULL || y->e == NULL)
        return x->e == NULL ? 1 : -1;
    return x->e->key < y->e->key ? -1 : x->e->key > y->e->key;
}

static int
ready_cmp(const void *a, const void *b, void *arg)
{
    const sp_hel *x = a, *y = b;

    (void)arg;
    if (x->e == NULL || y->e == NULL)
        return x->e == NULL ? 1 : -1;
    if (x->e->prio != y->e->prio)
        return x->e->prio > y->e->prio ? -1 : 1;
    if (x->e->arrival_s != y->e->arrival_s)
        return x->e->arrival_s < y->e->arrival_s ? -1 : 1;
    return x->e->key < y->e->key ? -1 : x->e->key > y->e->key;
}

static void
hel_moved(void *elem, size_t idx, void *arg)
{
    sp_hel *h = elem;

    (void)arg;
    if (h->e != NULL)
        h->e->hidx = idx;
}

/* Make both heaps able to hold n elements without allocating, so that a
 * durable change is never refused by a failing re-schedule: push a probe
 * (sorts last, stays at the end) and take it out again. */
static int
heap_room(heap *h, size_t n)
{
    sp_hel probe = {NULL, INT64_MAX};
    size_t added = 0;
    int rc = 0;

    /* A probe compares after everything, itself included, so it never
     * moves up and the probes are the last elements until removed. */
    while (h->cap < n && rc == 0) {
        rc = heap_push(h, &probe);
        added += rc == 0;
    }
    while (added-- > 0)
        (void)heap_remove_at(h, h->len - 1, NULL);
    return rc == 0 ? 0 : MULE_ERR_NOMEM;
}

/* When the entry next has work: the earliest next_try of a PENDING or
 * TEMPFAIL target, or its expiry if that comes first; never while held or
 * deleted. */
static int64_t
ent_due(const sp_ent *e)
{
    int64_t due = INT64_MAX;

    if (e->busy || (e->flags & (MULE_SPOOL_F_HELD | MULE_SPOOL_F_DELETED)))
        return INT64_MAX;
    for (size_t i = 0; i < e->ntg; i++) {
        const mule_spool_target *t = &e->tg[i];

        if (t->state != MULE_SPOOL_T_PENDING && t->state != MULE_SPOOL_T_TEMPFAIL)
            continue;
        if (t->next_try_s < due)
            due = t->next_try_s;
        if (e->expiry_s < due)
            due = e->expiry_s;
    }
    return due;
}

static void
ent_unsched(mule_spool *sp, sp_ent *e)
{
    if (e->where == HEAP_READY)
        (void)heap_remove_at(&sp->ready, e->hidx, NULL);
    else if (e->where == HEAP_TIMER)
        (void)heap_remove_at(&sp->timer, e->hidx, NULL);
    e->where = 0;
}

/* Put e (in neither heap) into the timer heap; capacity is reserved at
 * add time, so this cannot fail. */
static void
ent_sched(mule_spool *sp, sp_ent *e)
{
    sp_hel h = {e, ent_due(e)};

    e->due_s = h.due_s;
    e->where = HEAP_TIMER;
    if (heap_push(&sp->timer, &h) != 0) {
        /* heap_room() reserved the room at add time, so this is a bug.
         * Without asserts, keep the model consistent: the entry is in no
         * heap (never due) rather than pointing at a wrong slot. */
        assert(!"ent_sched: no room in the timer heap");
        e->where = 0;
    }
}

static void
ent_resched(mule_spool *sp, sp_ent *e)
{
    ent_unsched(sp, e);
    ent_sched(sp, e);
}

/* ------------------------------------------------------------------ */
/* Model */

int
mule_spool_new(mule_spool **out, const mule_spool_policy *pol, const mem *m)
{
    mule_spool *sp;

    if (out == NULL)
        return MULE_ERR_INVAL;
    *out = NULL;
    if ((sp = mem_calloc(m, 1, sizeof *sp)) == NULL)
        return MULE_ERR_NOMEM;
    sp->m = m;
    if (pol != NULL)
        sp->pol = *pol;
    if (sp->pol.backoff_min_s == 0)
        sp->pol.backoff_min_s = 60;
    if (sp->pol.backoff_max_s < sp->pol.backoff_min_s)
        sp->pol.backoff_max_s = sp->pol.backoff_min_s > 3600 ? sp->pol.backoff_min_s : 3600;
    if (sp->pol.msid_block == 0)
        sp->pol.msid_block = 1024;
    if (sp->pol.max_entries == 0)
        sp->pol.max_entries = 1000000;
    map_init(&sp->idx, m, sp->pol.max_entries);
    map_init(&sp->msn, m, 0);
    heap_init(&sp->timer, m, sizeof(sp_hel), 0, timer_cmp, hel_moved, NULL);
    heap_init(&sp->ready, m, sizeof(sp_hel), 0, ready_cmp, hel_moved, NULL);
    sp->msid_next = 1;
    sp->msid_hw = 1;
    *out = sp;
    return 0;
}

void
mule_spool_free(mule_spool *sp)
{
    size_t it = 0;
    uint64_t v;

    if (sp == NULL)
        return;
    while (map_next(&sp->idx, &it, NULL, &v))
        mem_free(sp->m, (void *)(uintptr_t)v);
    map_fini(&sp->idx);
    map_fini(&sp->msn);
    heap_fini(&sp->timer);
    heap_fini(&sp->ready);
    mem_free(sp->m, sp->done);
    mem_free(sp->m, sp);
}

static size_t
ent_size(size_t ntg)
{
    return sizeof(sp_ent) + ntg * sizeof(mule_spool_target);
}

/* Build an entry from a parsed creation section and insert it. */
static int
ent_insert(mule_spool *sp, const parsed *pe, size_t file_len, sp_ent **out)
{
    sp_ent *e;
    uint64_t key = 0;
    cur tc = pe->targets;
    size_t n = mule_spool_count(sp) + 1;
    int rc;

    (void)id_key(pe->id, MULE_SPOOL_ID_LEN, &key);
    if (map_get(&sp->idx, key, NULL))
        return MULE_ERR_SPOOL_EXISTS;
    if (n > sp->pol.max_entries)
        return MULE_ERR_SPOOL_FULL_Q;
    if (heap_room(&sp->timer, n) != 0 || heap_room(&sp->ready, n) != 0)
        return MULE_ERR_NOMEM;
    if ((e = mem_calloc(sp->m, 1, ent_size(pe->msg.target_cnt))) == NULL)
        return MULE_ERR_NOMEM;
    e->key = key;
    e->kind = pe->msg.kind;
    e->prio = pe->msg.priority;
    e->arrival_s = pe->msg.arrival_s;
    e->expiry_s = pe->msg.expiry_s;
    e->src_node = pe->msg.src_node;
    e->msid = pe->msg.msid;
    e->ntg = (uint16_t)pe->msg.target_cnt;
    e->file_len = file_len;
    for (size_t i = 0; i < e->ntg; i++) {
        (void)cur_u32be(&tc, &e->tg[i].node);
        e->tg[i].state = MULE_SPOOL_T_PENDING;
        e->tg[i].next_try_s = e->arrival_s;
    }
    if ((rc = map_put(&sp->idx, key, (uint64_t)(uintptr_t)e)) != 0) {
        mem_free(sp->m, e);
        return rc == UTIL_ERR_FULL ? MULE_ERR_SPOOL_FULL_Q : MULE_ERR_NOMEM;
    }
    sp->bytes += ent_size(e->ntg);
    ent_sched(sp, e);
    *out = e;
    return 0;
}

static void
ent_remove(mule_spool *sp, sp_ent *e)
{
    ent_unsched(sp, e);
    (void)map_del(&sp->idx, e->key);
    sp->bytes -= ent_size(e->ntg);
    mem_free(sp->m, e);
}

void
mule_spool_drop(mule_spool *sp, const char *id)
{
    sp_ent *e = ent_find(sp, id);

    if (e != NULL)
        ent_remove(sp, e);
}

/* ------------------------------------------------------------------ */
/* State machine */

static bool
transition_ok(uint8_t from, uint8_t to)
{
    switch (from) {
    case MULE_SPOOL_T_PENDING:
        return to == MULE_SPOOL_T_DONE || to == MULE_SPOOL_T_TEMPFAIL ||
               to == MULE_SPOOL_T_FAILED ||
               to == MULE_SPOOL_T_INFLIGHT;
    case MULE_SPOOL_T_INFLIGHT:
        return to == MULE_SPOOL_T_DONE || to == MULE_SPOOL_T_FAILED ||
               to == MULE_SPOOL_T_PENDING || to == MULE_SPOOL_T_TEMPFAIL;
    case MULE_SPOOL_T_TEMPFAIL:
        return to == MULE_SPOOL_T_TEMPFAIL || to == MULE_SPOOL_T_DONE ||
               to == MULE_SPOOL_T_FAILED ||
               to == MULE_SPOOL_T_INFLIGHT;
    case MULE_SPOOL_T_FAILED:
        return to == MULE_SPOOL_T_DSN_SENT;
    default:
        return false;           /* DONE, DSN_SENT: final */
    }
}

uint32_t
mule_spool_backoff_s(const mule_spool *sp, uint32_t attempt)
{
    uint64_t d = sp->pol.backoff_min_s;

    for (uint32_t i = 1; i < attempt && d < sp->pol.backoff_max_s; i++)
        d *= 2;
    return d > sp->pol.backoff_max_s ? sp->pol.backoff_max_s : (uint32_t)d;
}

static int64_t
add_sat(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static void
tstate_encode(size_t idx, const mule_spool_target *t, mule_spool_rec *rec)
{
    uint8_t p[TSTATE_LEN];

    p[0] = (uint8_t)(idx >> 8);
    p[1] = (uint8_t)idx;
    p[2] = t->state;
    p[3] = (uint8_t)(t->attempts >> 8);
    p[4] = (uint8_t)t->attempts;
    put_u32(p + 5, (uint32_t)t->reason);
    put_u32(p + 9, t->msid);
    put_u32(p + 13, t->msn);
    put_u64(p + 17, (uint64_t)t->next_try_s);
    rec_small(rec, R_TSTATE, p, sizeof p);
}

int
mule_spool_prep_target(const mule_spool *sp, const char *id, size_t idx,
                       const mule_spool_target *t, int64_t now_s, mule_spool_rec *rec)
{
    const sp_ent *e;
    const mule_spool_target *old;
    mule_spool_target n;

    if (sp == NULL || t == NULL || rec == NULL)
        return MULE_ERR_INVAL;
    if ((e = ent_find(sp, id)) == NULL)
        return MULE_ERR_SPOOL_NOENT;
    if (idx >= e->ntg)
        return MULE_ERR_INVAL;
    if (e->flags & MULE_SPOOL_F_DELETED)
        return MULE_ERR_SPOOL_STATE;
    old = &e->tg[idx];
    if (!transition_ok(old->state, t->state))
        return MULE_ERR_SPOOL_STATE;
    n = *t;
    n.node = old->node;
    n.attempts = old->attempts;
    n.next_try_s = old->next_try_s;
    if (t->state != MULE_SPOOL_T_INFLIGHT && n.msid == 0 && n.msn == 0) {
        n.msid = old->msid;
        n.msn = old->msn;
    }
    if (t->state == MULE_SPOOL_T_TEMPFAIL) {
        if (n.attempts < UINT16_MAX)
            n.attempts++;
        n.next_try_s = add_sat(now_s, mule_spool_backoff_s(sp, n.attempts));
    } else if (t->state == MULE_SPOOL_T_PENDING) {
        n.next_try_s = now_s;
    }
    tstate_encode(idx, &n, rec);
    return 0;
}

static bool
flag_ok(uint8_t flags, int op)
{
    if (flags & MULE_SPOOL_F_DELETED)
        return false;
    switch (op) {
    case 'h': return !(flags & MULE_SPOOL_F_HELD);
    case 'r': return (flags & MULE_SPOOL_F_HELD) != 0;
    case 'd': return true;
    default: return false;
    }
}

int
mule_spool_prep_flag(const mule_spool *sp, const char *id, int op, mule_spool_rec *rec)
{
    const sp_ent *e;
    uint8_t b;

    if (sp == NULL || rec == NULL || (op != 'h' && op != 'r' && op != 'd'))
        return MULE_ERR_INVAL;
    if ((e = ent_find(sp, id)) == NULL)
        return MULE_ERR_SPOOL_NOENT;
    if (!flag_ok(e->flags, op))
        return MULE_ERR_SPOOL_STATE;
    b = (uint8_t)op;
    rec_small(rec, R_FLAG, &b, 1);
    return 0;
}

void
mule_spool_prep_msid_hw(uint32_t hw, mule_spool_rec *rec)
{
    uint8_t p[4];

    put_u32(p, hw);
    rec_small(rec, R_MSID_HW, p, sizeof p);
}

void
mule_spool_prep_msn(uint32_t dest, uint32_t msn, mule_spool_rec *rec)
{
    uint8_t p[8];

    put_u32(p, dest);
    put_u32(p + 4, msn);
    rec_small(rec, R_MSN, p, sizeof p);
}

/* DONE carries a range; a live addition is the range [msid, msid]. */
static void
prep_done_range(uint32_t src, uint32_t lo, uint32_t hi, int64_t expiry_s,
                mule_spool_rec *rec)
{
    uint8_t p[20];

    put_u32(p, src);
    put_u32(p + 4, lo);
    put_u32(p + 8, hi);
    put_u64(p + 12, (uint64_t)expiry_s);
    rec_small(rec, R_DONE, p, sizeof p);
}

void
mule_spool_prep_done(uint32_t src, uint32_t msid, int64_t expiry_s, mule_spool_rec *rec)
{
    prep_done_range(src, msid, msid, expiry_s, rec);
}

void
mule_spool_prep_emcon(bool on, int64_t since_s, mule_spool_rec *rec)
{
    uint8_t p[9];

    p[0] = on;
    put_u64(p + 1, (uint64_t)since_s);
    rec_small(rec, R_EMCON, p, sizeof p);
}

/* Apply one entry journal record (already framed and checked). */
static int
apply_ent(mule_spool *sp, sp_ent *e, uint8_t type, cur *pl)
{
    if (type == R_TSTATE) {
        mule_spool_target n;
        uint16_t idx;
        uint32_t reason;
        uint64_t nt;

        if (pl->left != TSTATE_LEN)
            return MULE_ERR_SPOOL_CORRUPT;
        if (!(cur_u16be(pl, &idx) && cur_u8(pl, &n.state) && cur_u16be(pl, &n.attempts) &&
              cur_u32be(pl, &reason) && cur_u32be(pl, &n.msid) && cur_u32be(pl, &n.msn) &&
              cur_u64be(pl, &nt)))
            return MULE_ERR_SPOOL_CORRUPT;
        if (idx >= e->ntg)
            return MULE_ERR_SPOOL_CORRUPT;
        if ((e->flags & MULE_SPOOL_F_DELETED) ||
            !transition_ok(e->tg[idx].state, n.state))
            return MULE_ERR_SPOOL_STATE;
        n.reason = (int32_t)reason;
        n.next_try_s = (int64_t)nt;
        n.node = e->tg[idx].node;
        e->tg[idx] = n;
    } else if (type == R_FLAG) {
        uint8_t op;

        if (pl->left != 1)
            return MULE_ERR_SPOOL_CORRUPT;
        if (!cur_u8(pl, &op))
            return MULE_ERR_SPOOL_CORRUPT;
        if (!flag_ok(e->flags, op))
            return MULE_ERR_SPOOL_STATE;
        if (op == 'h')
            e->flags |= MULE_SPOOL_F_HELD;
        else if (op == 'r')
            e->flags &= (uint8_t)~MULE_SPOOL_F_HELD;
        else
            e->flags |= MULE_SPOOL_F_DELETED;
    } else {
        return MULE_ERR_SPOOL_CORRUPT;
    }
    ent_resched(sp, e);
    return 0;
}

/* The done set: sorted by (src, lo), ranges never overlap or touch. */
static size_t
done_lower(const mule_spool *sp, uint32_t src, uint32_t msid)
{
    size_t lo = 0, hi = sp->done_len;

    /* First range with (src, hi) >= (src, msid). */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const done_rng *r = &sp->done[mid];

        if (r->src < src || (r->src == src && r->hi < msid))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool
mule_spool_done_has(const mule_spool *sp, uint32_t src, uint32_t msid)
{
    size_t i = done_lower(sp, src, msid);

    return i < sp->done_len && sp->done[i].src == src && sp->done[i].lo <= msid;
}

/* Add [lo, hi] of src, merging with every range it overlaps or touches
 * (expiry: the latest, so nothing is forgotten early). */
static int
done_add(mule_spool *sp, uint32_t src, uint32_t lo, uint32_t hi, int64_t expiry_s)
{
    size_t i = done_lower(sp, src, lo == 0 ? 0 : lo - 1), j = i;
    done_rng n = {src, lo, hi, expiry_s};

    if (lo > hi)
        return MULE_ERR_SPOOL_CORRUPT;
    while (j < sp->done_len && sp->done[j].src == src &&
           (uint64_t)sp->done[j].lo <= (uint64_t)hi + 1) {
        const done_rng *r = &sp->done[j++];

        n.lo = r->lo < n.lo ? r->lo : n.lo;
        n.hi = r->hi > n.hi ? r->hi : n.hi;
        n.expiry_s = r->expiry_s > n.expiry_s ? r->expiry_s : n.expiry_s;
    }
    if (j > i) {
        sp->done[i] = n;
        memmove(&sp->done[i + 1], &sp->done[j], (sp->done_len - j) * sizeof n);
        sp->done_len -= j - i - 1;
        return 0;
    }
    if (arr_grow(sp->m, (void **)&sp->done, &sp->done_cap, sp->done_len + 1, sizeof n, 0) != 0)
        return MULE_ERR_NOMEM;
    memmove(&sp->done[i + 1], &sp->done[i], (sp->done_len - i) * sizeof n);
    sp->done[i] = n;
    sp->done_len++;
    return 0;
}

void
mule_spool_done_prune(mule_spool *sp, int64_t now_s)
{
    size_t j = 0;

    for (size_t i = 0; i < sp->done_len; i++)
        if (sp->done[i].expiry_s >= now_s)
            sp->done[j++] = sp->done[i];
    sp->done_len = j;
}

int
mule_spool_done_walk(const mule_spool *sp, mule_spool_done_fn fn, void *arg)
{
    for (size_t i = 0; i < sp->done_len; i++) {
        const done_rng *r = &sp->done[i];
        int rc = fn(arg, r->src, r->lo, r->hi, r->expiry_s);

        if (rc != 0)
            return rc;
    }
    return 0;
}

static int
apply_node(mule_spool *sp, uint8_t type, cur *pl)
{
    uint32_t a, b;
    uint64_t t;
    uint8_t on;

    switch (type) {
    case R_MSID_HW:
        if (pl->left != 4)
            return MULE_ERR_SPOOL_CORRUPT;
        if (!cur_u32be(pl, &a))
            return MULE_ERR_SPOOL_CORRUPT;
        if (a > sp->msid_hw)
            sp->msid_hw = a;
        return 0;
    case R_MSN:
        if (pl->left != 8)
            return MULE_ERR_SPOOL_CORRUPT;
        if (!(cur_u32be(pl, &a) && cur_u32be(pl, &b)))
            return MULE_ERR_SPOOL_CORRUPT;
        return map_put(&sp->msn, a, b) == 0 ? 0 : MULE_ERR_NOMEM;
    case R_DONE: {
        uint32_t hi;

        if (pl->left != 20)
            return MULE_ERR_SPOOL_CORRUPT;
        if (!(cur_u32be(pl, &a) && cur_u32be(pl, &b) && cur_u32be(pl, &hi) &&
              cur_u64be(pl, &t)))
            return MULE_ERR_SPOOL_CORRUPT;
        return done_add(sp, a, b, hi, (int64_t)t);
    }
    case R_EMCON:
        if (pl->left != 9)
            return MULE_ERR_SPOOL_CORRUPT;
        if (!(cur_u8(pl, &on) && cur_u64be(pl, &t)))
            return MULE_ERR_SPOOL_CORRUPT;
        if (on > 1)
            return MULE_ERR_SPOOL_CORRUPT;
        sp->emcon = on;
        sp->emcon_since_s = (int64_t)t;
        return 0;
    default:
        return MULE_ERR_SPOOL_CORRUPT;
    }
}

int
mule_spool_apply(mule_spool *sp, const char *id, const uint8_t *rec, size_t len)
{
    cur c, pl;
    uint8_t type;
    sp_ent *e = NULL;
    int rc;

    if (sp == NULL || rec == NULL)
        return MULE_ERR_INVAL;
    if (id != NULL && (e = ent_find(sp, id)) == NULL)
        return MULE_ERR_SPOOL_NOENT;
    cur_init(&c, rec, len);
    if (rec_next(&c, &type, &pl) != RD_OK || c.left != 0)
        return MULE_ERR_SPOOL_CORRUPT;
    if (e == NULL)
        return apply_node(sp, type, &pl);
    if ((rc = apply_ent(sp, e, type, &pl)) == 0)
        e->file_len += len;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Recovery */

/*
 * Replay the journal records in c, for entry e (NULL: node records).  A
 * torn last record ends the replay (an append that never completed);
 * *good is the offset, within bytes of length len, after the last record
 * applied.  Returns 0, MULE_ERR_SPOOL_CORRUPT or MULE_ERR_NOMEM.
 */
static int
replay(mule_spool *sp, sp_ent *e, cur c, size_t len, size_t *good)
{
    cur pl;
    uint8_t type;
    int rc, rd;

    while (c.left > 0) {
        rd = rec_next(&c, &type, &pl);
        if (rd == RD_TORN)
            break;
        if (rd == RD_BAD)
            return MULE_ERR_SPOOL_CORRUPT;
        rc = e != NULL ? apply_ent(sp, e, type, &pl) : apply_node(sp, type, &pl);
        if (rc != 0)
            return rc == MULE_ERR_NOMEM ? rc : MULE_ERR_SPOOL_CORRUPT;
        *good = len - c.left;
    }
    return 0;
}

int
mule_spool_load(mule_spool *sp, const char *name, const uint8_t *bytes, size_t len,
                mule_spool_load_res *res)
{
    parsed pe;
    sp_ent *e;
    cur c;
    int rc;

    if (sp == NULL || bytes == NULL || res == NULL)
        return MULE_ERR_INVAL;
    memset(res, 0, sizeof *res);
    if ((rc = parse_entry(bytes, len, &pe)) != 0)
        return res->err = rc;
    memcpy(res->id, pe.id, MULE_SPOOL_ID_SIZE);
    /* The file name is the queue ID; a file renamed by hand, or two files
     * with one ID, would make two entries the daemon cannot tell apart. */
    if (name != NULL && strcmp(name, pe.id) != 0)
        return res->err = MULE_ERR_SPOOL_CORRUPT;
    if ((rc = ent_insert(sp, &pe, pe.end_off, &e)) != 0)
        return res->err = rc;
    cur_init(&c, bytes + pe.end_off, len - pe.end_off);
    res->good_len = pe.end_off;
    if ((rc = replay(sp, e, c, len, &res->good_len)) != 0) {
        ent_remove(sp, e);
        return res->err = rc;
    }
    e->file_len = res->good_len;
    return 0;
}

int
mule_spool_add(mule_spool *sp, const uint8_t *bytes, size_t len)
{
    mule_spool_load_res res;

    return mule_spool_load(sp, NULL, bytes, len, &res);
}

int
mule_spool_load_node(mule_spool *sp, const uint8_t *bytes, size_t len,
                     mule_spool_load_res *res)
{
    cur c;
    int rc;

    if (sp == NULL || bytes == NULL || res == NULL)
        return MULE_ERR_INVAL;
    memset(res, 0, sizeof *res);
    cur_init(&c, bytes, len);
    if ((rc = header_check(&c, FT_NODE)) != 0)
        return res->err = rc;
    res->good_len = MULE_SPOOL_HDR_LEN;
    if ((rc = replay(sp, NULL, c, len, &res->good_len)) != 0)
        return res->err = rc;
    /* MSIDs below the reserved mark may have been handed out before the
     * crash: start after it (contract line 4). */
    sp->msid_next = sp->msid_hw;
    return 0;
}

int
mule_spool_node_snapshot(const mule_spool *sp, buf *out)
{
    mule_spool_rec r;
    size_t start = out->len, it = 0;
    uint64_t k, v;
    int rc;

    if ((rc = file_header(out, FT_NODE)) != 0)
        goto fail;
    mule_spool_prep_msid_hw(sp->msid_hw, &r);
    if (buf_append(out, r.b, r.len) != 0)
        goto nomem;
    mule_spool_prep_emcon(sp->emcon, sp->emcon_since_s, &r);
    if (buf_append(out, r.b, r.len) != 0)
        goto nomem;
    while (map_next(&sp->msn, &it, &k, &v)) {
        mule_spool_prep_msn((uint32_t)k, (uint32_t)v, &r);
        if (buf_append(out, r.b, r.len) != 0)
            goto nomem;
    }
    /* One record per range: a source's consecutive MSIDs cost 29 octets
     * in all, not 29 each. */
    for (size_t i = 0; i < sp->done_len; i++) {
        const done_rng *d = &sp->done[i];

        prep_done_range(d->src, d->lo, d->hi, d->expiry_s, &r);
        if (buf_append(out, r.b, r.len) != 0)
            goto nomem;
    }
    return 0;
nomem:
    rc = MULE_ERR_NOMEM;
fail:
    out->len = start;
    return rc;
}

/* ------------------------------------------------------------------ */
/* IDs and MSIDs */

void
mule_spool_mint_id(mule_spool *sp, int64_t now_s, char id[MULE_SPOOL_ID_SIZE])
{
    /* 7 base-32 digits of the time (35 bits of seconds, wrapping every
     * 1,088 years) and 5 of a counter: IDs sort roughly by arrival, and a
     * collision with a loaded entry just moves the counter on. */
    if (now_s < sp->id_floor_s)
        now_s = sp->id_floor_s;
    for (;;) {
        uint64_t t = (uint64_t)now_s & ((UINT64_C(1) << 35) - 1);
        uint64_t n = sp->id_ctr++ & ((UINT64_C(1) << 25) - 1);
        uint64_t v = t << 25 | n, key = 0;

        for (int i = MULE_SPOOL_ID_LEN - 1; i >= 0; i--) {
            id[i] = ID_DIGITS[v & 31];
            v >>= 5;
        }
        id[MULE_SPOOL_ID_LEN] = '\0';
        (void)id_key(id, MULE_SPOOL_ID_LEN, &key);
        if (!map_get(&sp->idx, key, NULL))
            return;
    }
}

void
mule_spool_mint_floor(mule_spool *sp, int64_t floor_s)
{
    sp->id_floor_s = floor_s;
}

int
mule_spool_msid_next(mule_spool *sp, uint32_t *msid)
{
    if (sp->msid_next >= sp->msid_hw)
        return MULE_ERR_SPOOL_RESERVE;
    *msid = sp->msid_next++;
    return 0;
}

uint32_t
mule_spool_msid_want(const mule_spool *sp)
{
    uint32_t w = sp->msid_next + sp->pol.msid_block;

    /* MSIDs are 32 bits; at the top the block shrinks instead of
     * wrapping to numbers that may still be in the peers' windows. */
    return w < sp->msid_next ? UINT32_MAX : w;
}

/* ------------------------------------------------------------------ */
/* Queries */

size_t
mule_spool_count(const mule_spool *sp)
{
    return map_cnt(&sp->idx);
}

static void
ent_info(const sp_ent *e, mule_spool_info *info)
{
    key_id(e->key, info->id);
    info->kind = e->kind;
    info->priority = e->prio;
    info->flags = e->flags;
    info->arrival_s = e->arrival_s;
    info->expiry_s = e->expiry_s;
    info->src_node = e->src_node;
    info->msid = e->msid;
    info->target_cnt = e->ntg;
    info->file_len = e->file_len;
}

int
mule_spool_info_get(const mule_spool *sp, const char *id, mule_spool_info *info)
{
    const sp_ent *e = ent_find(sp, id);

    if (e == NULL)
        return MULE_ERR_SPOOL_NOENT;
    ent_info(e, info);
    return 0;
}

int
mule_spool_target_get(const mule_spool *sp, const char *id, size_t idx,
                      mule_spool_target *t)
{
    const sp_ent *e = ent_find(sp, id);

    if (e == NULL)
        return MULE_ERR_SPOOL_NOENT;
    if (idx >= e->ntg)
        return MULE_ERR_INVAL;
    *t = e->tg[idx];
    return 0;
}

bool
mule_spool_iter(const mule_spool *sp, size_t *pos, mule_spool_info *info)
{
    uint64_t v;

    if (!map_next(&sp->idx, pos, NULL, &v))
        return false;
    ent_info((const sp_ent *)(uintptr_t)v, info);
    return true;
}

/* Bring forward one entry's waiting targets; returns how many moved. */
static size_t
ent_flush(mule_spool *sp, sp_ent *e, int64_t now_s)
{
    size_t moved = 0;

    if (e->flags & (MULE_SPOOL_F_HELD | MULE_SPOOL_F_DELETED))
        return 0;
    for (size_t i = 0; i < e->ntg; i++) {
        mule_spool_target *t = &e->tg[i];
        if ((t->state == MULE_SPOOL_T_PENDING || t->state == MULE_SPOOL_T_TEMPFAIL) &&
            t->next_try_s > now_s) {
            t->next_try_s = now_s;
            moved++;
        }
    }
    if (moved > 0)
        ent_resched(sp, e);
    return moved;
}

size_t
mule_spool_flush(mule_spool *sp, const char *id, int64_t now_s)
{
    size_t pos = 0, moved = 0;
    uint64_t v;

    if (sp == NULL)
        return 0;
    if (id != NULL) {
        sp_ent *e = ent_find(sp, id);
        return e != NULL ? ent_flush(sp, e, now_s) : 0;
    }
    while (map_next(&sp->idx, &pos, NULL, &v))
        moved += ent_flush(sp, (sp_ent *)(uintptr_t)v, now_s);
    return moved;
}

bool
mule_spool_is_removable(const mule_spool *sp, const char *id)
{
    const sp_ent *e = ent_find(sp, id);

    if (e == NULL)
        return false;
    if (e->flags & MULE_SPOOL_F_DELETED)
        return true;
    for (size_t i = 0; i < e->ntg; i++)
        if (e->tg[i].state != MULE_SPOOL_T_DONE && e->tg[i].state != MULE_SPOOL_T_DSN_SENT)
            return false;
    return true;
}

bool
mule_spool_next_due(mule_spool *sp, int64_t now_s, mule_spool_info *info)
{
    const sp_hel *top;
    sp_hel h;

    /* Everything whose time came moves to the ready heap, which orders by
     * priority; both heaps have room for every entry (heap_room), so the
     * push cannot fail. */
    while ((top = heap_peek(&sp->timer)) != NULL && top->due_s <= now_s) {
        (void)heap_pop(&sp->timer, &h);
        h.e->where = HEAP_READY;
        if (heap_push(&sp->ready, &h) != 0) {
            assert(!"mule_spool_next_due: no room in the ready heap");
            h.e->where = 0;     /* a bug (see ent_sched); never due */
        }
    }
    if ((top = heap_peek(&sp->ready)) == NULL)
        return false;
    ent_info(top->e, info);
    return true;
}

int
mule_spool_busy_set(mule_spool *sp, const char *id, bool busy)
{
    sp_ent *e;

    if (sp == NULL || id == NULL)
        return MULE_ERR_INVAL;
    if ((e = ent_find(sp, id)) == NULL)
        return MULE_ERR_SPOOL_NOENT;
    e->busy = busy;
    ent_resched(sp, e);
    return 0;
}

bool
mule_spool_is_busy(const mule_spool *sp, const char *id)
{
    const sp_ent *e = sp != NULL && id != NULL ? ent_find(sp, id) : NULL;

    return e != NULL && e->busy;
}

int64_t
mule_spool_next_deadline(mule_spool *sp)
{
    const sp_hel *top = heap_peek(&sp->ready);

    if (top != NULL)
        return top->due_s;
    top = heap_peek(&sp->timer);
    return top != NULL ? top->due_s : INT64_MAX;
}

bool
mule_spool_emcon(const mule_spool *sp, int64_t *since_s)
{
    if (since_s != NULL)
        *since_s = sp->emcon_since_s;
    return sp->emcon;
}

uint32_t
mule_spool_msn(const mule_spool *sp, uint32_t dest)
{
    uint64_t v = 0;

    (void)map_get(&sp->msn, dest, &v);
    return (uint32_t)v;
}

size_t
mule_spool_mem_bytes(const mule_spool *sp)
{
    return sizeof *sp + sp->bytes + sp->idx.ent_cap * sizeof(map_ent) +
           sp->idx.slot_cnt * sizeof(uint32_t) + (sp->timer.cap + sp->ready.cap + 2) *
           sp->timer.stride + sp->done_cap * sizeof(done_rng) +
           sp->msn.ent_cap * sizeof(map_ent) + sp->msn.slot_cnt * sizeof(uint32_t);
}

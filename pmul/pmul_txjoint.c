/*
 * NAME
 *	pmul_txjoint - the transmitter's joint repair rounds of several messages
 * SYNOPSIS
 *	#include "pmul/pmul_engine_int.h"
 * DESCRIPTION
 *	docs/wire.md 10.8, "Transmitter".  A message's repair round must
 *	carry what its neediest receiver lacks; coding the repairs of several
 *	waiting messages together sums each receiver's losses over them
 *	before the largest is taken (issue 12: 100 mails of 2-8 kB to 4
 *	receivers at 10 %, tools/bench/fec_floor.py).
 *
 *	candidate  a one-block FEC message whose round on Acks is due, every
 *		incomplete destination answered with a list, reads FEC, decodes
 *		repairs and is not learned to leave joint repairs unused.
 *	wait	a candidate waits (jwait, rtx timer off, pmul__txj_deadline()
 *		for fec_joint_wait_ms) while another message of the same
 *		destinations and priority still has its first transmission to
 *		send, or the carrier of its last set still awaits answers, and
 *		fewer than fec_joint_max wait (2 until its destinations have
 *		decoded a joint round: a trial).  Candidates an Ack_PDU makes
 *		are served once all of it is read.
 *	flush	then the waiting candidates of the same destinations,
 *		priority, group and symbol length go in one joint round: the
 *		oldest's last set again (whoever carries it) while it has not
 *		decoded everywhere (same members, fresh j, doubling), else a
 *		new set of candidates in no set that may go again, oldest first
 *		while K + repairs <= 254, only where it saves repairs over the
 *		members' own rounds; otherwise each gets its plain round.
 *	round	a member carries it (pmul_tx.c sends it), the one the neediest
 *		destination needs most, so that it cannot finish mid-round:
 *		version 2 FEC_Address_PDU listing every destination some member
 *		still needs, the joint repairs G + j, the closing copy; the others
 *		wait in PMUL_TXP_JOINT and their rounds end with the carrier's.
 *		A carrier's unchanged list makes the members' lists stand.
 *	size	the largest need of a listed destination summed over the
 *		members, with the margin of pmul_txfec.c, at most 254 - K.
 *	encode	the members' fragments in joint order, each last one padded to
 *		symbol_len in one engine scratch; tables prepared when planned,
 *		so sending allocates nothing.  A member that finishes leaves its
 *		payload with its carrier's set while the set may go again.
 *
 *	Learning which destinations use joint repairs is in pmul_txpeer.c
 *	(learn_joint, pmul__txp_on_ack_pdu).
 * SECURITY
 *	Sees only lists pmul_tx.c accepted from destinations of the members.
 *	Payloads kept for a set are bounded by its 30 members and freed when
 *	the set is dropped (a new set, a round of the carrier's own, the
 *	carrier finished).
 * DIAGNOSTICS
 *	Stats fec_joint_rounds, fec_joint_members, fec_joint_repairs; one
 *	debug line per joint round.  Short of memory when planning, the
 *	candidates get their plain rounds.
 * SEE ALSO
 *	pmul_tx.c, pmul_txfec.c, pmul_txpeer.c, pmul_fec(3), docs/wire.md 10.8
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"

#include <string.h>

#include "pmul/util/arr.h"

/* A joint round must save at least this many repair PDUs over the
 * members' own rounds (choose()). */
#define JOINT_GAIN_MIN 1u
/* A set goes again at most this many times in a row (choose_again());
 * then its carrier gets its own round and the set is dropped: a
 * receiver that does not decode it went on getting one repair a round. */
#define JOINT_AGAIN_MAX 3u

/* ---- candidates -------------------------------------------------------- */

/* docs/wire.md 10.8, transmitter 1; with `learnt`, destinations learned
 * not to use joint repairs count too. */
static bool
candidate_if(const pmul_engine *e, const pmul_txmsg *m, bool learnt)
{
    const pmul_dststate *ds;
    bool any = false;
    size_t i;

    /* Not on a shared channel (cfg.shared_medium): there every answer to
     * a joint round's copies takes the transmitter's air, and sets that
     * change before their answers are in waste whole rounds (100 mails to
     * 4 receivers on one 9.6 kbit/s channel: 1.48x the limit against
     * 1.38x without, docs/benchmarks.md). */
    if (!e->cfg.fec || !e->cfg.fec_joint || e->cfg.shared_medium || !m->fec ||
        m->lay.block_cnt != 1 ||
        m->npdus >= PMUL_FEC_ESI_MAX || m->phase != PMUL_TXP_WAIT || m->probe ||
        pmul__txj_active(m))
        return false;
    for (i = 0; i < m->dest_cnt; i++) {
        const pmul_txdest *d = &m->dests[i];

        if (!pmul__txd_incomplete(d))
            continue;
        /* Silent since its list: asked by the round, a few times. */
        if (d->emcon || d->no_fec || d->state != PMUL_TXD_PARTIAL ||
            (!d->answered && m->asks >= PMUL__PROBE_MAX))
            return false;
        if ((ds = pmul__dst_find(e, d->id)) == NULL || !ds->fec_ok ||
            (learnt && ds->nojoint_left > 0))
            return false;
        any = true;
    }
    return any;
}

static bool
candidate(const pmul_engine *e, const pmul_txmsg *m)
{
    return candidate_if(e, m, true);
}

/*
 * m would have been a candidate but for destinations learned not to use
 * joint repairs: it is one message of each one's span (once).  Counted
 * here rather than at submit, where nodec's span runs: 100 mails queued at
 * once were all submitted before any finding, and one wrong finding kept
 * a receiver out of joint rounds for the whole batch.
 */
static void
spend(pmul_engine *e, pmul_txmsg *m)
{
    pmul_dststate *ds;
    size_t i;

    if (!candidate_if(e, m, false))
        return;
    for (i = 0; i < m->dest_cnt; i++) {
        pmul_txdest *d = &m->dests[i];

        if (pmul__txd_incomplete(d) && !d->jspent && (ds = pmul__dst_find(e, d->id)) != NULL &&
            ds->nojoint_left > 0) {
            d->jspent = true;
            ds->nojoint_left--;
        }
    }
}

/* The same destination list and priority. */
static bool
same_dests(const pmul_txmsg *a, const pmul_txmsg *b)
{
    size_t i;

    if (a->dest_cnt != b->dest_cnt || a->prio != b->prio)
        return false;
    for (i = 0; i < a->dest_cnt; i++)
        if (a->dests[i].id != b->dests[i].id)
            return false;
    return true;
}

/* b may join a joint round with a: its repairs reach the same group. */
static bool
joinable(const pmul_engine *e, const pmul_txmsg *a, const pmul_txmsg *b)
{
    return b->jwait && same_dests(a, b) && a->group == b->group && a->sym_len == b->sym_len &&
           candidate(e, b);
}

/* Another message of m's destinations and priority still has its first
 * transmission to send: its candidates may come soon. */
static bool
first_pending(const pmul_engine *e, const pmul_txmsg *m)
{
    size_t i;

    for (i = 0; i < e->tx_cnt; i++) {
        const pmul_txmsg *o = e->tx[i];

        if (o != m && o->phase != PMUL_TXP_WAIT && o->phase != PMUL_TXP_JOINT &&
            o->data_rounds <= 1 && !o->probe && same_dests(m, o))
            return true;
    }
    return false;
}

/*
 * How many candidates like m are worth waiting for: fec_joint_max once
 * every destination m still serves has decoded a joint round, else 2.
 * Until then a joint round is a trial: a receiver built before 10.8
 * leaves it unused, and every candidate that waited for it lost its
 * round's place for nothing.  With 10 such receivers on one channel
 * (netsim shared_medium_rx10), 5 candidates waited through the whole
 * first transmission of 20 mails for the trial, and their receivers'
 * repeated Acks took the Ack count from 443 to 585.
 */
static size_t
worth(const pmul_engine *e, const pmul_txmsg *m)
{
    const pmul_dststate *ds;
    size_t i;

    /* Proven: it decoded one, or answered a closing copy for its members
     * (only a receiver of 10.8 does; one that needed nothing of a round
     * cannot show a list that shrank). */
    for (i = 0; i < m->dest_cnt; i++)
        if (pmul__txd_incomplete(&m->dests[i]) &&
            ((ds = pmul__dst_find(e, m->dests[i].id)) == NULL || !(ds->jdec_ok || ds->jaware)))
            return 2;
    return e->cfg.fec_joint_max;
}

/*
 * The carrier of a set o is in (as a member, or carrying it) that may go
 * again, else NULL.  Its members wait for it: a new set that took one
 * would drop it, and the repairs a receiver got of it were lost with it
 * (100 mails to 4 receivers at 10 %: sets that failed at one receiver
 * were taken apart by new ones three rounds in a row, 36 repairs for a
 * need of 11).
 */
static bool
carries_live(const pmul_txmsg *c)
{
    return c->jt != NULL && c->jt->g.cnt >= 2 && c->jt->g.mem[0].msid == c->msid &&
           !c->jt->active && c->jt->again < JOINT_AGAIN_MAX;
}

static pmul_txmsg *
live_carrier(pmul_txmsg *o)
{
    pmul_txmsg *c = o->jcarrier != NULL ? o->jcarrier : o;

    return carries_live(c) ? c : NULL;
}

/*
 * m's last set may go again once the answers of all its members are in:
 * one still awaiting them is no candidate yet, the set cannot go again
 * without it (choose_again()), and the others went out alone meanwhile,
 * the carrier's own round dropping the set (a carrier complete at the
 * other destinations answers first; jtt's test of both answer orders).
 * Each member's own timer ends the wait.
 */
static bool
set_pending(const pmul_engine *e, const pmul_txmsg *m)
{
    const pmul_txmsg *c = m->jcarrier != NULL ? m->jcarrier : m, *o;
    unsigned i;

    if (!carries_live(c))
        return false;
    for (i = 0; i < c->jt->g.cnt; i++)
        if ((o = pmul__tx_find(e, c->jt->g.mem[i].msid)) != NULL && o->phase == PMUL_TXP_WAIT &&
            !o->jwait && (o == c || o->jcarrier == c))
            return true;
    return false;
}

/* Its need as dests[i] of a member: 0 once it is complete. */
static uint32_t
need_of(const pmul_txmsg *o, size_t i)
{
    return pmul__txd_incomplete(&o->dests[i]) ? pmul__tx_listed_need(o, &o->dests[i]) : 0u;
}

bool
pmul__txj_active(const pmul_txmsg *m)
{
    return m->jt != NULL && m->jt->active;
}

bool
pmul__txj_wait(pmul_engine *e, pmul_txmsg *m)
{
    if (!candidate(e, m)) {
        spend(e, m);
        return false;
    }
    if (!m->jwait) {
        m->jwait = true;
        m->jwait_since = e->now_ms;
    }
    m->rtx_at = UINT64_MAX;
    m->collect = false;
    if (!e->jt_in_ack)
        pmul__txj_flush(e);
    return true;
}

bool
pmul__txj_company(const pmul_engine *e, const pmul_txmsg *m)
{
    size_t i;

    if (first_pending(e, m))
        return true;
    for (i = 0; i < e->tx_cnt; i++)
        if (e->tx[i] != m && joinable(e, m, e->tx[i]))
            return true;
    return false;
}

bool
pmul__txj_all_answered(const pmul_txmsg *m)
{
    size_t i;

    for (i = 0; i < m->dest_cnt; i++)
        if (pmul__txd_incomplete(&m->dests[i]) && !m->dests[i].answered)
            return false;
    return true;
}

uint64_t
pmul__txj_deadline(const pmul_engine *e, const pmul_txmsg *m)
{
    return m->jwait ? pmul__add_ms(m->jwait_since, e->cfg.fec_joint_wait_ms) : UINT64_MAX;
}

/* ---- planning ---------------------------------------------------------- */

/* m's plain round on Acks, as without joint repair. */
static void
lone(pmul_engine *e, pmul_txmsg *m)
{
    m->jwait = false;
    pmul__tx_start_round(e, m, false, false);
}

static bool
scratch(pmul_engine *e, size_t dests, size_t pad)
{
    return arr_grow(e->m, (void **)&e->jt_sum, &e->jt_sum_cap, dests, sizeof(*e->jt_sum), 0) == 0 &&
           arr_grow(e->m, (void **)&e->jt_pad, &e->jt_pad_cap, pad, 1, 0) == 0;
}

/* The same messages, in the same order, as the carrier's last set: its
 * repairs go on with fresh j. */
static bool
same_set(const pmul_fec_joint *a, const pmul_fec_joint *b)
{
    unsigned i;

    if (a->cnt != b->cnt || a->k != b->k)
        return false;
    for (i = 0; i < a->cnt; i++)
        if (a->mem[i].msid != b->mem[i].msid)
            return false;
    return true;
}

/* c's last set will not go again: its members leave it, and the
 * payloads it kept for finished ones are freed. */
static void
set_drop(pmul_engine *e, pmul_txmsg *c)
{
    pmul_txmsg *o;
    unsigned i;

    if (c->jt == NULL || c->jt->active)
        return;
    for (i = 0; i < c->jt->g.cnt; i++) {
        if (c->jt->own[i] != NULL) {
            mem_free(e->m, c->jt->own[i]);
            c->jt->own[i] = NULL;
        } else if ((o = pmul__tx_find(e, c->jt->g.mem[i].msid)) != NULL && o->jcarrier == c) {
            o->jcarrier = NULL;
        }
        c->jt->src[i] = NULL;
    }
    c->jt->g.cnt = 0;
}

void
pmul__txj_drop(pmul_engine *e, pmul_txmsg *m)
{
    set_drop(e, m);
}

void
pmul__txj_free(pmul_engine *e, pmul_txjoint *jt)
{
    unsigned i;

    if (jt == NULL)
        return;
    for (i = 0; i < PMUL_FEC_JOINT_MAX; i++)
        mem_free(e->m, jt->own[i]);
    mem_free(e->m, jt);
}

/* A member other than the carrier: its round is the carrier's. */
static void
member_start(pmul_engine *e, pmul_txmsg *o, pmul_txmsg *c)
{
    size_t i;

    o->jwait = false;
    o->jlearn = false;
    set_drop(e, o);             /* its own last set is no longer its last */
    o->jcarrier = c;
    o->phase = PMUL_TXP_JOINT;
    o->rtx_at = UINT64_MAX;
    o->collect = false;
    o->fresh_only = false;
    o->answer_seen = false;
    o->round_cnt = 0;
    for (i = 0; i < o->dest_cnt; i++) {
        o->dests[i].heard = false;
        o->dests[i].answered = false;
        if (pmul__txd_incomplete(&o->dests[i]))
            o->round_idx[o->round_cnt++] = i;
    }
    o->sent_rounds++;
    o->data_rounds++;
}

/* Add o's needs to e->jt_sum; the largest sum. */
static unsigned
add_needs(pmul_engine *e, const pmul_txmsg *c, const pmul_txmsg *o)
{
    unsigned need = 0;
    size_t i;

    for (i = 0; i < c->dest_cnt; i++) {
        e->jt_sum[i] += need_of(o, i);
        need = e->jt_sum[i] > need ? e->jt_sum[i] : need;
    }
    return need;
}

/*
 * c's last set again, when every member of it that is not finished (its
 * payload kept, set_drop()) waits: a receiver keeps the joint repairs of
 * a set it could not decode yet, and only for that set (docs/wire.md
 * 10.8, receiver 2; jrx's receiver also counts a round's repairs only
 * once a copy of that set follows them), so the next round of the same
 * set need only bring what the last ones most likely left missing.  With
 * a new set instead, a receiver whose block failed lost the whole round,
 * and sets mostly changed because members finished at the others.  Of the
 * jnext repairs of the set sent so far, (1 - q) arrived (q the
 * destinations' loss estimate), short of the largest summed need by at
 * least one (it did not decode); p is the round's margin.  0 when the set
 * cannot go again.
 */
static unsigned
choose_again(pmul_engine *e, pmul_txmsg *c, pmul_txmsg **mb, unsigned *r, unsigned *k, unsigned p)
{
    const pmul_fec_joint *g = c->jt != NULL ? &c->jt->g : NULL;
    unsigned i, need = 0, held, q = pmul__txf_dests_loss_pm(e, c);

    if (g == NULL || g->cnt < 2 || g->mem[0].msid != c->msid || c->jt->again >= JOINT_AGAIN_MAX)
        return 0;
    memset(e->jt_sum, 0, c->dest_cnt * sizeof(*e->jt_sum));
    for (i = 0; i < g->cnt; i++) {
        if ((mb[i] = pmul__tx_find(e, g->mem[i].msid)) == NULL) {
            if (c->jt->own[i] == NULL)
                return 0;
            continue;                   /* finished, its payload kept */
        }
        if (mb[i] != c && (mb[i]->jcarrier != c || !joinable(e, c, mb[i])))
            return 0;
        need = add_needs(e, c, mb[i]);
    }
    if (need == 0)
        return 0;
    held = (unsigned)c->jt->jnext * (1000u - q) / 1000u;
    held = held >= need ? need - 1u : held;
    *r = pmul__txf_with_margin(need - held, p);
    /* Mostly one or two repairs were lost; but a receiver that lost the
     * round's first copy dropped all of it (it cannot tell the set), and
     * one repair per round trip took it 7 rounds: double each time. */
    if (c->jt->again > 0 && *r < 2u * c->jt->r)
        *r = 2u * c->jt->r;
    if (*r > need)
        *r = need;
    *k = g->k;
    if (*r == 0 || c->jt->jnext + *r > PMUL_FEC_N_MAX - *k)
        return 0;
    return g->cnt;
}

/*
 * The carrier of a new set goes first in mb: the member the neediest
 * destination (largest summed need, e->jt_sum) needs most, the oldest of
 * those.  A carrier that finishes ends its round on the spot (the set's
 * numbers are its own), and the oldest member often did: its other
 * destinations decoded the set before the last repair, and the neediest
 * lost the rest of the round and the set (5 of 22 rounds, netsim-bench
 * air seed 1).  One the neediest still needs cannot finish before that
 * destination decodes, at the end of the round.
 */
static void
carrier_first(const pmul_engine *e, const pmul_txmsg *c, pmul_txmsg **mb, unsigned cnt)
{
    size_t i, top = 0;
    unsigned j, best = 0;
    pmul_txmsg *t;

    for (i = 1; i < c->dest_cnt; i++)
        if (e->jt_sum[i] > e->jt_sum[top])
            top = i;
    for (j = 1; j < cnt; j++)
        if (need_of(mb[j], top) > need_of(mb[best], top))
            best = j;
    t = mb[0];
    mb[0] = mb[best];
    mb[best] = t;
}

/*
 * Members for a joint round into mb, the carrier first: the last set of
 * c (the oldest candidate) again, whoever carries it (choose_again()), or
 * a new set of candidates in no set that may go again, oldest first while
 * K plus the repairs they need stays <= 254, its carrier chosen by
 * carrier_first(); their count, the joint repairs in *r, K in *k, and each
 * destination's summed need in e->jt_sum.  The margin is the round's
 * (pmul__txf_round_loss_pm(): none while other messages are sent, as for
 * a message's own round): with the set going again, what a failed block
 * got is kept.  A margin while others were sent took 100 mails to 4
 * receivers from 1.29x to 1.31x the limit (jrx's receiver, netsim-bench
 * air), the air per payload octet from 1.53 to 1.57.
 */
static unsigned
choose(pmul_engine *e, size_t i0, pmul_txmsg **mb, unsigned *r, unsigned *k, bool *again)
{
    pmul_txmsg *c = e->tx[i0], *o, *lc;
    unsigned cnt = 0, need, rr, own, apart = 0, p = pmul__txf_round_loss_pm(e, c);
    size_t i, j, max = e->cfg.fec_joint_max < PMUL_FEC_JOINT_MAX ? e->cfg.fec_joint_max
                                                                  : PMUL_FEC_JOINT_MAX;

    /* The last set of the oldest waiting message, whoever carries it. */
    lc = live_carrier(c);
    if (lc != NULL && (lc == c || lc->jwait) && (cnt = choose_again(e, lc, mb, r, k, p)) > 0) {
        *again = true;
        return cnt;
    }
    if (c->jt != NULL && c->jt->g.cnt > 0 && c->jt->again >= JOINT_AGAIN_MAX) {
        mb[0] = c;
        return 1;               /* its own round; the set is dropped */
    }
    *again = false;
    *r = *k = 0;
    memset(e->jt_sum, 0, c->dest_cnt * sizeof(*e->jt_sum));
    for (j = i0; j < e->tx_cnt && cnt < max; j++) {
        o = e->tx[j];
        if (o != c && (!joinable(e, c, o) || live_carrier(o) != NULL))
            continue;
        need = own = 0;
        for (i = 0; i < c->dest_cnt; i++) {
            if (e->jt_sum[i] + need_of(o, i) > need)
                need = e->jt_sum[i] + need_of(o, i);
            own = need_of(o, i) > own ? need_of(o, i) : own;
        }
        rr = pmul__txf_with_margin(need, p);
        if (*k + o->npdus + rr > PMUL_FEC_ESI_MAX)
            break;
        (void)add_needs(e, c, o);
        *k += o->npdus;
        *r = rr;
        apart += pmul__txf_with_margin(own, p);
        mb[cnt++] = o;
    }
    /* Per message, each round carries its neediest destination's need
     * (pmul_txfec.c): joint only where the destinations' losses fall on
     * different members and the sum of those is larger.  Where one
     * destination needs most (with one receiver, always) a joint round
     * saves nothing, and a block that fails is lost unless its set goes
     * again, where a message's own repairs add up: with jrx's receivers
     * one receiver's need of 10-12 went round after round in new sets. */
    if (cnt < 2 || apart < *r + JOINT_GAIN_MIN)
        return cnt > 0 ? 1u : 0u;
    carrier_first(e, c, mb, cnt);
    return cnt;
}

/*
 * The joint set of mb[0..cnt) carried by mb[0] with r repairs into jt
 * (allocated at the carrier's first joint round), its tables prepared.
 * False when that cannot be (memory, parameters too long for the PDU,
 * a rule of 10.8): the candidates then get their plain rounds.
 */
static bool
plan(pmul_engine *e, pmul_txmsg **mb, unsigned cnt, unsigned k, unsigned r, bool again)
{
    pmul_txmsg *c = mb[0];
    pmul_fec_joint g;
    pmul_fec_params fp;
    uint8_t buf[PMUL_FEC_JOINT_PARAM_LEN(PMUL_FEC_JOINT_MAX)];
    size_t pl = PMUL_FEC_JOINT_PARAM_LEN(cnt), cap;
    unsigned i, j0 = 0;

    if (again) {
        g = c->jt->g;
    } else {
        memset(&g, 0, sizeof(g));
        g.cnt = (uint8_t)cnt;
        g.k = (uint16_t)k;
        for (i = 0; i < cnt; i++) {
            g.mem[i].msid = mb[i]->msid;
            g.mem[i].total_pdus = mb[i]->npdus;
            g.mem[i].last_len = (uint16_t)(mb[i]->len - (size_t)(mb[i]->npdus - 1) * mb[i]->frag);
        }
    }
    if (c->jt == NULL && (c->jt = mem_calloc(e->m, 1, sizeof(*c->jt))) == NULL)
        return false;
    if (same_set(&c->jt->g, &g) && c->jt->jnext + r <= PMUL_FEC_N_MAX - k)
        j0 = c->jt->jnext;
    else if (again)
        return false;
    /* The set's repairs so far, and where they sit on the carrier's
     * number line: a new set starts past every number used before, so a
     * receiver places a repair by its number alone (docs/wire.md 10.8). */
    g.repair_cnt = (uint8_t)(j0 + r);
    g.j0 = j0 == 0 ? c->jt->jline : c->jt->jbase;
    memset(&fp, 0, sizeof(fp));
    fp.blocks = c->lay;
    fp.symbol_len = c->sym_len;
    fp.last_len = g.mem[0].last_len;
    /* FEC_ID, its length and the parameters: fewer destinations fit. */
    cap = e->cfg.pdu_max_len > 2 + pl
              ? pmul_pdu_address_max_dests(e->cfg.pdu_max_len - 2 - pl, 0) : 0;
    if (r == 0 || cap == 0 || pmul_fec_params_encode2(&fp, &g, c->msid, buf, sizeof(buf)) < 0)
        return false;           /* also: the carrier's number line is used up */
    if (pmul_fec_prepare(e->fec_tx, k, j0 + r) != 0)
        return false;
    if (j0 == 0)
        set_drop(e, c);         /* a new set */
    c->jt->g = g;
    memset(c->jt->mem, 0, sizeof(c->jt->mem));
    memcpy(c->jt->mem, mb, cnt * sizeof(*mb));
    for (i = 0; i < cnt; i++)
        c->jt->src[i] = mb[i] != NULL ? mb[i]->payload : c->jt->own[i];
    c->jt->again = again ? (uint8_t)(c->jt->again + 1u) : 0u;
    c->jt->j0 = (uint8_t)j0;
    c->jt->r = (uint8_t)r;
    c->jt->jnext = (uint8_t)(j0 + r);
    c->jt->jbase = g.j0;
    c->jt->jline = (uint16_t)(g.j0 + j0 + r);
    c->jt->dests_cap = cap;
    return true;
}

/* Start the joint round of the waiting candidates like e->tx[i0]. */
static void
start_joint(pmul_engine *e, size_t i0)
{
    pmul_txmsg *c = e->tx[i0], *mb[PMUL_FEC_JOINT_MAX];
    unsigned cnt, k, r, i;
    size_t j;
    bool again = false;

    if (!scratch(e, c->dest_cnt, (size_t)PMUL_FEC_JOINT_MAX * c->sym_len) ||
        (cnt = choose(e, i0, mb, &r, &k, &again)) < 2 || !plan(e, mb, cnt, k, r, again)) {
        lone(e, c);
        return;
    }
    c = mb[0];                  /* the carrier: not always the oldest */
    c->jcarrier = NULL;         /* it left any set it was a member of */
    /* What its answers after the round are compared with (learn_joint). */
    for (i = 0; i < cnt; i++)
        for (j = 0; j < c->dest_cnt && mb[i] != NULL; j++) {
            mb[i]->dests[j].jneed = (uint16_t)need_of(mb[i], j);
            mb[i]->dests[j].jsent = c->jt->jnext >= e->jt_sum[j] ? (uint8_t)r : 0u;
            mb[i]->dests[j].jround = e->st.fec_joint_rounds + 1u;
        }
    for (i = 1; i < cnt; i++)
        if (mb[i] != NULL)
            member_start(e, mb[i], c);
    c->jt->active = true;
    e->st.fec_joint_rounds++;
    e->st.fec_joint_members += cnt;
    log_emit(&e->env.log, LOG_LVL_DEBUG,
             "pmul-tx joint carrier=%08x members=%u k=%u repairs=%u j0=%u",
             (unsigned)c->msid, cnt, k, r, (unsigned)c->jt->j0);
    pmul__tx_start_round(e, c, false, false);
}

/*
 * Serve what is due: a waiting message no longer a candidate gets its
 * plain round; candidates of one kind go together once fec_joint_max (a
 * trial: 2, worth()) wait, the oldest waited fec_joint_wait_ms, or no
 * message like them has a first transmission to send and the carrier of
 * their last set awaits no answers.  In table order (priority, age).
 */
void
pmul__txj_flush(pmul_engine *e)
{
    size_t i, j, cnt;
    uint64_t since;
    pmul_txmsg *m, *o;

    if (!e->cfg.fec || !e->cfg.fec_joint)
        return;
    for (i = 0; i < e->tx_cnt; i++) {
        m = e->tx[i];
        if (!m->jwait)
            continue;
        if (!candidate(e, m)) {
            lone(e, m);
            continue;
        }
        cnt = 0;
        since = m->jwait_since;
        for (j = i; j < e->tx_cnt; j++) {
            o = e->tx[j];
            if (o == m || joinable(e, m, o)) {
                cnt++;
                since = o->jwait_since < since ? o->jwait_since : since;
            }
        }
        if (e->now_ms - since < e->cfg.fec_joint_wait_ms &&
            (set_pending(e, m) || (cnt < worth(e, m) && first_pending(e, m))))
            continue;
        start_joint(e, i);
    }
}

/* ---- the round --------------------------------------------------------- */

bool
pmul__txj_listed(const pmul_txmsg *m, size_t idx)
{
    unsigned i;

    if (!pmul__txj_active(m))
        return false;
    for (i = 1; i < m->jt->g.cnt; i++)
        if (m->jt->mem[i] != NULL && pmul__txd_incomplete(&m->jt->mem[i]->dests[idx]))
            return true;
    return false;
}

void
pmul__txj_round(pmul_engine *e, pmul_txmsg *m)
{
    size_t i;

    (void)e;
    m->round_cnt = 0;
    for (i = 0; i < m->dest_cnt; i++)
        if (pmul__txd_incomplete(&m->dests[i]) || pmul__txj_listed(m, i))
            m->round_idx[m->round_cnt++] = i;
    m->rep_left = m->jt->r;
    m->rep_active = true;
    m->fec_round_r = 0;         /* the carrier's own blocks: none */
}

/*
 * Joint repair j0 + n (n the repairs sent already) of the round into
 * e->fec_sym.  The source pointers and the padded last fragments are
 * filled for each repair: another joint round may have used the scratch
 * in between (a more urgent one pre-empts).
 */
bool
pmul__txj_repair(pmul_engine *e, pmul_txmsg *m, uint16_t *seq)
{
    const pmul_txjoint *jt = m->jt;
    size_t S = m->sym_len, last, s, n, off = 0;
    uint8_t *pad;
    unsigned i, j;

    if (m->rep_left == 0)
        return false;
    j = jt->j0 + (jt->r - m->rep_left);
    m->rep_left--;
    for (i = 0; i < jt->g.cnt; i++) {
        n = jt->g.mem[i].total_pdus;
        last = jt->g.mem[i].last_len;
        for (s = 0; s + 1 < n; s++)
            e->fec_src[off + s] = jt->src[i] + s * S;
        pad = e->jt_pad + (size_t)i * S;
        memcpy(pad, jt->src[i] + (n - 1) * S, last);
        memset(pad + last, 0, S - last);
        e->fec_src[off + n - 1] = pad;
        off += n;
    }
    if (pmul_fec_joint_seq_of(&m->lay, &jt->g, j, seq) != 0)
        return false;
    return pmul_fec_encode(e->fec_tx, e->fec_src, jt->g.k, S, S, j, e->fec_sym) == 0;
}

/* The members other than the carrier m leave its round: their timers run
 * as if their own round ended now. */
static void
release(pmul_engine *e, pmul_txmsg *m)
{
    pmul_txmsg *o;
    unsigned i;

    m->jt->active = false;
    for (i = 1; i < m->jt->g.cnt; i++) {
        if ((o = m->jt->mem[i]) == NULL)
            continue;
        m->jt->mem[i] = NULL;
        o->jlearn = true;
        pmul__tx_end_round(e, o);
    }
}

void
pmul__txj_round_end(pmul_engine *e, pmul_txmsg *m)
{
    release(e, m);
    m->jlearn = true;
}

/*
 * A receiver that decodes the joint block recovers every member, so a
 * carrier's list that did not shrink means its lists of the other members
 * did not either.  A receiver built before 10.8 answers only the carrier
 * (the others were not announced); waiting for the members' timers and
 * probes to hear the same lists again cost every member a timer and a
 * probe's Acks (netsim shared_medium_rx10: 577 Acks where 560 were the
 * bound).  So they count as answered now, and their rounds follow.
 */
void
pmul__txj_members_stand(pmul_engine *e, const pmul_txmsg *c, uint32_t id)
{
    pmul_txmsg *o;
    pmul_txdest *d;
    unsigned i;

    if (c->jt == NULL)
        return;                 /* c was a member, not the carrier */
    for (i = 1; i < c->jt->g.cnt; i++) {
        if ((o = pmul__tx_find(e, c->jt->g.mem[i].msid)) == NULL || !o->jlearn ||
            o->phase != PMUL_TXP_WAIT || (d = pmul__txdest_find(o, id)) == NULL ||
            d->state != PMUL_TXD_PARTIAL || d->answered)
            continue;
        d->answered = true;
        d->jneed = 0;           /* the carrier's answer was the evidence */
        o->answer_seen = true;
        o->jkick = true;
    }
}

void
pmul__txj_gone(pmul_engine *e, pmul_txmsg *m)
{
    pmul_txmsg *c = m->jcarrier, *o;
    unsigned i;

    /* Its carrier's set keeps its payload: the round goes on, and the set
     * may go again for the destinations that could not decode it. */
    if (c != NULL && c->jt != NULL) {
        for (i = 1; i < c->jt->g.cnt; i++) {
            if (c->jt->g.mem[i].msid != m->msid)
                continue;
            c->jt->mem[i] = NULL;
            if (c->jt->own[i] == NULL && m->payload != NULL) {
                c->jt->own[i] = m->payload;
                c->jt->src[i] = m->payload;
                m->payload = NULL;
            }
        }
    }
    m->jcarrier = NULL;
    if (m->jt == NULL)
        return;
    if (m->jt->active)
        release(e, m);
    for (i = 1; i < m->jt->g.cnt; i++)
        if ((o = pmul__tx_find(e, m->jt->g.mem[i].msid)) != NULL && o->jcarrier == m)
            o->jcarrier = NULL;
}

void
pmul__txj_fini(pmul_engine *e)
{
    mem_free(e->m, e->jt_pad);
    mem_free(e->m, e->jt_sum);
    e->jt_pad = NULL;
    e->jt_sum = NULL;
    e->jt_pad_cap = e->jt_sum_cap = 0;
}

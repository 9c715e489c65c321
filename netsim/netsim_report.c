/*
 * NAME
 *	netsim_report - per-message and summary lines of a netsim run
 * SYNOPSIS
 *	#include "netsim/netsim.h"
 * DESCRIPTION
 *	Text lines for people and JSON Lines for scripts, with the same
 *	fields.  Per message: delivered/expired destinations, completion
 *	time (submit to the transmitter's MSG_DONE), octets on the air
 *	attributed to it, and the ratio of its completion time to its
 *	physical limit, payload bits / rate / (1 - loss), where loss is the
 *	worst mean loss on a path to one of its destinations.  The summary
 *	line is "delivered D/N expired E time T s bytes B ratio R", where N
 *	counts (message, destination) pairs, T runs from the first submit to
 *	the last message finished, and the limit is the sum of the messages'
 *	limits (one sender's channel carries them one after another).
 *
 *	Every number comes from integers or from doubles computed the same
 *	way each run, printed with fixed precision: the report of a seed is
 *	byte-identical from run to run.
 * SECURITY
 *	Message names come from the scenario and are printed as they are
 *	(the parser allows only [A-Za-z0-9_.-]).
 * DIAGNOSTICS
 *	NETSIM_ERR_NOMEM.
 * SEE ALSO
 *	netsim(7), netsim-run(1).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "netsim/netsim_int.h"

#include <stdio.h>
#include <string.h>

#define SECS(us) (unsigned long long)((us) / 1000000), (unsigned long long)((us) % 1000000 / 1000)

void
netsim_summarize(const netsim *s, netsim_summary *out)
{
    uint64_t first = NETSIM_FOREVER, last = 0;
    size_t i, k;

    memset(out, 0, sizeof(*out));
    out->msgs = s->msg_cnt;
    for (i = 0; i < s->msg_cnt; i++) {
        const netsim__msg *mm = &s->msgs[i];

        out->total += mm->cfg->to_cnt;
        out->payload_bytes += mm->len;
        out->limit_s += mm->limit_s;
        for (k = 0; k < mm->cfg->to_cnt; k++) {
            if ((mm->dflags[k] & NETSIM__D_DELIVERED) && mm->dcount[k] == 1)
                out->delivered++;
            if (mm->dflags[k] & NETSIM__D_FAILED)
                out->expired++;
        }
        if (mm->submitted && mm->submit_us < first)
            first = mm->submit_us;
        if (mm->done) {
            out->msgs_done++;
            if (mm->done_us > last)
                last = mm->done_us;
        }
    }
    out->time_us = first != NETSIM_FOREVER && last > first ? last - first : 0;
    out->air_bytes = s->counters[NETSIM_C_AIR_BYTES];
    out->ratio = out->limit_s > 0.0 ? ((double)out->time_us / 1e6) / out->limit_s : 0.0;
}

int
netsim_report_messages(const netsim *s, buf *out, bool json)
{
    size_t i, k;
    int rc = 0;

    for (i = 0; i < s->msg_cnt && rc == 0; i++) {
        const netsim__msg *mm = &s->msgs[i];
        const netsim_msg_cfg *c = mm->cfg;
        size_t deliv = 0, exp = 0;
        uint64_t t = mm->done ? mm->done_us - mm->submit_us : 0;
        double ratio = mm->done && mm->limit_s > 0.0 ? ((double)t / 1e6) / mm->limit_s : 0.0;

        for (k = 0; k < c->to_cnt; k++) {
            if ((mm->dflags[k] & NETSIM__D_DELIVERED) && mm->dcount[k] == 1)
                deliv++;
            if (mm->dflags[k] & NETSIM__D_FAILED)
                exp++;
        }
        if (json)
            rc = buf_printf(out, "{\"msg\":\"%s\",\"from\":\"%s\",\"prio\":%u,\"size\":%zu,"
                            "\"dests\":%zu,\"delivered\":%zu,\"expired\":%zu,\"done\":%s,"
                            "\"time_s\":%llu.%03llu,\"bytes\":%llu,\"limit_s\":%.3f,\"ratio\":%.3f}\n",
                            c->name, s->sc->nodes[c->from].name, c->prio, mm->len, c->to_cnt,
                            deliv, exp, mm->done ? "true" : "false", SECS(t),
                            (unsigned long long)mm->air_bytes, mm->limit_s, ratio);
        else if (mm->done)
            rc = buf_printf(out, "msg %s from %s prio %u size %zu dests %zu delivered %zu/%zu "
                            "expired %zu time %llu.%03llu s bytes %llu ratio %.2f\n",
                            c->name, s->sc->nodes[c->from].name, c->prio, mm->len, c->to_cnt,
                            deliv, c->to_cnt, exp, SECS(t), (unsigned long long)mm->air_bytes,
                            ratio);
        else
            rc = buf_printf(out, "msg %s from %s prio %u size %zu dests %zu delivered %zu/%zu "
                            "expired %zu time - bytes %llu ratio -\n",
                            c->name, s->sc->nodes[c->from].name, c->prio, mm->len, c->to_cnt,
                            deliv, c->to_cnt, exp, (unsigned long long)mm->air_bytes);
    }
    if (rc == 0)
        rc = netsim__mule_report(s, out, json);
    return rc != 0 ? NETSIM_ERR_NOMEM : 0;
}

int
netsim_report_summary(const netsim *s, buf *out, bool json, bool with_hash)
{
    netsim_summary sum;
    size_t i;
    int rc = 0;

    netsim_summarize(s, &sum);
    if (json) {
        rc = buf_printf(out, "{\"summary\":true,\"delivered\":%zu,\"total\":%zu,\"expired\":%zu,"
                        "\"msgs\":%zu,\"msgs_done\":%zu,\"time_s\":%llu.%03llu,\"bytes\":%llu,"
                        "\"payload_bytes\":%llu,\"limit_s\":%.3f,\"ratio\":%.3f,"
                        "\"transcript\":\"%016llx\",\"counters\":{",
                        sum.delivered, sum.total, sum.expired, sum.msgs, sum.msgs_done,
                        SECS(sum.time_us), (unsigned long long)sum.air_bytes,
                        (unsigned long long)sum.payload_bytes, sum.limit_s, sum.ratio,
                        (unsigned long long)s->hash);
        for (i = 0; i < NETSIM_C_COUNT && rc == 0; i++)
            rc = buf_printf(out, "%s\"%s\":%llu", i > 0 ? "," : "", netsim_counter_name((int)i),
                            (unsigned long long)s->counters[i]);
        if (rc == 0)
            rc = buf_append_str(out, "}}\n");
        return rc != 0 ? NETSIM_ERR_NOMEM : 0;
    }
    if (with_hash)
        rc = buf_printf(out, "transcript %016llx\n", (unsigned long long)s->hash);
    if (rc == 0)
        rc = buf_printf(out, "delivered %zu/%zu expired %zu time %llu.%03llu s bytes %llu ratio %.2f\n",
                        sum.delivered, sum.total, sum.expired, SECS(sum.time_us),
                        (unsigned long long)sum.air_bytes, sum.ratio);
    return rc != 0 ? NETSIM_ERR_NOMEM : 0;
}

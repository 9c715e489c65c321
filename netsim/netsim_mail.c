/*
 * NAME
 *	netsim_mail - deterministic real-looking mail text
 * SYNOPSIS
 *	#include "netsim/netsim_mail.h"
 * DESCRIPTION
 *	Builds an RFC 5322 message: From, To, Subject, Date, Message-ID and
 *	MIME headers, a greeting, paragraphs of English-like sentences
 *	(pmul/util/text.h, the project's one text generator), a quoted
 *	earlier message ("On ..., X wrote:" and "> " lines) and a signature.  Lines are wrapped at 72 columns and end
 *	in CRLF (decision 5 of the spec README).
 *
 *	The result has exactly the requested size: the signature's room is
 *	reserved first, whole lines are added while they fit, and the last
 *	line is filled to the octet with words of the exact remaining length
 *	(the word list has words of every length from 1 to 13).  Names and
 *	addresses of a node are a function of its name, so "B" is the same
 *	person in every message of a scenario.
 * SECURITY
 *	Sees no untrusted input.
 * DIAGNOSTICS
 *	BUF_ERR_NOMEM, BUF_ERR_CAP.  Logs nothing.
 * SEE ALSO
 *	RFC 5322, netsim_rng.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "netsim/netsim_mail.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "netsim/netsim_rng.h"
#include "pmul/util/text.h"

#define WRAP 72

/* Words of exactly 1..13 letters, for filling the last line. */
static const char *const exact[] = {
    "a", "an", "the", "road", "radio", "convoy", "logistic", "schedules",
    "evacuation", "coordinated", "requirements", "communication",
    "headquartered",
};

static const char *const first_names[] = {
    "Alice", "Bruno", "Carla", "David", "Elena", "Frank", "Greta", "Henrik",
    "Ingrid", "Jonas", "Katrin", "Lars", "Maria", "Niels", "Olga", "Pieter",
    "Rosa", "Stefan", "Tanja", "Viktor",
};

static const char *const last_names[] = {
    "Andersen", "Berger", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia",
    "Hansen", "Jansen", "Kowalski", "Larsen", "Moreau", "Nielsen", "Olsen",
    "Petersen", "Rossi", "Schmidt", "Thomsen", "Vogel", "Weber",
};

static const char *const units[] = {
    "Logistics Cell", "Signals Troop", "Movement Control", "Operations Room",
    "Medical Support", "Maintenance Platoon", "Liaison Team", "Supply Section",
};

#define WORD(rng) (text_words[netsim_rng_below((rng), text_word_cnt)])
#define PICK(rng, arr) ((arr)[netsim_rng_below((rng), sizeof(arr) / sizeof((arr)[0]))])

/* Output with a budget: appends whole lines only while they fit. */
typedef struct mail_out {
    buf *b;
    size_t start;               /* b->len when generation began */
    size_t limit;               /* octets this part may use (from start) */
    int err;
} mail_out;

static size_t
mo_used(const mail_out *o)
{
    return o->b->len - o->start;
}

static void
mo_raw(mail_out *o, const char *s, size_t n)
{
    if (o->err == 0)
        o->err = buf_append(o->b, s, n);
}

/* Append one line plus CRLF if it fits in the budget; false if not. */
static bool
mo_line(mail_out *o, const char *s, size_t n)
{
    if (o->err != 0 || mo_used(o) + n + 2 > o->limit)
        return false;
    mo_raw(o, s, n);
    mo_raw(o, "\r\n", 2);
    return o->err == 0;
}

/* A person for a node name: fixed by the name, not by the seed. */
static void
person(const char *node, const char **first, const char **last, const char **unit)
{
    uint64_t h = netsim_label(node);

    *first = first_names[h % (sizeof(first_names) / sizeof(first_names[0]))];
    *last = last_names[(h >> 16) % (sizeof(last_names) / sizeof(last_names[0]))];
    *unit = units[(h >> 32) % (sizeof(units) / sizeof(units[0]))];
}

static int
append_lower(buf *b, const char *s)
{
    int rc = 0;

    for (; *s != '\0' && rc == 0; s++) {
        char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;

        rc = buf_append(b, &c, 1);
    }
    return rc;
}

/* "First Last <first.last@node.example>" */
static int
append_addr(buf *b, const char *node)
{
    const char *f, *l, *u;
    int rc;

    person(node, &f, &l, &u);
    rc = buf_printf(b, "%s %s <", f, l);
    if (rc == 0)
        rc = append_lower(b, f);
    if (rc == 0)
        rc = buf_append_str(b, ".");
    if (rc == 0)
        rc = append_lower(b, l);
    if (rc == 0)
        rc = buf_append_str(b, "@");
    if (rc == 0)
        rc = append_lower(b, node);
    if (rc == 0)
        rc = buf_append_str(b, ".example>");
    return rc;
}

/* Days since 1970-01-01 to civil date (Hinnant's algorithm). */
static void
civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;

    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int
netsim_mail_date(buf *out, int64_t t)
{
    static const char *const wd[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
    static const char *const mn[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    int64_t days = (t >= 0 ? t : t - 86399) / 86400, y;
    int64_t sec = t - days * 86400;
    unsigned m, d;

    civil(days, &y, &m, &d);
    return buf_printf(out, "%s, %u %s %lld %02u:%02u:%02u +0000",
                      wd[((days % 7) + 7) % 7], d, mn[m - 1], (long long)y,
                      (unsigned)(sec / 3600), (unsigned)(sec / 60 % 60), (unsigned)(sec % 60));
}

/* The word list and sentence grammar are pmul/util/text.h's; netsim's
 * generator supplies the randomness. */
static uint64_t
rng_below(void *arg, uint64_t n)
{
    return netsim_rng_below(arg, n);
}

static int
sentence(buf *b, netsim_rng *rng)
{
    return text_sentence(b, rng_below, rng);
}

/*
 * Emit one paragraph of 2..5 sentences, wrapped at WRAP columns with
 * prefix on every line.  Returns false once a line no longer fits.
 */
static bool
paragraph(mail_out *o, netsim_rng *rng, const char *prefix, buf *tmp)
{
    uint64_t n = 2 + netsim_rng_below(rng, 4), i;
    size_t pos = 0, plen = strlen(prefix);
    char line[WRAP + 8];

    buf_reset(tmp);
    for (i = 0; i < n && o->err == 0; i++) {
        if (i > 0)
            o->err = buf_append_str(tmp, " ");
        if (o->err == 0)
            o->err = sentence(tmp, rng);
    }
    if (o->err != 0)
        return false;
    while (pos < tmp->len) {
        size_t room = WRAP - plen, take = tmp->len - pos;

        if (take > room) {
            /* Break at the last space that keeps the line within WRAP;
             * words are short, so there always is one. */
            take = room;
            while (take > 0 && tmp->data[pos + take] != ' ')
                take--;
            if (take == 0)
                take = room;
        }
        memcpy(line, prefix, plen);
        memcpy(line + plen, tmp->data + pos, take);
        if (!mo_line(o, line, plen + take))
            return false;
        pos += take;
        while (pos < tmp->len && tmp->data[pos] == ' ')
            pos++;
    }
    return true;
}

/* Fill exactly n octets with words separated by spaces. */
static void
fill_exact(mail_out *o, netsim_rng *rng, size_t n)
{
    while (n > 0 && o->err == 0) {
        if (n <= sizeof(exact) / sizeof(exact[0])) {
            mo_raw(o, exact[n - 1], n);
            return;
        }
        {
            const char *w = WORD(rng);
            size_t wl = strlen(w);

            /* wl <= 13 < n, so n - wl - 1 >= 0 and the loop ends. */
            mo_raw(o, w, wl);
            mo_raw(o, " ", 1);
            n -= wl + 1;
        }
    }
}

static int
headers(buf *h, netsim_rng *rng, const netsim_mail_params *p)
{
    size_t i, shown = p->to_cnt < 4 ? p->to_cnt : 4;
    int rc;

    rc = buf_append_str(h, "From: ");
    if (rc == 0)
        rc = append_addr(h, p->from);
    if (rc == 0)
        rc = buf_append_str(h, "\r\nTo: ");
    for (i = 0; i < shown && rc == 0; i++) {
        if (i > 0)
            rc = buf_append_str(h, ",\r\n    ");
        if (rc == 0)
            rc = append_addr(h, p->to[i]);
    }
    if (rc == 0 && p->to_cnt > shown)
        rc = buf_printf(h, ",\r\n    undisclosed-recipients (%zu more):;", p->to_cnt - shown);
    if (rc == 0) {
        /* One draw per statement: C leaves the order of a call's
         * arguments open, and gcc and clang drew these differently, so
         * the same seed made other mails.  This order is gcc's. */
        const char *w3 = WORD(rng), *w2 = WORD(rng), *w1 = WORD(rng);
        const char *re = netsim_rng_below(rng, 3) == 0 ? "Re: " : "";

        rc = buf_printf(h, "\r\nSubject: %s%s %s %s\r\nDate: ", re, w1, w2, w3);
    }
    if (rc == 0)
        rc = netsim_mail_date(h, p->date_s);
    if (rc == 0)
        rc = buf_printf(h, "\r\nMessage-ID: <%s.%016llx@", p->msg_name,
                        (unsigned long long)netsim_rng_next(rng));
    if (rc == 0)
        rc = append_lower(h, p->from);
    if (rc == 0)
        rc = buf_append_str(h, ".example>\r\nMIME-Version: 1.0\r\n"
                               "Content-Type: text/plain; charset=us-ascii\r\n"
                               "Content-Transfer-Encoding: 7bit\r\n\r\n");
    return rc;
}

int
netsim_mail_gen(buf *out, uint64_t seed, const netsim_mail_params *p)
{
    netsim_rng rng;
    buf hdr, sig, tmp;
    mail_out o;
    const char *f, *l, *u, *tf, *tl, *tu;
    size_t body_room, i;
    char line[WRAP + 8];
    int rc, n, quoted = 0;

    netsim_rng_seed(&rng, seed, netsim_label(p->msg_name));
    buf_init(&hdr, out->m, SIZE_MAX);
    buf_init(&sig, out->m, SIZE_MAX);
    buf_init(&tmp, out->m, SIZE_MAX);
    o.b = out;
    o.start = out->len;
    o.limit = p->size;
    o.err = 0;
    rc = headers(&hdr, &rng, p);
    if (rc != 0)
        goto done;
    if (hdr.len >= p->size) {
        rc = buf_append(out, hdr.data, p->size);
        goto done;
    }
    mo_raw(&o, (const char *)hdr.data, hdr.len);
    person(p->from, &f, &l, &u);
    person(p->to_cnt > 0 ? p->to[0] : p->from, &tf, &tl, &tu);
    rc = buf_printf(&sig, "\r\n-- \r\n%s %s\r\n%s\r\n", f, l, u);
    if (rc != 0)
        goto done;
    /* Body: greeting, paragraphs and one quoted block, leaving room for the
     * signature when it fits at all. */
    body_room = p->size - hdr.len;
    if (body_room > sig.len + 64)
        o.limit = p->size - sig.len;
    n = snprintf(line, sizeof(line), "Hello %s,", tf);
    if (n > 0 && (size_t)n < sizeof(line) && mo_line(&o, line, (size_t)n)
        && mo_line(&o, "", 0)) {
        for (i = 0;; i++) {
            if (i == 2 && !quoted) {
                /* The quoted earlier message, as mail clients write it. */
                buf_reset(&tmp);
                rc = buf_append_str(&tmp, "On ");
                if (rc == 0)
                    rc = netsim_mail_date(&tmp, p->date_s - 3600 - (int64_t)netsim_rng_below(&rng, 86400));
                if (rc == 0)
                    rc = buf_printf(&tmp, ", %s %s wrote:", tf, tl);
                if (rc != 0 || tmp.len > WRAP || !mo_line(&o, (const char *)tmp.data, tmp.len))
                    break;
                if (!paragraph(&o, &rng, "> ", &tmp) || !mo_line(&o, ">", 1)
                    || !paragraph(&o, &rng, "> ", &tmp) || !mo_line(&o, "", 0))
                    break;
                quoted = 1;
                continue;
            }
            if (!paragraph(&o, &rng, "", &tmp) || !mo_line(&o, "", 0))
                break;
        }
    }
    if (o.err == 0 && o.limit != p->size) {
        /* Fill the body to its budget, then add the signature. */
        size_t left = o.limit - mo_used(&o);

        if (left >= 2) {
            fill_exact(&o, &rng, left - 2);
            mo_raw(&o, "\r\n", 2);
        } else if (left == 1) {
            mo_raw(&o, ".", 1);
        }
        /* The signature starts with CRLF: a blank line, then "-- ". */
        mo_raw(&o, (const char *)sig.data, sig.len);
    } else if (o.err == 0) {
        size_t left = p->size - mo_used(&o);

        if (left >= 2) {
            fill_exact(&o, &rng, left - 2);
            mo_raw(&o, "\r\n", 2);
        } else if (left == 1) {
            mo_raw(&o, ".", 1);
        }
    }
    rc = o.err;
done:
    buf_fini(&hdr);
    buf_fini(&sig);
    buf_fini(&tmp);
    return rc;
}

/*
 * bsmtp_client.c: the SMTP/LMTP client session (see bsmtp_client.h).
 *
 * The session keeps a queue of the replies it waits for (MAIL, RCPT i,
 * DATA, the final reply or replies, QUIT), so pipelined and lock-step
 * conversations run through the same code: each reply is matched with
 * the head of the queue.
 */
#include <stdio.h>
#include <string.h>

#include "bsmtp/bsmtp_client.h"
#include "bsmtp/bsmtp_err.h"
#include "bsmtp/bsmtp_outq.h"
#include "pmul/util/buf.h"

enum state { ST_GREET, ST_HELLO, ST_HELO, ST_TXN, ST_BODY, ST_DONE };
enum expect { E_MAIL, E_RCPT, E_DATA, E_BDAT, E_FINAL, E_QUIT };

typedef struct exp_item {
    enum expect kind;
    size_t rcpt;                /* E_RCPT, LMTP E_FINAL */
} exp_item;

struct bsmtp_client {
    bsmtp_client_cfg cfg;
    bsmtp_client_txn txn;
    const mem *m;
    bsmtp_reply_parser rp;
    bsmtp_reply reply;
    enum state st;
    bsmtp_ext ext;
    bool pipelining, downgraded, mail_failed;
    buf out;                    /* commands and body pieces to write */
    size_t out_off;             /* written part of out */
    exp_item *q;                /* replies expected, in order */
    size_t q_head, q_len, q_cap;
    bsmtp_client_result *res;
    bool *accepted;             /* RCPT 2xx */
    size_t accepted_cnt;
    /* Body producer. */
    bool body_on, body_bdat, at_bol, body_end;
    size_t body_pos;
};

/* ---- helpers ------------------------------------------------------- */

static void
set_result(bsmtp_client_result *r, int outcome, int code, const char *status,
           const char *text)
{
    size_t o = 0;

    r->outcome = outcome;
    r->code = code;
    snprintf(r->status, sizeof(r->status), "%s", status);
    for (const char *t = text; t != NULL && *t != '\0' && o + 1 < sizeof(r->text); t++)
        r->text[o++] = (*t >= 0x20 && *t < 0x7f) ? *t : ' ';
    r->text[o] = '\0';
}

static int
outcome_of(int code)
{
    return code / 100 == 2 ? BSMTP_CLIENT_OK
         : code / 100 == 5 ? BSMTP_CLIENT_PERM : BSMTP_CLIENT_TEMP;
}

static void
result_from_reply(bsmtp_client_result *r, const bsmtp_reply *rep)
{
    char st[16];
    const char *text = rep->text;

    if (rep->enh_class != 0) {
        snprintf(st, sizeof(st), "%d.%d.%d", rep->enh_class, rep->enh_subject,
                 rep->enh_detail);
        /* The text repeats the code: keep what follows it. */
        while (*text != '\0' && *text != ' ')
            text++;
        while (*text == ' ')
            text++;
    } else {
        snprintf(st, sizeof(st), "%d.0.0", rep->code / 100);
    }
    set_result(r, outcome_of(rep->code), rep->code, st, text);
}

/* Every recipient still without a verdict gets this one. */
static void
fail_pending(bsmtp_client *c, int outcome, int code, const char *status, const char *text)
{
    for (size_t i = 0; i < c->txn.rcpt_cnt; i++)
        if (c->res[i].outcome == BSMTP_CLIENT_PENDING)
            set_result(&c->res[i], outcome, code, status, text);
}

/* A reply that ends the transaction decides for every recipient still
 * open (a 2xx where a 3xx or another code was due counts as temporary). */
static void
fail_all_by(bsmtp_client *c, const bsmtp_reply *r)
{
    bsmtp_client_result tmp;

    result_from_reply(&tmp, r);
    fail_pending(c, tmp.outcome == BSMTP_CLIENT_OK ? BSMTP_CLIENT_TEMP : tmp.outcome, r->code,
                 tmp.status, tmp.text);
}

static int
expect(bsmtp_client *c, enum expect kind, size_t rcpt)
{
    if (c->q_head + c->q_len == c->q_cap) {
        memmove(c->q, c->q + c->q_head, c->q_len * sizeof(*c->q));
        c->q_head = 0;
    }
    if (c->q_len == c->q_cap)
        return BSMTP_ERR_INVAL;     /* cannot happen: sized at new */
    c->q[c->q_head + c->q_len].kind = kind;
    c->q[c->q_head + c->q_len].rcpt = rcpt;
    c->q_len++;
    return 0;
}

static int
send_line(bsmtp_client *c, const char *s, size_t n)
{
    if (buf_append(&c->out, s, n) != 0 || buf_append(&c->out, "\r\n", 2) != 0)
        return BSMTP_ERR_NOMEM;
    return 0;
}

static void
quit(bsmtp_client *c)
{
    if (c->st == ST_DONE)
        return;
    (void)send_line(c, "QUIT", 4);      /* a lost QUIT changes nothing */
    c->q_len = 0;
    c->st = ST_DONE;
}

/* A parameter the server cannot take: its keyword and the extension. */
static const struct {
    const char *kw;
    unsigned ext;
} strip_tab[] = {
    {"SIZE=", BSMTP_EXT_SIZE},       {"RET=", BSMTP_EXT_DSN},
    {"ENVID=", BSMTP_EXT_DSN},       {"NOTIFY=", BSMTP_EXT_DSN},
    {"ORCPT=", BSMTP_EXT_DSN},       {"MT-PRIORITY=", BSMTP_EXT_MT_PRIORITY},
    {"BY=", BSMTP_EXT_DELIVERBY},    {"BODY=8BITMIME", BSMTP_EXT_8BITMIME},
    {"AUTH=", BSMTP_EXT_AUTH},
};

static bool
strip_word(const bsmtp_client *c, const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof(strip_tab) / sizeof(strip_tab[0]); i++) {
        size_t k = strlen(strip_tab[i].kw);

        if (n >= k && strncasecmp(w, strip_tab[i].kw, k) == 0)
            return (c->ext.flags & strip_tab[i].ext) == 0;
    }
    return false;
}

/* Send a MAIL or RCPT line without the parameters the server lacks. */
static int
send_cmd(bsmtp_client *c, const char *line)
{
    const char *gt = strchr(line, '>');
    const char *p;

    if (gt == NULL)
        return send_line(c, line, strlen(line));
    if (buf_append(&c->out, line, (size_t)(gt + 1 - line)) != 0)
        return BSMTP_ERR_NOMEM;
    for (p = gt + 1; *p != '\0';) {
        const char *w;
        size_t n;

        while (*p == ' ')
            p++;
        w = p;
        while (*p != '\0' && *p != ' ')
            p++;
        n = (size_t)(p - w);
        if (n == 0)
            break;
        if (strip_word(c, w, n)) {
            c->downgraded = true;
            continue;
        }
        if (buf_append(&c->out, " ", 1) != 0 || buf_append(&c->out, w, n) != 0)
            return BSMTP_ERR_NOMEM;
    }
    return buf_append(&c->out, "\r\n", 2) != 0 ? BSMTP_ERR_NOMEM : 0;
}

/* ---- the conversation ---------------------------------------------- */

static int
start_body(bsmtp_client *c)
{
    char cmd[64];

    c->body_on = true;
    c->body_pos = 0;
    c->at_bol = true;
    c->body_end = false;
    c->st = ST_BODY;
    if (c->body_bdat) {
        int n = snprintf(cmd, sizeof(cmd), "BDAT %zu LAST", c->txn.content_len);

        if (send_line(c, cmd, (size_t)n) != 0)
            return BSMTP_ERR_NOMEM;
    }
    /* Final replies: one, or one per accepted recipient (LMTP). */
    if (c->cfg.lmtp) {
        for (size_t i = 0; i < c->txn.rcpt_cnt; i++)
            if (c->accepted[i] && expect(c, E_FINAL, i) != 0)
                return BSMTP_ERR_INVAL;
        return 0;
    }
    return expect(c, E_FINAL, 0);
}

static int
start_txn(bsmtp_client *c)
{
    int rc;

    c->pipelining = (c->ext.flags & BSMTP_EXT_PIPELINING) != 0;
    if (c->txn.use_bdat && (c->ext.flags & (BSMTP_EXT_CHUNKING | BSMTP_EXT_BINARYMIME)) !=
                               (BSMTP_EXT_CHUNKING | BSMTP_EXT_BINARYMIME)) {
        fail_pending(c, BSMTP_CLIENT_PERM, 554, "5.6.3",
                     "binary content (BINARYMIME) and the server lacks CHUNKING/BINARYMIME");
        quit(c);
        return 0;
    }
    if ((c->txn.needs & BSMTP_EXT_SMTPUTF8) && !(c->ext.flags & BSMTP_EXT_SMTPUTF8)) {
        fail_pending(c, BSMTP_CLIENT_PERM, 553, "5.6.7",
                     "internationalised addresses and the server lacks SMTPUTF8");
        quit(c);
        return 0;
    }
    c->body_bdat = c->txn.use_bdat;
    c->st = ST_TXN;
    if ((rc = send_cmd(c, c->txn.mail_from)) != 0 || (rc = expect(c, E_MAIL, 0)) != 0)
        return rc;
    if (!c->pipelining)
        return 0;
    for (size_t i = 0; i < c->txn.rcpt_cnt; i++)
        if ((rc = send_cmd(c, c->txn.rcpt_to[i])) != 0 || (rc = expect(c, E_RCPT, i)) != 0)
            return rc;
    if (!c->body_bdat && ((rc = send_line(c, "DATA", 4)) != 0 || (rc = expect(c, E_DATA, 0)) != 0))
        return rc;
    return 0;
}

/* After the last RCPT reply: on to the body, or QUIT. */
static int
after_rcpts(bsmtp_client *c)
{
    int rc;

    if (c->accepted_cnt == 0 || c->mail_failed) {
        if (!c->pipelining || c->body_bdat)
            quit(c);            /* pipelined DATA: its reply comes first */
        return 0;
    }
    if (c->body_bdat)
        return start_body(c);
    if (!c->pipelining && ((rc = send_line(c, "DATA", 4)) != 0 || (rc = expect(c, E_DATA, 0)) != 0))
        return rc;
    return 0;
}

static int
on_reply(bsmtp_client *c, const bsmtp_reply *r)
{
    exp_item it;
    int rc = 0;

    switch (c->st) {
    case ST_GREET:
        if (r->code != 220) {
            fail_all_by(c, r);
            quit(c);
            return 0;
        }
        c->st = ST_HELLO;
        if (buf_printf(&c->out, "%s %s\r\n", c->cfg.lmtp ? "LHLO" : "EHLO",
                       c->cfg.helo_name) != 0)
            return BSMTP_ERR_NOMEM;
        return 0;
    case ST_HELLO:
    case ST_HELO:
        if (r->code / 100 == 2) {
            memset(&c->ext, 0, sizeof(c->ext));
            if (c->st == ST_HELLO)
                (void)bsmtp_reply_ehlo_ext(r, &c->ext);
            return start_txn(c);
        }
        if (c->st == ST_HELLO && !c->cfg.lmtp && r->code / 100 == 5 && c->txn.needs == 0 &&
            !c->txn.use_bdat) {
            c->st = ST_HELO;
            return buf_printf(&c->out, "HELO %s\r\n", c->cfg.helo_name) != 0 ? BSMTP_ERR_NOMEM
                                                                             : 0;
        }
        fail_all_by(c, r);
        quit(c);
        return 0;
    case ST_TXN:
    case ST_BODY:
        break;
    default:
        return 0;               /* QUIT's reply, or noise after it */
    }
    if (c->q_len == 0) {
        fail_pending(c, BSMTP_CLIENT_TEMP, 0, "4.5.0", "reply the client did not ask for");
        quit(c);
        return 0;
    }
    it = c->q[c->q_head++];
    c->q_len--;
    switch (it.kind) {
    case E_MAIL:
        if (r->code / 100 != 2) {
            fail_all_by(c, r);
            c->mail_failed = true;
            if (!c->pipelining)
                quit(c);
            return 0;
        }
        if (!c->pipelining) {
            if ((rc = send_cmd(c, c->txn.rcpt_to[0])) != 0 || (rc = expect(c, E_RCPT, 0)) != 0)
                return rc;
        }
        return 0;
    case E_RCPT:
        if (!c->mail_failed) {
            if (r->code / 100 == 2) {
                c->accepted[it.rcpt] = true;
                c->accepted_cnt++;
            } else {
                result_from_reply(&c->res[it.rcpt], r);
            }
        }
        if (it.rcpt + 1 < c->txn.rcpt_cnt) {
            if (!c->pipelining &&
                ((rc = send_cmd(c, c->txn.rcpt_to[it.rcpt + 1])) != 0 ||
                 (rc = expect(c, E_RCPT, it.rcpt + 1)) != 0))
                return rc;
            return 0;
        }
        return after_rcpts(c);
    case E_DATA:
        if (r->code == 354 && (c->accepted_cnt == 0 || c->mail_failed)) {
            /* Pipelined DATA accepted with no recipient: end it empty. */
            (void)send_line(c, ".", 1);
            quit(c);
            return 0;
        }
        if (r->code != 354) {
            if (c->accepted_cnt > 0 && !c->mail_failed)
                fail_all_by(c, r);
            quit(c);
            return 0;
        }
        return start_body(c);
    case E_FINAL:
        if (c->cfg.lmtp) {
            result_from_reply(&c->res[it.rcpt], r);
        } else {
            for (size_t i = 0; i < c->txn.rcpt_cnt; i++)
                if (c->accepted[i])
                    result_from_reply(&c->res[i], r);
        }
        if (c->q_len == 0)
            quit(c);
        return 0;
    default:
        return 0;
    }
}

/* ---- public ---------------------------------------------------------- */

static bool
line_ok(const char *s)
{
    return s != NULL && strpbrk(s, "\r\n") == NULL && strlen(s) <= 2000;
}

int
bsmtp_client_new(bsmtp_client **out, const bsmtp_client_cfg *cfg, const bsmtp_client_txn *txn,
                 const mem *m)
{
    bsmtp_client *c;

    if (out == NULL)
        return BSMTP_ERR_INVAL;
    *out = NULL;
    if (cfg == NULL || txn == NULL || !line_ok(cfg->helo_name) || !line_ok(txn->mail_from) ||
        txn->rcpt_cnt == 0 || txn->rcpt_to == NULL ||
        (txn->content == NULL && txn->content_len > 0))
        return BSMTP_ERR_INVAL;
    for (size_t i = 0; i < txn->rcpt_cnt; i++)
        if (!line_ok(txn->rcpt_to[i]))
            return BSMTP_ERR_INVAL;
    c = mem_calloc(m, 1, sizeof(*c));
    if (c == NULL)
        return BSMTP_ERR_NOMEM;
    c->m = m;
    c->cfg = *cfg;
    c->txn = *txn;
    c->q_cap = txn->rcpt_cnt * 2 + 8;
    c->q = mem_calloc(m, c->q_cap, sizeof(*c->q));
    c->res = mem_calloc(m, txn->rcpt_cnt, sizeof(*c->res));
    c->accepted = mem_calloc(m, txn->rcpt_cnt, sizeof(*c->accepted));
    buf_init(&c->out, m, SIZE_MAX);
    if (c->q == NULL || c->res == NULL || c->accepted == NULL) {
        bsmtp_client_free(c);
        return BSMTP_ERR_NOMEM;
    }
    bsmtp_reply_parser_init(&c->rp);
    c->st = ST_GREET;
    *out = c;
    return 0;
}

void
bsmtp_client_free(bsmtp_client *c)
{
    if (c == NULL)
        return;
    buf_fini(&c->out);
    mem_free(c->m, c->q);
    mem_free(c->m, c->res);
    mem_free(c->m, c->accepted);
    mem_free(c->m, c);
}

int
bsmtp_client_feed(bsmtp_client *c, const uint8_t *in, size_t len)
{
    while (len > 0 && c->st != ST_DONE) {
        size_t used = 0;
        int rc = bsmtp_reply_feed(&c->rp, in, len, &used, &c->reply);

        if (rc < 0) {
            fail_pending(c, BSMTP_CLIENT_TEMP, 0, "4.5.0", "malformed reply from the server");
            quit(c);
            return rc;
        }
        in += used;
        len -= used;
        if (rc == 1 && (rc = on_reply(c, &c->reply)) < 0) {
            fail_pending(c, BSMTP_CLIENT_TEMP, 0, "4.3.0", "client out of memory");
            quit(c);
            return rc;
        }
    }
    return 0;
}

void
bsmtp_client_eof(bsmtp_client *c, const char *why)
{
    fail_pending(c, BSMTP_CLIENT_TEMP, 0, "4.4.2",
                 why != NULL ? why : "connection closed before the reply");
    c->st = ST_DONE;
    c->body_on = false;
}

/* Append the next piece of the body to out. */
static int
produce_body(bsmtp_client *c)
{
    const uint8_t *p = c->txn.content;
    size_t end = c->txn.content_len, lim = c->body_pos + BSMTP_CLIENT_CHUNK;

    if (lim > end)
        lim = end;
    if (c->body_bdat) {
        if (buf_append(&c->out, p + c->body_pos, lim - c->body_pos) != 0)
            return BSMTP_ERR_NOMEM;
        c->body_pos = lim;
    } else {
        while (c->body_pos < lim) {
            uint8_t ch = p[c->body_pos];
            int rc = 0;

            if (c->at_bol && ch == '.')
                rc = buf_append(&c->out, ".", 1);
            bool bare_cr = ch == '\r' && (c->body_pos + 1 == end || p[c->body_pos + 1] != '\n');

            /* Bare LF and bare CR both become CRLF: a lone CR before
             * ".\r\n" must not end the message early at a server that
             * takes CR as a line end (SMTP smuggling). */
            if (rc == 0 && ((ch == '\n' && (c->body_pos == 0 || p[c->body_pos - 1] != '\r')) ||
                            bare_cr))
                rc = buf_append(&c->out, "\r\n", 2);
            else if (rc == 0)
                rc = buf_append(&c->out, &ch, 1);
            if (rc != 0)
                return BSMTP_ERR_NOMEM;
            c->at_bol = ch == '\n' || bare_cr;
            c->body_pos++;
        }
    }
    if (c->body_pos == end) {
        c->body_on = false;
        if (!c->body_bdat &&
            buf_append(&c->out, c->at_bol ? ".\r\n" : "\r\n.\r\n", c->at_bol ? 3 : 5) != 0)
            return BSMTP_ERR_NOMEM;
    }
    return 0;
}

size_t
bsmtp_client_output(bsmtp_client *c, const uint8_t **p)
{
    size_t n = bsmtp_outq_peek(&c->out, &c->out_off, p);

    if (n > 0 || !c->body_on)
        return n;
    /* The queue is empty (and reset): the next piece of the body. */
    if (produce_body(c) != 0) {
        fail_pending(c, BSMTP_CLIENT_TEMP, 0, "4.3.0", "client out of memory");
        c->st = ST_DONE;
        c->body_on = false;
    }
    return bsmtp_outq_peek(&c->out, &c->out_off, p);
}

void
bsmtp_client_consumed(bsmtp_client *c, size_t n)
{
    bsmtp_outq_take(&c->out, &c->out_off, n);
}

bool
bsmtp_client_done(const bsmtp_client *c)
{
    return c->st == ST_DONE;
}

const bsmtp_client_result *
bsmtp_client_rcpt(const bsmtp_client *c, size_t i)
{
    return c != NULL && i < c->txn.rcpt_cnt ? &c->res[i] : NULL;
}

bool
bsmtp_client_downgraded(const bsmtp_client *c)
{
    return c->downgraded;
}

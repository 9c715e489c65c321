/*
 * bsmtp_server.c: the SMTP/LMTP server session (see bsmtp_server.h).
 *
 * Input is taken one octet at a time into a line buffer that never grows
 * past the line limit of the current mode (command or text); BDAT chunks
 * are copied straight into the content.  Each complete line is one step
 * of the state machine; a step that needs the application stops the feed
 * with an event until the verdict call.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bsmtp/bsmtp_cmd.h"
#include "bsmtp/bsmtp_err.h"
#include "bsmtp/bsmtp_outq.h"
#include "bsmtp/bsmtp_server.h"

enum mode { M_CMD, M_DATA, M_BDAT, M_WAIT };
enum bad { BAD_NONE, BAD_LONG, BAD_NUL, BAD_SIZE, BAD_NORCPT };

struct bsmtp_server {
    bsmtp_server_cfg cfg;
    const mem *m;
    buf out;
    size_t out_off;
    bool greeted, closing, tls_active;
    enum mode mode;
    int pending;                /* event waiting for its verdict */
    unsigned errors;
    char line[BSMTP_SRV_TEXT_MAX + 1];
    size_t line_len;
    bool line_over;
    char helo[256];
    bsmtp_envelope *env;        /* NULL: no transaction */
    char rcpt_addr[512], rcpt_params[512];
    bool rcpt_has_params;
    buf content;
    enum bad bad;
    bool binary;
    uint64_t bdat_left;
    bool bdat_last;
    bsmtp_server_txn txn;
};

__attribute__((format(printf, 4, 5)))
static void
reply(bsmtp_server *s, int code, const char *enh, const char *fmt, ...)
{
    char text[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (buf_printf(&s->out, "%d %s%s%s\r\n", code, enh != NULL ? enh : "",
                   enh != NULL ? " " : "", text) != 0)
        s->closing = true;      /* cannot even answer: drop the connection */
}

static void
close_with(bsmtp_server *s, int code, const char *enh, const char *text)
{
    if (s->closing)
        return;
    reply(s, code, enh, "%s %s", s->cfg.hostname, text);
    s->closing = true;
}

static void
txn_reset(bsmtp_server *s)
{
    bsmtp_envelope_free(s->env);
    s->env = NULL;
    buf_reset(&s->content);
    s->bad = BAD_NONE;
    s->binary = false;
    s->bdat_left = 0;
    s->bdat_last = false;
}

static void
error(bsmtp_server *s, int code, const char *enh, const char *text)
{
    reply(s, code, enh, "%s", text);
    if (++s->errors >= s->cfg.max_errors)
        close_with(s, 421, "4.7.0", "too many errors, closing");
}

int
bsmtp_server_new(bsmtp_server **out, const bsmtp_server_cfg *cfg, const mem *m)
{
    bsmtp_server *s;

    if (out == NULL)
        return BSMTP_ERR_INVAL;
    *out = NULL;
    if (cfg == NULL || cfg->hostname == NULL || strpbrk(cfg->hostname, "\r\n") != NULL)
        return BSMTP_ERR_INVAL;
    if ((s = mem_calloc(m, 1, sizeof(*s))) == NULL)
        return BSMTP_ERR_NOMEM;
    s->cfg = *cfg;
    if (s->cfg.size_max == 0)
        s->cfg.size_max = 10u << 20;
    if (s->cfg.rcpt_max == 0)
        s->cfg.rcpt_max = 100;
    if (s->cfg.rcpt_max > BSMTP_RCPT_MAX_DEFAULT)
        s->cfg.rcpt_max = BSMTP_RCPT_MAX_DEFAULT;   /* the payload parser's cap */
    if (s->cfg.max_errors == 0)
        s->cfg.max_errors = 10;
    s->m = m;
    buf_init(&s->out, m, SIZE_MAX);
    buf_init(&s->content, m, (size_t)s->cfg.size_max + 2);
    if (!cfg->delay_greeting)
        bsmtp_server_greet(s);
    *out = s;
    return 0;
}

void
bsmtp_server_free(bsmtp_server *s)
{
    if (s == NULL)
        return;
    txn_reset(s);
    buf_fini(&s->out);
    buf_fini(&s->content);
    mem_free(s->m, s);
}

void
bsmtp_server_greet(bsmtp_server *s)
{
    if (s->greeted || s->closing)
        return;
    s->greeted = true;
    reply(s, 220, NULL, "%s %s ready", s->cfg.hostname, s->cfg.lmtp ? "LMTP" : "ESMTP");
}

/* ---- commands ------------------------------------------------------- */

static void
ehlo(bsmtp_server *s, const char *verb, const char *arg)
{
    bool is_helo = strcasecmp(verb, "HELO") == 0;

    if (*arg == '\0') {
        error(s, 501, "5.5.4", "a domain is required");
        return;
    }
    snprintf(s->helo, sizeof(s->helo), "%s", arg);
    txn_reset(s);
    if (is_helo) {
        reply(s, 250, NULL, "%s", s->cfg.hostname);
        return;
    }
    if (buf_printf(&s->out, "250-%s\r\n250-PIPELINING\r\n250-SIZE %llu\r\n250-8BITMIME\r\n"
                              "250-BINARYMIME\r\n250-CHUNKING\r\n250-SMTPUTF8\r\n250-DSN\r\n"
                              "250-MT-PRIORITY STANAG4406\r\n250-DELIVERBY\r\n%s"
                              "250 ENHANCEDSTATUSCODES\r\n",
                     s->cfg.hostname, (unsigned long long)s->cfg.size_max,
                   s->cfg.starttls && !s->tls_active ? "250-STARTTLS\r\n" : "") != 0)
        s->closing = true;
}

static void
mail(bsmtp_server *s, const bsmtp_cmd *c)
{
    int rc;

    if (s->helo[0] == '\0') {
        error(s, 503, "5.5.1", "send EHLO first");
        return;
    }
    if (s->env != NULL) {
        error(s, 503, "5.5.1", "nested MAIL command");
        return;
    }
    if (s->cfg.tls_required && !s->tls_active) {
        error(s, 530, "5.7.0", "must issue a STARTTLS command first");
        return;
    }
    if (!c->syntax_ok) {
        error(s, 501, "5.5.4", "syntax: MAIL FROM:<address> [parameters]");
        return;
    }
    rc = bsmtp_envelope_new(c->path, c->params, s->m, &s->env);
    if (rc == BSMTP_ERR_NOMEM) {
        reply(s, 452, "4.3.1", "insufficient resources");
        return;
    }
    if (rc < 0) {
        error(s, rc == BSMTP_ERR_PATH || rc == BSMTP_ERR_PATH_TOO_LONG ? 553 : 555,
              rc == BSMTP_ERR_PATH || rc == BSMTP_ERR_PATH_TOO_LONG ? "5.1.7" : "5.5.4",
              bsmtp_strerror(rc));
        return;
    }
    if (s->env->mail.has_size && s->env->mail.size > s->cfg.size_max) {
        txn_reset(s);
        reply(s, 552, "5.3.4", "message size exceeds fixed limit");
        return;
    }
    reply(s, 250, "2.1.0", "OK");
}

static int
rcpt(bsmtp_server *s, const bsmtp_cmd *c)
{
    int rc;

    if (s->env == NULL) {
        error(s, 503, "5.5.1", "need MAIL before RCPT");
        return 0;
    }
    if (!c->syntax_ok) {
        error(s, 501, "5.5.4", "syntax: RCPT TO:<address> [parameters]");
        return 0;
    }
    if (s->env->rcpt_cnt >= s->cfg.rcpt_max) {
        reply(s, 452, "4.5.3", "too many recipients");
        return 0;
    }
    /* The one codec checks the address and parameters now; a refusal by
     * the application removes it again. */
    rc = bsmtp_envelope_add_rcpt(s->env, c->path, c->params);
    if (rc == BSMTP_ERR_NOMEM) {
        reply(s, 452, "4.3.1", "insufficient resources");
        return 0;
    }
    if (rc < 0) {
        error(s, rc == BSMTP_ERR_PATH || rc == BSMTP_ERR_PATH_TOO_LONG ||
                 rc == BSMTP_ERR_UTF8 ? 553 : 555,
              rc == BSMTP_ERR_PATH || rc == BSMTP_ERR_PATH_TOO_LONG ? "5.1.3" : "5.5.4",
              bsmtp_strerror(rc));
        return 0;
    }
    snprintf(s->rcpt_addr, sizeof(s->rcpt_addr), "%s", c->path);
    s->rcpt_has_params = c->params != NULL;
    snprintf(s->rcpt_params, sizeof(s->rcpt_params), "%s", c->params != NULL ? c->params : "");
    s->mode = M_WAIT;
    s->pending = BSMTP_SRV_RCPT;
    return BSMTP_SRV_RCPT;
}

static void
data(bsmtp_server *s)
{
    if (s->env == NULL) {
        error(s, 503, "5.5.1", "need MAIL command");
        return;
    }
    if (s->env->rcpt_cnt == 0) {
        error(s, 554, "5.5.1", "no valid recipients");
        return;
    }
    if (s->env->mail.body == BSMTP_BODY_BINARYMIME) {
        error(s, 503, "5.5.1", "BODY=BINARYMIME requires BDAT");
        return;
    }
    reply(s, 354, NULL, "end data with <CR><LF>.<CR><LF>");
    buf_reset(&s->content);
    s->bad = BAD_NONE;
    s->binary = false;
    s->mode = M_DATA;
}

static void
bdat(bsmtp_server *s, const bsmtp_cmd *c)
{
    if (!c->syntax_ok) {
        error(s, 501, "5.5.4", "syntax: BDAT size [LAST]");
        return;
    }
    /* The chunk is read whatever happens: the stream stays in step. */
    s->bdat_left = c->bdat_size;
    s->bdat_last = c->bdat_last;
    s->binary = true;
    if (s->env == NULL || s->env->rcpt_cnt == 0)
        s->bad = BAD_NORCPT;
    s->mode = M_BDAT;
}

static int
command(bsmtp_server *s, char *l)
{
    bsmtp_cmd c;

    bsmtp_cmd_parse(l, &c);
    switch (c.verb) {
    case BSMTP_CMD_EHLO:
    case BSMTP_CMD_HELO:
    case BSMTP_CMD_LHLO:
        /* SMTP greets with EHLO/HELO, LMTP with LHLO only. */
        if (s->cfg.lmtp != (c.verb == BSMTP_CMD_LHLO))
            break;
        ehlo(s, bsmtp_cmd_name(c.verb), c.arg);
        return 0;
    case BSMTP_CMD_MAIL:
        mail(s, &c);
        return 0;
    case BSMTP_CMD_RCPT:
        return rcpt(s, &c);
    case BSMTP_CMD_DATA:
        data(s);
        return 0;
    case BSMTP_CMD_BDAT:
        bdat(s, &c);
        return 0;
    case BSMTP_CMD_RSET:
        txn_reset(s);
        reply(s, 250, "2.0.0", "OK");
        return 0;
    case BSMTP_CMD_NOOP:
        reply(s, 250, "2.0.0", "OK");
        return 0;
    case BSMTP_CMD_VRFY:
        reply(s, 252, "2.1.5", "cannot VRFY, send some mail");
        return 0;
    case BSMTP_CMD_HELP:
        reply(s, 214, "2.0.0", "see RFC 5321");
        return 0;
    case BSMTP_CMD_QUIT:
        close_with(s, 221, "2.0.0", "closing");
        return 0;
    case BSMTP_CMD_STARTTLS:
        if (!s->cfg.starttls || s->tls_active) {
            error(s, s->tls_active ? 503 : 502, "5.5.1", "STARTTLS not available");
            return 0;
        }
        reply(s, 220, "2.0.0", "ready to start TLS");
        s->mode = M_WAIT;
        s->pending = BSMTP_SRV_STARTTLS;
        return BSMTP_SRV_STARTTLS;
    case BSMTP_CMD_UNKNOWN:
        break;
    }
    error(s, 500, "5.5.2", "command unrecognized");
    return 0;
}

/* The end of a DATA or BDAT LAST message. */
static int
message_end(bsmtp_server *s)
{
    switch (s->bad) {
    case BAD_LONG:
        reply(s, 500, "5.5.2", "line too long");
        break;
    case BAD_NUL:
        reply(s, 554, "5.6.0", "NUL octet in the message");
        break;
    case BAD_SIZE:
        reply(s, 552, "5.3.4", "message size exceeds fixed limit");
        break;
    case BAD_NORCPT:
        reply(s, 554, "5.5.1", "no valid recipients");
        break;
    default:
        s->mode = M_WAIT;
        s->pending = BSMTP_SRV_MESSAGE;
        return BSMTP_SRV_MESSAGE;
    }
    s->mode = M_CMD;
    if (s->bad != BAD_NORCPT)
        txn_reset(s);
    s->bad = BAD_NONE;
    return 0;
}

static void
content_add(bsmtp_server *s, const void *p, size_t n)
{
    if (s->bad != BAD_NONE)
        return;
    if ((uint64_t)s->content.len + n > s->cfg.size_max || buf_append(&s->content, p, n) != 0)
        s->bad = BAD_SIZE;
}

static int
text_line(bsmtp_server *s, char *l, size_t n)
{
    if (n == 1 && l[0] == '.') {
        s->mode = M_CMD;
        return message_end(s);
    }
    if (memchr(l, '\0', n) != NULL && s->bad == BAD_NONE)
        s->bad = BAD_NUL;
    if (l[0] == '.') {
        l++;
        n--;
    }
    content_add(s, l, n);
    content_add(s, "\r\n", 2);
    return 0;
}

static int
line_done(bsmtp_server *s)
{
    size_t n = s->line_len;
    bool over = s->line_over;

    s->line_len = 0;
    s->line_over = false;
    if (n > 0 && s->line[n - 1] == '\r')
        n--;
    s->line[n] = '\0';
    if (s->mode == M_DATA) {
        if (over) {
            if (s->bad == BAD_NONE)
                s->bad = BAD_LONG;
            return 0;
        }
        return text_line(s, s->line, n);
    }
    if (over) {
        error(s, 500, "5.5.2", "line too long");
        return 0;
    }
    if (memchr(s->line, '\0', n) != NULL) {
        error(s, 500, "5.5.2", "NUL octet in a command");
        return 0;
    }
    return command(s, s->line);
}

int
bsmtp_server_feed(bsmtp_server *s, const uint8_t *in, size_t len, size_t *used)
{
    size_t off = 0;
    int ev = 0;

    if (used != NULL)
        *used = 0;
    if (s->closing)
        return BSMTP_SRV_CLOSE;
    if (s->mode == M_WAIT)
        return s->pending;
    if (len > 0 && !s->greeted) {
        /* Talking before the greeting: a spam engine, not a client. */
        s->greeted = true;
        close_with(s, 554, "5.5.1", "protocol error: input before the greeting");
        if (used != NULL)
            *used = len;
        return BSMTP_SRV_CLOSE;
    }
    while (off < len && ev == 0 && !s->closing) {
        if (s->mode == M_BDAT) {
            size_t n = len - off;

            if ((uint64_t)n > s->bdat_left)
                n = (size_t)s->bdat_left;
            content_add(s, in + off, n);
            off += n;
            s->bdat_left -= n;
            if (s->bdat_left == 0) {
                s->mode = M_CMD;
                if (s->bdat_last)
                    ev = message_end(s);
                else if (s->bad == BAD_NONE)
                    reply(s, 250, "2.0.0", "%zu octets received", s->content.len);
                else
                    ev = message_end(s);        /* report it now, drop the rest */
            }
            continue;
        }
        {
            uint8_t c = in[off++];
            size_t cap = s->mode == M_DATA ? BSMTP_SRV_TEXT_MAX - 1 : BSMTP_SRV_CMD_MAX - 1;

            if (c == '\n') {
                ev = line_done(s);
            } else if (s->line_len < cap) {
                s->line[s->line_len++] = (char)c;
            } else {
                s->line_over = true;
            }
        }
    }
    if (used != NULL)
        *used = off;
    if (s->closing && ev == 0)
        ev = BSMTP_SRV_CLOSE;
    return ev;
}

const bsmtp_server_txn *
bsmtp_server_txn_get(const bsmtp_server *s)
{
    bsmtp_server_txn *t = (bsmtp_server_txn *)(uintptr_t)&s->txn;

    memset(t, 0, sizeof(*t));
    t->helo = s->helo;
    t->env = s->env;
    if (s->pending == BSMTP_SRV_RCPT) {
        t->rcpt_addr = s->rcpt_addr;
        t->rcpt_params = s->rcpt_has_params ? s->rcpt_params : NULL;
    }
    if (s->pending == BSMTP_SRV_MESSAGE) {
        t->content = s->content.data;
        t->content_len = s->content.len;
        t->binary = s->binary;
    }
    return t;
}

/* Drop the last recipient (the application refused it). */
static void
rcpt_drop_last(bsmtp_server *s)
{
    bsmtp_envelope *cp = NULL;
    size_t idx[BSMTP_RCPT_MAX_DEFAULT];
    size_t n = s->env->rcpt_cnt - 1;

    for (size_t i = 0; i < n && i < BSMTP_RCPT_MAX_DEFAULT; i++)
        idx[i] = i;
    if (bsmtp_envelope_copy_subset(s->env, idx, n, s->m, &cp) == 0) {
        bsmtp_envelope_free(s->env);
        s->env = cp;
    } else {
        txn_reset(s);           /* out of memory: the client starts over */
    }
}

void
bsmtp_server_rcpt_verdict(bsmtp_server *s, int code, const char *enh, const char *text)
{
    if (s->pending != BSMTP_SRV_RCPT)
        return;
    s->pending = 0;
    s->mode = M_CMD;
    if (code / 100 == 2) {
        reply(s, 250, "2.1.5", "OK");
        return;
    }
    rcpt_drop_last(s);
    reply(s, code, enh, "<%s>: %s", s->rcpt_addr, text != NULL ? text : "refused");
}

void
bsmtp_server_message_verdict(bsmtp_server *s, int code, const char *enh, const char *text)
{
    size_t n;

    if (s->pending != BSMTP_SRV_MESSAGE)
        return;
    s->pending = 0;
    s->mode = M_CMD;
    n = s->cfg.lmtp && s->env != NULL ? s->env->rcpt_cnt : 1;
    for (size_t i = 0; i < n; i++) {
        if (s->cfg.lmtp && s->env != NULL)
            reply(s, code, enh, "<%s> %s", s->env->rcpts[i].addr, text != NULL ? text : "");
        else
            reply(s, code, enh, "%s", text != NULL ? text : "");
    }
    txn_reset(s);
}

void
bsmtp_server_tls_started(bsmtp_server *s)
{
    if (s->pending != BSMTP_SRV_STARTTLS)
        return;
    /* RFC 3207 4.2: forget everything learned before TLS. */
    s->pending = 0;
    s->mode = M_CMD;
    s->tls_active = true;
    s->helo[0] = '\0';
    s->line_len = 0;
    s->line_over = false;
    txn_reset(s);
}

void
bsmtp_server_shutdown(bsmtp_server *s, const char *why)
{
    close_with(s, 421, "4.4.2", why != NULL ? why : "timeout, closing");
}

size_t
bsmtp_server_output(bsmtp_server *s, const uint8_t **p)
{
    return bsmtp_outq_peek(&s->out, &s->out_off, p);
}

void
bsmtp_server_consumed(bsmtp_server *s, size_t n)
{
    bsmtp_outq_take(&s->out, &s->out_off, n);
}

bool
bsmtp_server_closing(const bsmtp_server *s)
{
    return s->closing;
}

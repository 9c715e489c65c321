/*
 * fuzz_bsmtp_payload.c: libFuzzer harness for bsmtp_payload_parse().
 *
 * Each input is parsed twice, with the default caps and with tiny ones
 * (so the cap paths are reached with short inputs).  Whatever parses must
 * survive the relay's whole path: build -> parse again -> same envelope
 * and content -> build again -> same bytes; a per-destination copy in
 * reverse recipient order must build too; and every path must yield its
 * routing domain.  Any violated property aborts, which libFuzzer reports
 * as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bsmtp/bsmtp_addr.h"
#include "bsmtp/bsmtp_payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
    if (!cond)
        abort();
}

static int
str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static int
params_eq(const bsmtp_param *a, size_t an, const bsmtp_param *b, size_t bn)
{
    size_t i;

    if (an != bn)
        return 0;
    for (i = 0; i < an; i++)
        if (!str_eq(a[i].keyword, b[i].keyword) || !str_eq(a[i].value, b[i].value))
            return 0;
    return 1;
}

static int
mail_eq(const bsmtp_mail_info *a, const bsmtp_mail_info *b)
{
    return a->has_size == b->has_size && a->size == b->size && a->body == b->body &&
           a->ret == b->ret && str_eq(a->envid, b->envid) &&
           a->has_mt_priority == b->has_mt_priority && a->mt_priority == b->mt_priority &&
           a->by_mode == b->by_mode && a->by_time_s == b->by_time_s &&
           a->by_trace == b->by_trace && a->smtputf8 == b->smtputf8 &&
           str_eq(a->auth, b->auth);
}

static int
env_eq(const bsmtp_envelope *a, const bsmtp_envelope *b)
{
    size_t i;

    if (!str_eq(a->reverse_path, b->reverse_path) ||
        !params_eq(a->params, a->param_cnt, b->params, b->param_cnt) ||
        !mail_eq(&a->mail, &b->mail) || a->rcpt_cnt != b->rcpt_cnt)
        return 0;
    for (i = 0; i < a->rcpt_cnt; i++) {
        const bsmtp_rcpt *x = &a->rcpts[i], *y = &b->rcpts[i];

        if (!str_eq(x->addr, y->addr) ||
            !params_eq(x->params, x->param_cnt, y->params, y->param_cnt) ||
            x->info.notify != y->info.notify || !str_eq(x->info.orcpt, y->info.orcpt))
            return 0;
    }
    return 1;
}

static void
round_trip(const bsmtp_envelope *env, const uint8_t *content, size_t content_len)
{
    /* Rebuilt lines can grow by one octet each (LF -> CRLF): reparse
     * with caps that cannot refuse what the first parse accepted. */
    static const bsmtp_limits wide = {1u << 20, 1u << 20, 1u << 20, SIZE_MAX};
    bsmtp_envelope *env2 = NULL, *sub = NULL;
    char dom[BSMTP_DOMAIN_MAX + 1];
    unsigned flags;
    size_t off, i, *idx;
    buf b1, b2;

    buf_init(&b1, NULL, SIZE_MAX);
    buf_init(&b2, NULL, SIZE_MAX);
    check(bsmtp_payload_build(env, content, content_len, &b1) == 0);
    check(bsmtp_payload_parse(b1.data, b1.len, &wide, NULL, &env2, &off) == 0);
    check(env_eq(env, env2));
    check(b1.len - off == content_len);
    check(content_len == 0 || memcmp(b1.data + off, content, content_len) == 0);
    check(bsmtp_payload_build(env2, b1.data + off, b1.len - off, &b2) == 0);
    check(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);

    /* The relay's per-destination copy, recipients reversed. */
    idx = malloc(env->rcpt_cnt * sizeof(*idx));
    check(idx != NULL);
    for (i = 0; i < env->rcpt_cnt; i++)
        idx[i] = env->rcpt_cnt - 1 - i;
    check(bsmtp_envelope_copy_subset(env, idx, env->rcpt_cnt, NULL, &sub) == 0);
    buf_reset(&b2);
    check(bsmtp_payload_build(sub, NULL, 0, &b2) == 0);
    free(idx);

    flags = BSMTP_ADDR_POSTMASTER | (env->mail.smtputf8 ? BSMTP_ADDR_UTF8 : 0);
    for (i = 0; i < env->rcpt_cnt; i++)
        check(bsmtp_addr_domain(env->rcpts[i].addr, strlen(env->rcpts[i].addr), flags, dom,
                                sizeof(dom)) >= 0);
    check(bsmtp_addr_domain(env->reverse_path, strlen(env->reverse_path),
                            BSMTP_ADDR_NULL_OK | (flags & BSMTP_ADDR_UTF8), dom, sizeof(dom)) >= 0);

    bsmtp_envelope_free(sub);
    bsmtp_envelope_free(env2);
    buf_fini(&b1);
    buf_fini(&b2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const bsmtp_limits tiny = {64, 4, 4, 256};
    bsmtp_envelope *env = NULL;
    size_t off = 0;
    int rc;

    rc = bsmtp_payload_parse(data, size, NULL, NULL, &env, &off);
    check((rc == 0) == (env != NULL));
    if (rc == 0) {
        check(off <= size);
        round_trip(env, data + off, size - off);
        bsmtp_envelope_free(env);
    }
    env = NULL;
    rc = bsmtp_payload_parse(data, size, &tiny, NULL, &env, &off);
    check((rc == 0) == (env != NULL));
    if (rc == 0) {
        check(env->rcpt_cnt <= 4 && off <= 256);
        bsmtp_envelope_free(env);
    }
    return 0;
}

/*
 * muled_render.h: the control socket's answers as one call sequence that
 * renders either as human lines or as JSON (muled_ctl.c, mulectl --json),
 * so both forms always carry the same facts.  The output goes to a buf;
 * an append that fails for want of memory is remembered (rd_oom()) so the
 * caller answers "out of memory" instead of sending a cut answer.
 */
#ifndef MULED_RENDER_H
#define MULED_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/muled/muled.h"

#define R_DEPTH 8

typedef struct rend {
    buf *b;
    bool json;
    int depth;
    bool in_arr[R_DEPTH];       /* container at this depth is an array */
    bool item_line[R_DEPTH];    /* human: object rendered on one line */
    size_t count[R_DEPTH];      /* members so far (JSON commas) */
} rend;

/* Raw appends. */
void rd_put(buf *b, const void *p, size_t n);
void rd_puts(buf *b, const char *s);
__attribute__((format(printf, 2, 3)))
void rd_putf(buf *b, const char *fmt, ...);
/* Forget / ask whether an append failed since the last reset. */
void rd_oom_reset(void);
bool rd_oom(void);
/* s as the human form shows values: controls escaped like the log. */
void r_human_str(buf *b, const char *s);

/* An object (key NULL at the top or inside an array; inside an array the
 * human form puts it on one line of key=value pairs), an array, and the
 * close of either. */
void r_open(rend *r, const char *key);
void r_arr(rend *r, const char *key);
void r_close(rend *r);
/* Scalars: a string ("-" in human form when empty), a value already
 * rendered, numbers, and true/false (yes/no in human form). */
void r_str(rend *r, const char *key, const char *v);
void r_raw(rend *r, const char *key, const char *text);
void r_u64(rend *r, const char *key, uint64_t v);
void r_i64(rend *r, const char *key, int64_t v);
void r_bool(rend *r, const char *key, bool v);

#endif

/*
 * muled_render.c: the renderer behind muled_render.h: one sequence of
 * r_* calls becomes human lines ("key: value", arrays of one-line
 * objects) or one JSON document.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tools/muled/muled_render.h"

/* Appends that fail only for want of memory: remembered, and the answer
 * becomes "out of memory" instead of a cut one. */
static bool g_oom;

void
rd_put(buf *b, const void *p, size_t n)
{
    if (buf_append(b, p, n) != 0)
        g_oom = true;
}

void
rd_puts(buf *b, const char *s)
{
    rd_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
void
rd_putf(buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    rd_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}


static void
r_json_str(buf *b, const char *s)
{
    rd_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            rd_putf(b, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            rd_putf(b, "\\u%04x", *p);   /* octets as code points */
        else
            rd_put(b, p, 1);
    }
    rd_put(b, "\"", 1);
}

/* Human values: printable as they are, else escaped like the log. */
void
r_human_str(buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f)
            rd_putf(b, "\\x%02x", *p);
        else
            rd_put(b, p, 1);
    }
}

static void
r_indent(rend *r)
{
    for (int i = 1; i < r->depth; i++)
        rd_put(r->b, "  ", 2);
}

/* Start a member: JSON comma and key; human: indentation or separator. */
static void
r_key(rend *r, const char *key)
{
    int dp = r->depth;

    if (r->json) {
        if (r->count[dp]++ > 0)
            rd_put(r->b, ",", 1);
        if (key != NULL && !r->in_arr[dp]) {
            r_json_str(r->b, key);
            rd_put(r->b, ":", 1);
        }
        return;
    }
    if (r->item_line[dp]) {
        if (r->count[dp]++ > 0)
            rd_put(r->b, " ", 1);
        if (key != NULL)
            rd_putf(r->b, "%s=", key);
        return;
    }
    r->count[dp]++;
    r_indent(r);
    if (key != NULL)
        rd_putf(r->b, "%s:", key);
}

/* Human: "key: value" (objects and arrays are "key:" and a new line). */
static void
r_sep(rend *r, const char *key)
{
    if (!r->json && !r->item_line[r->depth] && key != NULL)
        rd_put(r->b, " ", 1);
}

static void
r_end_scalar(rend *r)
{
    if (!r->json && !r->item_line[r->depth])
        rd_put(r->b, "\n", 1);
}

static void
r_push(rend *r, bool arr, bool line)
{
    if (r->depth + 1 >= R_DEPTH)
        return;
    r->depth++;
    r->in_arr[r->depth] = arr;
    r->item_line[r->depth] = line;
    r->count[r->depth] = 0;
}

/* An object: key NULL at the top or inside an array.  In human form an
 * object inside an array is one line of key=value pairs. */
void
r_open(rend *r, const char *key)
{
    bool line = !r->json && r->depth > 0 && r->in_arr[r->depth];

    if (r->depth > 0) {
        r_key(r, key);
        if (!r->json && line)
            rd_put(r->b, "- ", 2);
        else if (!r->json)
            rd_put(r->b, "\n", 1);
    }
    if (r->json)
        rd_put(r->b, "{", 1);
    r_push(r, false, line);
}

void
r_arr(rend *r, const char *key)
{
    r_key(r, key);
    if (r->json)
        rd_put(r->b, "[", 1);
    else
        rd_put(r->b, "\n", 1);
    r_push(r, true, false);
}

void
r_close(rend *r)
{
    bool arr = r->in_arr[r->depth], line = r->item_line[r->depth];

    if (r->depth > 0)
        r->depth--;
    if (r->json)
        rd_put(r->b, arr ? "]" : "}", 1);
    else if (line)
        rd_put(r->b, "\n", 1);
    if (r->json && r->depth == 0)
        rd_put(r->b, "\n", 1);
}

void
r_str(rend *r, const char *key, const char *v)
{
    if (v == NULL || v[0] == '\0')
        v = r->json ? "" : "-";
    r_key(r, key);
    r_sep(r, key);
    if (r->json) {
        r_json_str(r->b, v);
    } else if (r->item_line[r->depth] && strpbrk(v, " =\"") != NULL) {
        rd_put(r->b, "\"", 1);
        r_human_str(r->b, v);
        rd_put(r->b, "\"", 1);
    } else {
        r_human_str(r->b, v);
    }
    r_end_scalar(r);
}

/* A scalar already rendered (number, or true/false and yes/no). */
void
r_raw(rend *r, const char *key, const char *text)
{
    r_key(r, key);
    r_sep(r, key);
    rd_puts(r->b, text);
    r_end_scalar(r);
}

void
r_u64(rend *r, const char *key, uint64_t v)
{
    char t[24];

    snprintf(t, sizeof t, "%" PRIu64, v);
    r_raw(r, key, t);
}

void
r_i64(rend *r, const char *key, int64_t v)
{
    char t[24];

    snprintf(t, sizeof t, "%" PRId64, v);
    r_raw(r, key, t);
}

void
r_bool(rend *r, const char *key, bool v)
{
    r_raw(r, key, r->json ? (v ? "true" : "false") : (v ? "yes" : "no"));
}

void
rd_oom_reset(void)
{
    g_oom = false;
}

bool
rd_oom(void)
{
    return g_oom;
}

/*
 * tok.h: the one line tokenizer for configuration-like text.
 *
 * Splits text into lines and lines into words, for the routing table
 * (mule/mule_route.c), netsim scenarios (netsim/netsim_scen.c) and muled's
 * configuration file.  The rules, the same for every format built on it:
 *
 *   - lines end at LF; one CR before the LF (or before the end of the
 *     text) is dropped, so CRLF files read like LF files;
 *   - words are separated by blanks (space, tab); a '#' outside a quoted
 *     word starts a comment that runs to the end of the line;
 *   - with TOK_QUOTES, a word starting with '"' runs to the next unescaped
 *     '"' and may contain blanks and '#'; the escapes are \n \r \t \\ \";
 *     the closing quote must end the word;
 *   - a line longer than the cap (octets without its LF and CR), a line
 *     with more words than the caller's array holds, and any control
 *     character other than tab (NUL, a CR inside the line, DEL) are
 *     errors that name the line;
 *   - lines without words (empty, blank, comment only) are skipped.
 *
 * The tokenizer allocates nothing: the caller lends a buffer for the word
 * text and an array of words, both reused for every line.  Words are
 * NUL-terminated copies (quoted words unescaped), valid until the next
 * tok_next() call.  Includes only libc.
 */
#ifndef PMUL_UTIL_TOK_H
#define PMUL_UTIL_TOK_H

#include <stdbool.h>
#include <stddef.h>

#include "util_err.h"

#define TOK_QUOTES  0x1u        /* "quoted words" with escapes */

typedef struct tok_word {
    char *p;                    /* NUL-terminated, in the caller's buffer */
    size_t len;                 /* octets before the NUL */
    bool quoted;                /* written as "..." */
} tok_word;

typedef struct tok {
    const char *text;           /* borrowed: the whole input */
    size_t len, pos;
    unsigned line;              /* 1-based line of the last words or error */
    size_t line_max;            /* cap on a line's octets */
    unsigned flags;             /* TOK_* */
    char *buf;                  /* borrowed: line_max + 1 octets */
    tok_word *w;                /* borrowed: w_max words */
    size_t w_max;
    size_t n;                   /* words on the current line */
    int err;                    /* sticky: the first failure, or 0 */
    char reason[80];            /* why, after a failure (no line number) */
} tok;

/*
 * Start tokenizing text[0..len) (borrowed; need not be NUL-terminated).
 * buf (buf_len octets) receives the words of one line; a line may be at
 * most min(line_max, buf_len - 1) octets long.  w holds up to w_max words.
 * flags: 0 or TOK_QUOTES.
 */
void tok_init(tok *t, const char *text, size_t len, size_t line_max, unsigned flags,
              char *buf, size_t buf_len, tok_word *w, size_t w_max);

/*
 * Read the next line that has words into t->w[0..t->n); t->line is its
 * number.  Returns 1 for a line, 0 at the end of the text, or one of
 * (t->line names the line, t->reason says why; every later call returns
 * the same code):
 *   UTIL_ERR_LINE_TOO_LONG, UTIL_ERR_TOO_MANY_WORDS, UTIL_ERR_CONTROL,
 *   UTIL_ERR_QUOTE (unterminated, unknown escape, text after the quote),
 *   UTIL_ERR_INVAL (no buffer or no word array).
 * The caller reports it as "file:line: reason" (tok_where()).
 */
__attribute__((warn_unused_result))
int tok_next(tok *t);

/* True when word w is kw, ASCII case-insensitively. */
bool tok_is(const tok_word *w, const char *kw);

/*
 * Format "FILE:LINE: REASON" into out (outlen octets, always terminated
 * when outlen > 0), or "LINE: REASON" when file is NULL (the caller adds
 * the file name later), with REASON from fmt.  With a file, line 0 (an
 * error of the whole text) gives "FILE: REASON".  Returns the length snprintf reports
 * (>= outlen means it was cut, which only shortens a diagnostic).
 */
int tok_where(char *out, size_t outlen, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif

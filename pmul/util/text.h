/*
 * text.h: the one generator of English-like mail text.
 *
 * Benchmarks, tests and netsim carry text that reads like staff mail
 * (sentences of a military-logistics vocabulary), not random bytes, so
 * that compression and checksums behave as on real traffic.  One word
 * list and one sentence grammar serve netsim's mail bodies
 * (netsim/netsim_mail.c), the CompressedData tests and capture generators;
 * randomness comes from the caller (text_below_fn), so each keeps its own
 * seeded generator and the same seed always gives the same octets.
 * Includes only libc.
 */
#ifndef PMUL_UTIL_TEXT_H
#define PMUL_UTIL_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A uniform number in 0 .. n-1 (n >= 1) from the caller's generator. */
typedef uint64_t (*text_below_fn)(void *arg, uint64_t n);

/* The vocabulary (lower case, 1..13 letters each). */
extern const char *const text_words[];
extern const size_t text_word_cnt;

/* Longest word of text_words, in octets. */
#define TEXT_WORD_MAX 13

/*
 * Append one sentence of 5..17 words: capitalised, an occasional comma,
 * ending in "." (or "?" one time in ten).  No line breaks.  Returns 0 or
 * buf_append()'s code (UTIL_ERR_NOMEM, UTIL_ERR_FULL).
 */
__attribute__((warn_unused_result))
int text_sentence(buf *b, text_below_fn below, void *arg);

/*
 * Append paragraphs of 2..5 sentences until at least n octets were
 * appended: lines wrapped at 72 columns, each starting with prefix
 * (borrowed; "" or "> ") and ending in CRLF, paragraphs separated by an
 * empty line (prefix only).  Returns 0 or buf_append()'s code.
 */
__attribute__((warn_unused_result))
int text_paragraphs(buf *b, size_t n, const char *prefix, text_below_fn below, void *arg);

#endif

/*
 * bsmtp_addr.h: RFC 5321 path and mailbox syntax, domain extraction and
 * xtext (RFC 3461 4).
 *
 * The text checked is what stands between '<' and '>' in a path:
 *
 *   Path      = "<" [ A-d-l ":" ] Mailbox ">"        (RFC 5321 4.1.2)
 *   Mailbox   = Local-part "@" ( Domain / address-literal )
 *   Local-part = Dot-string / Quoted-string          (at most 64 octets)
 *   Domain    = sub-domain *("." sub-domain)         (at most 255 octets)
 *   address-literal = "[" ( IPv4 / "IPv6:" IPv6 / tag ":" dcontent ) "]"
 *   whole path including <> at most 256 octets      (RFC 5321 4.5.3.1.3)
 *
 * With BSMTP_ADDR_UTF8 (SMTPUTF8 in effect, RFC 6531 3.3) well-formed
 * UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF) is allowed
 * in atoms, quoted strings and sub-domains; without it any octet over 127
 * is refused.  NUL, CR, LF and other controls are always refused.
 *
 * Pure functions: no allocation except the xtext helpers, which append to
 * a caller's buf.  Inputs are borrowed and need not be NUL-terminated.
 */
#ifndef BSMTP_ADDR_H
#define BSMTP_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bsmtp/bsmtp_err.h"
#include "pmul/util/buf.h"

/* Flags for the checkers. */
#define BSMTP_ADDR_UTF8        0x1u  /* SMTPUTF8: UTF-8 allowed */
#define BSMTP_ADDR_NULL_OK     0x2u  /* "" (the null path <>) accepted */
#define BSMTP_ADDR_POSTMASTER  0x4u  /* bare "Postmaster" (any case) accepted */

/* RFC 5321 4.5.3.1 limits, in octets. */
#define BSMTP_LOCAL_MAX   64u
#define BSMTP_DOMAIN_MAX  255u
#define BSMTP_PATH_MAX    256u   /* including the angle brackets */

/*
 * Check a path's inner text s[0..len) (without <>): an optional source
 * route "@a,@b:" (accepted as RFC 5321 requires, though it is obsolete),
 * then a Mailbox.  flags: BSMTP_ADDR_*.  The 256-octet limit counts the
 * two angle brackets.
 *
 * Returns 0, or one of:
 *   BSMTP_ERR_PATH           syntax error, or a NUL/control/space octet.
 *   BSMTP_ERR_PATH_TOO_LONG  local part > 64, domain > 255 or path > 256.
 *   BSMTP_ERR_UTF8           non-ASCII without BSMTP_ADDR_UTF8, or bad UTF-8.
 *   BSMTP_ERR_INVAL          NULL s with len > 0.
 */
__attribute__((warn_unused_result))
int bsmtp_addr_check_path(const char *s, size_t len, unsigned flags);

/* Check a Mailbox (no source route, no null path).  Same returns. */
__attribute__((warn_unused_result))
int bsmtp_addr_check_mailbox(const char *s, size_t len, unsigned flags);

/* Check a Domain or address-literal alone (e.g. an EHLO argument or a
 * routing table key).  Same returns. */
__attribute__((warn_unused_result))
int bsmtp_addr_check_domain(const char *s, size_t len, unsigned flags);

/*
 * Locate the parts of a valid path's inner text s[0..len): the local part
 * (quotes kept) and the domain or address literal, skipping any source
 * route.  For "" and "Postmaster" both domain fields are 0.  The path is
 * checked first (with flags).
 *
 * Returns 0 or the checker's codes.
 */
__attribute__((warn_unused_result))
int bsmtp_addr_split(const char *s, size_t len, unsigned flags,
                     size_t *local_off, size_t *local_len,
                     size_t *domain_off, size_t *domain_len);

/*
 * Write the routing domain of a valid path s[0..len) to out (cap octets,
 * NUL-terminated): the domain with ASCII letters lowercased (UTF-8 left as
 * is), or an address literal exactly as written, brackets included.  For
 * the null path and bare "Postmaster" the result is "" (the local node).
 * cap of BSMTP_DOMAIN_MAX + 1 always suffices.
 *
 * Returns the length written (without the NUL), or one of the checker's
 * codes, or BSMTP_ERR_CAP when out is too small, BSMTP_ERR_INVAL.
 */
__attribute__((warn_unused_result))
ssize_t bsmtp_addr_domain(const char *s, size_t len, unsigned flags,
                          char *out, size_t cap);

/* True when s[0..len) is valid xtext (RFC 3461 4): octets 33-126 except
 * '+' and '=', or "+" followed by two uppercase hex digits.  Empty xtext
 * is valid xtext; callers that need a value check len themselves. */
bool bsmtp_is_xtext(const char *s, size_t len);

/*
 * Append the xtext encoding of in[0..len) to out: '+', '=', and octets
 * outside 33-126 become "+XX".  in is borrowed.
 * Returns 0, BSMTP_ERR_NOMEM, BSMTP_ERR_CAP (out->max) or BSMTP_ERR_INVAL.
 */
__attribute__((warn_unused_result))
int bsmtp_xtext_encode(buf *out, const void *in, size_t len);

/*
 * Append the decoding of the xtext s[0..len) to out (not NUL-terminated;
 * the decoded octets may include NUL).  Lowercase hex is refused, as RFC
 * 3461 requires uppercase.
 * Returns 0, BSMTP_ERR_XTEXT, BSMTP_ERR_NOMEM, BSMTP_ERR_CAP or
 * BSMTP_ERR_INVAL.  On error out keeps its previous length.
 */
__attribute__((warn_unused_result))
int bsmtp_xtext_decode(buf *out, const char *s, size_t len);

/*
 * Length of the well-formed UTF-8 sequence at s[0..len) (1 to 4), or 0 if
 * the octets there are not one (overlong, surrogate, > U+10FFFF,
 * truncated, stray continuation byte).  ASCII gives 1.
 */
size_t bsmtp_utf8_seq_len(const uint8_t *s, size_t len);

#endif

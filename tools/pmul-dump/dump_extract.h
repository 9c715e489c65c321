/*
 * dump_extract.h: write a delivered MULE message out as files
 * (pmul-dump --extract).
 *
 * A delivered P_MUL payload is decoded as MULE (mule/mule_cdt.h: BER
 * CompressedData, zlib) and the content split at the end of the
 * BSMTP-like envelope (bsmtp/bsmtp_payload.h).  Files, named after the
 * message, in the directory given:
 *
 *   SRC_MSID.env   the envelope exactly as received: the FROM-line, the
 *                  RCPT-lines and the empty line that ends them;
 *   SRC_MSID.eml   the RFC 5322 message that follows, unchanged.
 *
 * So `cat SRC_MSID.env SRC_MSID.eml` is the decoded payload byte for
 * byte.  A payload that is not MULE is written raw as SRC_MSID.bin; MULE
 * content whose envelope does not parse is written whole as
 * SRC_MSID.bsmtp.  Files are created mode 0600 (they hold mail), written
 * to a temporary name and renamed, so a reader never sees half a file.
 */
#ifndef DUMP_EXTRACT_H
#define DUMP_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode payload[0..len) (borrowed) of message (src, msid) and write its
 * files under dir.  result (at least 48 octets) receives "mule",
 * "not-mule:ERRNAME" or "bad-envelope:ERRNAME"; base (at least 4096
 * octets) the path written without its extension.
 *
 * Returns 0 when the files were written (whatever the content), or -1
 * when the file system failed (errno says why; result names the step).
 */
int dump_extract(const char *dir, uint32_t src, uint32_t msid,
                 const uint8_t *payload, size_t len, char *result,
                 size_t resultlen, char *base, size_t baselen);

#endif

/*
 * NAME
 *	dump_extract - write delivered MULE messages as envelope and .eml
 * SYNOPSIS
 *	#include "tools/pmul-dump/dump_extract.h"
 * DESCRIPTION
 *	The last step of pmul-dump --extract.  A payload a receiver engine
 *	delivered goes through the one MULE decoder (mule_cdt_decode: BER
 *	CompressedData with content type mule(25), zlib with its output and
 *	ratio caps) and the one BSMTP-like payload parser
 *	(bsmtp_payload_parse), which says where the envelope ends.  The
 *	envelope octets and the message octets are then written as they are:
 *	nothing is re-encoded, so the files are the mail that travelled,
 *	byte for byte (RFC 8494 section 3).
 *
 *	Writing follows the spool discipline (style.md 9) in a small way:
 *	a temporary file created with O_EXCL and mode 0600, every write and
 *	the close checked, then rename() over the final name.  A capture may
 *	be dumped twice into the same directory: the second run replaces the
 *	files.
 * SECURITY
 *	The payload is untrusted; it reaches only the MULE and BSMTP
 *	decoders, whose caps bound memory.  File names are built from two
 *	numbers, never from message text, so a message cannot choose where
 *	it is written.
 * DIAGNOSTICS
 *	Returns -1 with errno set when the file system fails; decoding
 *	failures are results ("not-mule:INFLATE"), not errors.
 * SEE ALSO
 *	mule_cdt(3), bsmtp_payload(3), pmul-dump(1), RFC 8494.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "tools/pmul-dump/dump_extract.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_cdt.h"
#include "pmul/util/buf.h"
#include "tools/capture/dump_fmt.h"

/* Inflated content kept for one message: the MULE decoder's own cap
 * (64 MiB by default) applies first; this one bounds the buffer too. */
#define EXTRACT_MAX_CONTENT ((size_t)64 << 20)

static void
set_text(char *dst, size_t n, const char *a, const char *b)
{
    int k = snprintf(dst, n, "%s%s", a, b != NULL ? b : "");

    /* A cut result text is still a usable result text. */
    if (k < 0 && n > 0)
        dst[0] = '\0';
}

/* Write p[0..len) to base + ext through a temporary file and rename. */
static int
write_file(const char *base, const char *ext, const uint8_t *p, size_t len)
{
    char path[4200], tmp[4220];
    size_t off = 0;
    ssize_t w;
    int fd, k, saved;

    k = snprintf(path, sizeof(path), "%s%s", base, ext);
    if (k < 0 || (size_t)k >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    k = snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    if (k < 0 || (size_t)k >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    (void)unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (off < len) {
        w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    return 0;

fail:
    saved = errno != 0 ? errno : EIO;
    if (fd >= 0)
        (void)close(fd);
    (void)unlink(tmp);
    errno = saved;
    return -1;
}

int
dump_extract(const char *dir, uint32_t src, uint32_t msid,
             const uint8_t *payload, size_t len, char *result,
             size_t resultlen, char *base, size_t baselen)
{
    bsmtp_envelope *env = NULL;
    size_t off = 0;
    char ip[16];
    buf content;
    int rc, ct, k, ret = 0;

    k = snprintf(base, baselen, "%s/%s_%u", dir, dump_ip4(src, ip, sizeof(ip)),
                 (unsigned)msid);
    if (k < 0 || (size_t)k >= baselen) {
        set_text(result, resultlen, "path-too-long", NULL);
        errno = ENAMETOOLONG;
        return -1;
    }

    buf_init(&content, NULL, EXTRACT_MAX_CONTENT);
    rc = mule_cdt_decode(NULL, NULL, payload, len, &content, &ct);
    if (rc != 0) {
        set_text(result, resultlen, "not-mule:", mule_errname(rc));
        if (write_file(base, ".bin", payload, len) != 0)
            ret = -1;
        goto done;
    }
    rc = bsmtp_payload_parse(content.data, content.len, NULL, NULL, &env, &off);
    if (rc != 0) {
        set_text(result, resultlen, "bad-envelope:", bsmtp_errname(rc));
        if (write_file(base, ".bsmtp", content.data, content.len) != 0)
            ret = -1;
        goto done;
    }
    set_text(result, resultlen, "mule", NULL);
    if (write_file(base, ".env", content.data, off) != 0 ||
        write_file(base, ".eml", content.data + off, content.len - off) != 0)
        ret = -1;

done:
    bsmtp_envelope_free(env);
    buf_fini(&content);
    return ret;
}

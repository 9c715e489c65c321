/*
 * muled_maildir.c: muled's embedded delivery agent: one Maildir per
 * recipient under the configured root (`maildir = /path`), so a node
 * works with no MTA at all.
 *
 * ROOT/ADDRESS/{tmp,new,cur}: the message is written to tmp/ with a
 * Return-Path and a Delivered-To field on top (what an MDA adds), fsync'd,
 * linked into new/ and new/ fsync'd before the call reports success
 * (durability contract line 5: the spool forgets a recipient only after
 * this).  Maildir file names follow the usual TIME.UNIQUE.HOST form, with
 * UNIQUE the queue ID and recipient index.
 *
 * The address comes from a received envelope, so it is untrusted: it is
 * used as a directory name only when it is a plain local@domain with
 * characters from a safe set (no '/', no leading '.', no controls);
 * anything else is refused as a permanent failure (5.1.3), never mapped
 * to another path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/common/fileio.h"
#include "tools/muled/muled.h"

static bool
safe_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("@.-_+=", c) != NULL;
}

/* The mailbox directory name for addr, lower-cased; false if unsafe. */
static bool
mailbox_name(const char *addr, char *out, size_t outlen)
{
    size_t n = strlen(addr), at = 0;

    if (n == 0 || n >= outlen || addr[0] == '.' || addr[0] == '@')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)addr[i];

        if (!safe_char(c))
            return false;
        if (c == '@')
            at++;
        if (c == '.' && i + 1 < n && addr[i + 1] == '.')
            return false;
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[n] = '\0';
    return at == 1;
}

static int
mkdir_p(const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int
muled_maildir_deliver(const char *root, const char *hostname, const char *rcpt,
                      const char *return_path, const uint8_t *content, size_t len,
                      const char *key, int64_t when_s, char *why, size_t whylen)
{
    char box[512], path[1024], tmp[1200], dst[1200], head[1200], name[160];
    int rc, n;

    if (!mailbox_name(rcpt, box, 256)) {
        snprintf(why, whylen, "550 5.1.3 mailbox name not usable as a Maildir");
        return MULED_PERM;
    }
    n = snprintf(path, sizeof(path), "%s/%s", root, box);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        snprintf(why, whylen, "550 5.1.3 Maildir path too long");
        return MULED_PERM;
    }
    if ((rc = mkdir_p(root)) < 0 || (rc = mkdir_p(path)) < 0)
        goto fail;
    for (int i = 0; i < 3; i++) {
        static const char *const sub[3] = {"tmp", "new", "cur"};

        snprintf(tmp, sizeof(tmp), "%s/%s", path, sub[i]);
        if ((rc = mkdir_p(tmp)) < 0)
            goto fail;
    }
    /* The name is fixed by the spool entry and recipient (key), so a
     * delivery repeated after a crash between link() and the spool's
     * "done" record finds its own file and is not made twice. */
    snprintf(name, sizeof(name), "%lld.%s.%s", (long long)when_s, key, hostname);
    for (char *p = name; *p != '\0'; p++)
        if (*p == '/' || *p == ':')
            *p = '_';
    snprintf(dst, sizeof(dst), "%s/new/%s", path, name);
    snprintf(tmp, sizeof(tmp), "%s/cur/%s:2,", path, name);
    if (access(dst, F_OK) == 0 || access(tmp, F_OK) == 0) {
        /* A crash between link() and unlink() left our tmp/ copy too. */
        snprintf(tmp, sizeof(tmp), "%s/tmp/%s", path, name);
        unlink(tmp);
        snprintf(why, whylen, "250 2.0.0 %s/new/%s (delivered before)", box, name);
        return MULED_OK;
    }
    snprintf(tmp, sizeof(tmp), "%s/tmp/%s", path, name);
    n = snprintf(head, sizeof(head), "Return-Path: <%s>\r\nDelivered-To: %s\r\n", return_path,
                 rcpt);
    if (n < 0 || (size_t)n >= sizeof(head)) {
        snprintf(why, whylen, "550 5.1.3 address too long");
        return MULED_PERM;
    }
    rc = fio_write_file(tmp, 0, head, (size_t)n, content, len);
    if (rc == 0 && link(tmp, dst) < 0)
        rc = -errno;
    unlink(tmp);
    if (rc == 0) {
        snprintf(tmp, sizeof(tmp), "%s/new", path);
        rc = fio_fsync_dir(tmp);
    }
    if (rc == 0) {
        snprintf(why, whylen, "250 2.0.0 %s/new/%s", box, name);
        return MULED_OK;
    }
fail:
    snprintf(why, whylen, "451 4.3.0 Maildir %s: %s", path, strerror(-rc));
    return MULED_TEMP;
}

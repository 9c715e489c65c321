/*
 * fileio.h: the few file steps the programs share (muled's Maildir and
 * bad/ files, mule-submit's pickup files, every reader of muled.conf):
 * read a whole file, write everything, fsync a file, make a directory
 * entry durable.  Negative errno on failure, never -1 + errno.
 */
#ifndef TOOLS_FILEIO_H
#define TOOLS_FILEIO_H

#include <stddef.h>

#include "pmul/util/buf.h"

/* Append everything readable from fd to out, retrying EINTR; -EFBIG when
 * out would pass max octets, -ENOMEM. */
int fio_read_fd(int fd, size_t max, buf *out);
/* Read the regular file path into out (reset first): -EINVAL when it is
 * not a regular file, -EFBIG past max. */
int fio_read_file(const char *path, size_t max, buf *out);

/* write() all of a and then b (b may be NULL/0), retrying EINTR. */
int fio_write_all(int fd, const void *a, size_t alen, const void *b, size_t blen);
/* fsync the directory dir (after a rename or link into it). */
int fio_fsync_dir(const char *dir);
/* Create path (mode 0600; O_EXCL when excl), write a and b, fsync,
 * close.  On failure the file is removed. */
int fio_write_file(const char *path, int excl, const void *a, size_t alen, const void *b,
                   size_t blen);

#endif

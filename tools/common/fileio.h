/*
 * fileio.h: the few durable-file steps the programs share (muled's
 * Maildir and bad/ files, mule-submit's pickup files): write everything,
 * fsync a file, make a directory entry durable.  Negative errno on
 * failure, never -1 + errno.
 */
#ifndef TOOLS_FILEIO_H
#define TOOLS_FILEIO_H

#include <stddef.h>

/* write() all of a and then b (b may be NULL/0), retrying EINTR. */
int fio_write_all(int fd, const void *a, size_t alen, const void *b, size_t blen);
/* fsync the directory dir (after a rename or link into it). */
int fio_fsync_dir(const char *dir);
/* Create path (mode 0600; O_EXCL when excl), write a and b, fsync,
 * close.  On failure the file is removed. */
int fio_write_file(const char *path, int excl, const void *a, size_t alen, const void *b,
                   size_t blen);

#endif

/*
 * fileio.c: durable-file steps shared by muled and mule-submit (see
 * fileio.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/common/fileio.h"

static int
write_one(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int
fio_write_all(int fd, const void *a, size_t alen, const void *b, size_t blen)
{
    int rc = write_one(fd, a, alen);

    return rc == 0 && blen > 0 ? write_one(fd, b, blen) : rc;
}

int
fio_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

int
fio_write_file(const char *path, int excl, const void *a, size_t alen, const void *b,
               size_t blen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC), 0600);
    int rc;

    if (fd < 0)
        return -errno;
    rc = fio_write_all(fd, a, alen, b, blen);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc != 0)
        unlink(path);
    return rc;
}

int
fio_read_fd(int fd, size_t max, buf *out)
{
    uint8_t chunk[65536];

    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return 0;
        if (out->len + (size_t)r > max)
            return -EFBIG;
        if (buf_append(out, chunk, (size_t)r) != 0)
            return -ENOMEM;
    }
}

int
fio_read_file(const char *path, size_t max, buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int rc;

    buf_reset(out);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    rc = (uint64_t)st.st_size > max ? -EFBIG : fio_read_fd(fd, max, out);
    close(fd);
    return rc;
}

/*
 * mule_auditlog_fs.c: the audit log's files (mule_auditlog_fs.h): key
 * file, daily files, append with fsync, rotation, retention, and the
 * verifier that walks a whole directory.
 */
#include "mule/mule_auditlog_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "mule/mule_auditlog.h"
#include "mule/mule_err.h"
#include "pmul/util/buf.h"
#include "pmul/util/mem.h"

#define NAME_LEN     sizeof("audit-YYYYMMDD.log")   /* with the NUL */
#define FILES_MAX    100000u                        /* names listed per dir */
#define FILE_MAX     ((size_t)1 << 30)              /* one day's file, read whole */

struct mule_auditlog {
    char *dir;
    uint8_t key[MULE_AUDITLOG_KEY_MAX];
    size_t keylen;
    unsigned retention_days;
    enum mule_auditlog_sync sync;
    int fd;                     /* current file, -1: none yet */
    char name[NAME_LEN];        /* current file */
    int64_t day;                /* its UTC day (days since the epoch) */
    uint64_t size;              /* its length: where a failed write is cut back to */
    char last_file[NAME_LEN];   /* file of the last record ("" : none) */
    mule_auditlog_chain ch;
    bool unsynced;              /* deferred records in fd not yet synced */
};

/* ---- names ---------------------------------------------------------- */

static bool
name_ok(const char *n)
{
    if (strlen(n) != NAME_LEN - 1 || memcmp(n, "audit-", 6) != 0 ||
        strcmp(n + 14, ".log") != 0)
        return false;
    for (int i = 6; i < 14; i++)
        if (n[i] < '0' || n[i] > '9')
            return false;
    return true;
}

static void
name_of(int64_t day, char out[NAME_LEN])
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;

    gmtime_r(&t, &tm);
    /* Years 0..9999 only (the caller's clock); the rest cannot fit. */
    snprintf(out, NAME_LEN, "audit-%04u%02u%02u.log", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
}

static int64_t
day_of_name(const char *n)
{
    struct tm tm;

    memset(&tm, 0, sizeof tm);
    tm.tm_year = (n[6] - '0') * 1000 + (n[7] - '0') * 100 + (n[8] - '0') * 10 + n[9] - '0' - 1900;
    tm.tm_mon = (n[10] - '0') * 10 + n[11] - '0' - 1;
    tm.tm_mday = (n[12] - '0') * 10 + n[13] - '0';
    return (int64_t)timegm(&tm) / 86400;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The log's file names, sorted (oldest first). */
static int
list_files(const char *dir, char ***names, size_t *cnt)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    size_t n = 0, cap = 0;
    char **v = NULL;

    *names = NULL;
    *cnt = 0;
    if (dp == NULL)
        return MULE_ERR_AUDIT_IO;
    while ((de = readdir(dp)) != NULL) {
        if (!name_ok(de->d_name))
            continue;
        if (n == cap) {
            char **nv;
            if (cap >= FILES_MAX || (nv = realloc(v, (cap ? cap * 2 : 16) * sizeof *v)) == NULL)
                goto nomem;
            v = nv;
            cap = cap ? cap * 2 : 16;
        }
        if ((v[n] = strdup(de->d_name)) == NULL)
            goto nomem;
        n++;
    }
    closedir(dp);
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_names);
    *names = v;
    *cnt = n;
    return 0;
nomem:
    closedir(dp);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return MULE_ERR_NOMEM;
}

static void
free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd < 0)
        return MULE_ERR_AUDIT_IO;
    rc = fsync(fd);
    close(fd);
    return rc == 0 ? 0 : MULE_ERR_AUDIT_IO;
}

static int
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return MULE_ERR_AUDIT_IO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read a whole file (at most FILE_MAX octets) into b. */
static int
read_file(const char *dir, const char *name, buf *b)
{
    char path[4200];
    char tmp[65536];
    int fd;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return MULE_ERR_AUDIT_IO;
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || (r > 0 && buf_append(b, tmp, (size_t)r) != 0)) {
            close(fd);
            return r < 0 ? MULE_ERR_AUDIT_IO : MULE_ERR_NOMEM;
        }
        if (r == 0)
            break;
    }
    close(fd);
    return 0;
}

/* ---- key -------------------------------------------------------------- */

static int
key_create(const char *path)
{
    uint8_t k[32];
    char tmp[4200], dir[4200], *slash;
    int fd, rc;

    if (RAND_bytes(k, sizeof k) != 1)
        return MULE_ERR_AUDIT_CRYPTO;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    (void)unlink(tmp);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400)) < 0)
        return MULE_ERR_AUDIT_KEY;
    rc = write_all(fd, (const char *)k, sizeof k);
    if (rc == 0 && fsync(fd) != 0)
        rc = MULE_ERR_AUDIT_IO;
    close(fd);
    memset(k, 0, sizeof k);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = MULE_ERR_AUDIT_IO;
    if (rc < 0) {
        (void)unlink(tmp);
        return rc;
    }
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (slash != NULL)
        *(slash == dir ? slash + 1 : slash) = '\0';
    return fsync_dir(slash != NULL ? dir : ".");
}

int
mule_auditlog_key_load(const char *path, int create, uint8_t *key, size_t keymax,
                       size_t *keylen)
{
    struct stat st;
    ssize_t n;
    int fd, rc;

    if (path == NULL || key == NULL || keylen == NULL || keymax < MULE_AUDITLOG_KEY_MIN)
        return MULE_ERR_INVAL;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT && create) {
        if ((rc = key_create(path)) < 0)
            return rc;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0)
        return MULE_ERR_AUDIT_KEY;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        close(fd);
        return MULE_ERR_AUDIT_KEY;
    }
    do
        n = read(fd, key, keymax);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n < (ssize_t)MULE_AUDITLOG_KEY_MIN || (size_t)n > MULE_AUDITLOG_KEY_MAX) {
        memset(key, 0, keymax);
        return MULE_ERR_AUDIT_KEY;
    }
    *keylen = (size_t)n;
    return 0;
}

/* ---- open / append ---------------------------------------------------- */

/* The chain state after the last whole line of file b (len octets used). */
static int
tail_state(const buf *b, size_t len, mule_auditlog_chain *ch)
{
    mule_auditlog_rec r;
    const char *why;
    size_t start;

    if (len == 0)
        return 1;                               /* no record in it */
    start = len - 1;                            /* the line end */
    while (start > 0 && b->data[start - 1] != '\n')
        start--;
    if (mule_auditlog_parse((const char *)b->data + start, len - 1 - start, &r, &why) < 0)
        return MULE_ERR_AUDIT_BAD;
    ch->seq = r.seq;
    memcpy(ch->mac, r.mac, sizeof ch->mac);
    return 0;
}

int
mule_auditlog_open(mule_auditlog **out, const char *dir, const uint8_t *key, size_t keylen,
                   unsigned retention_days, enum mule_auditlog_sync sync, int64_t now_s,
                   int *torn)
{
    mule_auditlog *a;
    char **names = NULL;
    size_t cnt = 0;
    int rc = 0;

    (void)now_s;
    if (out == NULL || dir == NULL || key == NULL || keylen < MULE_AUDITLOG_KEY_MIN ||
        keylen > MULE_AUDITLOG_KEY_MAX || retention_days == 0)
        return MULE_ERR_INVAL;
    *out = NULL;
    if (torn != NULL)
        *torn = 0;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return MULE_ERR_AUDIT_IO;
    if ((a = calloc(1, sizeof *a)) == NULL || (a->dir = strdup(dir)) == NULL) {
        free(a);
        return MULE_ERR_NOMEM;
    }
    memcpy(a->key, key, keylen);
    a->keylen = keylen;
    a->retention_days = retention_days;
    a->sync = sync;
    a->fd = -1;
    if ((rc = list_files(dir, &names, &cnt)) < 0)
        goto fail;
    /* Newest first: the first file with a whole record says where the chain
     * stands; the newest file is the one appended to. */
    for (size_t i = cnt; i-- > 0;) {
        buf b;
        size_t len;

        buf_init(&b, NULL, FILE_MAX);
        if ((rc = read_file(dir, names[i], &b)) < 0) {
            buf_fini(&b);
            goto fail;
        }
        len = b.len;
        while (len > 0 && b.data[len - 1] != '\n')
            len--;
        if (i == cnt - 1) {
            char path[4200];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            if ((a->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
                buf_fini(&b);
                rc = MULE_ERR_AUDIT_IO;
                goto fail;
            }
            if (len != b.len) {                 /* a torn last line: cut it off */
                if (ftruncate(a->fd, (off_t)len) != 0 || fsync(a->fd) != 0) {
                    buf_fini(&b);
                    rc = MULE_ERR_AUDIT_IO;
                    goto fail;
                }
                if (torn != NULL)
                    *torn = 1;
            }
            memcpy(a->name, names[i], NAME_LEN);
            a->day = day_of_name(names[i]);
            a->size = len;
        }
        rc = tail_state(&b, len, &a->ch);
        buf_fini(&b);
        if (rc < 0)
            goto fail;
        if (rc == 0) {
            memcpy(a->last_file, names[i], NAME_LEN);
            break;
        }
        rc = 0;
    }
    free_names(names, cnt);
    *out = a;
    return 0;
fail:
    free_names(names, cnt);
    mule_auditlog_close(a);
    return rc;
}

static int
put_record(mule_auditlog *a, int64_t now_s, const char *text, bool defer)
{
    static char line[MULE_AUDITLOG_LINE_MAX + 8];
    mule_auditlog_chain next = a->ch;
    long n = mule_auditlog_format(&next, a->key, a->keylen, now_s, text, line, sizeof line);
    int rc;

    if (n < 0)
        return (int)n;
    rc = write_all(a->fd, line, (size_t)n);
    /* fdatasync covers the whole file: deferred records before this one
     * become durable with it. */
    if (rc == 0 && a->sync == MULE_AUDITLOG_SYNC_EVERY && !defer) {
        if (fdatasync(a->fd) != 0)
            rc = MULE_ERR_AUDIT_IO;
        else
            a->unsynced = false;
    }
    if (rc < 0) {
        /* Never leave half a record for the next one to follow; if even
         * that fails, the next open cuts the torn line. */
        if (ftruncate(a->fd, (off_t)a->size) != 0)
            rc = MULE_ERR_AUDIT_IO;
        return rc;
    }
    a->size += (uint64_t)n;
    a->ch = next;
    if (defer && a->sync == MULE_AUDITLOG_SYNC_EVERY)
        a->unsynced = true;
    memcpy(a->last_file, a->name, NAME_LEN);
    return 0;
}

/* Remove files older than the retention window and record that. */
static int
retention(mule_auditlog *a, int64_t today, int64_t now_s)
{
    char **names = NULL, text[MULE_AUDITLOG_TEXT_MAX];
    size_t cnt = 0, o, listed = 0;
    bool *gone;
    int rc = list_files(a->dir, &names, &cnt);

    if (rc < 0)
        return rc;
    if ((gone = calloc(cnt + 1, sizeof *gone)) == NULL) {
        free_names(names, cnt);
        return MULE_ERR_NOMEM;
    }
    o = (size_t)snprintf(text, sizeof text, "mule-audit event=retention days=%u removed=",
                         a->retention_days);
    for (size_t i = 0; i < cnt; i++) {
        if (strcmp(names[i], a->name) == 0 ||
            day_of_name(names[i]) >= today - (int64_t)a->retention_days)
            continue;
        if (o + NAME_LEN + 1 >= sizeof text)
            break;                              /* the rest goes next time */
        o += (size_t)snprintf(text + o, sizeof text - o, "%s%s", listed ? "," : "", names[i]);
        gone[i] = true;
        listed++;
    }
    /* The record first, durable, then the removals: a crash in between
     * leaves files the record names (harmless, removed next time), never
     * a file gone that no record explains (a false tampering alarm). */
    if (listed > 0 && (rc = put_record(a, now_s, text, false)) == 0) {
        for (size_t i = 0; i < cnt; i++) {
            char path[4200];
            if (!gone[i])
                continue;
            snprintf(path, sizeof path, "%s/%s", a->dir, names[i]);
            (void)unlink(path);
        }
        if (a->sync == MULE_AUDITLOG_SYNC_EVERY)
            rc = fsync_dir(a->dir);
    }
    free(gone);
    free_names(names, cnt);
    return rc;
}

/* Start today's file with its chain record. */
static int
rotate(mule_auditlog *a, int64_t day, int64_t now_s)
{
    char name[NAME_LEN], path[4200], text[512];
    int fd, rc;

    name_of(day, name);
    snprintf(path, sizeof path, "%s/%s", a->dir, name);
    if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)) < 0)
        return MULE_ERR_AUDIT_IO;
    if (a->sync == MULE_AUDITLOG_SYNC_EVERY && (rc = fsync_dir(a->dir)) < 0) {
        close(fd);
        return rc;
    }
    mule_auditlog_link_text(a->last_file[0] != '\0' ? a->last_file : "-", &a->ch, text,
                            sizeof text);
    /* The old file's deferred records must not be left unsynced behind a
     * file nobody appends to any more (once a day: blocking is fine). */
    if (a->fd >= 0) {
        if (a->unsynced && fdatasync(a->fd) == 0)
            a->unsynced = false;
        close(a->fd);
    }
    a->fd = fd;
    memcpy(a->name, name, NAME_LEN);
    a->day = day;
    a->size = (uint64_t)lseek(fd, 0, SEEK_END);
    if ((rc = put_record(a, now_s, text, false)) < 0)
        return rc;
    return retention(a, day, now_s);
}

static int
append(mule_auditlog *a, int64_t now_s, const char *text, bool defer)
{
    int64_t day = now_s >= 0 ? now_s / 86400 : 0;
    int rc;

    if (a == NULL || text == NULL || !mule_auditlog_text_ok(text, strlen(text)))
        return MULE_ERR_INVAL;
    /* A new day, the first record, or a file emptied by a torn first line
     * (a clock stepping back keeps today's file: names must stay ordered). */
    if (a->fd < 0 || day > a->day || a->size == 0) {
        if ((rc = rotate(a, day > a->day || a->fd < 0 ? day : a->day, now_s)) < 0)
            return rc;
    }
    return put_record(a, now_s, text, defer);
}

int
mule_auditlog_append(mule_auditlog *a, int64_t now_s, const char *text)
{
    return append(a, now_s, text, false);
}

int
mule_auditlog_append_deferred(mule_auditlog *a, int64_t now_s, const char *text)
{
    return append(a, now_s, text, true);
}

int
mule_auditlog_sync_fd(mule_auditlog *a)
{
    int fd;

    if (a == NULL || !a->unsynced || a->fd < 0)
        return -1;
    if ((fd = dup(a->fd)) < 0) {
        /* No second descriptor: sync here rather than not at all. */
        if (fdatasync(a->fd) != 0)
            return MULE_ERR_AUDIT_IO;
        a->unsynced = false;
        return -1;
    }
    a->unsynced = false;
    return fd;
}

bool
mule_auditlog_unsynced(const mule_auditlog *a)
{
    return a != NULL && a->unsynced;
}

uint64_t
mule_auditlog_seq(const mule_auditlog *a)
{
    return a != NULL ? a->ch.seq : 0;
}

void
mule_auditlog_close(mule_auditlog *a)
{
    if (a == NULL)
        return;
    if (a->fd >= 0) {
        if (a->unsynced)
            (void)fdatasync(a->fd);     /* a clean stop keeps deferred records */
        close(a->fd);
    }
    memset(a->key, 0, sizeof a->key);
    free(a->dir);
    free(a);
}

/* ---- verify ------------------------------------------------------------ */

static void
bad(mule_auditlog_report *rep, const char *file, unsigned long line, const char *why)
{
    if (!rep->ok)
        return;
    rep->ok = false;
    snprintf(rep->bad_file, sizeof rep->bad_file, "%s", file);
    rep->bad_line = line;
    snprintf(rep->why, sizeof rep->why, "%s", why);
}

/* Is name among the comma list removed=... of a retention record? */
static bool
listed(const char *text, size_t len, const char *name)
{
    static const char key[] = "mule-audit event=retention ";
    const char *p, *end = text + len;
    size_t nl = strlen(name);

    if (len < sizeof key - 1 || memcmp(text, key, sizeof key - 1) != 0)
        return false;
    for (p = text; p + 8 <= end; p++)
        if (memcmp(p, "removed=", 8) == 0)
            break;
    for (p += 8; p + nl <= end; p++)
        if (memcmp(p, name, nl) == 0 && (p + nl == end || p[nl] == ',' || p[nl] == ' ') &&
            (p[-1] == '=' || p[-1] == ','))
            return true;
    return false;
}

int
mule_auditlog_verify_dir(const char *dir, const uint8_t *key, size_t keylen,
                         mule_auditlog_report *rep)
{
    char **names = NULL, anchor_prev[MULE_AUDITLOG_NAME_MAX] = "", first[NAME_LEN] = "";
    mule_auditlog_chain ch;
    size_t cnt = 0;
    bool anchor_explained = false;
    int rc;

    if (dir == NULL || key == NULL || rep == NULL || keylen < MULE_AUDITLOG_KEY_MIN ||
        keylen > MULE_AUDITLOG_KEY_MAX)
        return MULE_ERR_INVAL;
    memset(rep, 0, sizeof *rep);
    rep->ok = true;
    memset(&ch, 0, sizeof ch);
    if ((rc = list_files(dir, &names, &cnt)) < 0)
        return rc;
    rep->files = cnt;
    for (size_t f = 0; f < cnt && rep->ok; f++) {
        buf b;
        size_t pos = 0;
        unsigned long lineno = 0;

        buf_init(&b, NULL, FILE_MAX);
        if ((rc = read_file(dir, names[f], &b)) < 0) {
            buf_fini(&b);
            free_names(names, cnt);
            return rc;
        }
        if (b.len == 0 && f + 1 < cnt)
            bad(rep, names[f], 1, "empty file in the middle of the log");
        while (pos < b.len && rep->ok) {
            const char *line = (const char *)b.data + pos;
            const uint8_t *nl = memchr(b.data + pos, '\n', b.len - pos);
            size_t len = nl != NULL ? (size_t)(nl - (b.data + pos)) : b.len - pos;
            char why[160];

            lineno++;
            if (nl == NULL) {
                if (f + 1 == cnt)
                    rep->torn_tail = true;       /* a crash mid-write: reported only */
                else
                    bad(rep, names[f], lineno, "partial record in the middle of the log");
                break;
            }
            if (lineno == 1) {
                mule_auditlog_rec r;
                mule_auditlog_link l;
                const char *w;
                if (mule_auditlog_parse(line, len, &r, &w) < 0 ||
                    !mule_auditlog_link_parse(r.text, r.text_len, &l)) {
                    bad(rep, names[f], lineno, "the file does not start with a chain record");
                    break;
                }
                if (f == 0) {
                    /* The oldest file present: its chain record is the anchor,
                     * and a predecessor it names must have gone by retention. */
                    ch = l.prev;
                    memcpy(first, names[f], NAME_LEN);
                    snprintf(anchor_prev, sizeof anchor_prev, "%s", l.prev_file);
                    anchor_explained = strcmp(l.prev_file, "-") == 0 && l.prev.seq == 0;
                } else if (strcmp(l.prev_file, names[f - 1]) != 0 || l.prev.seq != ch.seq ||
                           memcmp(l.prev.mac, ch.mac, sizeof ch.mac) != 0) {
                    snprintf(why, sizeof why, "does not continue %s (it names %s, seq %" PRIu64
                             "): a file between is missing or replaced", names[f - 1],
                             l.prev_file, l.prev.seq);
                    bad(rep, names[f], lineno, why);
                    break;
                }
            }
            if (mule_auditlog_check(&ch, key, keylen, line, len, why, sizeof why) < 0) {
                bad(rep, names[f], lineno, why);
                break;
            }
            rep->records++;
            rep->last_seq = ch.seq;
            if (!anchor_explained && anchor_prev[0] != '\0') {
                mule_auditlog_rec r;
                const char *w;
                if (mule_auditlog_parse(line, len, &r, &w) == 0 &&
                    listed(r.text, r.text_len, anchor_prev))
                    anchor_explained = true;
            }
            pos += len + 1;
        }
        buf_fini(&b);
    }
    if (rep->ok && cnt > 0 && !anchor_explained) {
        char why[200];
        snprintf(why, sizeof why, "files before it are missing (%s) and no retention record "
                 "says they were removed", anchor_prev);
        bad(rep, first, 1, why);
    }
    free_names(names, cnt);
    return 0;
}

/*
 * test_mule_auditlog.c: the HMAC-chained audit log (mule/mule_auditlog*).
 *
 * A log is written into a fresh temporary directory over several UTC
 * days, then tampered with in each way the issue names: a byte of a
 * record edited, a record deleted, a record inserted (copied from
 * elsewhere, or forged without the key), two records swapped, a file cut
 * in the middle of a record, a whole middle day removed, and the log's
 * tail cut.  verify must name the first bad record each time, and accept
 * the log untouched, after retention, and with a torn tail (reported).
 * Also: reopening continues the chain, a torn last line is cut off, a
 * wrong key fails, and key files others may read are refused.
 * Deferred records (group sync): tracked as unsynced until a sync_fd, a
 * synced record, a rotation or close, and the chain they form verifies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mule/mule_auditlog.h"
#include "mule/mule_auditlog_fs.h"
#include "mule/mule_err.h"

#define DAY 86400
#define T0  ((int64_t)20000 * DAY + 3600)   /* 2024-10-04 01:00 UTC */

static const uint8_t key[32] = "0123456789abcdef0123456789abcdef";

typedef struct fx {
    char dir[64];
} fx;

static int
setup(void **state)
{
    fx *f = calloc(1, sizeof *f);

    snprintf(f->dir, sizeof f->dir, "/tmp/test-auditlog.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* Three days of records: 4 on day 0, 3 on day 1, 2 on day 2. */
static void
write_log(const char *dir, unsigned retention)
{
    mule_auditlog *a;
    char text[64];

    assert_int_equal(mule_auditlog_open(&a, dir, key, sizeof key, retention,
                                        MULE_AUDITLOG_SYNC_EVERY, T0, NULL), 0);
    for (int d = 0, n = 4; d < 3; d++, n--)
        for (int i = 0; i < n; i++) {
            snprintf(text, sizeof text, "mule-audit event=test day=%d i=%d", d, i);
            assert_int_equal(mule_auditlog_append(a, T0 + d * DAY + i, text), 0);
        }
    mule_auditlog_close(a);
}

static void
path_of(const fx *f, int day, char *out, size_t len)
{
    snprintf(out, len, "%s/audit-2024100%d.log", f->dir, 4 + day);
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *b = malloc(1 << 20);

    assert_non_null(fp);
    *len = fread(b, 1, (1 << 20) - 1, fp);
    b[*len] = '\0';
    fclose(fp);
    return b;
}

static void
spit(const char *path, const char *b, size_t len)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, len, fp), len);
    fclose(fp);
}

/* Offset of line n (1-based) in b. */
static size_t
line_at(const char *b, int n)
{
    const char *p = b;

    while (--n > 0)
        p = strchr(p, '\n') + 1;
    return (size_t)(p - b);
}

/* A fresh three-day log, and the file of one day read in. */
static char *
fresh_day(const fx *f, int day, char *p, size_t plen, size_t *len)
{
    write_log(f->dir, 10);
    path_of(f, day, p, plen);
    return slurp(p, len);
}

static void
expect_bad(const fx *f, const char *file, unsigned long line, const char *why)
{
    mule_auditlog_report rep;

    assert_int_equal(mule_auditlog_verify_dir(f->dir, key, sizeof key, &rep), 0);
    if (rep.ok || strcmp(rep.bad_file, file) != 0 || rep.bad_line != line ||
        strstr(rep.why, why) == NULL)
        fail_msg("got ok=%d %s:%lu %s; want %s:%lu %s", rep.ok, rep.bad_file, rep.bad_line,
                 rep.why, file, line, why);
}

static void
test_good_log(void **state)
{
    fx *f = *state;
    mule_auditlog_report rep;

    write_log(f->dir, 10);
    assert_int_equal(mule_auditlog_verify_dir(f->dir, key, sizeof key, &rep), 0);
    assert_true(rep.ok);
    assert_false(rep.torn_tail);
    assert_int_equal(rep.files, 3);
    /* 9 records and one chain record per file. */
    assert_int_equal(rep.records, 12);
    assert_int_equal(rep.last_seq, 12);
    /* The wrong key finds the first record bad. */
    uint8_t other[32];
    memcpy(other, key, sizeof other);
    other[0] ^= 1;
    assert_int_equal(mule_auditlog_verify_dir(f->dir, other, sizeof other, &rep), 0);
    assert_false(rep.ok);
    assert_int_equal(rep.bad_line, 1);
}

static void
test_edited_record(void **state)
{
    fx *f = *state;
    char p[128];
    size_t len;

    char *b = fresh_day(f, 1, p, sizeof p, &len);
    char *t = strstr(b + line_at(b, 3), "i=1");
    t[2] = '7';
    spit(p, b, len);
    free(b);
    expect_bad(f, "audit-20241005.log", 3, "MAC mismatch");
}

static void
test_deleted_record(void **state)
{
    fx *f = *state;
    char p[128];
    size_t len;

    char *b = fresh_day(f, 0, p, sizeof p, &len);
    size_t a = line_at(b, 3), z = line_at(b, 4);
    memmove(b + a, b + z, len - z);
    spit(p, b, len - (z - a));
    free(b);
    expect_bad(f, "audit-20241004.log", 3, "sequence gap");
}

static void
test_inserted_record(void **state)
{
    fx *f = *state;
    char p[128], line[MULE_AUDITLOG_LINE_MAX];
    size_t len;
    mule_auditlog_chain ch;
    uint8_t fake[32];

    char *b = fresh_day(f, 0, p, sizeof p, &len);
    /* A record forged with another key, numbered to fit after line 2. */
    memset(&ch, 0, sizeof ch);
    ch.seq = 2;
    memset(fake, 'k', sizeof fake);
    long n = mule_auditlog_format(&ch, fake, sizeof fake, T0, "mule-audit event=forged",
                                  line, sizeof line);
    assert_true(n > 0);
    size_t at = line_at(b, 3);
    char *nb = malloc(len + (size_t)n + 1);
    memcpy(nb, b, at);
    memcpy(nb + at, line, (size_t)n);
    memcpy(nb + at + n, b + at, len - at);
    spit(p, nb, len + (size_t)n);
    free(nb);
    free(b);
    expect_bad(f, "audit-20241004.log", 3, "MAC mismatch");
}

static void
test_swapped_records(void **state)
{
    fx *f = *state;
    char p[128];
    size_t len;

    char *b = fresh_day(f, 0, p, sizeof p, &len);
    size_t a = line_at(b, 2), m = line_at(b, 3), z = line_at(b, 4);
    char *nb = malloc(len + 1);
    memcpy(nb, b, a);
    memcpy(nb + a, b + m, z - m);
    memcpy(nb + a + (z - m), b + a, m - a);
    memcpy(nb + z, b + z, len - z);
    spit(p, nb, len);
    free(nb);
    free(b);
    expect_bad(f, "audit-20241004.log", 2, "sequence gap");
}

static void
test_cut_mid_record(void **state)
{
    fx *f = *state;
    char p[128];
    size_t len;
    mule_auditlog_report rep;

    write_log(f->dir, 10);
    /* Cut inside the middle file: a partial record in the middle. */
    path_of(f, 1, p, sizeof p);
    char *b = slurp(p, &len);
    spit(p, b, line_at(b, 3) + 10);
    free(b);
    expect_bad(f, "audit-20241005.log", 3, "partial record");
    /* Cut inside the newest file's last record: a torn tail, reported. */
    teardown(state);
    setup(state);
    f = *state;
    b = fresh_day(f, 2, p, sizeof p, &len);
    spit(p, b, len - 7);
    free(b);
    assert_int_equal(mule_auditlog_verify_dir(f->dir, key, sizeof key, &rep), 0);
    assert_true(rep.ok);
    assert_true(rep.torn_tail);
    assert_int_equal(rep.last_seq, 11);
}

static void
test_deleted_day(void **state)
{
    fx *f = *state;
    char p[128];

    write_log(f->dir, 10);
    path_of(f, 1, p, sizeof p);
    assert_int_equal(unlink(p), 0);
    expect_bad(f, "audit-20241006.log", 1, "a file between is missing");
    /* And the oldest one, without a retention record to explain it. */
    teardown(state);
    setup(state);
    f = *state;
    write_log(f->dir, 10);
    path_of(f, 0, p, sizeof p);
    assert_int_equal(unlink(p), 0);
    expect_bad(f, "audit-20241005.log", 1, "no retention record");
}

/* Retention (1 day) removes the old files and says so: the rest verifies. */
static void
test_retention(void **state)
{
    fx *f = *state;
    char p[128];
    mule_auditlog_report rep;
    struct stat st;

    write_log(f->dir, 1);
    path_of(f, 0, p, sizeof p);
    assert_int_not_equal(stat(p, &st), 0);
    path_of(f, 1, p, sizeof p);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(mule_auditlog_verify_dir(f->dir, key, sizeof key, &rep), 0);
    if (!rep.ok)
        fail_msg("%s:%lu %s", rep.bad_file, rep.bad_line, rep.why);
    assert_int_equal(rep.files, 2);
}

/* Reopen after a crash mid-write: the torn line goes, the chain goes on. */
static void
test_reopen_torn(void **state)
{
    fx *f = *state;
    char p[128];
    size_t len;
    int torn = 0;
    mule_auditlog *a;
    mule_auditlog_report rep;

    char *b = fresh_day(f, 2, p, sizeof p, &len);
    spit(p, b, len - 20);
    free(b);
    assert_int_equal(mule_auditlog_open(&a, f->dir, key, sizeof key, 10,
                                        MULE_AUDITLOG_SYNC_EVERY, T0 + 2 * DAY + 60, &torn), 0);
    assert_int_equal(torn, 1);
    assert_int_equal(mule_auditlog_seq(a), 11);
    assert_int_equal(mule_auditlog_append(a, T0 + 2 * DAY + 61, "mule-audit event=after"), 0);
    assert_int_equal(mule_auditlog_seq(a), 12);
    /* A record with a line end in it is refused, the chain unchanged. */
    assert_int_equal(mule_auditlog_append(a, T0 + 2 * DAY + 62, "a\nb"), MULE_ERR_INVAL);
    mule_auditlog_close(a);
    assert_int_equal(mule_auditlog_verify_dir(f->dir, key, sizeof key, &rep), 0);
    assert_true(rep.ok);
    assert_false(rep.torn_tail);
    assert_int_equal(rep.last_seq, 12);
}

static void
test_deferred(void **state)
{
    fx *f = *state;
    mule_auditlog *a;
    mule_auditlog_report rep;
    int fd;

    assert_int_equal(mule_auditlog_open(&a, f->dir, key, sizeof key, 30,
                                        MULE_AUDITLOG_SYNC_EVERY, T0, NULL), 0);
    assert_false(mule_auditlog_unsynced(a));
    assert_int_equal(mule_auditlog_sync_fd(a), -1);          /* nothing to sync */
    /* Three deferred records: one descriptor syncs them all. */
    for (int i = 0; i < 3; i++) {
        char text[64];

        snprintf(text, sizeof text, "mule-audit event=test deferred=%d", i);
        assert_int_equal(mule_auditlog_append_deferred(a, T0 + i, text), 0);
        assert_true(mule_auditlog_unsynced(a));
    }
    fd = mule_auditlog_sync_fd(a);
    assert_true(fd >= 0);
    assert_false(mule_auditlog_unsynced(a));
    assert_int_equal(fdatasync(fd), 0);
    close(fd);
    assert_int_equal(mule_auditlog_sync_fd(a), -1);
    /* A synced record covers the deferred ones before it. */
    assert_int_equal(mule_auditlog_append_deferred(a, T0 + 10, "mule-audit event=test d"), 0);
    assert_true(mule_auditlog_unsynced(a));
    assert_int_equal(mule_auditlog_append(a, T0 + 11, "mule-audit event=test s"), 0);
    assert_false(mule_auditlog_unsynced(a));
    /* A new day: the old file is synced before it is left; the new day's
     * deferred record is what waits. */
    assert_int_equal(mule_auditlog_append_deferred(a, T0 + 12, "mule-audit event=test d1"), 0);
    assert_int_equal(mule_auditlog_append_deferred(a, T0 + DAY, "mule-audit event=test d2"), 0);
    assert_true(mule_auditlog_unsynced(a));
    mule_auditlog_close(a);                                  /* syncs */
    assert_int_equal(mule_auditlog_verify_dir(f->dir, key, sizeof key, &rep), 0);
    assert_true(rep.ok);
    assert_false(rep.torn_tail);
    assert_int_equal(rep.files, 2);
    /* With sync NONE nothing is ever waiting for a sync. */
    assert_int_equal(mule_auditlog_open(&a, f->dir, key, sizeof key, 30,
                                        MULE_AUDITLOG_SYNC_NONE, T0 + DAY, NULL), 0);
    assert_int_equal(mule_auditlog_append_deferred(a, T0 + DAY + 1, "mule-audit event=t n"), 0);
    assert_false(mule_auditlog_unsynced(a));
    assert_int_equal(mule_auditlog_sync_fd(a), -1);
    assert_int_equal(mule_auditlog_sync_fd(NULL), -1);
    mule_auditlog_close(a);
    assert_int_equal(mule_auditlog_verify_dir(f->dir, key, sizeof key, &rep), 0);
    assert_true(rep.ok);
}

static void
test_key_file(void **state)
{
    fx *f = *state;
    char p[128];
    uint8_t k[64];
    size_t kl = 0;

    snprintf(p, sizeof p, "%s/key", f->dir);
    assert_int_equal(mule_auditlog_key_load(p, 0, k, sizeof k, &kl), MULE_ERR_AUDIT_KEY);
    assert_int_equal(mule_auditlog_key_load(p, 1, k, sizeof k, &kl), 0);
    assert_int_equal(kl, 32);
    uint8_t k2[64];
    size_t kl2 = 0;
    assert_int_equal(mule_auditlog_key_load(p, 1, k2, sizeof k2, &kl2), 0);
    assert_memory_equal(k, k2, 32);
    assert_int_equal(chmod(p, 0440), 0);
    assert_int_equal(mule_auditlog_key_load(p, 0, k, sizeof k, &kl), MULE_ERR_AUDIT_KEY);
    assert_int_equal(chmod(p, 0604), 0);
    assert_int_equal(mule_auditlog_key_load(p, 0, k, sizeof k, &kl), MULE_ERR_AUDIT_KEY);
    /* Too short a key. */
    snprintf(p, sizeof p, "%s/short", f->dir);
    spit(p, "0123456789", 10);
    assert_int_equal(chmod(p, 0400), 0);
    assert_int_equal(mule_auditlog_key_load(p, 0, k, sizeof k, &kl), MULE_ERR_AUDIT_KEY);
}

/* The codec alone: parse/check refuse every malformed line. */
static void
test_codec(void **state)
{
    mule_auditlog_chain ch, v;
    char line[MULE_AUDITLOG_LINE_MAX], why[128];
    long n;

    (void)state;
    memset(&ch, 0, sizeof ch);
    n = mule_auditlog_format(&ch, key, sizeof key, 5, "hello world", line, sizeof line);
    assert_true(n > 0);
    memset(&v, 0, sizeof v);
    assert_int_equal(mule_auditlog_check(&v, key, sizeof key, line, (size_t)n - 1, why,
                                         sizeof why), 0);
    assert_int_equal(v.seq, 1);
    static const char *const bad[] = {
        "", "1 5 x", "0 5 hello mac=", "01 5 hello", "1 -5 hello",
        "x 5 hello mac=0000000000000000000000000000000000000000000000000000000000000000",
        "1 5  mac=0000000000000000000000000000000000000000000000000000000000000000",
        "1 5 hi mac=000000000000000000000000000000000000000000000000000000000000000G",
        "1 5 hi mac=00000000000000000000000000000000000000000000000000000000000000",
        "99999999999999999999999 5 hi mac=0000000000000000000000000000000000000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&v, 0, sizeof v);
        if (mule_auditlog_check(&v, key, sizeof key, bad[i], strlen(bad[i]), why,
                                sizeof why) != MULE_ERR_AUDIT_BAD)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(v.seq, 0);
    }
    /* Every prefix of a good line is refused (truncation loop). */
    for (size_t k = 0; k + 1 < (size_t)n; k++) {
        memset(&v, 0, sizeof v);
        assert_int_equal(mule_auditlog_check(&v, key, sizeof key, line, k, why, sizeof why),
                         MULE_ERR_AUDIT_BAD);
    }
    mule_auditlog_link l;
    char t[512];
    mule_auditlog_link_text("audit-20241004.log", &ch, t, sizeof t);
    assert_true(mule_auditlog_link_parse(t, strlen(t), &l));
    assert_string_equal(l.prev_file, "audit-20241004.log");
    assert_int_equal(l.prev.seq, 1);
    assert_memory_equal(l.prev.mac, ch.mac, 32);
    assert_false(mule_auditlog_link_parse(t, strlen(t) - 1, &l));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec),
        cmocka_unit_test_setup_teardown(test_good_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edited_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inserted_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_mid_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_torn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

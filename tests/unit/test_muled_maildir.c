/*
 * test_muled_maildir.c: muled's embedded Maildir delivery
 * (tools/muled/muled_maildir.c) on a real directory tree: the file lands in
 * new/ with the MDA's fields on top, and a delivery repeated after a crash
 * at any step (before link(), between link() and unlink(), after the MUA
 * moved it to cur/) leaves exactly one copy and no tmp/ file.  The crash
 * states are built by hand, so each is reached every run, not by chance.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tools/muled/muled.h"

#define RCPT "Bob@Example.ORG"
#define KEY "q42.0"
#define WHEN 1700000000

static char root[256];

static int
setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/test_muled_maildir.XXXXXX");
    return mkdtemp(root) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

/* Files in ROOT/bob@example.org/SUB (0 when the directory is missing). */
static int
count(const char *sub)
{
    char dir[400];
    struct dirent *de;
    DIR *d;
    int n = 0;

    snprintf(dir, sizeof(dir), "%s/bob@example.org/%s", root, sub);
    if ((d = opendir(dir)) == NULL)
        return 0;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void
path_of(char *out, size_t len, const char *sub, const char *suffix)
{
    snprintf(out, len, "%s/bob@example.org/%s/%d.%s.node1%s", root, sub, WHEN, KEY, suffix);
}

static int
deliver(char *why, size_t whylen)
{
    static const char body[] = "Subject: t\r\n\r\nhello\r\n";

    return muled_maildir_deliver(root, "node1", RCPT, "alice@example.net",
                                 (const uint8_t *)body, sizeof(body) - 1, KEY, WHEN, why, whylen);
}

static void
put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
test_first_delivery(void **state)
{
    char why[256], p[400], text[256];
    FILE *f;
    size_t n;

    (void)state;
    assert_int_equal(deliver(why, sizeof(why)), MULED_OK);
    assert_non_null(strstr(why, "250 2.0.0 bob@example.org/new/"));
    assert_int_equal(count("new"), 1);
    assert_int_equal(count("tmp"), 0);
    path_of(p, sizeof(p), "new", "");
    f = fopen(p, "r");
    assert_non_null(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = 0;
    assert_string_equal(text, "Return-Path: <alice@example.net>\r\nDelivered-To: " RCPT
                             "\r\nSubject: t\r\n\r\nhello\r\n");
}

/* Crash after link() and before unlink(): the file is in new/ and tmp/. */
static void
test_crash_between_link_and_unlink(void **state)
{
    char why[256], t[400], n[400];

    (void)state;
    assert_int_equal(deliver(why, sizeof(why)), MULED_OK);
    path_of(t, sizeof(t), "tmp", "");
    path_of(n, sizeof(n), "new", "");
    assert_int_equal(link(n, t), 0);
    assert_int_equal(count("tmp"), 1);
    assert_int_equal(deliver(why, sizeof(why)), MULED_OK);
    assert_non_null(strstr(why, "(delivered before)"));
    assert_int_equal(count("new"), 1);
    assert_int_equal(count("tmp"), 0);
}

/* Crash before link(): only a tmp/ copy, maybe partial; it is rewritten. */
static void
test_crash_before_link(void **state)
{
    char why[256], t[400], dir[400];

    (void)state;
    snprintf(dir, sizeof(dir), "%s/bob@example.org", root);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(dir, sizeof(dir), "%s/bob@example.org/tmp", root);
    assert_int_equal(mkdir(dir, 0700), 0);
    path_of(t, sizeof(t), "tmp", "");
    put(t, "Return-Path: <alice@exa");
    assert_int_equal(deliver(why, sizeof(why)), MULED_OK);
    assert_null(strstr(why, "(delivered before)"));
    assert_int_equal(count("new"), 1);
    assert_int_equal(count("tmp"), 0);
}

/* The reader's MUA moved it to cur/ before the repeat: not made again. */
static void
test_repeat_after_mua_read(void **state)
{
    char why[256], c[400], n[400];

    (void)state;
    assert_int_equal(deliver(why, sizeof(why)), MULED_OK);
    path_of(n, sizeof(n), "new", "");
    path_of(c, sizeof(c), "cur", ":2,");
    assert_int_equal(rename(n, c), 0);
    assert_int_equal(deliver(why, sizeof(why)), MULED_OK);
    assert_non_null(strstr(why, "(delivered before)"));
    assert_int_equal(count("new"), 0);
    assert_int_equal(count("cur"), 1);
    assert_int_equal(count("tmp"), 0);
}

/* An envelope address is never bent into another path. */
static void
test_unsafe_address(void **state)
{
    static const char *const bad[] = {"../etc@x", "a/b@x", ".hidden@x", "no-at", "a@b@c",
                                      "a..b@x", "@x", ""};
    char why[256];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(muled_maildir_deliver(root, "node1", bad[i], "", (const uint8_t *)"x", 1,
                                               KEY, WHEN, why, sizeof(why)), MULED_PERM);
        assert_non_null(strstr(why, "5.1.3"));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_delivery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_between_link_and_unlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_before_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeat_after_mua_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_address, setup, teardown),
    };

    return cmocka_run_group_tests_name("muled_maildir", tests, NULL, NULL);
}

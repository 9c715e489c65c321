/*
 * test_mule_conf.c: unit tests of mule/mule_conf (muled.conf).
 *
 * Covers the minimal config (node_id, spool_dir, routes) and its derived
 * defaults, every kind of value, CRLF and comments, each error with its
 * line number (unknown key, duplicate, bad value, missing '=', overlong
 * line, NUL), the cross-checks, and a truncation loop over a full file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mule/mule_conf.h"
#include "mule/mule_err.h"
#include "pmul/util/log.h"
#include "test_common.h"

static int
parse(const char *text, mule_conf *c, mule_conf_error *err)
{
    int rc;

    mule_conf_default(c);
    rc = mule_conf_parse(text, strlen(text), c, err);
    if (rc == 0)
        rc = mule_conf_check(c, err);
    return rc;
}

static void
test_mule_conf_minimal(void **state)
{
    mule_conf c;
    mule_conf_error err;

    (void)state;
    assert_int_equal(parse("node_id = 198.18.0.1\nspool_dir=/var/spool/mule\n"
                           "routes = /etc/mule/routes\n", &c, &err), 0);
    assert_int_equal(c.node_id, 0xC6120001u);
    assert_string_equal(c.node_id_text, "198.18.0.1");
    assert_string_equal(c.hostname, "198.18.0.1");
    assert_string_equal(c.deliver, "maildir");
    assert_string_equal(c.maildir, "/var/spool/mule/maildir");
    assert_int_equal(c.group, 0xEF010102u);
    assert_int_equal(c.rate, 9600);
    assert_int_equal(c.pdu_size, 1024);
    assert_int_equal(c.expiry_ms, 86400000);
    assert_false(c.emcon);
    assert_int_equal(c.log_level, LOG_LVL_INFO);
    assert_string_equal(c.audit_dir, "/var/spool/mule/audit");
    assert_string_equal(c.audit_key, "/var/spool/mule/audit.key");
    assert_string_equal(c.user, "mule");
    assert_string_equal(c.control_group, "mule");
    assert_string_equal(c.control_socket, "/run/mule/muled.sock");
    assert_int_equal(c.audit_retention_days, 10);
    assert_true(c.audit_fsync);
    /* The engine caps are not set: muled leaves the engine's defaults. */
    assert_int_equal(c.pmul_max_sources, 0);
    assert_int_equal(c.pmul_max_rx_messages, 0);
    assert_int_equal(c.pmul_max_rx_messages_per_source, 0);
    assert_int_equal(c.pmul_max_rx_bytes, 0);
    assert_int_equal(c.pmul_max_rx_bytes_per_source, 0);
    assert_int_equal(c.pmul_rx_idle_ms, 0);
    assert_int_equal(c.pmul_max_groups, 0);
    assert_true(c.pmul_fec);
    assert_int_equal(c.pmul_fec_ratio, 10);
    assert_int_equal(c.pmul_fec_emcon_repairs, 8);
    assert_true(c.pmul_fec_adaptive);
    assert_true(c.pmul_fec_joint);
    assert_int_equal(c.pmul_fec_joint_max, 8);
    assert_int_equal(c.pmul_fec_keep, (size_t)1 << 20);
    assert_true(c.shared_medium);
    mule_conf_fini(&c);
}

/* The P_MUL receiver caps (issue 13: caps an operator can set). */
static void
test_mule_conf_pmul_caps(void **state)
{
    mule_conf c;
    mule_conf_error err;

    (void)state;
    assert_int_equal(parse("node_id = 198.18.0.1\nspool_dir=/s\nroutes = /r\n"
                           "pmul_max_sources = 32\npmul_max_rx_messages = 200\n"
                           "pmul_max_rx_messages_per_source = 10\npmul_max_rx_bytes = 64M\n"
                           "pmul_max_rx_bytes_per_source = 2M\npmul_rx_idle = 30m\n"
                           "pmul_max_groups = 8\npmul_fec = no\npmul_fec_ratio = 25\n"
                           "pmul_fec_emcon_repairs = 12\npmul_fec_adaptive = no\n"
                           "pmul_fec_joint = no\npmul_fec_joint_max = 12\n"
                           "pmul_fec_joint_wait = 2m\npmul_fec_keep = 4M\n"
                           "shared_medium = no\n", &c, &err), 0);
    assert_int_equal(c.pmul_max_sources, 32);
    assert_int_equal(c.pmul_max_rx_messages, 200);
    assert_int_equal(c.pmul_max_rx_messages_per_source, 10);
    assert_int_equal(c.pmul_max_rx_bytes, (size_t)64 << 20);
    assert_int_equal(c.pmul_max_rx_bytes_per_source, (size_t)2 << 20);
    assert_int_equal(c.pmul_rx_idle_ms, 1800000);
    assert_int_equal(c.pmul_max_groups, 8);
    assert_false(c.pmul_fec);
    assert_int_equal(c.pmul_fec_ratio, 25);
    assert_int_equal(c.pmul_fec_emcon_repairs, 12);
    assert_false(c.pmul_fec_adaptive);
    assert_false(c.pmul_fec_joint);
    assert_int_equal(c.pmul_fec_joint_max, 12);
    assert_int_equal(c.pmul_fec_joint_wait_ms, 120000);
    assert_int_equal(c.pmul_fec_keep, (size_t)4 << 20);
    assert_false(c.shared_medium);
    mule_conf_fini(&c);
    assert_int_not_equal(parse("node_id = 198.18.0.1\nspool_dir=/s\nroutes = /r\n"
                               "pmul_fec_ratio = 101\n", &c, &err), 0);
    mule_conf_fini(&c);
    assert_int_not_equal(parse("node_id = 198.18.0.1\nspool_dir=/s\nroutes = /r\n"
                               "pmul_max_groups = 0\n", &c, &err), 0);
    mule_conf_fini(&c);
    assert_int_not_equal(parse("node_id = 198.18.0.1\nspool_dir=/s\nroutes = /r\n"
                               "pmul_rx_idle = 10s\n", &c, &err), 0);
    mule_conf_fini(&c);
}

/* Reload takes the live options and keeps the rest, naming them. */
static void
test_mule_conf_reload(void **state)
{
    mule_conf live, fresh;
    mule_conf_error err;
    char kept[64];

    (void)state;
    assert_int_equal(parse("node_id = 198.18.0.1\nspool_dir=/s\nroutes = /r\n"
                           "emcon_destinations = 198.18.0.9\nrate = 9600\n", &live, &err), 0);
    assert_int_equal(parse("node_id = 198.18.0.2\nspool_dir=/t\nroutes = /r2\nrate = 64k\n"
                           "log_level = debug\nsmtpd_timeout = 10s\n", &fresh, &err), 0);
    assert_int_equal(mule_conf_reload(&live, &fresh, kept, sizeof kept), 7);
    /* node_id spool_dir hostname emcon_destinations rate audit_dir audit_key */
    assert_non_null(strstr(kept, "node_id spool_dir"));
    assert_non_null(strstr(kept, "rate"));
    assert_string_equal(fresh.node_id_text, "198.18.0.1");
    assert_int_equal(fresh.node_id, 0xC6120001u);
    assert_string_equal(fresh.spool_dir, "/s");
    assert_string_equal(fresh.audit_dir, "/s/audit");
    assert_int_equal(fresh.rate, 9600);
    assert_int_equal(fresh.emcon_destination_cnt, 1);
    assert_string_equal(fresh.routes, "/r2");
    assert_string_equal(fresh.maildir, "/t/maildir");   /* live (its default follows the new file) */
    assert_int_equal(fresh.log_level, LOG_LVL_DEBUG);
    assert_int_equal(fresh.smtpd_timeout_ms, 10000);
    assert_string_equal(live.spool_dir, "/t");
    assert_int_equal(live.emcon_destination_cnt, 0);
    mule_conf_fini(&live);
    /* Again with nothing changed: nothing kept. */
    assert_int_equal(mule_conf_reload(&fresh, &fresh, kept, sizeof kept), 0);
    assert_string_equal(kept, "");
    mule_conf_fini(&fresh);
}

static void
test_mule_conf_every_kind(void **state)
{
    mule_conf c;
    mule_conf_error err;
    const char *text =
        "# a comment\r\n"
        "\r\n"
        "node_id = 198.18.0.2\r\n"
        "spool_dir = /s\r\n"
        "routes = /r\r\n"
        "hostname = n2.mule.test\r\n"
        "deliver = lmtp:unix:/run/dovecot/lmtp\r\n"
        "maildir = /m\r\n"
        "emcon = yes\r\n"
        "emcon_destinations = 198.18.0.3, 198.18.0.4 198.18.0.5\r\n"
        "group = 239.9.9.9\r\n"
        "interface = 198.18.0.2\r\n"
        "mcast_ttl = 1\r\n"
        "rate = 64kbit\r\n"
        "pdu_size = 4k\r\n"
        "max_message_size = 2M\r\n"
        "expiry = 2h\r\n"
        "delivery_lifetime = 7d\r\n"
        "backoff_min = 30s\r\n"
        "backoff_max = 30m\r\n"
        "egress_timeout = 90\r\n"
        "egress_concurrency = 8\r\n"
        "pickup_interval = 250ms\r\n"
        "ack_rtx_min = 500ms\r\n"
        "ack_rtx_max = 1m\r\n"
        "emcon_rti = 45s\r\n"
        "emcon_rtc = 6\r\n"
        "compress_level = 9\r\n"
        "log_level = debug\r\n"
        "smtpd_listen = [::1]:2525\r\n"
        "lmtpd_listen = unix:/run/muled/lmtp\r\n"
        "mynetworks = 127.0.0.0/8, 198.18.0.0/15 ::1/128\r\n"
        "smtpd_max_clients = 50\r\n"
        "smtpd_max_per_client = 2\r\n"
        "smtpd_timeout = 2m\r\n";

    (void)state;
    assert_int_equal(parse(text, &c, &err), 0);
    assert_string_equal(c.hostname, "n2.mule.test");
    assert_string_equal(c.deliver, "lmtp:unix:/run/dovecot/lmtp");
    assert_true(c.emcon);
    assert_int_equal(c.emcon_destination_cnt, 3);
    assert_int_equal(c.emcon_destinations[2], 0xC6120005u);
    assert_int_equal(c.group, 0xEF090909u);
    assert_string_equal(c.interface, "198.18.0.2");
    assert_int_equal(c.rate, 64000);
    assert_int_equal(c.pdu_size, 4096);
    assert_int_equal(c.max_message_size, 2u << 20);
    assert_int_equal(c.expiry_ms, 7200000);
    assert_int_equal(c.delivery_lifetime_ms, 7 * 86400000ull);
    assert_int_equal(c.egress_timeout_ms, 90000);
    assert_int_equal(c.egress_concurrency, 8);
    assert_int_equal(c.pickup_interval_ms, 250);
    assert_int_equal(c.emcon_rtc, 6);
    assert_int_equal(c.compress_level, 9);
    assert_int_equal(c.log_level, LOG_LVL_DEBUG);
    assert_string_equal(c.smtpd_listen, "[::1]:2525");
    assert_string_equal(c.lmtpd_listen, "unix:/run/muled/lmtp");
    assert_int_equal(c.smtpd_max_clients, 50);
    assert_int_equal(c.smtpd_timeout_ms, 120000);
    mule_conf_fini(&c);
}

static void
expect_error(const char *text, unsigned line, const char *part)
{
    mule_conf c;
    mule_conf_error err;

    assert_int_equal(parse(text, &c, &err), MULE_ERR_CONFIG);
    if (err.line != line || strstr(err.text, part) == NULL)
        fail_msg("\"%s\": got line %u \"%s\", want line %u with \"%s\"", text, err.line,
                 err.text, line, part);
    mule_conf_fini(&c);
}

static void
test_mule_conf_errors(void **state)
{
    (void)state;
    expect_error("node_id = 198.18.0.1\nbogus = 1\n", 2, "unknown option 'bogus'");
    expect_error("rate = 9600\nrate = 64k\n", 2, "given twice");
    /* Options past the 64th keep their own bit (mule_conf.seen is two words). */
    expect_error("pmul_fec_keep = 1M\npmul_fec_keep = 2M\n", 2, "given twice");
    expect_error("pmul_fec_joint_wait = 60s\npmul_fec_joint_wait = 1m\n", 2, "given twice");
    expect_error("rate = fast\n", 1, "rate");
    expect_error("expiry = 2 hours\n", 1, "duration");
    expect_error("pdu_size = 100\n", 1, "pdu_size");
    expect_error("node_id = 239.1.1.1\n", 1, "unicast");
    expect_error("group = 198.18.0.1\n", 1, "multicast");
    expect_error("emcon = maybe\n", 1, "yes or no");
    expect_error("spool_dir = relative/path\n", 1, "absolute");
    expect_error("deliver = lmtp:127.0.0.1\n", 1, "deliver");
    expect_error("deliver = pigeon\n", 1, "deliver");
    expect_error("emcon_destinations = 198.18.0.3, nope\n", 1, "nope");
    expect_error("log_level = loud\n", 1, "debug");
    expect_error("smtpd_listen = localhost:25\n", 1, "HOST:PORT");
    expect_error("mynetworks = 10.0.0.0/33\n", 1, "networks");
    expect_error("\n\njust words\n", 3, "key = value");
    expect_error("hostname =\n", 1, "empty");
    expect_error("spool_dir = /s\nroutes = /r\n", 0, "node_id is required");
    expect_error("node_id = 198.18.0.1\nroutes = /r\n", 0, "spool_dir is required");
    expect_error("node_id = 198.18.0.1\nspool_dir = /s\n", 0, "routes is required");
    expect_error("node_id = 198.18.0.1\nspool_dir = /s\nroutes = /r\nbackoff_min = 2h\n"
                 "backoff_max = 1h\n", 0, "backoff_min");
    {
        char big[MULE_CONF_LINE_MAX + 40];

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        expect_error(big, 1, "longer");
    }
    {
        mule_conf c;
        mule_conf_error err;
        static const char nul[] = "rate = 9" "\0" "600\n";

        mule_conf_default(&c);
        assert_int_equal(mule_conf_parse(nul, sizeof(nul) - 1, &c, &err), MULE_ERR_CONFIG);
        assert_non_null(strstr(err.text, "NUL"));
        mule_conf_fini(&c);
    }
}

/* Every prefix of a full file parses or fails cleanly (no crash, no
 * leak). */
static void
test_mule_conf_truncation_loop(void **state)
{
    const char *text = "node_id = 198.18.0.2\nspool_dir = /s\nroutes = /r\n"
                       "emcon_destinations = 198.18.0.3,198.18.0.4\nhostname = h\n"
                       "deliver = smtp:[::1]:25\nrate = 9.6k\n";

    (void)state;
    for (size_t n = 0; n <= strlen(text); n++) {
        mule_conf c;
        mule_conf_error err;

        mule_conf_default(&c);
        if (mule_conf_parse(text, n, &c, &err) == 0 && mule_conf_check(&c, &err) != 0)
            assert_int_not_equal(err.text[0], '\0');
        mule_conf_fini(&c);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mule_conf_minimal),
        cmocka_unit_test(test_mule_conf_pmul_caps),
        cmocka_unit_test(test_mule_conf_reload),
        cmocka_unit_test(test_mule_conf_every_kind),
        cmocka_unit_test(test_mule_conf_errors),
        cmocka_unit_test(test_mule_conf_truncation_loop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

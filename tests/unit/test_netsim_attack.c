/*
 * test_netsim_attack.c: unit tests of netsim's attacker nodes
 * (netsim_attack.c) and of "expect stat": the parser's attacker and attack
 * lines (good and bad), every attack kind run against the P_MUL engine
 * (what goes on the air decodes with the one codec, the victim counts
 * what it drops), reactions and replay, determinism with attackers,
 * statistics unknown to the engine, and allocation failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netsim/netsim.h"
#include "netsim/netsim_pmul.h"
#include "netsim_testlib.h"
#include "netsim_toy.h"
#include "pmul/pmul_pdu.h"
#include "test_common.h"

/* What went on the air: datagrams, those from the attacker's address, and
 * those that did not decode. */
typedef struct air {
    uint32_t attacker_ip;
    long dgrams, from_attacker, from_a, undecodable;
    long types[32];
} air;

static int
on_tx(void *arg, uint64_t t_us, uint32_t src_ip, uint16_t src_port, uint32_t dst_ip,
      uint16_t dst_port, const uint8_t *p, size_t len)
{
    static pmul_dest_entry dests[4096];
    static pmul_ack_entry acks[256];
    static uint16_t missing[4096];
    static uint32_t ids[4096];
    pmul_pdu_scratch sc = { dests, 4096, acks, 256, missing, 4096, ids, 4096, 0, 1024 };
    air *a = arg;
    pmul_pdu pdu;

    (void)t_us;
    (void)src_port;
    (void)dst_ip;
    (void)dst_port;
    a->dgrams++;
    if (src_ip == a->attacker_ip)
        a->from_attacker++;
    if (src_ip == 0xC6120001u)             /* 198.18.0.1, node A */
        a->from_a++;
    if (pmul_pdu_decode(&pdu, &sc, p, len) != 0)
        a->undecodable++;
    else if (pdu.type < 32)
        a->types[pdu.type]++;
    return 0;
}

typedef struct result {
    long fails;
    uint64_t hash;
    uint64_t attack, unrouted;
    char text[4096];
    air air;
} result;

static void
run(const netsim_engine_ops *ops, const char *text, result *r)
{
    netsim_scenario *sc = netsim_test_parse(text);
    netsim_opts o;
    netsim *s;
    buf out;

    memset(&o, 0, sizeof(o));
    memset(r, 0, sizeof(*r));
    r->air.attacker_ip = 0xC6120042u;       /* 198.18.0.66 */
    o.ops = ops;
    o.on_tx = on_tx;
    o.hook_arg = &r->air;
    assert_int_equal(netsim_new(&s, sc, &o), 0);
    assert_int_equal(netsim_run(s), 0);
    buf_init(&out, NULL, SIZE_MAX);
    r->fails = netsim_check(s, &out);
    if (out.len > 0)
        snprintf(r->text, sizeof(r->text), "%.*s", (int)out.len, (const char *)out.data);
    buf_fini(&out);
    r->hash = netsim_hash(s);
    r->attack = netsim_counter(s, NETSIM_C_ATTACK);
    r->unrouted = netsim_counter(s, NETSIM_C_UNROUTED);
    netsim_free(s);
    netsim_scen_free(sc);
}

#define NODES "defaults rate 9600 delay 50ms\n" \
              "node A 198.18.0.1\nnode B 198.18.0.2\nnode C 198.18.0.3\n" \
              "attacker X 198.18.0.66 rate 0\n"

/* ---- parser ----------------------------------------------------------- */

static void
test_netsim_attack_parse_good(void **state)
{
    static const char text[] =
        NODES
        "attack X flood-address count 10 every 100ms at 2s sources 5 source-base 10.1.0.1 "
        "target B,C total 300 expiry near\n"
        "attack X spoof-ack target A as B delay 1s until 1m count 2 spoof-ip off\n"
        "attack X garbage size 12\n"
        "attack X replay\n"
        "msg m1 from A to *\n"
        "expect stat B drop.cap-sources >= 3\n"
        "expect count attack > 0\n";
    netsim_scenario *sc = netsim_test_parse(text);
    const netsim_attack_cfg *a;

    (void)state;
    assert_true(sc->nodes[3].attacker && !sc->nodes[0].attacker);
    /* "*" selects the nodes with an engine, never the attacker. */
    assert_int_equal(sc->msgs[0].to_cnt, 2);
    assert_int_equal(sc->attack_cnt, 4);
    a = &sc->attacks[0];
    assert_int_equal(a->kind, NETSIM_A_FLOOD_ADDRESS);
    assert_int_equal(a->node, 3);
    assert_true(a->count == 10 && a->every_us == 100000 && a->at_us == 2000000);
    assert_true(a->sources == 5 && a->source_base == 0x0A010001u);
    assert_int_equal(a->target_cnt, 2);
    assert_true(a->targets[0] == 1 && a->targets[1] == 2);
    assert_true(a->total == 300 && a->expiry == NETSIM_EXPIRY_NEAR && a->spoof_ip);
    assert_true(a->until_us == NETSIM_FOREVER && a->as_node == -1);
    a = &sc->attacks[1];
    assert_int_equal(a->kind, NETSIM_A_SPOOF_ACK);
    assert_true(a->as_node == 1 && a->delay_us == 1000000 && a->until_us == 60000000);
    assert_true(a->count == 2 && !a->spoof_ip);
    a = &sc->attacks[2];
    assert_true(a->kind == NETSIM_A_GARBAGE && a->size == 12 && a->count == 1);
    a = &sc->attacks[3];
    assert_true(a->kind == NETSIM_A_REPLAY && a->count == 0 && a->target_cnt == 0);
    assert_int_equal(sc->expects[0].kind, NETSIM_X_STAT);
    assert_string_equal(sc->expects[0].stat, "drop.cap-sources");
    assert_true(sc->expects[0].node_cnt == 1 && sc->expects[0].nodes[0] == 1);
    assert_true(sc->expects[0].cmp == NETSIM_CMP_GE && sc->expects[0].n == 3);
    assert_int_equal(sc->expects[1].counter, NETSIM_C_ATTACK);
    netsim_scen_free(sc);
}

static void
test_netsim_attack_parse_errors(void **state)
{
    static const struct { const char *line; const char *want; } cases[] = {
        { "attack A flood-data\n", "6: 'A' is no attacker" },
        { "attack Y flood-data\n", "6: 'Y' is no attacker" },
        { "attack X smurf\n", "6: unknown attack 'smurf'" },
        { "attack X flood-address count 3\n", "6: flood-address needs 'target NODES'" },
        { "attack X flood-announce\n", "6: flood-announce needs 'target NODES'" },
        { "attack X flood-data count 0\n", "6: a flood needs count >= 1" },
        { "attack X flood-data count 10000001\n", "6: count above 10000000" },
        { "attack X flood-data sources 3 as A\n", "6: 'sources' and 'as' exclude" },
        { "attack X flood-data as X\n", "6: 'X' is no node with an engine" },
        { "attack X flood-data target X\n", "6: target 'X' is an attacker" },
        { "attack X flood-data at 10s until 5s\n", "6: 'until' before 'at'" },
        { "attack X flood-data at soon\n", "6: bad time 'soon'" },
        { "attack X flood-data every 31d\n", "6: bad time" },
        { "attack X flood-data count\n", "6: 'count' needs a value" },
        { "attack X flood-data colour red\n", "6: unknown attack option 'colour'" },
        { "attack X flood-address target B total 0\n", "6: total must be 1..65535" },
        { "attack X flood-address target B expiry soon\n", "6: expiry is far or near" },
        { "attack X garbage size 11\n", "6: garbage size below 12" },
        { "attack X flood-data size 0\n", "6: bad size" },
        { "attack X flood-data spoof-ip maybe\n", "6: spoof-ip is on or off" },
        { "attack X flood-data source-base 239.0.0.1\n", "6: bad source-base" },
        { "attack X flood-data sources 2000000\n", "6: more than 1048576 sources" },
        { "attack X\n", "6: usage: attack NODE KIND" },
        { "attacker Z 300.1.1.1\n", "6: bad address" },
        { "attacker Z 198.18.0.1\n", "6: address of 'Z' already used" },
        { "msg m from X to A\n", "6: attacker 'X' runs no engine: it sends no message" },
        { "msg m from A to X\n", "6: attacker 'X' runs no engine: it receives no message" },
        { "msg m from A to B\nexpect stat X drops == 0\n", "7: 'X' is no node with an engine" },
        { "msg m from A to B\nexpect stat B drops\n", "7: usage: expect stat NODE NAME OP N" },
        { "msg m from A to B\nexpect stat B drops ~ 1\n", "7: unknown comparison '~'" },
        { "msg m from A to B\nexpect stat B drops == x\n", "7: bad number 'x'" },
    };
    char text[1024], err[200];
    netsim_scenario *sc;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), "%s%s", NODES, cases[i].line);
        err[0] = '\0';
        if (netsim_scen_parse(&sc, text, strlen(text), NULL, err, sizeof(err)) != NETSIM_ERR_PARSE)
            fail_msg("case %zu (%s): parsed, want '%s'", i, cases[i].line, cases[i].want);
        if (strstr(err, cases[i].want) == NULL)
            fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].want);
        assert_null(sc);
    }
}

/* ---- runs on the P_MUL engine --------------------------------------- */

/* Floods of each kind while A mails B: every forged PDU decodes, the
 * attacker sent exactly count datagrams, the mail gets through and the
 * victim's counters show the attack. */
static void
test_netsim_attack_floods_decode(void **state)
{
    static const char text[] =
        NODES
        "attack X flood-data count 20 sources 4 at 1s\n"
        "attack X flood-address count 8 sources 2 target B at 1s every 10ms\n"
        "attack X flood-announce count 5 sources 5 target B,C at 1s\n"
        "msg m1 from A to B,C size 2k at 3s\n"
        "expect delivered m1 B,C within 1m\n"
        "expect count attack == 33\n"
        "expect stat B rx.data >= 20\n"
        "expect stat B rx.address >= 8\n"
        "expect stat B rx.announce == 5\n"
        "expect stat B groups-peak == 5\n"
        "expect stat B rx-msgs-peak >= 12\n"
        "expect stat C rx.announce == 5\n"
        "expect count unrouted >= 1\n";
    result r;

    (void)state;
    run(&netsim_pmul_ops, text, &r);
    if (r.fails != 0)
        fail_msg("%s", r.text);
    assert_int_equal(r.air.undecodable, 0);
    /* Spoofed IP sources: nothing came from the attacker's own address. */
    assert_int_equal(r.air.from_attacker, 0);
    assert_int_equal(r.attack, 33);
    assert_true(r.air.types[PMUL_PDU_ANNOUNCE] == 5);
}

/* Garbage has a valid length and checksum, so the codec's structure checks
 * are what refuse it; from the attacker's own address (spoof-ip off) the
 * decodable part is dropped as a Source_ID mismatch. */
static void
test_netsim_attack_garbage_counted(void **state)
{
    static const char text[] =
        NODES
        "attack X garbage count 200 sources 50 size 40 spoof-ip off\n"
        "msg m1 from A to B at 1s\n"
        "expect count attack == 200\n"
        "expect stat B drops >= 200\n"
        "expect stat B drop.malformed >= 50\n"
        "expect stat B rx-msgs-peak <= 1\n";
    result r;

    (void)state;
    run(&netsim_pmul_ops, text, &r);
    if (r.fails != 0)
        fail_msg("%s", r.text);
    assert_int_equal(r.air.from_attacker, 200);
    assert_true(r.air.undecodable > 0 && r.air.undecodable < 200);
}

/* Reactions answer each Address_PDU of their target: count limits them per
 * message, until ends them, spoof-ip off makes them from the attacker. */
static void
test_netsim_attack_reactions(void **state)
{
    static const char ack[] =
        NODES
        "attack X spoof-ack target A count 1 spoof-ip off\n"
        "msgs m 2 from A to B,C at 1s every 1s\n"
        "expect stat A drop.source-mismatch == 4\n";
    static const char others[] =
        NODES
        "attack X spoof-ackack target A count 1 delay 1h\n"
        "attack X spoof-discard target B until 1s\n"
        "msg m1 from A to B,C at 1s\n"
        "expect count attack == 0\n";
    result r;

    (void)state;
    /* One forged Ack per destination of each message. */
    run(&netsim_pmul_ops, ack, &r);
    if (r.fails != 0)
        fail_msg("%s", r.text);
    assert_int_equal(r.attack, 4);
    assert_int_equal(r.air.from_attacker, 4);
    /* ... and the genuine Acks of B and C went out too. */
    assert_true(r.air.types[PMUL_PDU_ACK] - r.air.from_attacker >= 2);
    /* Held past the end of the run, or never triggered: nothing sent, and
     * the pending reactions are released (the leak checker watches). */
    run(&netsim_pmul_ops, others, &r);
    if (r.fails != 0)
        fail_msg("%s", r.text);
}

/* A replay sends every datagram of its target again, byte for byte from
 * the original address; B, which forgot m1 after the Ack-Ack, takes the
 * replayed message again: the run shows the duplicate delivery. */
static void
test_netsim_attack_replay(void **state)
{
    static const char text[] =
        NODES
        "linger 5m\n"
        "attack X replay target A delay 2m\n"
        "msg m1 from A to B at 1s\n";
    result r;

    (void)state;
    run(&netsim_pmul_ops, text, &r);
    /* Each of A's datagrams went on the air twice with A's address: once
     * from A, once replayed; nothing else was replayed. */
    assert_true(r.attack > 0);
    assert_int_equal(r.air.from_a, 2 * (long)r.attack);
    assert_int_equal(r.air.from_attacker, 0);
    assert_int_equal(r.air.undecodable, 0);
    /* Until the engine remembers what it delivered (issue 13), B takes
     * the replayed m1 again; afterwards the run is clean. */
    if (r.fails != 0)
        assert_non_null(strstr(r.text, "B got message m1 2 times"));
}

static void
test_netsim_attack_determinism(void **state)
{
    static const char text[] =
        NODES
        "loss B rx bernoulli 0.1\n"
        "attack X garbage count 50 sources 10 every 100ms\n"
        "attack X flood-data count 30 sources 30 every 50ms\n"
        "attack X spoof-discard target A delay 2s count 1\n"
        "msgs m 3 from A to B,C size 1500 every 1s\n";
    result r1, r2;

    (void)state;
    run(&netsim_pmul_ops, text, &r1);
    run(&netsim_pmul_ops, text, &r2);
    assert_true(r1.hash == r2.hash);
    assert_true(r1.attack == r2.attack && r1.attack >= 80);
    assert_string_equal(r1.text, r2.text);
}

/* A statistic the engine does not name fails the line; so does any with
 * an engine adapter that has none (the toy). */
static void
test_netsim_attack_stat_unknown(void **state)
{
    static const char text[] =
        "node A 198.18.0.1\nnode B 198.18.0.2\n"
        "msg m1 from A to B\n"
        "expect stat B drop.bogus == 0\n"
        "expect stat B bogus == 0\n"
        "expect stat B tx.bogus == 0\n"
        "expect stat B delivered == 1\n"
        "expect stat B delivered > 1\n";
    result r;

    (void)state;
    run(&netsim_pmul_ops, text, &r);
    assert_int_equal(r.fails, 4);
    assert_non_null(strstr(r.text, "FAIL line 4: engine pmul has no statistic 'drop.bogus'"));
    assert_non_null(strstr(r.text, "FAIL line 5: engine pmul has no statistic 'bogus'"));
    assert_non_null(strstr(r.text, "FAIL line 6: engine pmul has no statistic 'tx.bogus'"));
    assert_non_null(strstr(r.text, "FAIL line 8: B: delivered is 1"));
    run(&toy_ops, text, &r);
    assert_non_null(strstr(r.text, "FAIL line 7: engine toy has no statistic 'delivered'"));
}

/* Every allocation failure gives NOMEM (or a run) and leaks nothing,
 * also with datagrams held by pending reactions and replays. */
static void
test_netsim_attack_alloc_failure(void **state)
{
    static const char text[] =
        NODES
        "attack X flood-address count 6 sources 3 target B every 100ms\n"
        "attack X garbage count 5 every 100ms\n"
        "attack X spoof-ack target A delay 500ms\n"
        "attack X replay target A delay 10s count 10\n"
        "msg m1 from A to B,C size 1500 at 1s\n";
    netsim_scenario *sc = netsim_test_parse(text);

    (void)state;
    netsim_alloc_sweep(sc, &netsim_pmul_ops, 300, 300);
    netsim_scen_free(sc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netsim_attack_parse_good),
        cmocka_unit_test(test_netsim_attack_parse_errors),
        cmocka_unit_test(test_netsim_attack_floods_decode),
        cmocka_unit_test(test_netsim_attack_garbage_counted),
        cmocka_unit_test(test_netsim_attack_reactions),
        cmocka_unit_test(test_netsim_attack_replay),
        cmocka_unit_test(test_netsim_attack_determinism),
        cmocka_unit_test(test_netsim_attack_stat_unknown),
        cmocka_unit_test(test_netsim_attack_alloc_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

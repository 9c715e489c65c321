/*
 * NAME
 *	mule-bench-cdt - throughput and ratio of the MULE CompressedData wrapping
 * SYNOPSIS
 *	mule-bench-cdt [seconds]
 * DESCRIPTION
 *	Measures mule_cdt_encode() (zlib deflate + BER) and mule_cdt_decode()
 *	(BER + inflate under the default caps) on two realistic RFC 5322
 *	messages in MULE's BSMTP-like form:
 *
 *	  4 KB   a reply: envelope lines, a dozen header fields, a few
 *	         paragraphs of English text and a quoted earlier message;
 *	  100 KB the same kind of text part plus a base64 attachment (a
 *	         generated position report in CSV, as a real attachment
 *	         would be), in a multipart/mixed body.
 *
 *	Text comes from a fixed word list and a fixed-seed generator, so runs
 *	are comparable; it is never random bytes, which would understate the
 *	ratio.  For zlib levels 1, 6 (the default) and 9 it reports
 *	messages/s and MB/s (10^6 octets of uncompressed content per second)
 *	for each direction, and the compression ratio (content octets / BER
 *	octets), as a Markdown table on stdout.  Each cell runs for about
 *	"seconds" (default 0.5) of wall time.
 *
 *	Timing uses clock_gettime(CLOCK_MONOTONIC), which programs may read.
 *	Not a test: numbers depend on the machine.
 * SECURITY
 *	Decodes only what it encoded itself.
 * DIAGNOSTICS
 *	Exits 1 with a message on stderr if a round trip fails.
 * SEE ALSO
 *	mule/mule_cdt.h, docs/benchmarks.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mule/mule_cdt.h"
#include "pmul/util/num.h"

static const char *const words[] = {
    "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "was",
    "with", "be", "by", "on", "not", "he", "this", "are", "or", "his", "from",
    "at", "which", "but", "have", "an", "had", "they", "you", "were", "their",
    "one", "all", "we", "can", "her", "has", "there", "been", "if", "more",
    "when", "will", "would", "who", "so", "no", "message", "convoy", "report",
    "position", "supply", "route", "north", "south", "east", "west", "bridge",
    "checkpoint", "schedule", "delay", "weather", "visibility", "fuel", "water",
    "rations", "battery", "radio", "frequency", "relay", "station", "signal",
    "operations", "officer", "request", "approved", "confirm", "received",
    "update", "status", "team", "vehicle", "maintenance", "crossing", "sector",
    "morning", "evening", "tomorrow", "today", "arrival", "departure", "order",
    "revised", "priority", "routine", "urgent", "acknowledge", "transmission",
    "medical", "evacuation", "helicopter", "landing", "zone", "clear", "secure",
    "patrol", "observation", "post", "coordinates", "grid", "reference", "map",
    "distance", "kilometres", "hours", "minutes", "expected", "estimated",
    "personnel", "equipment", "inventory", "shortage", "surplus", "transfer",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static uint32_t seed;

static uint32_t
next(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
}

static void
put(buf *b, const char *s)
{
    if (buf_append_str(b, s) != 0) {
        fprintf(stderr, "mule-bench-cdt: out of memory\n");
        exit(1);
    }
}

/* Sentences of 6-18 words, lines wrapped at 72, paragraphs of 2-5
 * sentences; each line starts with prefix ("" or "> "). */
static void
paragraphs(buf *b, size_t n, const char *prefix)
{
    size_t start = b->len, col = 0;
    int sentence_left = 0, sentences = 0;
    char word[64];
    const char *w, *punct;

    while (b->len - start < n) {
        bool first = sentence_left == 0;

        if (first)
            sentence_left = 6 + (int)(next() % 13);
        w = words[next() % NWORDS];
        if (--sentence_left == 0)
            punct = next() % 7 == 0 ? "?" : ".";
        else
            punct = next() % 11 == 0 ? "," : "";
        snprintf(word, sizeof(word), "%s%s", w, punct);
        if (first)
            word[0] = (char)(word[0] - 'a' + 'A');
        if (col == 0) {
            put(b, prefix);
            col = strlen(prefix);
        } else if (col + 1 + strlen(word) > 72) {
            put(b, "\r\n");
            put(b, prefix);
            col = strlen(prefix);
        } else {
            put(b, " ");
            col++;
        }
        put(b, word);
        col += strlen(word);
        if (sentence_left == 0 && ++sentences >= 2 + (int)(next() % 4)) {
            put(b, "\r\n");
            put(b, prefix);
            put(b, "\r\n");
            col = 0;
            sentences = 0;
        }
    }
    put(b, "\r\n");
}

static void
headers(buf *b, int n)
{
    char line[256];

    snprintf(line, sizeof(line),
             "<ops@hq.example.mil> MT-PRIORITY=2 BODY=8BITMIME RET=HDRS ENVID=BENCH%04d\r\n",
             n);
    put(b, line);
    put(b, "<watch@ship1.example.mil> NOTIFY=SUCCESS,FAILURE\r\n"
           "<log@shore.example.mil> NOTIFY=FAILURE ORCPT=rfc822;log@shore.example.mil\r\n"
           "\r\n"
           "Received: from gw1.hq.example.mil (gw1.hq.example.mil [198.18.1.1])\r\n"
           "\tby mule.hq.example.mil with ESMTPS id 4SVx2k0Zq7z9v\r\n"
           "\tfor <watch@ship1.example.mil>; Tue, 14 Nov 2023 22:14:09 +0000\r\n"
           "Received: from [198.18.7.20] by gw1.hq.example.mil with ESMTPSA\r\n"
           "\tid 1r34Qf-0003aB-2T; Tue, 14 Nov 2023 22:14:07 +0000\r\n"
           "From: Operations Desk <ops@hq.example.mil>\r\n"
           "To: Watch Officer <watch@ship1.example.mil>\r\n"
           "Cc: Message Log <log@shore.example.mil>\r\n"
           "Subject: Re: Revised movement order and resupply schedule\r\n"
           "Date: Tue, 14 Nov 2023 22:14:07 +0000\r\n"
           "Message-ID: <20231114221407.GA3112@hq.example.mil>\r\n"
           "In-Reply-To: <20231114190233.GB1187@ship1.example.mil>\r\n"
           "References: <20231114190233.GB1187@ship1.example.mil>\r\n"
           "MIME-Version: 1.0\r\n");
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 2045 base64 of src, 76 characters per line. */
static void
base64(buf *b, const uint8_t *src, size_t n)
{
    char line[80];
    size_t i, col = 0;

    for (i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16;
        char q[4];

        if (i + 1 < n)
            v |= (uint32_t)src[i + 1] << 8;
        if (i + 2 < n)
            v |= src[i + 2];
        q[0] = b64[v >> 18 & 63];
        q[1] = b64[v >> 12 & 63];
        q[2] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? b64[v & 63] : '=';
        memcpy(line + col, q, 4);
        col += 4;
        if (col == 76 || i + 3 >= n) {
            line[col] = '\0';
            put(b, line);
            put(b, "\r\n");
            col = 0;
        }
    }
}

static void
make_4k(buf *b)
{
    seed = 4096;
    headers(b, 1);
    put(b, "Content-Type: text/plain; charset=us-ascii\r\n"
           "Content-Transfer-Encoding: 7bit\r\n\r\n");
    paragraphs(b, 2100, "");
    put(b, "On Tue, 14 Nov 2023 19:02, Watch Officer wrote:\r\n");
    paragraphs(b, 1200, "> ");
    put(b, "-- \r\nOperations Desk, HQ\r\n");
    if (b->len > 4096)
        b->len = 4096;
}

static void
make_100k(buf *b)
{
    buf csv;
    char row[128];
    int i;

    seed = 100000;
    headers(b, 2);
    put(b, "Content-Type: multipart/mixed; boundary=\"=_b_7f3a\"\r\n\r\n"
           "This is a multi-part message in MIME format.\r\n\r\n"
           "--=_b_7f3a\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
    paragraphs(b, 20000, "");
    put(b, "On Tue, 14 Nov 2023 19:02, Watch Officer wrote:\r\n");
    paragraphs(b, 8000, "> ");
    put(b, "\r\n--=_b_7f3a\r\nContent-Type: text/csv; name=\"positions.csv\"\r\n"
           "Content-Disposition: attachment; filename=\"positions.csv\"\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n");
    /* A position log: the kind of attachment these links carry. */
    buf_init(&csv, NULL, SIZE_MAX);
    put(&csv, "time_utc,unit,lat,lon,speed_kn,heading,fuel_pct,status\r\n");
    for (i = 0; csv.len < 50500; i++) {
        snprintf(row, sizeof(row), "2023-11-14T%02d:%02d:%02dZ,U%03u,%d.%05u,%d.%05u,%u.%u,%03u,%u,%s\r\n",
                 (i / 3600) % 24, (i / 60) % 60, i % 60, next() % 40,
                 50 + (int)(next() % 9), next() % 100000, (int)(next() % 20) - 5,
                 next() % 100000, next() % 30, next() % 10, next() % 360,
                 20 + next() % 80, next() % 9 == 0 ? "HALT" : "MOVING");
        put(&csv, row);
    }
    base64(b, csv.data, csv.len);
    buf_fini(&csv);
    put(b, "--=_b_7f3a--\r\n");
    if (b->len < 100000)
        paragraphs(b, 100000 - b->len, "");
    b->len = 100000 > b->len ? b->len : 100000;
}

static double
now_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("mule-bench-cdt: clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fail(const char *what, int rc)
{
    fprintf(stderr, "mule-bench-cdt: %s: %s\n", what, mule_strerror(rc));
    exit(1);
}

static void
bench(const char *name, const buf *mail, int level, double budget)
{
    mule_cdt_config cfg;
    buf ber, out;
    long n_enc = 0, n_dec = 0;
    double t0, t_enc, t_dec;
    int rc;

    mule_cdt_config_init(&cfg);
    cfg.zlib_level = level;
    buf_init(&ber, NULL, SIZE_MAX);
    buf_init(&out, NULL, SIZE_MAX);

    t0 = now_s();
    do {
        buf_reset(&ber);
        if ((rc = mule_cdt_encode(&cfg, NULL, mail->data, mail->len, &ber)) != 0)
            fail("encode", rc);
        n_enc++;
    } while ((t_enc = now_s() - t0) < budget);

    t0 = now_s();
    do {
        buf_reset(&out);
        if ((rc = mule_cdt_decode(&cfg, NULL, ber.data, ber.len, &out, NULL)) != 0)
            fail("decode", rc);
        n_dec++;
    } while ((t_dec = now_s() - t0) < budget);
    if (out.len != mail->len || memcmp(out.data, mail->data, mail->len) != 0) {
        fprintf(stderr, "mule-bench-cdt: round trip differs\n");
        exit(1);
    }

    printf("| %-6s | %5d | %7zu | %6zu | %5.2f | %9.0f | %7.1f | %9.0f | %7.1f |\n", name,
           level, mail->len, ber.len, (double)mail->len / (double)ber.len,
           (double)n_enc / t_enc, (double)n_enc * (double)mail->len / t_enc / 1e6,
           (double)n_dec / t_dec, (double)n_dec * (double)mail->len / t_dec / 1e6);
    buf_fini(&ber);
    buf_fini(&out);
}

int
main(int argc, char **argv)
{
    static const int levels[] = { 1, 6, 9 };
    double budget = 0.5;
    uint64_t budget_ms = 500;
    buf m4, m100;
    size_t i;

    if (argc > 2 ||
        (argc == 2 && num_parse_duration_ms(argv[1], 1000, 1, 3600000, &budget_ms) != 0)) {
        fprintf(stderr, "usage: mule-bench-cdt [time per cell: 0.5, 2s, 500ms]\n");
        return 2;
    }
    budget = (double)budget_ms / 1000.0;
    buf_init(&m4, NULL, SIZE_MAX);
    buf_init(&m100, NULL, SIZE_MAX);
    make_4k(&m4);
    make_100k(&m100);

    printf("| mail   | level | content | BER    | ratio | enc msg/s | enc MB/s | dec msg/s | dec MB/s |\n");
    printf("|--------|------:|--------:|-------:|------:|----------:|---------:|----------:|---------:|\n");
    for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        bench("4 KB", &m4, levels[i], budget);
    for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        bench("100 KB", &m100, levels[i], budget);
    buf_fini(&m4);
    buf_fini(&m100);
    return 0;
}

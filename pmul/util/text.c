/*
 * NAME
 *	text - the one generator of English-like mail text
 * SYNOPSIS
 *	#include "pmul/util/text.h"
 * DESCRIPTION
 *	A word list and a sentence grammar (5..17 words, an occasional
 *	comma, "." or "?"), moved here from netsim_mail.c unchanged so that
 *	netsim's payloads, and with them its transcript hashes, stay the
 *	same; and a simple paragraph layout (72 columns, a line prefix for
 *	quoted text, CRLF) for generators that need no exact size.  Three
 *	generators with their own word lists existed before (netsim, the
 *	CompressedData unit tests and capture generator, the CDT benchmark;
 *	issue 8 item 7).
 * SECURITY
 *	Sees no untrusted input.
 * DIAGNOSTICS
 *	buf_append()'s codes (UTIL_ERR_NOMEM, UTIL_ERR_FULL).  Logs nothing.
 * SEE ALSO
 *	netsim/netsim_mail.c, RFC 5322.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "text.h"

#include <string.h>

#define WRAP 72

const char *const text_words[] = {
    "the", "of", "and", "to", "in", "for", "on", "with", "by", "at", "from",
    "is", "are", "was", "will", "be", "has", "have", "this", "that", "we",
    "our", "your", "all", "not", "as", "it", "an", "or", "can", "should",
    "report", "convoy", "supply", "schedule", "weather", "position", "unit",
    "team", "request", "status", "update", "fuel", "water", "rations",
    "vehicle", "vehicles", "route", "bridge", "road", "north", "south",
    "east", "west", "sector", "patrol", "logistics", "transport", "medical",
    "evacuation", "signal", "radio", "frequency", "link", "channel",
    "message", "traffic", "delay", "arrival", "departure", "window",
    "tomorrow", "today", "morning", "evening", "night", "hours", "minutes",
    "expected", "confirmed", "pending", "planned", "requested", "received",
    "approved", "cancelled", "moved", "delayed", "ready", "available",
    "please", "confirm", "advise", "note", "check", "review", "forward",
    "attached", "following", "previous", "latest", "current", "next",
    "meeting", "briefing", "exercise", "operation", "mission", "task",
    "order", "orders", "plan", "changes", "change", "issue", "problem",
    "solution", "support", "maintenance", "repair", "spare", "parts",
    "generator", "antenna", "battery", "batteries", "power", "site",
    "camp", "base", "port", "harbour", "airfield", "ship", "aircraft",
    "helicopter", "crew", "staff", "officer", "commander", "section",
    "platoon", "company", "battalion", "headquarters", "liaison",
    "coordination", "personnel", "equipment", "inventory", "stock",
    "shortage", "delivery", "pickup", "loading", "unloading", "cargo",
    "pallets", "containers", "trucks", "escort", "security", "access",
    "gate", "checkpoint", "clearance", "permission", "information",
    "details", "summary", "list", "numbers", "figures", "total", "about",
    "before", "after", "during", "until", "because", "however", "also",
    "still", "again", "soon", "later", "early", "late", "new", "old",
    "first", "second", "third", "last", "main", "small", "large", "heavy",
    "light", "short", "long", "clear", "poor", "good", "bad", "high", "low",
    "some", "many", "few", "more", "less", "each", "every", "other",
    "same", "different", "possible", "necessary", "important", "urgent",
    "routine", "local", "remote", "forward", "rear", "inbound", "outbound",
    "would", "could", "must", "may", "might", "need", "needs", "want",
    "think", "know", "see", "send", "sent", "keep", "take", "make", "give",
    "use", "get", "let", "me", "us", "them", "they", "he", "she", "his",
    "her", "their", "there", "here", "when", "where", "which", "who",
    "what", "if", "than", "then", "so", "but", "no", "yes", "up", "out",
    "into", "over", "under", "between", "through", "around", "across",
};

const size_t text_word_cnt = sizeof(text_words) / sizeof(text_words[0]);

int
text_sentence(buf *b, text_below_fn below, void *arg)
{
    uint64_t n = 5 + below(arg, 13), i;
    int rc = 0;

    /* The order of the calls to below() is part of the output: netsim's
     * transcript hashes depend on it. */
    for (i = 0; i < n && rc == 0; i++) {
        const char *w = text_words[below(arg, text_word_cnt)];

        if (i == 0) {
            char c = (char)(w[0] >= 'a' && w[0] <= 'z' ? w[0] - 'a' + 'A' : w[0]);

            rc = buf_append(b, &c, 1);
            if (rc == 0)
                rc = buf_append_str(b, w + 1);
        } else {
            rc = buf_append_str(b, " ");
            if (rc == 0)
                rc = buf_append_str(b, w);
        }
        if (rc == 0 && i > 2 && i + 2 < n && below(arg, 8) == 0)
            rc = buf_append_str(b, ",");
    }
    if (rc == 0)
        rc = buf_append_str(b, below(arg, 10) == 0 ? "?" : ".");
    return rc;
}

/* Append prefix + p[0..len) + CRLF. */
static int
put_line(buf *b, const char *prefix, size_t plen, const uint8_t *p, size_t len)
{
    int rc;

    if ((rc = buf_append(b, prefix, plen)) == 0 && (rc = buf_append(b, p, len)) == 0)
        rc = buf_append(b, "\r\n", 2);
    return rc;
}

int
text_paragraphs(buf *b, size_t n, const char *prefix, text_below_fn below, void *arg)
{
    size_t start = b->len, plen = strlen(prefix), room, pos, take;
    uint64_t cnt, i;
    buf para;
    int rc = 0;

    /* A prefix wider than the line leaves one word per line. */
    room = plen < WRAP - TEXT_WORD_MAX ? WRAP - plen : TEXT_WORD_MAX + 1;
    buf_init(&para, b->m, SIZE_MAX);
    while (rc == 0 && b->len - start < n) {
        if (b->len != start && (rc = buf_append(b, prefix, plen)) == 0)
            rc = buf_append(b, "\r\n", 2);
        buf_reset(&para);
        cnt = 2 + below(arg, 4);
        for (i = 0; i < cnt && rc == 0; i++) {
            if (i > 0)
                rc = buf_append_str(&para, " ");
            if (rc == 0)
                rc = text_sentence(&para, below, arg);
        }
        /* Wrap at the last space that keeps the line within WRAP; a word
         * is never longer than room, so there always is one. */
        for (pos = 0; rc == 0 && pos < para.len; ) {
            take = para.len - pos;
            if (take > room) {
                take = room;
                while (take > 0 && para.data[pos + take] != ' ')
                    take--;
                if (take == 0)
                    take = room;
            }
            rc = put_line(b, prefix, plen, para.data + pos, take);
            pos += take;
            while (pos < para.len && para.data[pos] == ' ')
                pos++;
        }
    }
    buf_fini(&para);
    return rc;
}

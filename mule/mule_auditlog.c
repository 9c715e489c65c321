/*
 * mule_auditlog.c: records of the HMAC-chained audit log (format in
 * mule_auditlog.h).  The only file of mule/ that uses libcrypto: it is
 * built into its own library (mule_auditlog) so that mule_core needs none.
 */
#include "mule/mule_auditlog.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "mule/mule_err.h"

static const char hexd[] = "0123456789abcdef";

bool
mule_auditlog_text_ok(const char *text, size_t len)
{
    if (text == NULL || len == 0 || len > MULE_AUDITLOG_TEXT_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* HMAC-SHA-256 over prev || body (EVP_MAC: two parts, no copy). */
static int
mac_of(const uint8_t *key, size_t keylen, const uint8_t prev[MULE_AUDITLOG_MAC_LEN],
       const char *body, size_t body_len, uint8_t out[MULE_AUDITLOG_MAC_LEN])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[2];
    size_t outl = 0;
    bool ok;

    params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    ok = ctx != NULL && EVP_MAC_init(ctx, key, keylen, params) == 1 &&
         EVP_MAC_update(ctx, prev, MULE_AUDITLOG_MAC_LEN) == 1 &&
         EVP_MAC_update(ctx, (const unsigned char *)body, body_len) == 1 &&
         EVP_MAC_final(ctx, out, &outl, MULE_AUDITLOG_MAC_LEN) == 1 &&
         outl == MULE_AUDITLOG_MAC_LEN;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : MULE_ERR_AUDIT_CRYPTO;
}

long
mule_auditlog_format(mule_auditlog_chain *ch, const uint8_t *key, size_t keylen,
                     int64_t time, const char *text, char *out, size_t outlen)
{
    uint8_t mac[MULE_AUDITLOG_MAC_LEN];
    size_t tl = text != NULL ? strlen(text) : 0;
    int n, rc;

    if (ch == NULL || key == NULL || keylen < MULE_AUDITLOG_KEY_MIN ||
        keylen > MULE_AUDITLOG_KEY_MAX || !mule_auditlog_text_ok(text, tl) || out == NULL)
        return MULE_ERR_INVAL;
    n = snprintf(out, outlen, "%" PRIu64 " %" PRId64 " %s", ch->seq + 1, time, text);
    if (n < 0 || (size_t)n + 5 + 2 * MULE_AUDITLOG_MAC_LEN + 2 > outlen)
        return MULE_ERR_NOSPACE;
    if ((rc = mac_of(key, keylen, ch->mac, out, (size_t)n, mac)) < 0)
        return rc;
    memcpy(out + n, " mac=", 5);
    n += 5;
    for (size_t i = 0; i < MULE_AUDITLOG_MAC_LEN; i++) {
        out[n++] = hexd[mac[i] >> 4];
        out[n++] = hexd[mac[i] & 15];
    }
    out[n++] = '\n';
    out[n] = '\0';
    ch->seq++;
    memcpy(ch->mac, mac, sizeof mac);
    return n;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool
hex_mac(const char *p, uint8_t out[MULE_AUDITLOG_MAC_LEN])
{
    for (size_t i = 0; i < MULE_AUDITLOG_MAC_LEN; i++) {
        int a = hexval(p[2 * i]), b = hexval(p[2 * i + 1]);
        if (a < 0 || b < 0)
            return false;
        out[i] = (uint8_t)(a << 4 | b);
    }
    return true;
}

/* Decimal digits at *p (no sign, no leading zero unless "0"), within
 * end; advances *p.  False on overflow or no digit. */
static bool
num(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;

    if (s >= end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end && s[1] >= '0' &&
                                             s[1] <= '9'))
        return false;
    while (s < end && *s >= '0' && *s <= '9') {
        if (x > (UINT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (uint64_t)(*s++ - '0');
    }
    *p = s;
    *v = x;
    return true;
}

int
mule_auditlog_parse(const char *line, size_t len, mule_auditlog_rec *r, const char **why)
{
    const size_t tail = 5 + 2 * MULE_AUDITLOG_MAC_LEN;     /* " mac=" HEX */
    const char *p = line, *end;
    uint64_t seq, t;

    *why = "not a record";
    if (line == NULL || len > MULE_AUDITLOG_LINE_MAX || len < tail + 5)
        return MULE_ERR_AUDIT_BAD;
    end = line + len - tail;
    if (memcmp(end, " mac=", 5) != 0 || !hex_mac(end + 5, r->mac)) {
        *why = "no valid mac= at the end";
        return MULE_ERR_AUDIT_BAD;
    }
    if (!num(&p, end, &seq) || seq == 0 || p >= end || *p++ != ' ' || !num(&p, end, &t) ||
        t > INT64_MAX || p >= end || *p++ != ' ') {
        *why = "no sequence number and time";
        return MULE_ERR_AUDIT_BAD;
    }
    if (!mule_auditlog_text_ok(p, (size_t)(end - p))) {
        *why = "text empty or with a control character";
        return MULE_ERR_AUDIT_BAD;
    }
    r->seq = seq;
    r->time = (int64_t)t;
    r->text = p;
    r->text_len = (size_t)(end - p);
    return 0;
}

int
mule_auditlog_check(mule_auditlog_chain *ch, const uint8_t *key, size_t keylen,
                    const char *line, size_t len, char *whybuf, size_t whylen)
{
    mule_auditlog_rec r;
    uint8_t mac[MULE_AUDITLOG_MAC_LEN];
    const char *why;
    int rc;

    if (mule_auditlog_parse(line, len, &r, &why) < 0) {
        snprintf(whybuf, whylen, "%s", why);
        return MULE_ERR_AUDIT_BAD;
    }
    if (r.seq != ch->seq + 1) {
        snprintf(whybuf, whylen, r.seq <= ch->seq ? "sequence %" PRIu64 " after %" PRIu64
                 " (reordered or repeated)" : "sequence gap %" PRIu64 " -> %" PRIu64 
                 " (records missing)", r.seq <= ch->seq ? r.seq : ch->seq,
                 r.seq <= ch->seq ? ch->seq : r.seq);
        return MULE_ERR_AUDIT_BAD;
    }
    rc = mac_of(key, keylen, ch->mac, line, (size_t)(r.text + r.text_len - line), mac);
    if (rc < 0) {
        snprintf(whybuf, whylen, "HMAC failed");
        return rc;
    }
    if (CRYPTO_memcmp(mac, r.mac, sizeof mac) != 0) {
        snprintf(whybuf, whylen, "MAC mismatch (edited, inserted, or a record before it "
                 "changed)");
        return MULE_ERR_AUDIT_BAD;
    }
    ch->seq = r.seq;
    memcpy(ch->mac, mac, sizeof mac);
    return 0;
}

#define LINK_PREFIX "mule-audit event=chain prev_file="

void
mule_auditlog_link_text(const char *prev_file, const mule_auditlog_chain *prev, char *out,
                        size_t outlen)
{
    char hex[2 * MULE_AUDITLOG_MAC_LEN + 1];

    for (size_t i = 0; i < MULE_AUDITLOG_MAC_LEN; i++) {
        hex[2 * i] = hexd[prev->mac[i] >> 4];
        hex[2 * i + 1] = hexd[prev->mac[i] & 15];
    }
    hex[sizeof hex - 1] = '\0';
    snprintf(out, outlen, LINK_PREFIX "%s prev_seq=%" PRIu64 " prev_mac=%s",
             prev_file != NULL && prev_file[0] != '\0' ? prev_file : "-", prev->seq, hex);
}

bool
mule_auditlog_link_parse(const char *text, size_t len, mule_auditlog_link *l)
{
    const size_t pl = sizeof LINK_PREFIX - 1;
    const char *p = text + pl, *end = text + len, *sp;
    size_t n;

    if (len < pl || memcmp(text, LINK_PREFIX, pl) != 0)
        return false;
    sp = memchr(p, ' ', (size_t)(end - p));
    if (sp == NULL || (n = (size_t)(sp - p)) == 0 || n >= sizeof l->prev_file)
        return false;
    memcpy(l->prev_file, p, n);
    l->prev_file[n] = '\0';
    p = sp + 1;
    if ((size_t)(end - p) < 9 || memcmp(p, "prev_seq=", 9) != 0)
        return false;
    p += 9;
    if (!num(&p, end, &l->prev.seq) || (size_t)(end - p) != 10 + 2 * MULE_AUDITLOG_MAC_LEN ||
        memcmp(p, " prev_mac=", 10) != 0 || !hex_mac(p + 10, l->prev.mac))
        return false;
    return true;
}

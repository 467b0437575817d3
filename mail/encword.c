/*
 * encword.c - RFC 2047 encoded-word decoding (see encword.h).
 *
 * The input is scanned once.  At each "=?" we try to read a whole
 * encoded-word; if it is not one (or its charset is unknown), "=" is copied
 * and the scan goes on from the next byte, so the work is linear in the
 * input.  The payload is decoded with the transfer decoders of cte.h in
 * small pieces and converted byte by byte with charset.h.
 */
#include "encword.h"

#include <stdbool.h>
#include <string.h>

#include "charset.h"
#include "cte.h"

/* RFC 2047 allows 75 bytes a word; senders write longer ones, but a bound
 * keeps a run of unterminated "=?" starts from costing quadratic time. */
#define MAIL_EW_TEXT_MAX 1024

struct mail_ew_out {
    char *buf;
    size_t len, cap;
    bool full;
};

static void mail_ew_put(struct mail_ew_out *o, const char *s, size_t n)
{
    if (o->full || o->len + n + 1 > o->cap) {
        o->full = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

/* Parse an encoded-word at s (which starts with "=?").  On success sets
 * the charset name, encoding letter and payload, and returns its length. */
static size_t mail_ew_parse(const char *s, const char *end, const char **cs, size_t *cslen,
                            char *enc, const char **text, size_t *tlen)
{
    const char *p = s + 2;
    *cs = p;
    while (p < end && *p != '?' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
        p++;
    if (p + 3 > end || *p != '?' || p == *cs)
        return 0;
    *cslen = (size_t)(p - *cs);
    char e = p[1];
    if (e != 'B' && e != 'b' && e != 'Q' && e != 'q')
        return 0;
    if (p[2] != '?')
        return 0;
    *enc = (e == 'B' || e == 'b') ? 'B' : 'Q';
    p += 3;
    *text = p;
    while (p + 1 < end && !(p[0] == '?' && p[1] == '=')) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
            (size_t)(p - *text) >= MAIL_EW_TEXT_MAX)
            return 0;
        p++;
    }
    if (p + 1 >= end)
        return 0;
    *tlen = (size_t)(p - *text);
    return (size_t)(p + 2 - s);
}

/* Decode one payload into o, converting from cs. */
static void mail_ew_payload(struct mail_ew_out *o, enum mail_charset cs, char enc,
                            const char *text, size_t tlen)
{
    struct mail_cte d;
    char buf[MAIL_CTE_OUT_MIN + 32];
    mail_cte_init(&d, enc == 'B' ? MAIL_CTE_BASE64 : MAIL_CTE_Q);
    /* Each turn consumes input or, at the end, finishes: bounded by tlen. */
    bool done = false;
    while (!done) {
        size_t used = 0, n;
        if (tlen > 0) {
            n = mail_cte_decode(&d, text, tlen, &used, buf, sizeof(buf));
            text += used;
            tlen -= used;
        } else {
            n = mail_cte_finish(&d, buf, sizeof(buf));
            done = true;
        }
        for (size_t i = 0; i < n; i++) {
            char u[4];
            size_t k = mail_charset_to_utf8(cs, (unsigned char)buf[i], u);
            mail_ew_put(o, u, k);
        }
    }
}

/* Cut a trailing incomplete UTF-8 sequence (after the output filled up). */
static void mail_ew_trim(struct mail_ew_out *o)
{
    size_t i = o->len, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)o->buf[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)o->buf[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (lead >= 0x80 && need > back + 1)
        o->len = i - 1;
}

size_t mail_encword_decode(const char *in, size_t len, char *out, size_t cap)
{
    struct mail_ew_out o = { out, 0, cap, false };
    const char *s = in, *end = in + len;
    bool after_word = false;    /* the last thing written was an encoded-word */
    while (s < end && !o.full) {
        if (s + 1 < end && s[0] == '=' && s[1] == '?') {
            const char *cs, *text;
            size_t cslen, tlen;
            char enc;
            size_t n = mail_ew_parse(s, end, &cs, &cslen, &enc, &text, &tlen);
            enum mail_charset c = n ? mail_charset_find(cs, cslen) : MAIL_CHARSET_UNKNOWN;
            if (c != MAIL_CHARSET_UNKNOWN) {
                mail_ew_payload(&o, c, enc, text, tlen);
                s += n;
                after_word = true;
                continue;
            }
        }
        if (after_word && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
            /* Blanks after an encoded-word are dropped if another follows. */
            const char *p = s;
            while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
                p++;
            const char *cs, *text;
            size_t cslen, tlen;
            char enc;
            if (p + 1 < end && p[0] == '=' && p[1] == '?' &&
                mail_ew_parse(p, end, &cs, &cslen, &enc, &text, &tlen) &&
                mail_charset_find(cs, cslen) != MAIL_CHARSET_UNKNOWN) {
                s = p;
                continue;
            }
            mail_ew_put(&o, s, (size_t)(p - s));
            s = p;
            after_word = false;
            continue;
        }
        mail_ew_put(&o, s, 1);
        s++;
        after_word = false;
    }
    if (o.full)
        mail_ew_trim(&o);
    if (cap > 0)
        out[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}

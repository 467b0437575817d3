/*
 * cte.c - base64 / quoted-printable / Q decoding (see cte.h).
 *
 * Quoted-printable is a small state machine: after "=" we wait for two hex
 * digits or a line break (a soft break); blanks are held back until we know
 * whether a line break follows them.  A byte that does not continue the
 * current state is handed back to the plain-text state, which consumes it,
 * so each input byte is looked at no more than twice.
 */
#include "cte.h"

#include <stdbool.h>
#include <string.h>

enum {
    MAIL_CTE_S_TEXT,    /* plain text */
    MAIL_CTE_S_CR,      /* a CR: line break if LF follows */
    MAIL_CTE_S_EQ,      /* "=" */
    MAIL_CTE_S_EQ1,     /* "=X" */
    MAIL_CTE_S_EQ_WS,   /* "=" then blanks: a soft break with padding? */
    MAIL_CTE_S_EQ_CR,   /* "=" [blanks] CR */
};

static int mail_cte_hex(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int mail_cte_b64(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

void mail_cte_init(struct mail_cte *d, enum mail_cte_kind kind)
{
    memset(d, 0, sizeof(*d));
    d->kind = (uint8_t)kind;
}

static size_t mail_cte_flush_hold(struct mail_cte *d, char *out)
{
    size_t n = d->hold_len;
    memcpy(out, d->hold, n);
    d->hold_len = 0;
    return n;
}

/* One quoted-printable (or Q) byte; returns the bytes written to out. */
static size_t mail_cte_qp_byte(struct mail_cte *d, unsigned char c, char *out)
{
    size_t n = 0;
    bool q = d->kind == MAIL_CTE_Q;
    /* At most two turns: a state that rejects c returns to TEXT, which
     * always consumes it. */
    for (;;) {
        switch (d->state) {
        case MAIL_CTE_S_TEXT:
            if (c == '=') {
                n += mail_cte_flush_hold(d, out + n);
                d->state = MAIL_CTE_S_EQ;
            } else if (!q && (c == ' ' || c == '\t')) {
                if (d->hold_len == MAIL_CTE_HOLD)
                    n += mail_cte_flush_hold(d, out + n);
                d->hold[d->hold_len++] = (char)c;
            } else if (!q && c == '\r') {
                d->state = MAIL_CTE_S_CR;
            } else if (!q && c == '\n') {
                d->hold_len = 0;    /* trailing blanks are padding */
                out[n++] = '\n';
            } else {
                n += mail_cte_flush_hold(d, out + n);
                out[n++] = (q && c == '_') ? ' ' : (char)c;
            }
            return n;
        case MAIL_CTE_S_CR:
            d->state = MAIL_CTE_S_TEXT;
            if (c == '\n') {
                d->hold_len = 0;
                out[n++] = '\r';
                out[n++] = '\n';
                return n;
            }
            n += mail_cte_flush_hold(d, out + n);
            out[n++] = '\r';
            continue;
        case MAIL_CTE_S_EQ:
            if (mail_cte_hex(c) >= 0) {
                d->hex = (char)c;
                d->state = MAIL_CTE_S_EQ1;
                return n;
            }
            if (!q && (c == ' ' || c == '\t')) {
                d->state = MAIL_CTE_S_EQ_WS;
                d->hold[d->hold_len++] = (char)c;   /* hold is empty after "=" */
                return n;
            }
            if (!q && c == '\r') {
                d->state = MAIL_CTE_S_EQ_CR;
                return n;
            }
            if (!q && c == '\n') {
                d->state = MAIL_CTE_S_TEXT;     /* soft line break */
                return n;
            }
            out[n++] = '=';
            d->state = MAIL_CTE_S_TEXT;
            continue;
        case MAIL_CTE_S_EQ1: {
            int lo = mail_cte_hex(c);
            d->state = MAIL_CTE_S_TEXT;
            if (lo >= 0) {
                out[n++] = (char)(mail_cte_hex((unsigned char)d->hex) * 16 + lo);
                return n;
            }
            out[n++] = '=';
            out[n++] = d->hex;
            continue;
        }
        case MAIL_CTE_S_EQ_WS:
            /* "=" and blanks: padding before a soft break, or text. */
            if ((c == ' ' || c == '\t') && d->hold_len < MAIL_CTE_HOLD) {
                d->hold[d->hold_len++] = (char)c;
                return n;
            }
            if (c == '\r') {
                d->state = MAIL_CTE_S_EQ_CR;
                return n;
            }
            d->state = MAIL_CTE_S_TEXT;
            if (c == '\n') {
                d->hold_len = 0;
                return n;
            }
            out[n++] = '=';     /* "= x": not an escape, all of it is text */
            n += mail_cte_flush_hold(d, out + n);
            continue;
        case MAIL_CTE_S_EQ_CR:
            d->state = MAIL_CTE_S_TEXT;
            d->hold_len = 0;
            if (c == '\n')
                return n;
            continue;           /* "=\r" then text: taken as a soft break */
        default:
            d->state = MAIL_CTE_S_TEXT;
            continue;
        }
    }
}

size_t mail_cte_decode(struct mail_cte *d, const void *in, size_t len, size_t *used,
                       void *out, size_t cap)
{
    const unsigned char *s = in;
    char *o = out;
    size_t n = 0, i = 0;
    if (d->kind == MAIL_CTE_IDENTITY) {
        i = len < cap ? len : cap;
        memcpy(o, s, i);
        *used = i;
        return i;
    }
    for (; i < len; i++) {
        if (cap - n < MAIL_CTE_OUT_MIN)
            break;
        unsigned char c = s[i];
        if (d->kind == MAIL_CTE_BASE64) {
            int v = mail_cte_b64(c);
            if (v >= 0) {
                d->bits = (d->bits << 6) | (uint32_t)v;
                d->nbits = (uint8_t)(d->nbits + 6);
                if (d->nbits >= 8) {
                    d->nbits = (uint8_t)(d->nbits - 8);
                    o[n++] = (char)(d->bits >> d->nbits);
                    d->bits &= (1u << d->nbits) - 1u;
                }
            } else if (c == '=') {
                d->nbits = 0;   /* padding ends the quantum */
                d->bits = 0;
            }
        } else {
            n += mail_cte_qp_byte(d, c, o + n);
        }
    }
    *used = i;
    return n;
}

size_t mail_cte_finish(struct mail_cte *d, void *out, size_t cap)
{
    char *o = out;
    size_t n = 0;
    if (cap < MAIL_CTE_OUT_MIN)
        return 0;
    switch (d->state) {
    case MAIL_CTE_S_CR:
        n += mail_cte_flush_hold(d, o + n);
        o[n++] = '\r';
        break;
    case MAIL_CTE_S_EQ:
        o[n++] = '=';
        break;
    case MAIL_CTE_S_EQ1:
        o[n++] = '=';
        o[n++] = d->hex;
        break;
    default:
        break;
    }
    /* Blanks at the very end are trailing blanks too, except in Q, which
     * holds none. */
    d->hold_len = 0;
    d->state = MAIL_CTE_S_TEXT;
    d->nbits = 0;
    d->bits = 0;
    return n;
}

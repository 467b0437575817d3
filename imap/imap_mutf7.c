/*
 * imap_mutf7.c - modified UTF-7 mailbox names (see imap_mutf7.h).
 */
#include "imap_mutf7.h"

#include <stdint.h>

#include "pb_err.h"
#include "utf8.h"

static const char imap_mutf7_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int imap_mutf7_val(char ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == ',') return 63;
    return -1;
}

static bool imap_mutf7_direct(uint32_t cp)
{
    return cp >= 0x20 && cp <= 0x7e;
}

/* Append bytes to out; false when they do not fit (with the NUL). */
static bool imap_mutf7_put(char *out, size_t cap, size_t *o, const char *b, size_t n)
{
    if (*o + n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        out[(*o)++] = b[i];
    return true;
}

/* One shift "&...-" starting after the "&" at in[*i]; its text up to the
 * "-" is base64 of UTF-16BE.  *i ends after the "-". */
static int imap_mutf7_shift(const char *in, size_t n, size_t *i, char *out, size_t cap, size_t *o)
{
    uint32_t bits = 0, high = 0;
    unsigned nbits = 0, units = 0;
    size_t p = *i;
    for (; p < n && in[p] != '-'; p++) {
        int v = imap_mutf7_val(in[p]);
        if (v < 0)
            return PB_EINVAL;
        bits = (bits << 6) | (uint32_t)v;
        nbits += 6;
        if (nbits < 16)
            continue;
        nbits -= 16;
        uint32_t u = (bits >> nbits) & 0xffffu;
        bits &= (1u << nbits) - 1u;
        units++;
        uint32_t cp;
        if (high) {
            if (u < 0xdc00 || u > 0xdfff)
                return PB_EINVAL;       /* a high surrogate without its low one */
            cp = 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00);
            high = 0;
        } else if (u >= 0xd800 && u <= 0xdbff) {
            high = u;
            continue;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            return PB_EINVAL;           /* a low surrogate alone */
        } else {
            cp = u;
        }
        if (cp == 0 || imap_mutf7_direct(cp))
            return PB_EINVAL;           /* NUL, or printable ASCII that must stand for itself */
        char b[4];
        if (!imap_mutf7_put(out, cap, o, b, mail_utf8_put(cp, b)))
            return PB_ERANGE;
    }
    if (p == n)
        return PB_EINVAL;               /* no "-" ends the shift */
    /* Canonical: something was encoded, no unit is half there, and the
     * padding bits are fewer than six and all zero. */
    if (units == 0 || high || nbits >= 6 || bits != 0)
        return PB_EINVAL;
    *i = p + 1;
    return 0;
}

int imap_mutf7_decode(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    bool after_shift = false;
    if (cap == 0)
        return PB_ERANGE;
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)in[i];
        if (!imap_mutf7_direct(ch))
            return PB_EINVAL;
        if (ch != '&') {
            if (!imap_mutf7_put(out, cap, &o, in + i, 1))
                return PB_ERANGE;
            i++;
            after_shift = false;
            continue;
        }
        if (i + 1 < n && in[i + 1] == '-') {
            if (!imap_mutf7_put(out, cap, &o, "&", 1))
                return PB_ERANGE;
            i += 2;
            after_shift = false;
            continue;
        }
        if (after_shift)
            return PB_EINVAL;           /* two shifts in a row are written as one */
        i++;
        int err = imap_mutf7_shift(in, n, &i, out, cap, &o);
        if (err)
            return err;
        after_shift = true;
    }
    out[o] = '\0';
    return (int)o;
}

/* The next code point of UTF-8 in[*i..n); PB_EINVAL when ill-formed or
 * NUL (which no mailbox name holds). */
static int32_t imap_mutf7_next(const char *in, size_t n, size_t *i)
{
    int32_t cp = mail_utf8_next(in, n, i);
    return cp <= 0 ? PB_EINVAL : cp;
}

bool imap_mutf7_utf8_ok(const char *in, size_t n)
{
    for (size_t i = 0; i < n;)
        if (imap_mutf7_next(in, n, &i) < 0)
            return false;
    return true;
}

int imap_mutf7_encode(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return PB_ERANGE;
    for (size_t i = 0; i < n;) {
        size_t start = i;
        int32_t cp = imap_mutf7_next(in, n, &i);
        if (cp < 0)
            return PB_EINVAL;
        if (imap_mutf7_direct((uint32_t)cp)) {
            if (!imap_mutf7_put(out, cap, &o, cp == '&' ? "&-" : in + start, cp == '&' ? 2 : 1))
                return PB_ERANGE;
            continue;
        }
        /* A run of characters that are not printable ASCII: one shift. */
        uint32_t bits = 0;
        unsigned nbits = 0;
        if (!imap_mutf7_put(out, cap, &o, "&", 1))
            return PB_ERANGE;
        for (;;) {
            uint32_t units[2];
            unsigned nu = 0;
            if ((uint32_t)cp >= 0x10000) {
                uint32_t v = (uint32_t)cp - 0x10000;
                units[nu++] = 0xd800 + (v >> 10);
                units[nu++] = 0xdc00 + (v & 0x3ff);
            } else {
                units[nu++] = (uint32_t)cp;
            }
            for (unsigned k = 0; k < nu; k++) {
                bits = (bits << 16) | units[k];
                nbits += 16;
                while (nbits >= 6) {
                    nbits -= 6;
                    if (!imap_mutf7_put(out, cap, &o, &imap_mutf7_b64[(bits >> nbits) & 0x3f], 1))
                        return PB_ERANGE;
                }
                bits &= (1u << nbits) - 1u;
            }
            if (i >= n)
                break;
            size_t save = i;
            cp = imap_mutf7_next(in, n, &i);
            if (cp < 0)
                return PB_EINVAL;
            if (imap_mutf7_direct((uint32_t)cp)) {
                i = save;
                break;
            }
        }
        if (nbits && !imap_mutf7_put(out, cap, &o, &imap_mutf7_b64[(bits << (6 - nbits)) & 0x3f], 1))
            return PB_ERANGE;
        if (!imap_mutf7_put(out, cap, &o, "-", 1))
            return PB_ERANGE;
    }
    out[o] = '\0';
    return (int)o;
}

/*
 * sasl.c - SASL PLAIN and the base64 it travels in (see sasl.h).
 */
#include "sasl.h"

#include <string.h>

#include "pb_err.h"

static int sasl_b64_value(char c)
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

int sasl_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    size_t n = 0;
    if (len % 4 != 0)
        return PB_EINVAL;
    for (size_t i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = in[i + k];
            if (c == '=') {
                /* Padding only at the very end, and at most two. */
                if (i + 4 != len || k < 2)
                    return PB_EINVAL;
                pad++;
                v[k] = 0;
                continue;
            }
            if (pad)
                return PB_EINVAL;   /* data after '=' */
            if ((v[k] = sasl_b64_value(c)) < 0)
                return PB_EINVAL;
        }
        unsigned long w = ((unsigned long)v[0] << 18) | ((unsigned long)v[1] << 12) |
                          ((unsigned long)v[2] << 6) | (unsigned long)v[3];
        int bytes = 3 - pad;
        if (n + (size_t)bytes > cap)
            return PB_ERANGE;
        out[n++] = (unsigned char)(w >> 16);
        if (bytes > 1)
            out[n++] = (unsigned char)(w >> 8);
        if (bytes > 2)
            out[n++] = (unsigned char)w;
    }
    return (int)n;
}

int sasl_plain_decode(const char *b64, size_t len, char *user, size_t ucap,
                      char *pass, size_t pcap)
{
    unsigned char buf[SASL_PLAIN_B64_MAX / 4 * 3];
    if (ucap)
        user[0] = '\0';
    if (pcap)
        pass[0] = '\0';
    if (len > SASL_PLAIN_B64_MAX)
        return PB_ERANGE;
    int n = sasl_base64_decode(b64, len, buf, sizeof(buf));
    if (n < 0)
        return n;
    /* authzid NUL authcid NUL passwd, no further NUL. */
    const unsigned char *nul1 = memchr(buf, 0, (size_t)n);
    if (!nul1)
        return PB_EINVAL;
    size_t zlen = (size_t)(nul1 - buf);
    const unsigned char *cid = nul1 + 1;
    const unsigned char *nul2 = memchr(cid, 0, (size_t)n - zlen - 1);
    if (!nul2)
        return PB_EINVAL;
    size_t clen = (size_t)(nul2 - cid);
    const unsigned char *pw = nul2 + 1;
    size_t plen = (size_t)n - zlen - clen - 2;
    if (memchr(pw, 0, plen) || clen == 0 || plen == 0)
        return PB_EINVAL;
    if (zlen && (zlen != clen || memcmp(buf, cid, clen) != 0))
        return PB_EPERM;
    if (clen >= ucap || plen >= pcap)
        return PB_ERANGE;
    memcpy(user, cid, clen);
    user[clen] = '\0';
    memcpy(pass, pw, plen);
    pass[plen] = '\0';
    return 0;
}

int sasl_base64_encode(const unsigned char *in, size_t len, char *out, size_t cap)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t need = (len + 2) / 3 * 4;
    if (need + 1 > cap)
        return PB_ERANGE;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return (int)o;
}

int sasl_plain_encode(const char *user, const char *pass, char *out, size_t cap)
{
    unsigned char raw[2 * SASL_CRED_MAX + 2];
    size_t ul = strlen(user), pl = strlen(pass);
    if (ul == 0 || pl == 0 || ul > SASL_CRED_MAX || pl > SASL_CRED_MAX)
        return PB_EINVAL;
    raw[0] = 0;     /* no authzid: the user acts as themself */
    memcpy(raw + 1, user, ul);
    raw[1 + ul] = 0;
    memcpy(raw + 2 + ul, pass, pl);
    int n = sasl_base64_encode(raw, ul + pl + 2, out, cap);
    memset(raw, 0, sizeof(raw));
    return n;
}

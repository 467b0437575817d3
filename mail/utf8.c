/*
 * utf8.c - UTF-8 code points (see utf8.h).
 */
#include "utf8.h"

size_t mail_utf8_put(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int32_t mail_utf8_next(const char *in, size_t n, size_t *i)
{
    unsigned char c = (unsigned char)in[*i];
    uint32_t cp, min;
    unsigned more;
    if (c < 0x80) {
        (*i)++;
        return (int32_t)c;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        cp = c & 0x1Fu;
        more = 1;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        cp = c & 0x0Fu;
        more = 2;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        cp = c & 0x07u;
        more = 3;
        min = 0x10000;
    } else {
        return -1;      /* a continuation byte, C0/C1 (always overlong), F5.. */
    }
    if (n - *i <= more)
        return -1;
    for (unsigned k = 1; k <= more; k++) {
        unsigned char d = (unsigned char)in[*i + k];
        if ((d & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (d & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *i += 1 + more;
    return (int32_t)cp;
}

bool mail_utf8_valid(const char *in, size_t n)
{
    for (size_t i = 0; i < n;)
        if (mail_utf8_next(in, n, &i) < 0)
            return false;
    return true;
}

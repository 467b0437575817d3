/*
 * charset.c - single-byte charsets to UTF-8 (see charset.h).
 */
#include "charset.h"

#include "utf8.h"

#include <stdint.h>

static char mail_charset_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

enum mail_charset mail_charset_find(const char *name, size_t len)
{
    static const struct {
        const char *name;
        enum mail_charset cs;
    } names[] = {
        { "utf-8", MAIL_CHARSET_UTF8 }, { "utf8", MAIL_CHARSET_UTF8 },
        { "us-ascii", MAIL_CHARSET_ASCII }, { "ascii", MAIL_CHARSET_ASCII },
        { "ansi_x3.4-1968", MAIL_CHARSET_ASCII },
        { "iso-8859-1", MAIL_CHARSET_LATIN1 }, { "iso8859-1", MAIL_CHARSET_LATIN1 },
        { "iso_8859-1", MAIL_CHARSET_LATIN1 }, { "latin1", MAIL_CHARSET_LATIN1 },
        { "l1", MAIL_CHARSET_LATIN1 },
        { "iso-8859-15", MAIL_CHARSET_LATIN9 }, { "iso8859-15", MAIL_CHARSET_LATIN9 },
        { "latin9", MAIL_CHARSET_LATIN9 },
        { "windows-1252", MAIL_CHARSET_CP1252 }, { "cp1252", MAIL_CHARSET_CP1252 },
    };
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '*') {
            len = i;
            break;
        }
    }
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        const char *n = names[k].name;
        size_t i = 0;
        while (i < len && n[i] && mail_charset_lower(name[i]) == n[i])
            i++;
        if (i == len && n[i] == '\0')
            return names[k].cs;
    }
    return MAIL_CHARSET_UNKNOWN;
}

/* Windows-1252 0x80..0x9F; the five unassigned bytes map to the C1
 * control of the same value, as browsers do. */
static const uint16_t mail_charset_cp1252[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static uint16_t mail_charset_latin9(unsigned char c)
{
    switch (c) {
    case 0xA4: return 0x20AC;
    case 0xA6: return 0x0160;
    case 0xA8: return 0x0161;
    case 0xB4: return 0x017D;
    case 0xB8: return 0x017E;
    case 0xBC: return 0x0152;
    case 0xBD: return 0x0153;
    case 0xBE: return 0x0178;
    default: return c;
    }
}

size_t mail_charset_to_utf8(enum mail_charset cs, unsigned char c, char out[4])
{
    uint16_t u = c;
    switch (cs) {
    case MAIL_CHARSET_UNKNOWN:
        return 0;
    case MAIL_CHARSET_UTF8:
        out[0] = (char)c;
        return 1;
    case MAIL_CHARSET_ASCII:
    case MAIL_CHARSET_CP1252:
        if (c >= 0x80 && c < 0xA0)
            u = mail_charset_cp1252[c - 0x80];
        break;
    case MAIL_CHARSET_LATIN9:
        u = mail_charset_latin9(c);
        break;
    case MAIL_CHARSET_LATIN1:
        break;
    }
    return mail_utf8_put(u, out);
}

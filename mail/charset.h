/*
 * charset.h - the character sets mail text is converted from, into UTF-8
 * (for SEARCH and for decoded header text).
 *
 * UTF-8 and US-ASCII pass through (8-bit bytes labelled US-ASCII are read
 * as Windows-1252, the usual truth behind that label); ISO-8859-1,
 * ISO-8859-15 and Windows-1252 are converted byte by byte.  Other charsets
 * are MAIL_CHARSET_UNKNOWN: callers leave such text as it is.
 */
#ifndef MAIL_CHARSET_H
#define MAIL_CHARSET_H

#include <stddef.h>

enum mail_charset {
    MAIL_CHARSET_UNKNOWN = 0,
    MAIL_CHARSET_UTF8,
    MAIL_CHARSET_ASCII,
    MAIL_CHARSET_LATIN1,
    MAIL_CHARSET_LATIN9,
    MAIL_CHARSET_CP1252,
};

/* The charset called name (len bytes, any case, common aliases; an RFC
 * 2231 "*language" suffix is ignored). */
enum mail_charset mail_charset_find(const char *name, size_t len);

/* Byte c of text in charset cs as UTF-8 into out[4].  Returns 1..3 bytes
 * (UTF-8 input is passed through a byte at a time), 0 for UNKNOWN. */
size_t mail_charset_to_utf8(enum mail_charset cs, unsigned char c, char out[4]);

#endif

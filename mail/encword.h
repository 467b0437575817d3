/*
 * encword.h - RFC 2047 encoded-words ("=?charset?B|Q?text?=") in header
 * text, decoded into UTF-8 for SEARCH and display.
 *
 * B and Q encodings; the charsets of charset.h (UTF-8, US-ASCII,
 * ISO-8859-1/-15, Windows-1252).  An encoded-word in another charset, or
 * malformed, is left exactly as written.  Blanks between two adjacent
 * encoded-words are dropped (RFC 2047 6.2); text outside encoded-words is
 * copied unchanged (raw UTF-8 headers, RFC 6532, pass through).  Decoding
 * is lenient like mail readers: an encoded-word is recognised even when
 * glued to other text.
 */
#ifndef MAIL_ENCWORD_H
#define MAIL_ENCWORD_H

#include <stddef.h>

/* Decode in[0..len) into out[0..cap) (cap >= 1), NUL-terminated.  Output
 * that does not fit is cut at a character boundary.  Returns the length
 * written (never fails). */
size_t mail_encword_decode(const char *in, size_t len, char *out, size_t cap);

#endif

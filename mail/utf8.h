/*
 * utf8.h - UTF-8 code points, one at a time (RFC 3629): the one encoder
 * and the one strict decoder every part of Pillarbox uses (addresses with
 * SMTPUTF8, charset conversion, IMAP mailbox names).
 *
 * Strict means: no overlong forms, no surrogates, nothing above U+10FFFF,
 * no truncated sequence.
 */
#ifndef MAIL_UTF8_H
#define MAIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The code point cp (at most U+10FFFF, not a surrogate) as UTF-8 into
 * out[4].  Returns its length, 1..4. */
size_t mail_utf8_put(uint32_t cp, char out[4]);

/* The code point that starts at in[*i] (*i < n), advancing *i past it.
 * Returns it (U+0000 included), or -1 for an ill-formed sequence (*i is
 * then unchanged). */
int32_t mail_utf8_next(const char *in, size_t n, size_t *i);

/* Whether in[0..n) is well-formed UTF-8 (NUL bytes allowed). */
bool mail_utf8_valid(const char *in, size_t n);

#endif

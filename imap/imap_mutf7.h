/*
 * imap_mutf7.h - mailbox names in modified UTF-7 (RFC 3501 section 5.1.3),
 * the form IMAP4rev1 clients send and expect, to and from the UTF-8 the
 * store keeps (and IMAP4rev2 / UTF8=ACCEPT sessions use as is).
 *
 * Modified UTF-7: printable US-ASCII (0x20..0x7e) stands for itself,
 * except "&", written "&-"; every other character is UTF-16 in modified
 * BASE64 (RFC 2152 with "," instead of "/" and no "="), between "&" and
 * "-".  The decoder accepts only the canonical form, the one the encoder
 * writes, so that one folder has exactly one name on the wire:
 *   - no printable ASCII inside a shift, no empty shift other than "&-",
 *     no two shifts back to back ("&AOQ-&APY-" is one shift "&AOQA9g-"),
 *   - the bits left over after the last UTF-16 unit are fewer than six
 *     and zero,
 *   - surrogates come in pairs, U+0000 is never encoded,
 *   - every shift ends in "-", and no byte above 0x7e or below 0x20 is in
 *     the input.
 * Hence decode then encode gives the input back, byte for byte.
 *
 * Pure functions over caller buffers; no state, no allocation.
 */
#ifndef IMAP_MUTF7_H
#define IMAP_MUTF7_H

#include <stdbool.h>
#include <stddef.h>

/* Modified UTF-7 in[0..n) to UTF-8, NUL-terminated in out[cap].  Returns
 * the length written (without the NUL), PB_EINVAL for input that is not
 * canonical modified UTF-7, PB_ERANGE when out is too small. */
int imap_mutf7_decode(const char *in, size_t n, char *out, size_t cap);

/* UTF-8 in[0..n) to modified UTF-7, NUL-terminated in out[cap].  Returns
 * the length written, PB_EINVAL for input that is not UTF-8 (overlong
 * forms, surrogates, beyond U+10FFFF, U+0000), PB_ERANGE when out is too
 * small. */
int imap_mutf7_encode(const char *in, size_t n, char *out, size_t cap);

/* Whether in[0..n) is well-formed UTF-8 without U+0000 (the same rules
 * as the encoder's). */
bool imap_mutf7_utf8_ok(const char *in, size_t n);

#endif

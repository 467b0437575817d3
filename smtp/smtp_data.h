/*
 * smtp_data.h - the DATA body decoder (RFC 5321 sections 4.1.1.4, 4.5.2).
 *
 * A streaming state machine: bytes go in as they arrive, in any pieces;
 * the message comes out dot-unstuffed with its CRLFs, and the end is found
 * on <CRLF>.<CRLF> ONLY.  A bare LF or bare CR is never a line end (that is
 * what SMTP smuggling relies on); it is recorded so the session can refuse
 * the message, and decoding carries on to the real end of data.  Lines
 * longer than SMTP_DATA_LINE_MAX are recorded likewise.  The result does
 * not depend on how the input was split.
 */
#ifndef SMTP_DATA_H
#define SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_DATA_LINE_MAX 1000     /* octets of a text line with its CRLF */

/* Problems found in the body (flags, accumulated). */
#define SMTP_DATA_BARE_LF   0x1u
#define SMTP_DATA_BARE_CR   0x2u
#define SMTP_DATA_LONG_LINE 0x4u
#define SMTP_DATA_8BIT      0x8u    /* octets above 127 (fine with 8BITMIME) */
#define SMTP_DATA_NUL       0x10u   /* a NUL octet */

struct smtp_data {
    int state;
    size_t line_len;        /* octets of the current line so far */
    unsigned flags;         /* SMTP_DATA_* */
    uint64_t out_bytes;     /* decoded octets so far */
    bool done;              /* end of data seen */
};

void smtp_data_init(struct smtp_data *d);

/* Decode up to len bytes of in into out, which must have room for len + 1
 * bytes (a CR held back after a leading dot may come out with the next
 * call).  Stops right
 * after the end-of-data line, so bytes a client pipelined behind it stay
 * unconsumed.  Returns the number of input bytes consumed; *out_len is set
 * to the bytes written.  Once d->done, consumes nothing. */
size_t smtp_data_feed(struct smtp_data *d, const uint8_t *in, size_t len,
                      uint8_t *out, size_t *out_len);

#endif

/*
 * cte.h - streaming decoders for Content-Transfer-Encoding (RFC 2045
 * section 6: base64 and quoted-printable) and for the Q encoding of RFC
 * 2047 encoded-words, for SEARCH over bodies and for BINARY fetches.
 *
 * Input arrives in chunks of any size; the decoder keeps what a chunk
 * boundary cuts (a base64 quantum, "=4" of "=41", blanks that may turn out
 * to be trailing) in its fixed struct.  Decoding is lenient, like mail
 * readers: base64 skips characters outside its alphabet; a "=" in
 * quoted-printable that starts no valid escape is kept as text.  Trailing
 * blanks before a quoted-printable line break are removed (6.7 rule 3).
 * Line breaks come out as they went in.
 */
#ifndef MAIL_CTE_H
#define MAIL_CTE_H

#include <stddef.h>
#include <stdint.h>

enum mail_cte_kind {
    MAIL_CTE_IDENTITY,  /* 7bit, 8bit, binary: copied */
    MAIL_CTE_BASE64,
    MAIL_CTE_QP,        /* quoted-printable */
    MAIL_CTE_Q,         /* RFC 2047 4.2: "_" is a space, no line breaks */
};

#define MAIL_CTE_HOLD    64                     /* blanks held back at most */
#define MAIL_CTE_OUT_MIN (MAIL_CTE_HOLD + 4)    /* smallest output buffer */

struct mail_cte {
    uint8_t kind, state, nbits, hold_len;
    uint32_t bits;
    char hex;           /* first digit of a "=XY" escape */
    char hold[MAIL_CTE_HOLD];
};

void mail_cte_init(struct mail_cte *d, enum mail_cte_kind kind);

/* Decode from in[0..len) into out[0..cap) (cap >= MAIL_CTE_OUT_MIN).
 * Stops when the input is used up or out might not hold the next byte's
 * output; *used is set to the input bytes consumed.  Returns the output
 * bytes written. */
size_t mail_cte_decode(struct mail_cte *d, const void *in, size_t len, size_t *used,
                       void *out, size_t cap);

/* End of input: what is still held back, into out (cap >= MAIL_CTE_OUT_MIN).
 * Returns the bytes written. */
size_t mail_cte_finish(struct mail_cte *d, void *out, size_t cap);

#endif

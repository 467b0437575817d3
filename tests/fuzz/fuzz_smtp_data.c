// fuzz-links: smtp/smtp_data.c
/*
 * fuzz_smtp_data.c - libFuzzer target for the DATA body decoder.  The
 * first input byte picks split points; the result must be the same
 * whatever the split (so a message cannot end differently depending on
 * how TCP segmented it), the output never exceeds the input by more than
 * the one held-back CR, and the end is only ever after "\r\n.\r\n" (or a
 * leading ".\r\n").
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    unsigned step = data[0] ? data[0] : 1;
    data++;
    size--;

    uint8_t *whole = malloc(size + 1);
    uint8_t *part = malloc(size + 1);
    if (!whole || !part)
        abort();
    struct smtp_data a, b;
    size_t whole_len;
    smtp_data_init(&a);
    size_t used = smtp_data_feed(&a, data, size, whole, &whole_len);
    if (whole_len > used)
        abort();
    if (a.done) {
        /* It ended on CRLF "." CRLF, or on "." CRLF at the very start. */
        if (used < 3 || memcmp(data + used - 3, ".\r\n", 3) != 0)
            abort();
        if (used > 3 && (used < 5 || memcmp(data + used - 5, "\r\n", 2) != 0))
            abort();
    }

    smtp_data_init(&b);
    size_t in = 0, out = 0;
    while (in < size && !b.done) {
        size_t n = size - in < step ? size - in : step;
        size_t o;
        size_t u = smtp_data_feed(&b, data + in, n, part + out, &o);
        if (o > u + 1)
            abort();
        in += u;
        out += o;
        if (u < n && !b.done)
            abort();
    }
    if (in != used || out != whole_len || memcmp(part, whole, out) != 0 ||
        b.flags != a.flags || b.done != a.done)
        abort();
    free(whole);
    free(part);
    return 0;
}

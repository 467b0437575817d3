// fuzz-links: imap/imap_mutf7.c mail/utf8.c
/*
 * fuzz_imap_mutf7.c - libFuzzer target for modified UTF-7 folder names:
 * any bytes are decoded; what decodes is valid UTF-8 and encodes back to
 * exactly the input (one name, one wire form).  The same bytes taken as
 * UTF-8: what encodes decodes back to them.  Buffers are exact-size
 * copies so ASan sees any over-read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_mutf7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1024)
        return 0;
    char *in = malloc(size ? size : 1);
    char *a = malloc(4 * size + 8), *b = malloc(4 * size + 8);
    if (!in || !a || !b)
        abort();
    memcpy(in, data, size);

    int n = imap_mutf7_decode(in, size, a, 4 * size + 8);
    if (n >= 0) {
        if (!imap_mutf7_utf8_ok(a, (size_t)n))
            abort();
        int m = imap_mutf7_encode(a, (size_t)n, b, 4 * size + 8);
        if (m != (int)size || memcmp(b, in, size) != 0)
            abort();
    }

    n = imap_mutf7_encode(in, size, a, 4 * size + 8);
    if ((n >= 0) != imap_mutf7_utf8_ok(in, size))
        abort();
    if (n >= 0) {
        int m = imap_mutf7_decode(a, (size_t)n, b, 4 * size + 8);
        if (m != (int)size || memcmp(b, in, size) != 0)
            abort();
    }
    free(in);
    free(a);
    free(b);
    return 0;
}

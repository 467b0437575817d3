// fuzz-links: net/x509.c
/*
 * fuzz_x509.c - x509_spki() on any bytes: it must never read outside the
 * input, and what it returns must lie inside it and be one DER SEQUENCE.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *spki = NULL;
    size_t n = 0;
    if (x509_spki(data, size, &spki, &n) == 0) {
        if (spki < data || n < 2 || (size_t)(spki - data) + n > size || spki[0] != 0x30)
            abort();
    }
    return 0;
}

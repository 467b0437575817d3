// fuzz-links: net/x509.c
/*
 * fuzz_x509.c - x509_spki() and x509_names() on any bytes: they must never
 * read outside the input; the SPKI returned must lie inside it and be one
 * DER SEQUENCE; a name check answers 1, 0 or PB_ECORRUPT only.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pb_err.h"
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
    int r = x509_names(data, size, "mx.example.net");
    if (r != 1 && r != 0 && r != PB_ECORRUPT)
        abort();
    return 0;
}

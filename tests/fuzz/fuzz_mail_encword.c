// fuzz-links: mail/encword.c mail/cte.c mail/charset.c mail/utf8.c
/*
 * fuzz_mail_encword.c - libFuzzer target for RFC 2047 decoding and the
 * transfer decoders.  Invariants: the decoded text fits its buffer and is
 * NUL-terminated; decoding into a smaller buffer gives a prefix of the
 * full result; base64, quoted-printable and Q give the same output fed a
 * byte at a time as fed at once, and never more bytes than went in.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cte.h"
#include "encword.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t decode_all(enum mail_cte_kind k, const uint8_t *in, size_t len, size_t chunk,
                         char *out, size_t cap)
{
    struct mail_cte d;
    char buf[MAIL_CTE_OUT_MIN];
    size_t total = 0;
    mail_cte_init(&d, k);
    for (size_t i = 0; i < len; i += chunk) {
        size_t c = len - i < chunk ? len - i : chunk, off = 0;
        while (off < c) {
            size_t used;
            size_t n = mail_cte_decode(&d, in + i + off, c - off, &used, buf, sizeof(buf));
            if (total + n > cap || (used == 0 && n == 0))
                abort();
            memcpy(out + total, buf, n);
            total += n;
            off += used;
        }
    }
    size_t n = mail_cte_finish(&d, buf, sizeof(buf));
    if (total + n > cap)
        abort();
    memcpy(out + total, buf, n);
    return total + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    static char full[4 * 4096 + 1], part[64];
    size_t n = mail_encword_decode((const char *)data, size, full, sizeof(full));
    if (n >= sizeof(full) || strlen(full) > n)
        abort();
    size_t m = mail_encword_decode((const char *)data, size, part, sizeof(part));
    if (m >= sizeof(part) || m > n || memcmp(part, full, m) != 0)
        abort();

    static char a[4096 + MAIL_CTE_OUT_MIN], b[4096 + MAIL_CTE_OUT_MIN];
    static const enum mail_cte_kind kinds[] = { MAIL_CTE_BASE64, MAIL_CTE_QP, MAIL_CTE_Q };
    for (unsigned k = 0; k < 3; k++) {
        size_t x = decode_all(kinds[k], data, size, size ? size : 1, a, sizeof(a));
        size_t y = decode_all(kinds[k], data, size, 1, b, sizeof(b));
        if (x != y || memcmp(a, b, x) != 0 || x > size)
            abort();
    }
    return 0;
}

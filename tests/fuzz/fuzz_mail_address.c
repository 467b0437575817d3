// fuzz-links: mail/address.c mail/utf8.c
/*
 * fuzz_mail_address.c - libFuzzer target for address parsing: whatever
 * parses, formats back to text that parses to the same address.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0] & 7u;
    data++;
    size--;
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    struct mail_address a, b;
    size_t used;
    if (mail_address_parse_path(s, size, flags, &a, &used) == 0) {
        if (used > size)
            abort();
        if (!a.null && a.domain[0]) {
            char text[MAIL_LOCAL_MAX * 2 + MAIL_DOMAIN_MAX + 8];
            int n = mail_address_format(&a, text, sizeof(text));
            if (n < 0)
                abort();
            /* The canonical form must read back as the same mailbox. */
            if (mail_address_parse(text, (size_t)n, flags | MAIL_ADDR_UTF8, &b) != 0 ||
                strcmp(a.local, b.local) != 0 || strcmp(a.domain, b.domain) != 0)
                abort();
        }
    }
    mail_address_parse(s, size, flags, &a);
    free(s);
    return 0;
}

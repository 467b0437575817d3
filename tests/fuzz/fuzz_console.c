// fuzz-links: firmware/lineedit.c firmware/cmdline.c mail/address.c mail/utf8.c
/*
 * fuzz_console.c - libFuzzer target for what arrives on the serial line:
 * the line editor (escape sequences, editing keys, history), the word
 * splitter (quotes, escapes) and the hostname check behind "set hostname"
 * (mail_address_domain_valid, which config_hostname_valid applies).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cmdline.h"
#include "address.h"
#include "lineedit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t echoed;

static void fuzz_echo(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    /* Touch every byte so ASan sees any read past the end. */
    for (size_t i = 0; i < n; i++)
        echoed += (uint8_t)s[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lineedit le;
    lineedit_init(&le, fuzz_echo, NULL);
    for (size_t i = 0; i < size; i++) {
        if (!lineedit_feed(&le, data[i]))
            continue;
        char line[LINEEDIT_MAX + 1];
        size_t len = strlen(le.buf);
        if (len > LINEEDIT_MAX)
            __builtin_trap();
        memcpy(line, le.buf, len + 1);
        char *argv[CMDLINE_MAX_WORDS];
        int argc = cmdline_split(line, argv, CMDLINE_MAX_WORDS);
        for (int a = 0; a < argc; a++) {
            if (strlen(argv[a]) > len)
                __builtin_trap();
            /* A name that passes has only letters, digits, '-' and '.'. */
            if (mail_address_domain_valid(argv[a], false) &&
                strspn(argv[a], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") !=
                    strlen(argv[a]))
                __builtin_trap();
        }
    }
    return 0;
}

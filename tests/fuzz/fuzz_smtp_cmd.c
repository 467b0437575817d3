// fuzz-links: smtp/smtp_cmd.c mail/address.c mail/utf8.c
/*
 * fuzz_smtp_cmd.c - libFuzzer target for SMTP command lines as a client
 * sends them (verbs, HELO domains, MAIL/RCPT paths and parameters, BDAT).
 * Every line either parses or yields a proper 5xx reply.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > SMTP_CMD_LINE_MAX)
        return 0;
    /* An exact-size copy, so ASan sees any read past the line. */
    char *line = malloc(size ? size : 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    struct smtp_cmd cmd;
    struct smtp_reply err;
    for (int utf8 = 0; utf8 < 2; utf8++) {
        int r = smtp_cmd_parse(line, size, utf8, &cmd, &err);
        if (r != 0) {
            if (err.code < 500 || err.code > 559 || !err.status || err.status[0] != '5' || !err.text)
                abort();
        } else if (cmd.verb == SMTP_VERB_MAIL || cmd.verb == SMTP_VERB_RCPT) {
            char buf[600];
            if (strlen(cmd.addr.local) > MAIL_LOCAL_MAX || strlen(cmd.addr.domain) > MAIL_DOMAIN_MAX)
                abort();
            mail_address_format(&cmd.addr, buf, sizeof(buf));
        }
    }
    free(line);
    return 0;
}

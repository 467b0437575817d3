// fuzz-links: imap/imap_cmd.c
/*
 * fuzz_imap_cmd.c - libFuzzer target for the IMAP command grammar: a
 * command as a client sends it (tag, name, astrings, literals {n}/{n+},
 * sequence sets, flag lists, dates, mod-sequences) read the way the
 * session reads it.
 * Every read stays inside the buffer (ASan), a parsed string fits its
 * buffer, and a sequence set that parsed answers membership queries.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *buf = malloc(size ? size : 1);    /* exact size: ASan sees over-reads */
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    uint32_t n;
    bool nonsync;
    int lit = imap_cmd_literal_at_end(buf, size, &n, &nonsync);
    if (lit != 0 && lit != 1 && lit != -15)
        abort();

    struct imap_cmd c;
    char tag[IMAP_CMD_TAG_MAX + 1], s[256];
    imap_cmd_init(&c, buf, size);
    imap_cmd_tag(&c, tag);
    /* Read whatever comes as a mix of the argument kinds, bounded by input. */
    for (int steps = 0; steps < 64 && imap_cmd_ok(&c) && !imap_cmd_at_end(&c); steps++) {
        imap_cmd_take(&c, ' ');
        struct imap_cmd save = c;
        size_t len = 0;
        if (imap_cmd_astring(&c, s, sizeof(s), &len) == 0) {
            if (len >= sizeof(s) || s[len] != '\0')
                abort();
            continue;
        }
        c = save;
        struct imap_seqset set;
        if (imap_cmd_seqset(&c, &set) == 0) {
            (void)imap_seqset_contains(&set, 1, 10);
            (void)imap_seqset_contains(&set, 4000000000u, 4000000000u);
            if (imap_seqset_max(&set, 7) == 0)
                abort();            /* a valid set names at least one number */
            continue;
        }
        c = save;
        uint64_t ms;
        if (imap_cmd_modseq(&c, &ms) == 0) {
            if (ms > 0x7fffffffffffffffull)
                abort();            /* RFC 7162: a mod-sequence fits 63 bits */
            continue;
        }
        c = save;
        int32_t days;
        int64_t epoch;
        if (imap_cmd_date(&c, &days) == 0)
            continue;
        c = save;
        if (imap_cmd_datetime(&c, &epoch) == 0)
            continue;
        c = save;
        if (imap_cmd_take(&c, '(') || imap_cmd_take(&c, ')'))
            continue;
        if (imap_cmd_flag(&c, s, sizeof(s)) == 0 || imap_cmd_list_mailbox(&c, s, sizeof(s)) == 0)
            continue;
        break;
    }
    free(buf);
    return 0;
}

// fuzz-links: mail/addrlist.c
/*
 * fuzz_mail_addrlist.c - libFuzzer target for RFC 5322 address lists: the
 * iterator ends, every text is NUL-terminated within its bound, and group
 * starts and ends pair up.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addrlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    struct mail_addrlist l;
    struct mail_addrlist_entry e;
    mail_addrlist_init(&l, s, size);
    size_t count = 0;
    int open = 0;
    while (mail_addrlist_next(&l, &e)) {
        /* Each entry consumes input (a group end may be synthesised once). */
        if (++count > size + 2)
            abort();
        if (strlen(e.name) > MAIL_ADDRLIST_NAME_MAX || strlen(e.route) > MAIL_ADDRLIST_ROUTE_MAX ||
            strlen(e.mailbox) > MAIL_ADDRLIST_MAILBOX_MAX || strlen(e.host) > MAIL_ADDRLIST_HOST_MAX)
            abort();
        if (e.kind == MAIL_ADDRLIST_GROUP_START)
            open++;
        else if (e.kind == MAIL_ADDRLIST_GROUP_END)
            open--;
        if (open < 0 || open > 1)
            abort();
    }
    if (open != 0)
        abort();
    free(s);
    return 0;
}

// fuzz-links: net/dns_msg.c
/*
 * fuzz_dns_msg.c - libFuzzer target for DNS responses as a server (or a
 * forger) sends them.  The first byte picks the type asked for; the rest
 * is the response to a query for "example.test" with ID 0x1234.
 * Invariants: no read outside the message (ASan), and whatever parses
 * describes itself consistently: records inside the data pool, names
 * NUL-terminated printable text, null MX only as a lone "MX 0 .".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_msg.h"
#include "pb_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t fuzz_types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_TXT,
                                       DNS_T_TLSA, DNS_T_PTR, DNS_T_CNAME, DNS_T_SOA };

static void fuzz_check(const struct dns_answer *a)
{
    if (a->count < 0 || a->count > DNS_ANSWER_RR_MAX || a->used > DNS_ANSWER_DATA)
        abort();
    int mx = 0;
    for (int i = 0; i < a->count; i++) {
        const struct dns_rr *rr = &a->rr[i];
        if ((size_t)rr->off + rr->len > a->used)
            abort();
        if (rr->type == DNS_T_CNAME || rr->type == DNS_T_PTR || rr->type == DNS_T_MX) {
            const char *n = dns_rr_name(a, rr);
            if ((size_t)rr->off + rr->len >= a->used || n[rr->len] != '\0' || strlen(n) != rr->len)
                abort();
            for (size_t k = 0; k < rr->len; k++)
                if (n[k] < 0x21 || n[k] > 0x7e)
                    abort();
        }
        if (rr->type == DNS_T_A && rr->len != 4)
            abort();
        if (rr->type == DNS_T_AAAA && rr->len != 16)
            abort();
        if (rr->type == DNS_T_TXT && rr->len > DNS_TXT_MAX)
            abort();
        if (rr->type == DNS_T_TLSA && rr->len > DNS_TLSA_DATA_MAX)
            abort();
        if (rr->type != a->qtype && rr->type != DNS_T_CNAME)
            abort();
        mx += rr->type == DNS_T_MX;
    }
    if (a->null_mx && (mx != 1 || a->qtype != DNS_T_MX))
        abort();
    if (a->tc && a->count)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint16_t type = fuzz_types[data[0] % (sizeof(fuzz_types) / sizeof(fuzz_types[0]))];
    uint8_t q[DNS_MSG_QUERY_MAX];
    int qlen = dns_msg_query(q, sizeof(q), 0x1234, "example.test", type, true);
    if (qlen <= 0)
        abort();
    /* A copy of exactly the message's size, so ASan sees any overread. */
    size_t len = size - 1;
    uint8_t *msg = malloc(len ? len : 1);
    if (!msg)
        return 0;
    memcpy(msg, data + 1, len);
    struct dns_answer a;
    int err = dns_msg_parse(msg, len, q, (size_t)qlen, &a);
    if (err == 0)
        fuzz_check(&a);
    else if (err != PB_ECORRUPT && err != PB_ENOENT && err != PB_ERANGE)
        abort();

    /* The same bytes as a name to ask for: a query is built or refused. */
    char name[300];
    size_t nl = len < sizeof(name) - 1 ? len : sizeof(name) - 1;
    memcpy(name, data + 1, nl);
    name[nl] = '\0';
    int n = dns_msg_query(q, sizeof(q), 1, name, type, data[0] & 0x80);
    if (n > DNS_MSG_QUERY_MAX || (n < 0 && n != PB_EINVAL && n != PB_ERANGE))
        abort();
    free(msg);
    return 0;
}

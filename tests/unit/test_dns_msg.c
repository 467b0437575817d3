/*
 * test_dns_msg.c - the resolver's wire format: queries as a validating
 * upstream expects them, and responses built by hand the way servers
 * send them (compression, CNAME chains out of order, null MX, TLSA, TXT in
 * several strings, negative answers with an SOA) parse to what mail
 * delivery needs; every malformed or foreign response (cut short, pointer
 * loops, wrong ID or question, names over 255 bytes) is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dns_msg.h"
#include "pb_err.h"

/* ------------------------------------------------------ response builder --- */

struct msg {
    uint8_t b[4096];
    size_t n;
    uint8_t q[DNS_MSG_QUERY_MAX];
    size_t qlen;
    size_t qname_end;        /* offset of the question's type in q */
};

static void put8(struct msg *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}

static void put16(struct msg *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v & 0xff);
}

static void put32(struct msg *m, uint32_t v)
{
    put16(m, v >> 16);
    put16(m, v & 0xffff);
}

static void putbytes(struct msg *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

/* A dotted name, uncompressed. */
static void putname(struct msg *m, const char *name)
{
    while (*name) {
        size_t l = strcspn(name, ".");
        put8(m, (unsigned)l);
        putbytes(m, name, l);
        name += l;
        if (*name == '.')
            name++;
    }
    put8(m, 0);
}

/* A compression pointer to offset. */
static void putptr(struct msg *m, unsigned offset)
{
    put16(m, 0xc000 | offset);
}

/* Query for name/type with id 0x1234, and the response header + question
 * copied from it.  flags: the response's flags word. */
static void start(struct msg *m, const char *name, uint16_t type, unsigned flags,
                  unsigned an, unsigned ns, unsigned ar)
{
    memset(m, 0, sizeof(*m));
    int ql = dns_msg_query(m->q, sizeof(m->q), 0x1234, name, type, true);
    assert_true(ql > 0);
    m->qlen = (size_t)ql;
    m->qname_end = (size_t)ql - 11 - 4;
    put16(m, 0x1234);
    put16(m, flags);
    put16(m, 1);
    put16(m, an);
    put16(m, ns);
    put16(m, ar);
    putbytes(m, m->q + 12, m->qname_end - 12 + 4);
}

/* The fixed part of a record (the owner written by the caller). */
static void rrhead(struct msg *m, uint16_t type, uint32_t ttl, unsigned rdlen)
{
    put16(m, type);
    put16(m, DNS_CLASS_IN);
    put32(m, ttl);
    put16(m, rdlen);
}

#define RESP 0x8180u   /* QR, RD, RA, NOERROR */

static int parse(struct msg *m, struct dns_answer *a)
{
    return dns_msg_parse(m->b, m->n, m->q, m->qlen, a);
}

/* ---------------------------------------------------------------- query --- */

static void test_query_wire(void **state)
{
    (void)state;
    uint8_t b[DNS_MSG_QUERY_MAX];
    int n = dns_msg_query(b, sizeof(b), 0xbeef, "mx.Example.com.", DNS_T_MX, true);
    static const uint8_t want[] = {
        0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,           /* RD; 1 question, 1 additional */
        2, 'm', 'x', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
        0, 15, 0, 1,                                               /* MX IN */
        0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0,                 /* OPT 1232, DO */
    };
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(b, want, sizeof(want));

    n = dns_msg_query(b, sizeof(b), 1, "example.com", DNS_T_A, false);
    assert_int_equal(n, 12 + 13 + 4);
    assert_int_equal(b[11], 0);                                    /* no OPT */

    assert_int_equal(dns_msg_query(b, sizeof(b), 1, "a..b", DNS_T_A, true), PB_EINVAL);
    assert_int_equal(dns_msg_query(b, sizeof(b), 1, "", DNS_T_A, true), PB_EINVAL);
    assert_int_equal(dns_msg_query(b, sizeof(b), 1, ".example", DNS_T_A, true), PB_EINVAL);
    assert_int_equal(dns_msg_query(b, sizeof(b), 1, "a b.example", DNS_T_A, true), PB_EINVAL);
    assert_int_equal(dns_msg_query(b, sizeof(b), 1, "a\\.b", DNS_T_A, true), PB_EINVAL);
    char lab[80];
    memset(lab, 'x', 64);
    strcpy(lab + 64, ".com");
    assert_int_equal(dns_msg_query(b, sizeof(b), 1, lab, DNS_T_A, true), PB_EINVAL);
    /* 63 bytes is the longest label. */
    assert_int_equal(dns_msg_query(b, sizeof(b), 1, lab + 1, DNS_T_A, true), 12 + 1 + 63 + 4 + 1 + 4 + 11);
    /* Labels of 63, 63, 63, 62: 256 bytes on the wire with the root, one
     * too many; with 61 in the last, 255 exactly. */
    char big[300];
    size_t k = 0;
    for (int i = 0; i < 4; i++) {
        memset(big + k, 'a' + i, 63);
        k += 63;
        big[k++] = '.';
    }
    big[k - 2] = '\0';
    assert_int_equal(dns_msg_query(b, sizeof(b), 1, big, DNS_T_A, true), PB_ERANGE);
    big[k - 3] = '\0';
    assert_true(dns_msg_query(b, sizeof(b), 1, big, DNS_T_A, true) > 0);
    assert_int_equal(dns_msg_query(b, 20, 1, "example.com", DNS_T_A, true), PB_ERANGE);
    assert_int_equal(dns_msg_query(b, sizeof(b), 1, ".", DNS_T_SOA, false), 12 + 1 + 4);
}

/* ------------------------------------------------------------- answers --- */

static void test_a_with_compression_and_ad(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    start(&m, "host.example.test", DNS_T_A, RESP | 0x20, 2, 0, 0);
    putptr(&m, 12);
    rrhead(&m, DNS_T_A, 300, 4);
    putbytes(&m, "\xc0\x00\x02\x0a", 4);
    putptr(&m, 12);
    rrhead(&m, DNS_T_A, 200, 4);
    putbytes(&m, "\xc0\x00\x02\x0b", 4);
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.rcode, DNS_RCODE_NOERROR);
    assert_true(a.ad);
    assert_false(a.tc);
    assert_int_equal(a.count, 2);
    assert_int_equal(a.rr[0].type, DNS_T_A);
    assert_int_equal(a.rr[0].ttl, 300);
    assert_memory_equal(dns_rr_data(&a, &a.rr[0]), "\xc0\x00\x02\x0a", 4);
    assert_int_equal(a.rr[1].ttl, 200);
    assert_memory_equal(dns_rr_data(&a, &a.rr[1]), "\xc0\x00\x02\x0b", 4);

    /* Without AD, and the question in another case (0x20 randomisation
     * by the upstream): still our answer. */
    start(&m, "host.example.test", DNS_T_A, RESP, 1, 0, 0);
    m.b[13] = 'H';
    putptr(&m, 12);
    rrhead(&m, DNS_T_A, 300, 4);
    putbytes(&m, "\xc0\x00\x02\x0a", 4);
    assert_int_equal(parse(&m, &a), 0);
    assert_false(a.ad);
    assert_int_equal(a.count, 1);
}

static void test_aaaa_and_other_owner_ignored(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    start(&m, "v6.example.test", DNS_T_AAAA, RESP, 2, 0, 0);
    putname(&m, "other.example.test");      /* not our name: left out */
    rrhead(&m, DNS_T_AAAA, 60, 16);
    putbytes(&m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
    putptr(&m, 12);
    rrhead(&m, DNS_T_AAAA, 60, 16);
    putbytes(&m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.rr[0].len, 16);
    assert_int_equal(dns_rr_data(&a, &a.rr[0])[15], 1);
}

static void test_cname_chain_out_of_order(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    /* www -> alias.cdn.test -> edge.cdn.test -> A; listed A first. */
    start(&m, "www.example.test", DNS_T_A, RESP, 3, 0, 0);
    size_t edge = m.n;
    putname(&m, "edge.cdn.test");
    rrhead(&m, DNS_T_A, 30, 4);
    putbytes(&m, "\x0a\x00\x02\x64", 4);
    size_t alias = m.n;
    putname(&m, "alias.cdn.test");
    rrhead(&m, DNS_T_CNAME, 600, 2);
    putptr(&m, (unsigned)edge);
    putptr(&m, 12);
    rrhead(&m, DNS_T_CNAME, 3600, 2);
    putptr(&m, (unsigned)alias);
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.count, 3);
    assert_int_equal(a.rr[0].type, DNS_T_CNAME);
    assert_string_equal(dns_rr_name(&a, &a.rr[0]), "alias.cdn.test");
    assert_int_equal(a.rr[0].ttl, 3600);
    assert_int_equal(a.rr[1].type, DNS_T_CNAME);
    assert_string_equal(dns_rr_name(&a, &a.rr[1]), "edge.cdn.test");
    assert_int_equal(a.rr[2].type, DNS_T_A);
    assert_memory_equal(dns_rr_data(&a, &a.rr[2]), "\x0a\x00\x02\x64", 4);
}

static void test_cname_loop_refused(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    start(&m, "a.example.test", DNS_T_A, RESP, 2, 0, 0);
    size_t b_owner = m.n;
    putname(&m, "b.example.test");
    rrhead(&m, DNS_T_CNAME, 60, 2);
    putptr(&m, 12);                         /* b -> a */
    putptr(&m, 12);
    rrhead(&m, DNS_T_CNAME, 60, 2);
    putptr(&m, (unsigned)b_owner);          /* a -> b */
    assert_int_equal(parse(&m, &a), PB_ERANGE);
}

static void test_mx_and_null_mx(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    start(&m, "example.test", DNS_T_MX, RESP, 2, 0, 0);
    putptr(&m, 12);
    rrhead(&m, DNS_T_MX, 3600, 2 + 6);
    put16(&m, 10);
    put8(&m, 3);
    putbytes(&m, "mx1", 3);
    putptr(&m, 12);                          /* mx1.example.test */
    putptr(&m, 12);
    rrhead(&m, DNS_T_MX, 3600, 2 + 14);
    put16(&m, 20);
    putname(&m, "backup.other.");
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.count, 2);
    assert_int_equal(a.rr[0].pref, 10);
    assert_string_equal(dns_rr_name(&a, &a.rr[0]), "mx1.example.test");
    assert_int_equal(a.rr[1].pref, 20);
    assert_string_equal(dns_rr_name(&a, &a.rr[1]), "backup.other");
    assert_false(a.null_mx);

    /* RFC 7505: "MX 0 ." says the domain takes no mail. */
    start(&m, "nomail.test", DNS_T_MX, RESP, 1, 0, 0);
    putptr(&m, 12);
    rrhead(&m, DNS_T_MX, 3600, 3);
    put16(&m, 0);
    put8(&m, 0);
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.count, 1);
    assert_string_equal(dns_rr_name(&a, &a.rr[0]), ".");
    assert_true(a.null_mx);

    /* A null MX beside a real one is not a null MX. */
    start(&m, "nomail.test", DNS_T_MX, RESP, 2, 0, 0);
    putptr(&m, 12);
    rrhead(&m, DNS_T_MX, 3600, 3);
    put16(&m, 0);
    put8(&m, 0);
    putptr(&m, 12);
    rrhead(&m, DNS_T_MX, 3600, 4);
    put16(&m, 5);
    putptr(&m, 12);
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.count, 2);
    assert_false(a.null_mx);

    /* An exchange name that does not fill the rdata exactly. */
    start(&m, "example.test", DNS_T_MX, RESP, 1, 0, 0);
    putptr(&m, 12);
    rrhead(&m, DNS_T_MX, 3600, 5);
    put16(&m, 10);
    putptr(&m, 12);
    put8(&m, 0);
    assert_int_equal(parse(&m, &a), PB_ECORRUPT);
}

static void test_tlsa(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    uint8_t digest[32], cert[100];
    for (int i = 0; i < 32; i++)
        digest[i] = (uint8_t)(0xa0 + i);
    memset(cert, 0x5a, sizeof(cert));
    start(&m, "_25._tcp.mx1.example.test", DNS_T_TLSA, RESP | 0x20, 2, 0, 0);
    putptr(&m, 12);
    rrhead(&m, DNS_T_TLSA, 300, 3 + 32);
    putbytes(&m, "\x03\x01\x01", 3);
    putbytes(&m, digest, 32);
    putptr(&m, 12);
    rrhead(&m, DNS_T_TLSA, 300, 3 + 100);
    putbytes(&m, "\x03\x00\x00", 3);
    putbytes(&m, cert, 100);
    assert_int_equal(parse(&m, &a), 0);
    assert_true(a.ad);
    assert_int_equal(a.count, 2);
    assert_int_equal(a.rr[0].usage, 3);
    assert_int_equal(a.rr[0].selector, 1);
    assert_int_equal(a.rr[0].mtype, 1);
    assert_int_equal(a.rr[0].len, 32);
    assert_false(a.rr[0].clipped);
    assert_memory_equal(dns_rr_data(&a, &a.rr[0]), digest, 32);
    /* A whole certificate is more than kept: clipped, and said so. */
    assert_int_equal(a.rr[1].mtype, 0);
    assert_int_equal(a.rr[1].len, DNS_TLSA_DATA_MAX);
    assert_true(a.rr[1].clipped);

    start(&m, "_25._tcp.mx1.example.test", DNS_T_TLSA, RESP, 1, 0, 0);
    putptr(&m, 12);
    rrhead(&m, DNS_T_TLSA, 300, 2);
    putbytes(&m, "\x03\x01", 2);
    assert_int_equal(parse(&m, &a), PB_ECORRUPT);
}

static void test_txt_several_strings(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    start(&m, "example.test", DNS_T_TXT, RESP, 1, 0, 0);
    putptr(&m, 12);
    rrhead(&m, DNS_T_TXT, 300, 8 + 18 + 5);
    put8(&m, 7);
    putbytes(&m, "v=spf1 ", 7);
    put8(&m, 17);
    putbytes(&m, "include:spf.test ", 17);
    put8(&m, 4);
    putbytes(&m, "-all", 4);
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.rr[0].len, 7 + 17 + 4);
    assert_false(a.rr[0].clipped);
    assert_memory_equal(dns_rr_data(&a, &a.rr[0]), "v=spf1 include:spf.test -all", 28);

    /* A string longer than the rdata. */
    start(&m, "example.test", DNS_T_TXT, RESP, 1, 0, 0);
    putptr(&m, 12);
    rrhead(&m, DNS_T_TXT, 300, 4);
    put8(&m, 9);
    putbytes(&m, "abc", 3);
    assert_int_equal(parse(&m, &a), PB_ECORRUPT);

    /* A long DKIM-like record: kept up to DNS_TXT_MAX, marked clipped. */
    start(&m, "sel._domainkey.example.test", DNS_T_TXT, RESP, 1, 0, 0);
    putptr(&m, 12);
    rrhead(&m, DNS_T_TXT, 300, 3 * 256);
    for (int i = 0; i < 3; i++) {
        put8(&m, 255);
        memset(m.b + m.n, 'A' + i, 255);
        m.n += 255;
    }
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.rr[0].len, DNS_TXT_MAX);
    assert_true(a.rr[0].clipped);
    assert_int_equal(dns_rr_data(&a, &a.rr[0])[254], 'A');
    assert_int_equal(dns_rr_data(&a, &a.rr[0])[255], 'B');
}

static void test_ptr_and_names(void **state)
{
    (void)state;
    char buf[DNS_PTR_NAME_MAX];
    const uint8_t v4[4] = { 192, 0, 2, 1 };
    assert_int_equal(dns_msg_ptr_name(v4, 4, buf, sizeof(buf)), 22);
    assert_string_equal(buf, "1.2.0.192.in-addr.arpa");
    const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
    assert_int_equal(dns_msg_ptr_name(v6, 16, buf, sizeof(buf)), 72);
    assert_string_equal(buf, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    assert_int_equal(dns_msg_ptr_name(v4, 5, buf, sizeof(buf)), PB_EINVAL);
    assert_int_equal(dns_msg_ptr_name(v4, 4, buf, 20), PB_ERANGE);

    struct msg m;
    struct dns_answer a;
    start(&m, "1.2.0.192.in-addr.arpa", DNS_T_PTR, RESP, 1, 0, 0);
    putptr(&m, 12);
    rrhead(&m, DNS_T_PTR, 86400, 16);
    putname(&m, "mail.example.t");
    /* A byte that is no hostname character comes out escaped. */
    m.b[m.n - 2] = '.';
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.count, 1);
    assert_string_equal(dns_rr_name(&a, &a.rr[0]), "mail.example.\\046");

    assert_int_equal(dns_msg_type_from_name("mx"), DNS_T_MX);
    assert_int_equal(dns_msg_type_from_name("Tlsa"), DNS_T_TLSA);
    assert_int_equal(dns_msg_type_from_name("mxx"), 0);
    assert_string_equal(dns_msg_type_name(DNS_T_AAAA), "AAAA");
    assert_string_equal(dns_msg_rcode_name(DNS_RCODE_NXDOMAIN), "NXDOMAIN");
}

static void test_negative_with_soa(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    start(&m, "nope.example.test", DNS_T_A, 0x8183, 0, 1, 0);
    put8(&m, 0xc0);
    put8(&m, 12 + 5);                        /* example.test */
    rrhead(&m, DNS_T_SOA, 900, 2 + 2 + 20);
    putptr(&m, 12 + 5);
    putptr(&m, 12 + 5);
    put32(&m, 2026112601);
    put32(&m, 7200);
    put32(&m, 3600);
    put32(&m, 1209600);
    put32(&m, 300);                          /* MINIMUM */
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.rcode, DNS_RCODE_NXDOMAIN);
    assert_int_equal(a.count, 0);
    assert_true(a.has_soa);
    assert_int_equal(a.neg_ttl, 300);

    /* SERVFAIL, no records at all. */
    start(&m, "nope.example.test", DNS_T_A, 0x8182, 0, 0, 0);
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.rcode, DNS_RCODE_SERVFAIL);
    assert_false(a.has_soa);
}

static void test_truncated_flag(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    /* TC: counts promise more than came; only the flag matters. */
    start(&m, "big.example.test", DNS_T_TXT, RESP | 0x0200, 5, 0, 0);
    assert_int_equal(parse(&m, &a), 0);
    assert_true(a.tc);
    assert_int_equal(a.count, 0);
}

/* Every prefix of a valid response is refused, and never read past. */
static void test_cut_short(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    start(&m, "example.test", DNS_T_MX, RESP, 1, 0, 1);
    putptr(&m, 12);
    rrhead(&m, DNS_T_MX, 3600, 4);
    put16(&m, 10);
    putptr(&m, 12);
    put8(&m, 0);                             /* OPT in the additional section */
    rrhead(&m, DNS_T_OPT, 0, 0);
    assert_int_equal(parse(&m, &a), 0);
    for (size_t len = 0; len < m.n; len++) {
        uint8_t copy[512];
        memcpy(copy, m.b, len);
        int err = dns_msg_parse(copy, len, m.q, m.qlen, &a);
        assert_true(err == PB_ECORRUPT);
    }
    /* And a byte too many. */
    m.b[m.n++] = 0;
    assert_int_equal(parse(&m, &a), PB_ECORRUPT);
}

static void test_pointer_abuse(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    /* A pointer to itself. */
    start(&m, "example.test", DNS_T_A, RESP, 1, 0, 0);
    putptr(&m, (unsigned)m.n);
    rrhead(&m, DNS_T_A, 1, 4);
    putbytes(&m, "\1\2\3\4", 4);
    assert_int_equal(parse(&m, &a), PB_ECORRUPT);

    /* Two pointers to each other (the second points forward). */
    start(&m, "example.test", DNS_T_A, RESP, 1, 0, 0);
    size_t at = m.n;
    putptr(&m, (unsigned)at + 2);
    putptr(&m, (unsigned)at);
    rrhead(&m, DNS_T_A, 1, 4);
    putbytes(&m, "\1\2\3\4", 4);
    assert_int_equal(parse(&m, &a), PB_ECORRUPT);

    /* A pointer past the end. */
    start(&m, "example.test", DNS_T_A, RESP, 1, 0, 0);
    putptr(&m, 0x3fff);
    rrhead(&m, DNS_T_A, 1, 4);
    putbytes(&m, "\1\2\3\4", 4);
    assert_int_equal(parse(&m, &a), PB_ECORRUPT);

    /* The reserved label types 0x40 and 0x80. */
    start(&m, "example.test", DNS_T_A, RESP, 1, 0, 0);
    put8(&m, 0x41);
    put8(&m, 0);
    rrhead(&m, DNS_T_A, 1, 4);
    putbytes(&m, "\1\2\3\4", 4);
    assert_int_equal(parse(&m, &a), PB_ECORRUPT);
}

static void test_oversized_name(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    /* Owners built by compression, each a 63-byte label in front of the
     * previous owner: small on the wire, the fourth is 270 bytes long. */
    start(&m, "example.test", DNS_T_A, RESP, 4, 0, 0);
    unsigned prev = 12;                      /* "example.test", the question */
    for (int i = 0; i < 4; i++) {
        unsigned here = (unsigned)m.n;
        put8(&m, 63);
        memset(m.b + m.n, 'a' + i, 63);
        m.n += 63;
        putptr(&m, prev);
        rrhead(&m, DNS_T_A, 1, 4);
        putbytes(&m, "\1\2\3\4", 4);
        prev = here;
    }
    assert_int_equal(parse(&m, &a), PB_ERANGE);
    m.b[7] = 3;                              /* three of them are fine */
    m.n -= 63 + 1 + 2 + 10 + 4;
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.count, 0);

    /* The same, cleanly framed: an owner name of 256 bytes. */
    start(&m, "example.test", DNS_T_A, RESP, 1, 0, 0);
    for (int i = 0; i < 4; i++) {
        put8(&m, 63);
        memset(m.b + m.n, 'a' + i, 63);
        m.n += 63;
    }
    put8(&m, 0);
    rrhead(&m, DNS_T_A, 1, 4);
    putbytes(&m, "\1\2\3\4", 4);
    assert_int_equal(parse(&m, &a), PB_ERANGE);
}

static void test_foreign_answers(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    /* Wrong ID. */
    start(&m, "example.test", DNS_T_A, RESP, 0, 0, 0);
    m.b[1] ^= 1;
    assert_int_equal(parse(&m, &a), PB_ENOENT);
    /* Not a response (QR clear). */
    start(&m, "example.test", DNS_T_A, 0x0100, 0, 0, 0);
    assert_int_equal(parse(&m, &a), PB_ENOENT);
    /* Another name. */
    start(&m, "example.test", DNS_T_A, RESP, 0, 0, 0);
    m.b[13] = 'X';
    assert_int_equal(parse(&m, &a), PB_ENOENT);
    /* Another type. */
    start(&m, "example.test", DNS_T_A, RESP, 0, 0, 0);
    m.b[m.qname_end + 1] = DNS_T_AAAA;
    assert_int_equal(parse(&m, &a), PB_ENOENT);
    /* No question and NOERROR. */
    start(&m, "example.test", DNS_T_A, RESP, 0, 0, 0);
    m.b[5] = 0;
    m.n = 12;
    assert_int_equal(parse(&m, &a), PB_ENOENT);
    /* No question with FORMERR: the server could not read ours. */
    m.b[3] = 0x81;
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.rcode, DNS_RCODE_FORMERR);
    /* Two questions. */
    start(&m, "example.test", DNS_T_A, RESP, 0, 0, 0);
    m.b[5] = 2;
    assert_int_equal(parse(&m, &a), PB_ECORRUPT);
    /* An A record of 5 bytes. */
    start(&m, "example.test", DNS_T_A, RESP, 1, 0, 0);
    putptr(&m, 12);
    rrhead(&m, DNS_T_A, 1, 5);
    putbytes(&m, "\1\2\3\4\5", 5);
    assert_int_equal(parse(&m, &a), PB_ECORRUPT);
}

static void test_many_answers_clipped(void **state)
{
    (void)state;
    struct msg m;
    struct dns_answer a;
    start(&m, "many.example.test", DNS_T_A, RESP, 20, 0, 0);
    for (int i = 0; i < 20; i++) {
        putptr(&m, 12);
        rrhead(&m, DNS_T_A, 60, 4);
        put32(&m, 0x0a000000u + (uint32_t)i);
    }
    assert_int_equal(parse(&m, &a), 0);
    assert_int_equal(a.count, DNS_ANSWER_RR_MAX);
    assert_true(a.clipped);
    assert_int_equal(dns_rr_data(&a, &a.rr[7])[3], 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_wire),
        cmocka_unit_test(test_a_with_compression_and_ad),
        cmocka_unit_test(test_aaaa_and_other_owner_ignored),
        cmocka_unit_test(test_cname_chain_out_of_order),
        cmocka_unit_test(test_cname_loop_refused),
        cmocka_unit_test(test_mx_and_null_mx),
        cmocka_unit_test(test_tlsa),
        cmocka_unit_test(test_txt_several_strings),
        cmocka_unit_test(test_ptr_and_names),
        cmocka_unit_test(test_negative_with_soa),
        cmocka_unit_test(test_truncated_flag),
        cmocka_unit_test(test_cut_short),
        cmocka_unit_test(test_pointer_abuse),
        cmocka_unit_test(test_oversized_name),
        cmocka_unit_test(test_foreign_answers),
        cmocka_unit_test(test_many_answers_clipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

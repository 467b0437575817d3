/*
 * dns_msg.h - DNS messages on the wire (RFC 1035, 3596, 6891, 7505, 6698):
 * build a query, parse its response.  Pure functions: no lwIP, no state,
 * no heap; every buffer belongs to the caller.
 *
 * Contract of the parser:
 *   - It reads only msg[0..len) and writes only *ans.  Every length, count
 *     and compression pointer in the message is checked before it is used;
 *     a message that breaks any rule is refused with a negative PB_E* and
 *     *ans is then unspecified.
 *   - Names are decompressed with at most DNS_MSG_PTR_HOPS pointers, each
 *     pointing strictly backwards, into at most DNS_NAME_WIRE_MAX (255)
 *     bytes.
 *   - It keeps the answers of the asked type plus the CNAMEs that lead to
 *     them from the question's name (followed within the message, at most
 *     DNS_MSG_CNAME_MAX links), in message order, up to DNS_ANSWER_RR_MAX
 *     records and DNS_ANSWER_DATA bytes of names and data; what does not
 *     fit is dropped and ans->clipped says so.
 *
 * Errors of dns_msg_parse():
 *   PB_ENOENT    not the answer to this query (ID, question or opcode differ,
 *                or not a response): a resolver ignores it and keeps waiting
 *   PB_ECORRUPT  malformed: short header or RR, bad label type, forward or
 *                looping compression pointer, rdata of the wrong size,
 *                counts that do not match the bytes, bytes left over
 *   PB_ERANGE    a name longer than 255 bytes, or a CNAME chain longer than
 *                DNS_MSG_CNAME_MAX
 *   PB_EINVAL    the query itself is not one dns_msg_query() built
 */
#ifndef DNS_MSG_H
#define DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Record types (names chosen not to meet lwIP's DNS_RRTYPE_*). */
#define DNS_T_A       1
#define DNS_T_CNAME   5
#define DNS_T_SOA     6
#define DNS_T_PTR     12
#define DNS_T_MX      15
#define DNS_T_TXT     16
#define DNS_T_AAAA    28
#define DNS_T_OPT     41
#define DNS_T_TLSA    52

#define DNS_CLASS_IN  1

/* Response codes (RCODE, the low 4 bits of the header). */
#define DNS_RCODE_NOERROR   0
#define DNS_RCODE_FORMERR   1
#define DNS_RCODE_SERVFAIL  2
#define DNS_RCODE_NXDOMAIN  3
#define DNS_RCODE_NOTIMP    4
#define DNS_RCODE_REFUSED   5

#define DNS_NAME_WIRE_MAX   255   /* a name on the wire, root label included */
#define DNS_NAME_TEXT_MAX   253   /* the same name as dotted text, no trailing dot */
#define DNS_MSG_HEADER      12
#define DNS_MSG_EDNS_SIZE   1232  /* UDP payload we advertise (DNS flag day 2020) */
/* A query: header, name, type, class, OPT record. */
#define DNS_MSG_QUERY_MAX   (DNS_MSG_HEADER + DNS_NAME_WIRE_MAX + 4 + 11)
#define DNS_MSG_PTR_HOPS    16    /* compression pointers followed per name */
#define DNS_MSG_CNAME_MAX   8     /* CNAME links followed within one response */

#define DNS_ANSWER_RR_MAX   8     /* records kept from one response */
#define DNS_ANSWER_DATA     768   /* bytes for their names, text and data */
#define DNS_TXT_MAX         512   /* bytes of one TXT record, strings joined */
#define DNS_TLSA_DATA_MAX   64    /* bytes of TLSA association data (SHA-512) */
#define DNS_TTL_MAX         0x7fffffffu  /* RFC 2181: larger TTLs mean 0 */

/* One answer record.  Where its payload lives in the answer's data[]:
 *   A, AAAA     4 or 16 address bytes (network order) at off
 *   CNAME, PTR  the target name as text (NUL-terminated) at off
 *   MX          pref; the exchange as text at off ("." for a null MX)
 *   TXT         the character-strings joined, len bytes at off (not
 *               NUL-terminated; may hold any byte); clipped if longer
 *               than DNS_TXT_MAX or than the space left
 *   TLSA        usage, selector, mtype; len data bytes at off; clipped if
 *               the record carried more than DNS_TLSA_DATA_MAX
 * Names as text: labels joined with '.', no trailing dot ("." is the root);
 * a byte outside letters, digits, '-', '_' and '*' is written \DDD, so the
 * text is always printable. */
struct dns_rr {
    uint16_t type;
    uint16_t off, len;      /* into dns_answer.data; len excludes the NUL of names */
    uint32_t ttl;           /* seconds, 0..DNS_TTL_MAX */
    uint16_t pref;          /* MX preference */
    uint8_t usage, selector, mtype;  /* TLSA */
    bool clipped;
};

struct dns_answer {
    uint16_t qtype;         /* the type asked for */
    uint8_t rcode;          /* DNS_RCODE_* */
    bool tc;                /* truncated: nothing else was parsed; ask over TCP */
    bool ad;                /* the upstream validated it with DNSSEC */
    bool aa;                /* authoritative */
    bool null_mx;           /* RFC 7505: one MX, preference 0, exchange "." */
    bool clipped;           /* some matching records did not fit */
    bool has_soa;           /* the authority section had the zone's SOA */
    uint32_t neg_ttl;       /* with has_soa: min(SOA TTL, SOA MINIMUM), RFC 2308 */
    int count;              /* records in rr[] (CNAMEs included) */
    struct dns_rr rr[DNS_ANSWER_RR_MAX];
    uint16_t used;          /* bytes of data[] in use */
    uint8_t data[DNS_ANSWER_DATA];
};

/* Build a query for name (dotted text, trailing dot optional, "." for the
 * root; no escapes) of type, class IN, RD set, with id.  With edns, an
 * OPT record asks for DNSSEC data (DO bit) and offers DNS_MSG_EDNS_SIZE,
 * so a validating upstream sets AD.  Returns the length written to buf
 * (at most DNS_MSG_QUERY_MAX), PB_EINVAL for an empty label, a label over
 * 63 bytes, a byte that is not printable ASCII or a backslash, PB_ERANGE
 * for a name over 255 bytes or a buf smaller than the query. */
int dns_msg_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t type,
                  bool edns);

/* Parse msg[0..len), the response to query[0..qlen) (as built by
 * dns_msg_query), into *ans.  Returns 0 (look at ans->rcode and ans->tc:
 * NXDOMAIN and SERVFAIL are answers too) or a negative PB_E* listed at the
 * top of this file. */
int dns_msg_parse(const uint8_t *msg, size_t len, const uint8_t *query, size_t qlen,
                  struct dns_answer *ans);

/* The name for a reverse lookup of an address given as bytes in network
 * order: alen 4 gives "d.c.b.a.in-addr.arpa", alen 16 the 32 nibbles of
 * ip6.arpa.  Returns the text length, PB_EINVAL for another alen,
 * PB_ERANGE if cap is too small (73 bytes always suffice). */
#define DNS_PTR_NAME_MAX 73
int dns_msg_ptr_name(const uint8_t *addr, size_t alen, char *buf, size_t cap);

/* The payload of rr as text (names) or bytes, within ans. */
static inline const char *dns_rr_name(const struct dns_answer *ans, const struct dns_rr *rr)
{
    return (const char *)ans->data + rr->off;
}
static inline const uint8_t *dns_rr_data(const struct dns_answer *ans, const struct dns_rr *rr)
{
    return ans->data + rr->off;
}

/* "A", "MX", ... for the types above; NULL for another.  And back from a
 * case-insensitive name: 0 if unknown. */
const char *dns_msg_type_name(uint16_t type);
uint16_t dns_msg_type_from_name(const char *name);

/* "NXDOMAIN", "SERVFAIL", ... ("RCODE n" is not given: NULL for others). */
const char *dns_msg_rcode_name(uint8_t rcode);

#endif

/*
 * dns_msg.c - DNS query builder and response parser (see dns_msg.h).
 *
 * The parser walks the message twice.  The first walk checks the framing
 * of every record of every section (names, fixed fields, rdata inside the
 * message, nothing left over) and reads the SOA of the authority section.
 * The second keeps what the caller asked for: it follows the CNAME chain
 * from the question's name, rescanning the answer section once per link
 * (at most DNS_MSG_CNAME_MAX + 1 scans), because servers do not promise
 * to list a chain in order.
 */
#include "dns_msg.h"

#include <string.h>

#include "pb_err.h"

#define DNS_FLAG_QR   0x8000u
#define DNS_FLAG_AA   0x0400u
#define DNS_FLAG_TC   0x0200u
#define DNS_FLAG_RD   0x0100u
#define DNS_FLAG_AD   0x0020u
#define DNS_OPCODE(f) (((f) >> 11) & 0xfu)
#define DNS_EDNS_DO   0x8000u

/* A record's framing, as the first walk finds it. */
struct dns_msg_rr {
    uint8_t owner[DNS_NAME_WIRE_MAX];
    uint16_t type, class;
    uint32_t ttl;
    size_t rdata, rdlen;
};

static uint16_t dns_msg_get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t dns_msg_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void dns_msg_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* ---------------------------------------------------------------- names --- */

/* Decode the (possibly compressed) name at *off into out (uncompressed wire
 * form, root label included).  *off moves past the name as it sits at that
 * place in the message.  Pointers must point before the label that holds
 * them, which with the hop bound rules out loops twice over.  Returns the
 * wire length or a negative PB_E*. */
static int dns_msg_name(const uint8_t *msg, size_t len, size_t *off, uint8_t out[DNS_NAME_WIRE_MAX])
{
    size_t pos = *off, n = 0, end = 0;
    int hops = 0;
    for (;;) {
        if (pos >= len)
            return PB_ECORRUPT;
        uint8_t l = msg[pos];
        if ((l & 0xc0) == 0xc0) {
            if (pos + 1 >= len)
                return PB_ECORRUPT;
            size_t to = ((size_t)(l & 0x3f) << 8) | msg[pos + 1];
            if (!end)
                end = pos + 2;
            if (to >= pos || ++hops > DNS_MSG_PTR_HOPS)
                return PB_ECORRUPT;
            pos = to;
            continue;
        }
        if (l & 0xc0)
            return PB_ECORRUPT;       /* 0x40 extended and 0x80 reserved labels */
        if (n + 1 + l > DNS_NAME_WIRE_MAX)
            return PB_ERANGE;
        if (pos + 1 + l > len)
            return PB_ECORRUPT;
        memcpy(out + n, msg + pos, 1u + l);
        n += 1u + l;
        pos += 1u + l;
        if (l == 0)
            break;
    }
    *off = end ? end : pos;
    return (int)n;
}

static uint8_t dns_msg_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Two uncompressed names are the same name (ASCII case folded, RFC 4343). */
static bool dns_msg_name_eq(const uint8_t *a, const uint8_t *b)
{
    size_t i = 0;
    for (;;) {
        if (a[i] != b[i])
            return false;
        uint8_t l = a[i];
        if (l == 0)
            return true;
        for (size_t k = 1; k <= l; k++)
            if (dns_msg_lower(a[i + k]) != dns_msg_lower(b[i + k]))
                return false;
        i += 1u + l;
    }
}

static bool dns_msg_plain(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '*';
}

/* Text of an uncompressed name into out (cap bytes, NUL included).
 * Returns the text length or PB_ERANGE. */
static int dns_msg_name_text(const uint8_t *wire, char *out, size_t cap)
{
    size_t n = 0, i = 0;
    if (wire[0] == 0) {
        if (cap < 2)
            return PB_ERANGE;
        out[0] = '.';
        out[1] = '\0';
        return 1;
    }
    while (wire[i]) {
        uint8_t l = wire[i];
        if (i) {
            if (n + 1 >= cap)
                return PB_ERANGE;
            out[n++] = '.';
        }
        for (size_t k = 1; k <= l; k++) {
            uint8_t c = wire[i + k];
            if (dns_msg_plain(c)) {
                if (n + 1 >= cap)
                    return PB_ERANGE;
                out[n++] = (char)c;
            } else {
                if (n + 4 >= cap)
                    return PB_ERANGE;
                out[n++] = '\\';
                out[n++] = (char)('0' + c / 100);
                out[n++] = (char)('0' + c / 10 % 10);
                out[n++] = (char)('0' + c % 10);
            }
        }
        i += 1u + l;
    }
    if (n >= cap)
        return PB_ERANGE;
    out[n] = '\0';
    return (int)n;
}

/* Dotted text to wire form; see dns_msg_query for the rules. */
static int dns_msg_name_wire(const char *name, uint8_t out[DNS_NAME_WIRE_MAX])
{
    size_t n = 0;
    const char *p = name;
    if (p[0] == '.' && p[1] == '\0') {
        out[0] = 0;
        return 1;
    }
    while (*p) {
        size_t l = 0;
        while (p[l] && p[l] != '.')
            l++;
        if (l == 0)
            return PB_EINVAL;
        if (l > 63)
            return PB_EINVAL;
        if (n + 1 + l + 1 > DNS_NAME_WIRE_MAX)
            return PB_ERANGE;
        out[n++] = (uint8_t)l;
        for (size_t k = 0; k < l; k++) {
            unsigned char c = (unsigned char)p[k];
            if (c <= 0x20 || c >= 0x7f || c == '\\')
                return PB_EINVAL;
            out[n++] = c;
        }
        p += l;
        if (*p == '.')
            p++;
    }
    if (n == 0)
        return PB_EINVAL;
    out[n++] = 0;
    return (int)n;
}

/* ---------------------------------------------------------------- query --- */

int dns_msg_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t type,
                  bool edns)
{
    uint8_t wire[DNS_NAME_WIRE_MAX];
    if (!name)
        return PB_EINVAL;
    int wl = dns_msg_name_wire(name, wire);
    if (wl < 0)
        return wl;
    size_t need = DNS_MSG_HEADER + (size_t)wl + 4 + (edns ? 11 : 0);
    if (cap < need)
        return PB_ERANGE;
    memset(buf, 0, DNS_MSG_HEADER);
    dns_msg_put16(buf, id);
    dns_msg_put16(buf + 2, DNS_FLAG_RD);
    dns_msg_put16(buf + 4, 1);
    dns_msg_put16(buf + 10, edns ? 1 : 0);
    uint8_t *p = buf + DNS_MSG_HEADER;
    memcpy(p, wire, (size_t)wl);
    p += wl;
    dns_msg_put16(p, type);
    dns_msg_put16(p + 2, DNS_CLASS_IN);
    p += 4;
    if (edns) {
        /* OPT (RFC 6891): root owner, class = our UDP size, TTL = extended
         * RCODE 0, version 0, flags with DO (RFC 3225), no options. */
        p[0] = 0;
        dns_msg_put16(p + 1, DNS_T_OPT);
        dns_msg_put16(p + 3, DNS_MSG_EDNS_SIZE);
        p[5] = 0;
        p[6] = 0;
        dns_msg_put16(p + 7, DNS_EDNS_DO);
        dns_msg_put16(p + 9, 0);
    }
    return (int)need;
}

/* ------------------------------------------------------------- response --- */

/* Read the record at *off: owner, fixed fields, rdata bounds. */
static int dns_msg_rr_read(const uint8_t *msg, size_t len, size_t *off, struct dns_msg_rr *rr)
{
    int err = dns_msg_name(msg, len, off, rr->owner);
    if (err < 0)
        return err;
    if (*off + 10 > len)
        return PB_ECORRUPT;
    const uint8_t *p = msg + *off;
    rr->type = dns_msg_get16(p);
    rr->class = dns_msg_get16(p + 2);
    rr->ttl = dns_msg_get32(p + 4);
    if (rr->ttl > DNS_TTL_MAX)
        rr->ttl = 0;
    rr->rdlen = dns_msg_get16(p + 8);
    rr->rdata = *off + 10;
    if (rr->rdata + rr->rdlen > len)
        return PB_ECORRUPT;
    *off = rr->rdata + rr->rdlen;
    return 0;
}

/* A name that must fill the rest of the rdata exactly. */
static int dns_msg_rdata_name(const uint8_t *msg, size_t len, const struct dns_msg_rr *rr,
                              size_t at, uint8_t out[DNS_NAME_WIRE_MAX])
{
    size_t off = at;
    int err = dns_msg_name(msg, len, &off, out);
    if (err < 0)
        return err;
    return off == rr->rdata + rr->rdlen ? 0 : PB_ECORRUPT;
}

/* Room for n bytes in ans->data; the offset, or -1 when full. */
static int dns_msg_alloc(struct dns_answer *ans, size_t n)
{
    if (n > (size_t)(DNS_ANSWER_DATA - ans->used))
        return -1;
    int off = ans->used;
    ans->used = (uint16_t)(ans->used + n);
    return off;
}

/* A name as text into ans->data; the offset and length, or -1 when full. */
static int dns_msg_keep_name(struct dns_answer *ans, const uint8_t *wire, uint16_t *len)
{
    char *dst = (char *)ans->data + ans->used;
    int n = dns_msg_name_text(wire, dst, (size_t)(DNS_ANSWER_DATA - ans->used));
    if (n < 0)
        return -1;
    *len = (uint16_t)n;
    return dns_msg_alloc(ans, (size_t)n + 1);
}

/* Keep one answer record; PB_ENOSPC if it does not fit (the caller marks
 * the answer clipped), PB_ECORRUPT if its rdata is malformed. */
static int dns_msg_keep(const uint8_t *msg, size_t len, const struct dns_msg_rr *rr,
                        struct dns_answer *ans)
{
    if (ans->count >= DNS_ANSWER_RR_MAX)
        return PB_ENOSPC;
    struct dns_rr *k = &ans->rr[ans->count];
    memset(k, 0, sizeof(*k));
    k->type = rr->type;
    k->ttl = rr->ttl;
    const uint8_t *rd = msg + rr->rdata;
    uint8_t name[DNS_NAME_WIRE_MAX];
    int off, err;

    switch (rr->type) {
    case DNS_T_A:
    case DNS_T_AAAA: {
        size_t alen = rr->type == DNS_T_A ? 4 : 16;
        if (rr->rdlen != alen)
            return PB_ECORRUPT;
        if ((off = dns_msg_alloc(ans, alen)) < 0)
            return PB_ENOSPC;
        memcpy(ans->data + off, rd, alen);
        k->len = (uint16_t)alen;
        break;
    }
    case DNS_T_CNAME:
    case DNS_T_PTR:
    case DNS_T_MX: {
        size_t at = rr->rdata;
        if (rr->type == DNS_T_MX) {
            if (rr->rdlen < 3)
                return PB_ECORRUPT;
            k->pref = dns_msg_get16(rd);
            at += 2;
        }
        if ((err = dns_msg_rdata_name(msg, len, rr, at, name)) < 0)
            return err;
        if ((off = dns_msg_keep_name(ans, name, &k->len)) < 0)
            return PB_ENOSPC;
        break;
    }
    case DNS_T_TXT: {
        /* One or more <length><bytes> strings that fill the rdata exactly. */
        size_t i = 0, total = 0;
        if (rr->rdlen == 0)
            return PB_ECORRUPT;
        while (i < rr->rdlen) {
            size_t sl = rd[i];
            if (i + 1 + sl > rr->rdlen)
                return PB_ECORRUPT;
            total += sl;
            i += 1 + sl;
        }
        size_t room = (size_t)(DNS_ANSWER_DATA - ans->used);
        size_t keep = total < DNS_TXT_MAX ? total : DNS_TXT_MAX;
        if (keep > room)
            keep = room;
        if (keep == 0 && total > 0)
            return PB_ENOSPC;
        off = dns_msg_alloc(ans, keep);
        size_t n = 0;
        for (i = 0; i < rr->rdlen && n < keep; i += 1u + rd[i]) {
            size_t sl = rd[i];
            if (sl > keep - n)
                sl = keep - n;
            memcpy(ans->data + off + n, rd + i + 1, sl);
            n += sl;
        }
        k->len = (uint16_t)keep;
        k->clipped = keep < total;
        break;
    }
    case DNS_T_TLSA: {
        if (rr->rdlen < 3)
            return PB_ECORRUPT;
        k->usage = rd[0];
        k->selector = rd[1];
        k->mtype = rd[2];
        size_t dl = rr->rdlen - 3;
        size_t keep = dl < DNS_TLSA_DATA_MAX ? dl : DNS_TLSA_DATA_MAX;
        if ((off = dns_msg_alloc(ans, keep)) < 0)
            return PB_ENOSPC;
        memcpy(ans->data + off, rd + 3, keep);
        k->len = (uint16_t)keep;
        k->clipped = keep < dl;
        break;
    }
    default:
        /* Another type asked for: its presence is the answer; no payload. */
        off = ans->used;
        break;
    }
    k->off = (uint16_t)off;
    ans->count++;
    return 0;
}

/* Walk the answer section for records of type owned by owner (class IN).
 * With keep, keep every match (first_only: just the first); return the
 * number of matches, and the first one's record in *first. */
static int dns_msg_scan(const uint8_t *msg, size_t len, size_t an_off, unsigned ancount,
                        const uint8_t *owner, uint16_t type, bool first_only, bool keep,
                        struct dns_msg_rr *first, struct dns_answer *ans)
{
    size_t off = an_off;
    int found = 0;
    struct dns_msg_rr rr;
    for (unsigned i = 0; i < ancount; i++) {
        int err = dns_msg_rr_read(msg, len, &off, &rr);
        if (err < 0)
            return err;
        if (rr.type != type || rr.class != DNS_CLASS_IN || !dns_msg_name_eq(rr.owner, owner))
            continue;
        if (found == 0 && first)
            *first = rr;
        found++;
        if (keep && !ans->clipped) {
            err = dns_msg_keep(msg, len, &rr, ans);
            if (err == PB_ENOSPC)
                ans->clipped = true;
            else if (err < 0)
                return err;
        }
        if (first_only)
            break;
    }
    return found;
}

int dns_msg_parse(const uint8_t *msg, size_t len, const uint8_t *query, size_t qlen,
                  struct dns_answer *ans)
{
    if (!msg || !query || !ans || qlen < DNS_MSG_HEADER + 5)
        return PB_EINVAL;

    /* Our own question, read the same way as the peer's. */
    uint8_t qname[DNS_NAME_WIRE_MAX];
    size_t qoff = DNS_MSG_HEADER;
    if (dns_msg_name(query, qlen, &qoff, qname) < 0 || qoff + 4 > qlen)
        return PB_EINVAL;
    uint16_t qtype = dns_msg_get16(query + qoff);
    uint16_t qclass = dns_msg_get16(query + qoff + 2);

    memset(ans, 0, offsetof(struct dns_answer, rr));
    ans->used = 0;
    ans->qtype = qtype;
    if (len < DNS_MSG_HEADER)
        return PB_ECORRUPT;
    uint16_t flags = dns_msg_get16(msg + 2);
    if (dns_msg_get16(msg) != dns_msg_get16(query) || !(flags & DNS_FLAG_QR) ||
        DNS_OPCODE(flags) != DNS_OPCODE(dns_msg_get16(query + 2)))
        return PB_ENOENT;
    unsigned qdcount = dns_msg_get16(msg + 4), ancount = dns_msg_get16(msg + 6);
    unsigned nscount = dns_msg_get16(msg + 8), arcount = dns_msg_get16(msg + 10);
    ans->rcode = (uint8_t)(flags & 0xf);
    ans->tc = (flags & DNS_FLAG_TC) != 0;
    ans->ad = (flags & DNS_FLAG_AD) != 0;
    ans->aa = (flags & DNS_FLAG_AA) != 0;

    size_t off = DNS_MSG_HEADER;
    if (qdcount == 0) {
        /* Only an error may come without the question (a server that
         * cannot parse ours: FORMERR, NOTIMP). */
        if (ans->rcode == DNS_RCODE_NOERROR)
            return PB_ENOENT;
    } else if (qdcount == 1) {
        uint8_t name[DNS_NAME_WIRE_MAX];
        int err = dns_msg_name(msg, len, &off, name);
        if (err < 0)
            return err;
        if (off + 4 > len)
            return PB_ECORRUPT;
        if (!dns_msg_name_eq(name, qname) || dns_msg_get16(msg + off) != qtype ||
            dns_msg_get16(msg + off + 2) != qclass)
            return PB_ENOENT;
        off += 4;
    } else {
        return PB_ECORRUPT;
    }
    /* A truncated response is only a signal to ask again over TCP: its
     * sections may stop anywhere. */
    if (ans->tc)
        return 0;

    /* First walk: framing of every record; the SOA for negative caching. */
    const size_t an_off = off;
    struct dns_msg_rr rr;
    unsigned total = ancount + nscount + arcount;
    for (unsigned i = 0; i < total; i++) {
        int err = dns_msg_rr_read(msg, len, &off, &rr);
        if (err < 0)
            return err;
        if (i >= ancount && i < ancount + nscount && rr.type == DNS_T_SOA && !ans->has_soa) {
            /* MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM. */
            size_t at = rr.rdata;
            uint8_t name[DNS_NAME_WIRE_MAX];
            if ((err = dns_msg_name(msg, len, &at, name)) < 0 ||
                (err = dns_msg_name(msg, len, &at, name)) < 0)
                return err;
            if (at + 20 != rr.rdata + rr.rdlen)
                return PB_ECORRUPT;
            uint32_t minimum = dns_msg_get32(msg + at + 16);
            ans->neg_ttl = rr.ttl < minimum ? rr.ttl : minimum;
            if (ans->neg_ttl > DNS_TTL_MAX)
                ans->neg_ttl = 0;
            ans->has_soa = true;
        }
    }
    if (off != len)
        return PB_ECORRUPT;

    /* Second walk: the CNAME chain from the question's name, then the
     * records of the asked type at its end. */
    uint8_t cur[DNS_NAME_WIRE_MAX];
    memcpy(cur, qname, sizeof(cur));
    if (qtype != DNS_T_CNAME) {
        int links = 0;
        for (;;) {
            struct dns_msg_rr cn;
            int found = dns_msg_scan(msg, len, an_off, ancount, cur, DNS_T_CNAME, true, true, &cn, ans);
            if (found < 0)
                return found;
            if (found == 0)
                break;
            if (++links > DNS_MSG_CNAME_MAX)
                return PB_ERANGE;
            int err = dns_msg_rdata_name(msg, len, &cn, cn.rdata, cur);
            if (err < 0)
                return err;
        }
    }
    int found = dns_msg_scan(msg, len, an_off, ancount, cur, qtype, false, true, NULL, ans);
    if (found < 0)
        return found;

    if (qtype == DNS_T_MX) {
        int mx = 0;
        const struct dns_rr *last = NULL;
        for (int i = 0; i < ans->count; i++)
            if (ans->rr[i].type == DNS_T_MX) {
                mx++;
                last = &ans->rr[i];
            }
        ans->null_mx = mx == 1 && last->pref == 0 && strcmp(dns_rr_name(ans, last), ".") == 0;
    }
    return 0;
}

/* ------------------------------------------------------------- reverse --- */

int dns_msg_ptr_name(const uint8_t *addr, size_t alen, char *buf, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (!addr || !buf || (alen != 4 && alen != 16))
        return PB_EINVAL;
    if (cap < DNS_PTR_NAME_MAX)
        return PB_ERANGE;
    if (alen == 4) {
        for (int i = 3; i >= 0; i--) {
            unsigned v = addr[i];
            if (v >= 100)
                buf[n++] = (char)('0' + v / 100);
            if (v >= 10)
                buf[n++] = (char)('0' + v / 10 % 10);
            buf[n++] = (char)('0' + v % 10);
            buf[n++] = '.';
        }
        memcpy(buf + n, "in-addr.arpa", 13);
        return (int)(n + 12);
    }
    for (int i = 15; i >= 0; i--) {
        buf[n++] = hex[addr[i] & 0xf];
        buf[n++] = '.';
        buf[n++] = hex[addr[i] >> 4];
        buf[n++] = '.';
    }
    memcpy(buf + n, "ip6.arpa", 9);
    return (int)(n + 8);
}

/* ---------------------------------------------------------------- names --- */

static const struct {
    uint16_t type;
    const char *name;
} dns_msg_types[] = {
    { DNS_T_A, "A" }, { DNS_T_AAAA, "AAAA" }, { DNS_T_CNAME, "CNAME" }, { DNS_T_MX, "MX" },
    { DNS_T_TXT, "TXT" }, { DNS_T_TLSA, "TLSA" }, { DNS_T_PTR, "PTR" }, { DNS_T_SOA, "SOA" },
};

const char *dns_msg_type_name(uint16_t type)
{
    for (size_t i = 0; i < sizeof(dns_msg_types) / sizeof(dns_msg_types[0]); i++)
        if (dns_msg_types[i].type == type)
            return dns_msg_types[i].name;
    return NULL;
}

uint16_t dns_msg_type_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(dns_msg_types) / sizeof(dns_msg_types[0]); i++) {
        const char *t = dns_msg_types[i].name;
        size_t k = 0;
        while (t[k] && name[k] && dns_msg_lower((uint8_t)name[k]) == dns_msg_lower((uint8_t)t[k]))
            k++;
        if (!t[k] && !name[k])
            return dns_msg_types[i].type;
    }
    return 0;
}

const char *dns_msg_rcode_name(uint8_t rcode)
{
    static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                         "NOTIMP", "REFUSED" };
    return rcode < sizeof(names) / sizeof(names[0]) ? names[rcode] : NULL;
}

/*
 * x509.c - where the SubjectPublicKeyInfo of an X.509 certificate is (see
 * x509.h).
 *
 * The certificate is read only as far as the SubjectPublicKeyInfo: the
 * outer SEQUENCE, the tbsCertificate SEQUENCE, then its fields in order
 * (the optional [0] version, serialNumber, signature, issuer, validity,
 * subject) skipped by their lengths; the next element is the SPKI.  Every
 * length is checked against what is left, so a hostile certificate can
 * only make the parse fail.
 */
#include "x509.h"

#include <string.h>

#include "pb_err.h"

/* One DER element at p (avail octets): its tag, header size and content
 * size.  Lengths of up to 3 octets (16 MiB) are taken; indefinite ones
 * are not DER. */
static int x509_der(const uint8_t *p, size_t avail, uint8_t *tag, size_t *hdr, size_t *clen)
{
    if (avail < 2)
        return PB_ECORRUPT;
    *tag = p[0];
    if ((p[0] & 0x1f) == 0x1f)
        return PB_ECORRUPT;     /* multi-octet tags do not occur here */
    size_t len = p[1], h = 2;
    if (len & 0x80) {
        size_t k = len & 0x7f;
        if (k == 0 || k > 3 || avail < 2 + k)
            return PB_ECORRUPT;
        len = 0;
        for (size_t i = 0; i < k; i++)
            len = len << 8 | p[2 + i];
        h += k;
    }
    if (len > avail - h)
        return PB_ECORRUPT;
    *hdr = h;
    *clen = len;
    return 0;
}

/* The parts of a certificate this module reads: subject, SPKI (each as a
 * whole element, header included) and what follows the SPKI inside
 * tbsCertificate (the optional unique IDs and extensions). */
struct x509_parts {
    const uint8_t *subject, *spki, *rest, *end;
    size_t subject_len, spki_len;
};

static int x509_parts(const uint8_t *cert, size_t len, struct x509_parts *x)
{
    uint8_t tag;
    size_t h, c;
    if (x509_der(cert, len, &tag, &h, &c) || tag != 0x30)
        return PB_ECORRUPT;
    const uint8_t *p = cert + h;
    if (x509_der(p, c, &tag, &h, &c) || tag != 0x30)
        return PB_ECORRUPT;
    /* Inside tbsCertificate. */
    const uint8_t *end = p + h + c;
    p += h;
    static const uint8_t want[] = { 0x02, 0x30, 0x30, 0x30, 0x30 };  /* serial, sig, issuer, validity, subject */
    if (p < end && *p == 0xa0) {
        if (x509_der(p, (size_t)(end - p), &tag, &h, &c))
            return PB_ECORRUPT;
        p += h + c;
    }
    for (size_t i = 0; i < sizeof(want); i++) {
        if (x509_der(p, (size_t)(end - p), &tag, &h, &c) || tag != want[i])
            return PB_ECORRUPT;
        x->subject = p;
        x->subject_len = h + c;
        p += h + c;
    }
    if (x509_der(p, (size_t)(end - p), &tag, &h, &c) || tag != 0x30)
        return PB_ECORRUPT;
    x->spki = p;
    x->spki_len = h + c;
    x->rest = p + h + c;
    x->end = end;
    return 0;
}

int x509_spki(const uint8_t *cert, size_t len, const uint8_t **spki, size_t *spki_len)
{
    struct x509_parts x;
    if (x509_parts(cert, len, &x))
        return PB_ECORRUPT;
    *spki = x.spki;
    *spki_len = x.spki_len;
    return 0;
}

static char x509_lower(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
}

/* Does the presented identifier id (len octets, from the certificate)
 * name host?  Case does not matter; "*.example.net" stands for exactly
 * one whole left-most label (RFC 6125 6.4.3, RFC 7672 3.2.3). */
static bool x509_id_matches(const uint8_t *id, size_t len, const char *host)
{
    size_t hlen = strlen(host);
    if (hlen && host[hlen - 1] == '.')
        hlen--;
    if (len && id[len - 1] == '.')
        len--;
    if (len >= 2 && id[0] == '*' && id[1] == '.') {
        if (!memchr(id + 2, '.', len - 2))
            return false;       /* "*.net": too wide to mean anything */
        const char *dot = memchr(host, '.', hlen);
        if (!dot || dot == host)
            return false;
        size_t skip = (size_t)(dot - host);
        host += skip;
        hlen -= skip;
        id++;
        len--;
    }
    if (len != hlen || len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (x509_lower((char)id[i]) != x509_lower(host[i]) || id[i] == '*')
            return false;
    return true;
}

/* In the subjectAltName value (a SEQUENCE of GeneralName): 1 if a
 * dNSName matches, 0 if there are dNSNames and none matches, 2 if there
 * is none, or PB_ECORRUPT. */
static int x509_san(const uint8_t *p, size_t len, const char *host)
{
    uint8_t tag;
    size_t h, c;
    if (x509_der(p, len, &tag, &h, &c) || tag != 0x30)
        return PB_ECORRUPT;
    const uint8_t *end = p + h + c;
    int seen = 0;
    for (p += h; p < end; p += h + c) {
        if (x509_der(p, (size_t)(end - p), &tag, &h, &c))
            return PB_ECORRUPT;
        if (tag != 0x82)
            continue;   /* not a dNSName */
        if (x509_id_matches(p + h, c, host))
            return 1;
        seen = 1;
    }
    return seen ? 0 : 2;
}

/* The subject's commonName values: 1 if one matches, else 0. */
static int x509_cn(const uint8_t *p, size_t len, const char *host)
{
    static const uint8_t cn_oid[] = { 0x06, 0x03, 0x55, 0x04, 0x03 };
    uint8_t tag;
    size_t h, c, h2, c2;
    if (x509_der(p, len, &tag, &h, &c) || tag != 0x30)
        return PB_ECORRUPT;
    const uint8_t *end = p + h + c;
    for (p += h; p < end; p += h + c) {
        /* RelativeDistinguishedName: a SET of AttributeTypeAndValue. */
        if (x509_der(p, (size_t)(end - p), &tag, &h, &c) || tag != 0x31)
            return PB_ECORRUPT;
        const uint8_t *q = p + h, *qend = p + h + c;
        for (; q < qend; q += h2 + c2) {
            if (x509_der(q, (size_t)(qend - q), &tag, &h2, &c2) || tag != 0x30)
                return PB_ECORRUPT;
            const uint8_t *a = q + h2;
            size_t alen = c2;
            if (alen < sizeof(cn_oid) || memcmp(a, cn_oid, sizeof(cn_oid)) != 0)
                continue;
            size_t h3, c3;
            if (x509_der(a + sizeof(cn_oid), alen - sizeof(cn_oid), &tag, &h3, &c3))
                return PB_ECORRUPT;
            if ((tag == 0x0c || tag == 0x13 || tag == 0x16) &&
                x509_id_matches(a + sizeof(cn_oid) + h3, c3, host))
                return 1;
        }
    }
    return 0;
}

int x509_names(const uint8_t *cert, size_t len, const char *host)
{
    static const uint8_t san_oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x11 };
    struct x509_parts x;
    uint8_t tag;
    size_t h, c;
    if (x509_parts(cert, len, &x))
        return PB_ECORRUPT;
    const uint8_t *p = x.rest;
    /* issuerUniqueID [1], subjectUniqueID [2], then extensions [3]. */
    while (p < x.end) {
        if (x509_der(p, (size_t)(x.end - p), &tag, &h, &c))
            return PB_ECORRUPT;
        if (tag == 0xa3)
            break;
        p += h + c;
    }
    if (p < x.end) {
        const uint8_t *e = p + h;
        if (x509_der(e, c, &tag, &h, &c) || tag != 0x30)
            return PB_ECORRUPT;
        const uint8_t *eend = e + h + c;
        for (e += h; e < eend; e += h + c) {
            if (x509_der(e, (size_t)(eend - e), &tag, &h, &c) || tag != 0x30)
                return PB_ECORRUPT;
            const uint8_t *f = e + h, *fend = e + h + c;
            if (c < sizeof(san_oid) || memcmp(f, san_oid, sizeof(san_oid)) != 0)
                continue;
            /* extnID, critical (optional BOOLEAN), extnValue OCTET STRING. */
            f += sizeof(san_oid);
            size_t h2, c2;
            if (x509_der(f, (size_t)(fend - f), &tag, &h2, &c2))
                return PB_ECORRUPT;
            if (tag == 0x01) {
                f += h2 + c2;
                if (x509_der(f, (size_t)(fend - f), &tag, &h2, &c2))
                    return PB_ECORRUPT;
            }
            if (tag != 0x04)
                return PB_ECORRUPT;
            int r = x509_san(f + h2, c2, host);
            if (r != 2)
                return r;       /* with dNSNames, the CN does not count (RFC 6125 6.4.4) */
            break;
        }
    }
    return x509_cn(x.subject, x.subject_len, host);
}

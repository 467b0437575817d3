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

int x509_spki(const uint8_t *cert, size_t len, const uint8_t **spki, size_t *spki_len)
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
        p += h + c;
    }
    if (x509_der(p, (size_t)(end - p), &tag, &h, &c) || tag != 0x30)
        return PB_ECORRUPT;
    *spki = p;
    *spki_len = h + c;
    return 0;
}

/*
 * x509.h - what Pillarbox reads from an X.509 certificate itself: where
 * its SubjectPublicKeyInfo is (for DANE "x 1 x" records, RFC 6698) and
 * whether it names a host (for DANE-TA, RFC 7672 3.2.3).
 *
 * Certificates come from the network (a server's TLS chain), so this is a
 * parser of outside input: bounded by len, no allocation, fuzzed
 * (tests/fuzz/fuzz_x509.c).  It does not validate the certificate.
 */
#ifndef X509_H
#define X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The SubjectPublicKeyInfo (its DER, tag and length included) of the
 * certificate cert (DER, len octets): *spki points into cert.  Returns 0
 * or PB_ECORRUPT (not a certificate as far as it was read). */
int x509_spki(const uint8_t *cert, size_t len, const uint8_t **spki, size_t *spki_len);

/* Whether the certificate names host (a DNS name, trailing dot allowed):
 * a subjectAltName dNSName equal to it, or "*.rest" where rest is host
 * without its first label (RFC 6125 6.4.3); only when the certificate has
 * no dNSName at all, a subject commonName the same way.  Case does not
 * matter.  Returns 1 (named), 0 (not named) or PB_ECORRUPT. */
int x509_names(const uint8_t *cert, size_t len, const char *host);

#endif

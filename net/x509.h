/*
 * x509.h - the one thing Pillarbox reads from an X.509 certificate itself:
 * where its SubjectPublicKeyInfo is (for DANE "x 1 x" records, RFC 6698).
 *
 * Certificates come from the network (a server's TLS chain), so this is a
 * parser of outside input: bounded by len, no allocation, fuzzed
 * (tests/fuzz/fuzz_x509.c).  It does not validate the certificate.
 */
#ifndef X509_H
#define X509_H

#include <stddef.h>
#include <stdint.h>

/* The SubjectPublicKeyInfo (its DER, tag and length included) of the
 * certificate cert (DER, len octets): *spki points into cert.  Returns 0
 * or PB_ECORRUPT (not a certificate as far as it was read). */
int x509_spki(const uint8_t *cert, size_t len, const uint8_t **spki, size_t *spki_len);

#endif

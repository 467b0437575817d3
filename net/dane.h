/*
 * dane.h - DANE for SMTP (RFC 7672, RFC 7671): TLSA records and the check
 * of a server's certificate chain against them; also certificate pins
 * (a SHA-256 fingerprint is a DANE-EE "3 0 1" record).
 *
 * Usable records (RFC 7672 3.1): usage DANE-TA (2) or DANE-EE (3),
 * selector Cert (0) or SPKI (1), matching type SHA2-256 (1, 32 octets) or
 * SHA2-512 (2, 64 octets).  PKIX-TA/PKIX-EE (0, 1), Full(0) matching and
 * anything unknown are unusable and ignored.  When a validated TLSA RRset
 * has no usable record, TLS is still mandatory but not authenticated
 * (RFC 7672 2.2).
 *
 * Matching:
 *   DANE-EE (3): the server's own certificate (chain[0]) or its
 *     SubjectPublicKeyInfo hashes to the record; no name, date or chain
 *     checks (RFC 7672 3.1.1).
 *   DANE-TA (2): a certificate of the chain other than the server's own
 *     (chain[k], k >= 1) matches, the chain from chain[0] up to it
 *     verifies (signatures and dates) with chain[k] as the only trust
 *     anchor, and chain[0] names one of the reference identifiers (RFC
 *     7672 3.2.2: the MX host, the recipient domain; x509_names()).
 *
 * Everything here is bounded by its inputs; certificates are read by
 * x509.h (fuzzed) and by wolfSSL.  Memory: nothing static; DANE-TA
 * uses a wolfSSL certificate manager from the TLS arena for the check.
 */
#ifndef DANE_H
#define DANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_msg.h"

#define DANE_TLSA_MAX   8       /* usable records kept per host */
#define DANE_DATA_MAX   64      /* octets of association data (SHA-512) */

enum {
    DANE_USAGE_TA = 2,
    DANE_USAGE_EE = 3,
    DANE_SEL_CERT = 0,
    DANE_SEL_SPKI = 1,
    DANE_MT_SHA256 = 1,
    DANE_MT_SHA512 = 2,
};

struct dane_tlsa {
    uint8_t usage, selector, mtype;
    uint8_t len;                        /* octets of data */
    uint8_t data[DANE_DATA_MAX];
};

/* Whether r is usable for SMTP (see above). */
bool dane_usable(const struct dane_tlsa *r);

/* The usable TLSA records of ans (the answer to a TLSA query) into out
 * (cap records).  Returns how many (0: none usable).  The AD bit is the
 * caller's business. */
int dane_from_answer(const struct dns_answer *ans, struct dane_tlsa *out, int cap);

/* A pin: hex (64 hex digits, colons between pairs allowed, any case) as
 * the DANE-EE "3 0 1" record it is.  Returns 0 or PB_EINVAL. */
int dane_from_fingerprint(const char *hex, struct dane_tlsa *out);

/* Check the chain (der[i], len[i] for i < count; der[0] the server's
 * certificate) against the records; names[0..nnames) are the reference
 * identifiers for DANE-TA (NULL entries skipped; none: DANE-TA never
 * matches).  Returns DANE_USAGE_EE or DANE_USAGE_TA (the usage of the
 * record that matched, EE tried first), PB_EPERM (none matched, or no
 * usable record), PB_EINVAL (count < 1) or PB_ENOMEM (DANE-TA: no room
 * for the check; not a mismatch). */
int dane_check(const struct dane_tlsa *recs, int n, const uint8_t *const *der, const size_t *len,
               int count, const char *const *names, int nnames);

/* A record as text for logs: "3 1 1 ab12..." with the data clipped to
 * its first 8 octets ("...").  Returns the length. */
int dane_text(const struct dane_tlsa *r, char *buf, size_t cap);

#endif

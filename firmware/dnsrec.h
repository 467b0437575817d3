/*
 * dnsrec.h - a DNS record the office must publish for its mail domain, and
 * the check that the published one is there.
 *
 * For each mail domain the appliance serves, the records an office manager
 * pastes into the registrar's form, as (name, type, value) rows:
 *
 *   DOMAIN                MX    10 HOSTNAME.
 *   DOMAIN                TXT   "v=spf1 mx -all"
 *   HOSTNAME              A     the appliance's public IPv4, or a placeholder
 *   _dmarc.DOMAIN         TXT   "v=DMARC1; p=quarantine; rua=mailto:postmaster@DOMAIN"
 *   mta-sts.DOMAIN        CNAME HOSTNAME.
 *   _mta-sts.DOMAIN       TXT   "v=STSv1; id=ID"   (ID: from the policy text)
 *   _smtp._tls.DOMAIN     TXT   "v=TLSRPTv1; rua=mailto:postmaster@DOMAIN"
 *   _25._tcp.HOSTNAME     TLSA  3 1 1 SHA-256(certificate's SubjectPublicKeyInfo)
 *   autoconfig.DOMAIN     CNAME HOSTNAME.   (Thunderbird finds its settings there)
 *   autodiscover.DOMAIN   CNAME HOSTNAME.   (Outlook, likewise)
 *
 * Names are written without a trailing dot (registrar forms add the zone);
 * names inside values end in a dot.  TXT values are written quoted, as a
 * zone file and most registrar forms take them; the record's text without
 * quotes is what DNS carries.
 * UNFINISHED: DKIM (there is no signing yet); dnsrec_build says so in
 * DNSREC_DKIM_NOTE rather than offering a record.
 *
 * The check resolves each record through the appliance's own resolver
 * (dns.h: asynchronous, one query at a time, so it never takes more than
 * one of the resolver's PB_DNS_QUERIES slots) and marks it present,
 * missing or different (with what was found).
 *
 * Memory: everything lives in caller-provided structs; no heap.
 */
#ifndef DNSREC_H
#define DNSREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_msg.h"

#define DNSREC_MAX        10    /* records for one domain */
#define DNSREC_NAME_MAX   DNS_NAME_TEXT_MAX
#define DNSREC_VALUE_MAX  320   /* longest value: DMARC with a 253-octet domain */
#define DNSREC_POLICY_MAX 400   /* MTA-STS policy text, hostname of 253 included */
#define DNSREC_MTA_STS_MAX_AGE 604800u  /* one week, seconds */

/* The value shown for the A record when the appliance does not know its
 * public address (it sits behind NAT: its own is private). */
#define DNSREC_PLACEHOLDER_A "PUBLIC-IPV4-OF-THE-OFFICE"

#define DNSREC_DKIM_NOTE "DKIM: no record yet (UNFINISHED: the appliance does not sign mail yet)"

enum dnsrec_kind {
    DNSREC_MX, DNSREC_SPF, DNSREC_A, DNSREC_DMARC, DNSREC_MTA_STS_HOST, DNSREC_MTA_STS,
    DNSREC_TLSRPT, DNSREC_TLSA, DNSREC_AUTOCONFIG, DNSREC_AUTODISCOVER
};

struct dnsrec {
    enum dnsrec_kind kind;
    uint16_t type;                       /* DNS_T_MX, DNS_T_TXT, ... */
    char name[DNSREC_NAME_MAX + 1];      /* owner name, no trailing dot */
    char value[DNSREC_VALUE_MAX + 1];    /* presentation form ("10 mx.example.com.", "\"v=...\"") */
    bool placeholder;                    /* value is DNSREC_PLACEHOLDER_A: put the real one in */
    const char *note;                    /* one sentence for the page: why this record (static) */
};

/* What the records are made of.  public_ipv4 (dotted text) is NULL when
 * unknown.  cert_der is the appliance's certificate (for TLSA; NULL: no
 * TLSA row).  self_signed picks the MTA-STS mode (see dnsrec_mta_sts_policy). */
struct dnsrec_input {
    const char *domain;
    const char *hostname;
    const char *public_ipv4;
    const uint8_t *cert_der;
    size_t cert_len;
    bool self_signed;
};

/* The MTA-STS policy (RFC 8461 3.2) served at
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt, lines ending in CRLF:
 *   version: STSv1 / mode: testing|enforce / mx: HOSTNAME / max_age: 604800
 * Mode is "testing" while the certificate is self-signed: senders that
 * enforce MTA-STS check the MX certificate against the public CAs and
 * would refuse to deliver at all; in testing they deliver and only report.
 * Returns the length written (NUL-terminated), PB_EINVAL (hostname not a
 * valid name) or PB_ERANGE (cap too small). */
int dnsrec_mta_sts_policy(const char *hostname, bool self_signed, char *buf, size_t cap);

/* The policy's id for the _mta-sts TXT record: the first 16 hex digits of
 * the SHA-256 of the policy text, so it changes whenever the policy does
 * (RFC 8461 3.1: 1..32 letters and digits).  out holds 17 bytes.
 * Returns 0 or PB_ETLS. */
int dnsrec_mta_sts_id(const char *policy, char out[17]);

/* The records for in->domain into out[0..cap).  Returns how many
 * (at most DNSREC_MAX), PB_EINVAL (domain or hostname not valid names,
 * public_ipv4 not an IPv4 address), PB_ECORRUPT (cert_der has no
 * SubjectPublicKeyInfo), PB_ERANGE (cap too small or a value too long)
 * or PB_ETLS (hash failure). */
int dnsrec_build(const struct dnsrec_input *in, struct dnsrec *out, int cap);

/* "NAME TYPE VALUE" as one line (no newline).  Returns the length or
 * PB_ERANGE. */
int dnsrec_format(const struct dnsrec *r, char *buf, size_t cap);

/* The appliance's own IPv4 address as text into buf (cap >= 16), when it
 * is a public one; false when the network is down or the address is
 * private (behind NAT): the records then show DNSREC_PLACEHOLDER_A. */
bool dnsrec_public_ipv4(char *buf, size_t cap);

struct identity;

/* What domain's records are made of on this appliance: its hostname, its
 * public IPv4 when known (written into pub, cap >= 16), and the TLS
 * identity kept on flash, loaded into id (which in then points into, so
 * it must outlive in).  Without one there is no TLSA row. */
void dnsrec_input_local(const char *domain, struct identity *id, char *pub, size_t cap,
                        struct dnsrec_input *in);

/* The type's mnemonic ("MX", "TXT", ...). */
const char *dnsrec_type_name(uint16_t type);

/* ------------------------------------------------------------ check --- */

enum dnsrec_status {
    DNSREC_PENDING,     /* not asked yet / waiting */
    DNSREC_PRESENT,     /* the same value is published */
    DNSREC_MISSING,     /* no such record (NXDOMAIN or no data of that kind) */
    DNSREC_DIFFERENT,   /* a record of that kind exists with another value: found[] */
    DNSREC_FAILED,      /* the lookup failed (timeout, SERVFAIL, ...): found[] says why */
};

struct dnsrec_check;
typedef void (*dnsrec_done_cb)(struct dnsrec_check *c, void *arg);

/* Caller-owned; keep it in place until done runs or dnsrec_check_cancel. */
struct dnsrec_check {
    struct dnsrec rec[DNSREC_MAX];
    enum dnsrec_status status[DNSREC_MAX];
    char found[DNSREC_MAX][DNSREC_VALUE_MAX + 1];  /* what DNS had, for DIFFERENT / FAILED */
    int count;
    int next;                 /* the next record to ask about */
    bool starting;            /* inside dnsrec_check_next: cached answers come synchronously */
    bool busy;
    dnsrec_done_cb done;
    void *arg;
};

/* Build the records of in (as dnsrec_build) and start resolving them.
 * done(c, arg) runs once every record has a status - maybe before this
 * returns, when every answer was cached.  Returns 0 or dnsrec_build's
 * error (done will not run). */
int dnsrec_check_start(struct dnsrec_check *c, const struct dnsrec_input *in,
                       dnsrec_done_cb done, void *arg);

/* Stop a check under way (its done will not run). */
void dnsrec_check_cancel(struct dnsrec_check *c);

/* Mark record i of c from the answer to its lookup (err and ans as
 * dns_cb gets them).  Exposed for tests; the check calls it itself. */
void dnsrec_check_judge(struct dnsrec_check *c, int i, int err, const struct dns_answer *ans);

const char *dnsrec_status_name(enum dnsrec_status s);

#endif

/*
 * smtp_relay.h - the queue runner: delivers the outbound queue
 * (smtp_queue.h) to other mail servers.
 *
 * Called from the firmware's event loop (smtp_relay_poll).  It picks due
 * entries in name order (arrival order), at most SMTP_RELAY_CONNS at
 * once, and for each: resolves the domain's MX (a null MX, RFC 7505, or a
 * domain that does not exist fails the recipients at once; no MX means the
 * domain itself, RFC 5321 5.1), then the hosts' A and AAAA addresses, and
 * connects in preference order, falling back across hosts and addresses
 * while no server has answered for the recipients.  The session is
 * smtp_client.h.
 *
 * TLS to an MX host (RFC 7672, DANE): before connecting, the TLSA records
 * of _25._tcp.<host> are asked for.  A validated answer (AD) with usable
 * records makes TLS mandatory and the server's certificate must match one
 * (dane.h: DANE-EE 3 x x, DANE-TA 2 x x); a validated answer whose
 * records are all unusable makes TLS mandatory but unauthenticated.  A
 * mismatch, or a host that does not offer STARTTLS, fails that host (the
 * next address or MX is tried; the message is deferred, never sent in
 * plaintext).  A TLSA lookup that fails (SERVFAIL, timeout) skips the
 * host when its A answer was validated, else counts as no DANE.  Without
 * validated TLSA: opportunistic STARTTLS, certificate not checked (RFC
 * 7435).  The log lines of an attempt say which (dane=no,
 * dane=matched(DANE-EE), dane=MISMATCH, ...).
 *
 * With a relay host set, every entry goes there instead, on its port:
 * TLS required (STARTTLS, or implicit TLS from the first byte), AUTH
 * PLAIN or LOGIN with the credentials if set, and the certificate checked
 * against a pinned SHA-256 fingerprint if set (pin=matched, names and
 * dates not checked).  Without a pin the chain must lead to one of the CA
 * roots bundled in the image (ca_bundle.h, loaded into the TLS arena at
 * the first such delivery), be within its dates, and name the relay host
 * (cert=verified(CA roots)); otherwise the attempt fails with the reason
 * in the log ("TLS: certificate not accepted: untrusted ...", "... name
 * mismatch") and the mail is deferred.  A relay host given as an address
 * needs a pin: without one its mail is deferred (4.7.5), unsent.
 *
 * Per recipient: 2xx delivered, 5xx failed (a DSN to the sender, see
 * smtp_dsn.h, unless the sender is <>), 4xx or no answer tried again.
 * The outcome of an attempt is ONE store transaction: the entry rewritten
 * with the recipients left, attempts + 1, the next attempt (backoff of 5
 * minutes doubling up to 4 hours) and the error, or deleted when nobody is
 * left; the DSN in the same transaction.  Recipients still waiting after
 * the lifetime (default 5 days after the entry was created) fail with
 * status 4.4.7.  An attempt that leaves recipients waiting when the
 * entry is older than the delay-notice setting (smtp_relay_set_delay_notice)
 * sends the sender ONE delay notice (smtp_dsn.h, Action: delayed) for
 * them, in the same transaction, and marks the entry so that it never
 * sends another; not in an attempt that also failed some recipients (the
 * next one does), and never for a sender <>.  A message with more than SMTP_RELAY_RECEIVED_MAX
 * Received: headers is a loop and fails (5.4.6) without being sent.
 *
 * One connection carries several messages: once an outcome is on flash,
 * another entry due now for the same domain (any entry, with a relay
 * host) that no other delivery holds goes out as a new transaction on
 * the open connection, up to SMTP_RELAY_SESSION_MSGS more, instead of QUIT.
 *
 * The window for a duplicate: the commit is made right after the
 * server's reply to the final dot is parsed, before QUIT is even sent; a
 * power cut between that reply and the commit's end delivers again on the
 * next attempt (RFC 5321 6.1 accepts duplicates, never losses).
 *
 * UNFINISHED: roots with P-384 keys are not bundled (wolfSSL is built
 * without P-384), nor is revocation checked (no CRL/OCSP); intermediates
 * that verified stay in the roots' trust store until reboot; DANE only requires the TLSA
 * answer to be validated, not the MX and address answers as RFC 7672
 * 2.2.1 asks, and takes the MX name as the TLSA base domain without
 * CNAME expansion; a DANE-TA anchor must be in the chain the server sends;
 * address literals as domains, MX records that point at the appliance
 * itself.
 */
#ifndef SMTP_RELAY_H
#define SMTP_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define SMTP_RELAY_CONNS          4       /* deliveries at once */
#define SMTP_RELAY_MX_MAX         5       /* MX hosts tried per attempt */
#define SMTP_RELAY_ADDRS          4       /* addresses tried per host */
#define SMTP_RELAY_CONNECT_MS     30000u  /* a TCP connect */
#define SMTP_RELAY_DNS_MS         15000u  /* a lookup (the resolver has its own, shorter) */
#define SMTP_RELAY_RETRY_FIRST    300u    /* seconds before the first retry */
#define SMTP_RELAY_RETRY_MAX      14400u  /* seconds between retries at most */
#define SMTP_RELAY_LIFETIME       (5u * 86400u)  /* seconds an entry is tried */
#define SMTP_RELAY_DELAY_NOTICE   (4u * 3600u)   /* seconds before the delay notice, by default */
#define SMTP_RELAY_RECEIVED_MAX   50      /* Received: headers before it is a loop */
#define SMTP_RELAY_SESSION_MSGS   50      /* further messages on one connection at most */
#define SMTP_RELAY_HOST_MAX       255

struct smtp_relay_config {
    struct store *store;
    const char *hostname;           /* EHLO name, DSN reporting MTA */
    uint32_t lifetime;              /* seconds; 0: SMTP_RELAY_LIFETIME */
    void (*log)(const char *line);  /* one line per attempt and recipient */
};

/* Start the runner (cfg must stay valid).  Returns 0 or PB_ENOMEM (no TLS
 * client configuration: it runs without STARTTLS). */
int smtp_relay_start(const struct smtp_relay_config *cfg);

/* Work due now; returns 1 when it did something (poll again at once). */
int smtp_relay_poll(void);

/* Every entry due now (queue flush); returns how many were changed. */
int smtp_relay_flush(void);

/* Entry name (or every "ID.*" of a queue ID) due now, or deleted without
 * a DSN (an attempt under way is cut off first).  Returns how many, 0 if
 * none matched, or the store's error. */
int smtp_relay_retry(const char *name);
int smtp_relay_delete(const char *name);

/* The relay host: "host", "host:port" or "[ip]:port"; "" or "off" for
 * none.  Returns 0 or PB_EINVAL.  The text is copied. */
int smtp_relay_set_host(const char *spec);

/* Relay host login: user and password (each 1..SASL_CRED_MAX octets,
 * copied), or user "" / "off" for none.  Returns 0 or PB_EINVAL. */
int smtp_relay_set_auth(const char *user, const char *pass);

/* Relay host TLS: "starttls" (the default) or "implicit" (TLS from the
 * first byte, as on port 465).  Returns 0 or PB_EINVAL. */
int smtp_relay_set_tls(const char *mode);

/* Relay host certificate pin: the SHA-256 of its certificate (DER) as 64
 * hex digits, colons allowed; "" or "off" for none.  Returns 0 or
 * PB_EINVAL. */
int smtp_relay_set_fingerprint(const char *hex);

/* Check a pin without using it: 0 or PB_EINVAL. */
int smtp_relay_fingerprint_valid(const char *hex);

/* Check a relay host spec without using it. */
int smtp_relay_host_valid(const char *spec);

/* Seconds an entry waits before its sender gets a delay notice; 0: no
 * delay notices.  Default SMTP_RELAY_DELAY_NOTICE.  Returns 0. */
int smtp_relay_set_delay_notice(uint32_t seconds);

/* Deliveries under way. */
int smtp_relay_active(void);

/* Outbound deliveries done (one per recipient the next server took, the
 * outcome recorded) during the UTC day of now_s (wall clock, seconds
 * since 1970).  RAM only: zero after a restart. */
unsigned long smtp_relay_sent_today(int64_t now_s);

/* Seconds until the next retry after attempt number attempts (1 = the
 * first attempt failed). */
uint32_t smtp_relay_backoff(unsigned attempts);

#endif

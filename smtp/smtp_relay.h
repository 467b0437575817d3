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
 * smtp_client.h (opportunistic STARTTLS, certificate not checked, RFC
 * 7435).  With a relay host set, every entry goes there instead, on its
 * port, and TLS is required.
 *
 * Per recipient: 2xx delivered, 5xx failed (a DSN to the sender, see
 * smtp_dsn.h, unless the sender is <>), 4xx or no answer tried again.
 * The outcome of an attempt is ONE store transaction: the entry rewritten
 * with the recipients left, attempts + 1, the next attempt (backoff of 5
 * minutes doubling up to 4 hours) and the error, or deleted when nobody is
 * left; the DSN in the same transaction.  Recipients still waiting after
 * the lifetime (default 5 days after the entry was created) fail with
 * status 4.4.7.  A message with more than SMTP_RELAY_RECEIVED_MAX
 * Received: headers is a loop and fails (5.4.6) without being sent.
 *
 * The window for a duplicate: the commit is made right after the
 * server's reply to the final dot is parsed, before QUIT is even sent; a
 * power cut between that reply and the commit's end delivers again on the
 * next attempt (RFC 5321 6.1 accepts duplicates, never losses).
 *
 * UNFINISHED: DANE (TLSA with AD: TLS mandatory and the certificate
 * matched), relay host credentials (AUTH) and certificate verification
 * against CA roots, implicit TLS to a relay host, address literals as
 * domains, MX records that point at the appliance itself, delay notices.
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
#define SMTP_RELAY_RECEIVED_MAX   50      /* Received: headers before it is a loop */
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

/* Check a relay host spec without using it. */
int smtp_relay_host_valid(const char *spec);

/* Deliveries under way. */
int smtp_relay_active(void);

/* Seconds until the next retry after attempt number attempts (1 = the
 * first attempt failed). */
uint32_t smtp_relay_backoff(unsigned attempts);

#endif

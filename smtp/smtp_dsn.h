/*
 * smtp_dsn.h - delivery status notifications (RFC 3464): the bounce a
 * sender gets when the outbound queue gives up on some recipients.
 *
 * A DSN is a multipart/report with three parts: a text a person reads, the
 * machine-readable message/delivery-status (one block per recipient), and
 * the original message's header as text/rfc822-headers (RFC 6522).  It
 * comes from the null sender <> (so it is never bounced in turn), from
 * MAILER-DAEMON@hostname.  It is written as a new blob in the caller's
 * transaction, the same one that rewrites or deletes the queue entry, so
 * a DSN exists exactly when its recipients left the queue.
 *
 * A delay notice (delayed set) is the same report for recipients still
 * being tried: "Action: delayed", a 4.x.x status, "Will-Retry-Until:",
 * and a text saying the sender need not send the message again.
 *
 * Where it goes: the sender's address is resolved like any recipient
 * (accounts_resolve): a local user (or alias to one) gets it in the INBOX,
 * with "Return-Path: <>"; an address elsewhere gets it through the
 * outbound queue (entries named ID.dN.M, null sender).  A message whose
 * sender is <> gets no DSN (no bounce for a bounce): the caller checks.
 */
#ifndef SMTP_DSN_H
#define SMTP_DSN_H

#include <stdbool.h>
#include <stdint.h>

#include "smtp_queue.h"
#include "store.h"

#define SMTP_DSN_HEADER_MAX 16384   /* octets of the original header quoted at most */

struct smtp_dsn_rcpt {
    const char *addr;           /* not NUL-terminated */
    uint16_t len;
    const char *status;         /* "5.1.1" */
    const char *remote;         /* the server that answered ("mx.example.net"), or NULL */
    const char *diag;           /* its reply ("550 5.1.1 No such user"), or our reason */
};

struct smtp_dsn {
    const char *hostname;       /* the reporting MTA */
    const char *queue_name;     /* the entry, for Message-ID and the DSN's own queue name */
    const struct smtp_queue_entry *entry;   /* sender, created, blob and offset of the original */
    int nrcpt;
    const struct smtp_dsn_rcpt *rcpt;
    uint32_t now;               /* seconds since 1970 */
    bool delayed;               /* a delay notice, not a failure report */
    uint32_t retry_until;       /* delayed: when the queue gives up (seconds since 1970) */
};

/* Write the DSN in txn and deliver or queue it.  Returns 0, PB_EINVAL (the
 * sender is <> or not an address), PB_ENOENT (the sender is a local
 * address with no mailbox: nobody to tell), or the store's error. */
int smtp_dsn_send(struct store_txn *txn, const struct smtp_dsn *d);

/* Bytes of STORE_TXN_OPS_BYTES a DSN may take (its blob and one INBOX
 * message or one queue entry). */
#define SMTP_DSN_TXN_BYTES (STORE_TXN_BLOB_BYTES + STORE_TXN_REC_BYTES(SMTP_QUEUE_NAME_MAX, 300, 1))

#endif

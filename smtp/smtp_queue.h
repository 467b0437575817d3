/*
 * smtp_queue.h - the outbound queue: messages waiting to be relayed to
 * other mail servers, kept in the store.
 *
 * An entry is one message for the recipients of one destination domain
 * (the unit an SMTP client delivers in one transaction): the envelope
 * sender, up to SMTP_QUEUE_RCPTS recipients with a status each, the
 * number of attempts, when the next attempt is due, and the body as a
 * store blob that the entry keeps alive (store_rec_put_blob), so that one
 * body serves every local mailbox and every entry.  offset is where the
 * message starts in that blob: local deliveries put a Return-Path: line
 * in front, which must not travel on.  Entries are named "ID.N" (the
 * session's queue ID and a sequence number), so they list in arrival
 * order within a second and never collide.
 *
 * The value on flash (little-endian), at most STORE_REC_VALUE_MAX bytes:
 *   u8 format (1 or 2), u8 state, u16 attempts, u32 created, u32 next
 *   attempt, u32 offset, u16 sender length, sender,
 *   u8 recipients, then per recipient: u8 status, u16 length, address;
 *   format 2 only: u8 length, the last attempt's error (text, clipped).
 * Format 1 entries (written before the queue runner existed) are read as
 * format 2 with no error; entries are rewritten in format 2.
 *
 * smtp/smtp_relay.h delivers the entries.
 */
#ifndef SMTP_QUEUE_H
#define SMTP_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "store.h"

#define SMTP_QUEUE_RCPTS     16     /* recipients in one entry at most */
#define SMTP_QUEUE_NAME_MAX  31     /* "ID.N" */
#define SMTP_QUEUE_ADDR_MAX  (MAIL_LOCAL_MAX + 1 + MAIL_DOMAIN_MAX)

/* The state byte: flags.  SMTP_QUEUE_DELAY_NOTIFIED: the sender has had
 * its delay notice (smtp_relay.h), never a second one. */
enum smtp_queue_state { SMTP_QUEUE_WAITING = 0, SMTP_QUEUE_DELAY_NOTIFIED = 0x01 };
enum smtp_queue_rcpt_status { SMTP_QUEUE_RCPT_PENDING = 0 };

#define SMTP_QUEUE_ERROR_MAX 160    /* octets of the last error kept at most */

/* A decoded entry.  Addresses point into the caller's value buffer (not
 * NUL-terminated: use the lengths). */
struct smtp_queue_entry {
    uint32_t blob, offset;
    uint32_t created, next_attempt;
    uint16_t attempts;
    uint8_t state;
    const char *from;
    uint16_t from_len;
    uint8_t nrcpt;
    struct {
        const char *addr;
        uint16_t len;
        uint8_t status;
    } rcpt[SMTP_QUEUE_RCPTS];
    const char *error;          /* the last attempt's error (error_len octets), or NULL */
    uint8_t error_len;
};

/* Recipients of one message for the queue: addresses as "local@domain"
 * text, NUL-separated in buf[0..used). */
struct smtp_queue_rcpts {
    char buf[1024];
    size_t used;
    int n;
};

/* Add addr once; PB_ERANGE when buf is full. */
int smtp_queue_rcpts_add(struct smtp_queue_rcpts *r, const char *addr);

/* Bytes of a transaction (STORE_TXN_OPS_BYTES) that queueing r takes. */
size_t smtp_queue_txn_bytes(const struct smtp_queue_rcpts *r, const char *id, const char *from);

/* In txn: one entry per destination domain of r (more when a domain has
 * more than SMTP_QUEUE_RCPTS recipients), all keeping blob alive, the
 * message starting at offset in it, from the sender address text ("" for
 * the null sender), due at once.  Names are "ID.1", "ID.2", ... */
int smtp_queue_add(struct store_txn *txn, const char *id, uint32_t blob, uint32_t offset,
                   const char *from, const struct smtp_queue_rcpts *r, uint32_t now);

/* Decode the committed entry name into e, its value kept in buf (cap
 * bytes, STORE_REC_VALUE_MAX is enough).  PB_ENOENT, PB_ECORRUPT (a value
 * this code did not write). */
int smtp_queue_get(struct store *s, const char *name, struct smtp_queue_entry *e, uint8_t *buf,
                   size_t cap);

/* Decode a value (exposed for tests). */
int smtp_queue_decode(const uint8_t *v, size_t len, struct smtp_queue_entry *e);

/* Encode e (format 2) into v (cap bytes; not the buffer e points into);
 * the error is clipped to what
 * fits the record.  Returns the length, or PB_ERANGE (no recipient, or
 * the recipients do not fit). */
int smtp_queue_encode(const struct smtp_queue_entry *e, uint8_t *v, size_t cap);

/* In txn: replace the entry name with e, keeping its blob (e->blob) alive. */
int smtp_queue_put(struct store_txn *txn, const char *name, const struct smtp_queue_entry *e);

#endif

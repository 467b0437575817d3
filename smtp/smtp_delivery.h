/*
 * smtp_delivery.h - where accepted SMTP mail goes: the backend that puts a
 * message into the mailboxes of its local recipients, in one store
 * transaction.
 *
 * RCPT resolves the address through accounts (users, aliases, +tags,
 * catch-all); the body streams into one blob as it arrives, preceded by a
 * Return-Path: header; the commit adds a message referring to that blob to
 * every recipient's INBOX and returns only once it is on flash.
 *
 * An alias target outside the appliance goes to the outbound queue
 * (smtp_queue.h) in the same transaction: one entry per destination
 * domain, keeping the same blob alive, sent from just after the
 * Return-Path: line.  Everything a message changes must fit one store
 * transaction (STORE_TXN_OPS_BYTES): a RCPT that would not fit is
 * answered 452 4.5.3 so the client sends it in a later transaction (RFC
 * 5321 4.5.3.1.10), or 550 5.5.3 if that one recipient alone is too many
 * (an alias reaching more mailboxes than one message can).
 */
#ifndef SMTP_DELIVERY_H
#define SMTP_DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "address.h"
#include "smtp_queue.h"
#include "smtp_session.h"
#include "store.h"

#define SMTP_DELIVERY_FOLDERS 128   /* distinct local mailboxes per message */

struct smtp_delivery {
    struct store *store;
    struct store_txn *txn;      /* open from the first body byte to commit/abort */
    uint32_t blob;
    uint32_t offset;            /* where the message starts, after Return-Path: */
    char id[SMTP_SESSION_ID_LEN + 1];
    char from[MAIL_PATH_MAX + 8];
    int nfolders;
    uint16_t folders[SMTP_DELIVERY_FOLDERS];
    struct smtp_queue_rcpts remote;     /* targets outside, for the queue */
    bool auth;                  /* submission: a logged-in user, who may relay */
};

/* Make be a backend delivering into store through d (both caller-owned,
 * one per session). */
void smtp_delivery_init(struct smtp_delivery *d, struct store *store, struct smtp_backend *be);

#endif

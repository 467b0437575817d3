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
 * UNFINISHED: an alias that forwards outside the appliance needs the
 * outbound queue (its own issue); until then RCPT answers 450 4.3.0 for it,
 * so the sender keeps the message and retries, and nothing is lost.
 */
#ifndef SMTP_DELIVERY_H
#define SMTP_DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "address.h"
#include "smtp_session.h"
#include "store.h"

#define SMTP_DELIVERY_FOLDERS 128   /* distinct local mailboxes per message */

struct smtp_delivery {
    struct store *store;
    struct store_txn *txn;      /* open from the first body byte to commit/abort */
    uint32_t blob;
    char from[MAIL_PATH_MAX + 8];
    int nfolders;
    uint16_t folders[SMTP_DELIVERY_FOLDERS];
    bool remote;                /* the last RCPT resolved to a remote target */
};

/* Make be a backend delivering into store through d (both caller-owned,
 * one per session). */
void smtp_delivery_init(struct smtp_delivery *d, struct store *store, struct smtp_backend *be);

#endif

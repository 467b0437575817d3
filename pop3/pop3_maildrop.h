/*
 * pop3_maildrop.h - the POP3 backend on the appliance: logins through
 * accounts (with auth_guard counting failures per client address) and the
 * user's INBOX in the store as the maildrop.
 *
 * At login the maildrop takes a snapshot of the INBOX (UID and size of up
 * to POP3_SESSION_MAX_MSGS messages, oldest first): message numbers and
 * sizes stay fixed for the session, and mail delivered meanwhile shows at
 * the next login.  RETR reads the blob from flash piece by piece.  The
 * commit at QUIT expunges every marked message in one store transaction;
 * a message already expunged by someone else counts as done.  One session
 * at a time per maildrop (RFC 1939's exclusive lock): a second login gets
 * PB_EEXIST ("[IN-USE]").
 *
 * One transaction holds at most POP3_MAILDROP_MAX_DELETES expunges (the
 * store's STORE_TXN_OPS_BYTES at 12 bytes each), so the session refuses
 * DELE beyond that many: the rest go at the next session.
 *
 * RAM: 8 bytes per message of the snapshot (32 KiB per session with the
 * defaults), in the caller's struct.
 *
 * The snapshot calls store_msg_next() once per message; the store resumes
 * each step where the last ended, so a login reads the message table once.
 */
#ifndef POP3_MAILDROP_H
#define POP3_MAILDROP_H

#include <stdbool.h>
#include <stdint.h>

#include "pop3_session.h"
#include "store.h"

#define POP3_MAILDROP_MAX_DELETES (STORE_TXN_OPS_BYTES / 12u)

struct pop3_maildrop_msg {
    uint32_t uid;
    uint32_t size;
};

struct pop3_maildrop {
    struct store *store;
    struct pop3_maildrop *all;  /* every maildrop of the server, for the lock */
    unsigned nall;
    bool open;
    uint16_t folder;
    uint32_t uidvalidity;
    unsigned count;
    struct pop3_maildrop_msg msgs[POP3_SESSION_MAX_MSGS];
};

/* Make be[i] a backend over d[i], for i < n (all caller-owned, one per
 * session slot; the maildrops know each other for the lock). */
void pop3_maildrop_init(struct pop3_maildrop *d, struct pop3_backend *be, unsigned n,
                        struct store *store);

#endif

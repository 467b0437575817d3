/*
 * imap_mailbox.h - an IMAP session's view of one user's mailbox in the
 * store: login, folders, subscriptions, the selected folder's snapshot and
 * every change the session makes.
 *
 * The snapshot.  IMAP numbers messages 1..n in UID order and those numbers
 * may change only when the client is told (EXPUNGE, EXISTS).  So the
 * selected folder is kept as an array of UIDs with their flags as the
 * client last saw them (IMAP_MAILBOX_MAX_MSGS at most: 6 bytes each);
 * imap_mailbox_sync() compares it with the store and reports each
 * difference through a callback, at most `budget` of them per call, so a
 * session can write them as its connection has room.  Expunges are
 * reported first, lowest first, with the sequence number the client knows
 * at that moment; then flag changes; then the new count (EXISTS).
 *
 * Change detection is cheap: the store's bytes-programmed counter moves
 * with every commit, so a session waiting in IDLE compares one number per
 * poll and walks the folder only when something was written.
 *
 * Durability: every change (flags, expunge, copy, move, append, folders,
 * subscriptions) is committed before the function returns 0.  A change
 * over many messages is split into as many store transactions as it needs
 * (a transaction holds STORE_TXN_OPS_BYTES of operations); each commit is
 * durable, and a failure midway leaves the earlier ones done.
 *
 * Subscriptions are named records "sub:<user>:<folder>" in STORE_NS_IMAP.
 *
 * Keywords.  The store keeps 16 flag bits per message: the five system
 * flags in the low bits, and above them up to IMAP_MAILBOX_KEYWORDS
 * keyword names in use at once per mailbox (all folders of a user share
 * them), bit IMAP_MAILBOX_KEYWORD_BIT0 << i for the name in slot i.  The
 * names are one record "kw:<user>" in STORE_NS_IMAP: "#<epoch>" and one
 * token per slot, "\" for a free one.  A new name takes a free slot;
 * when there is none, the mailbox's messages (every folder) are walked
 * and the names no message carries any more are freed, the epoch moves
 * and the new name takes one of their slots.  Only when all eleven are
 * carried by some message is the new name refused (PB_ENOSPC: the client
 * sees "NO [LIMIT]" and can remove a keyword it no longer uses).
 *
 * Sessions cache the names: a name not in the cache reloads it, and
 * imap_mailbox_keywords_load() (each command, each IDLE poll that sees a
 * change) notices a new epoch: a bit whose name changed is reported again
 * for the messages the client saw with it.  An APPEND with keywords whose
 * epoch moved while its literal came in fails with PB_EAGAIN (nothing is
 * stored; the client tries again).
 *
 * UNFINISHED: \Recent (always 0: IMAP4rev2 drops it), a folder of more
 * than IMAP_MAILBOX_MAX_MSGS messages shows its oldest ones only; within
 * one long FETCH that spans several pumps a keyword reclaimed meanwhile by
 * another session may be written under its old name (corrected at the
 * next command's sync).
 */
#ifndef IMAP_MAILBOX_H
#define IMAP_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define IMAP_MAILBOX_MAX_MSGS 4096
#define IMAP_MAILBOX_USER_MAX 254
#define IMAP_MAILBOX_KEYWORDS 11            /* keyword names per mailbox */
#define IMAP_MAILBOX_KEYWORD_MAX 31         /* bytes of a keyword name */
#define IMAP_MAILBOX_KEYWORD_BIT0 0x20u     /* flag bit of the first keyword */

/* What imap_mailbox_sync() reports. */
enum imap_mailbox_event {
    IMAP_EV_EXPUNGE,        /* seq: the message's number before it went */
    IMAP_EV_FLAGS,          /* seq, flags: new flags of message seq */
    IMAP_EV_EXISTS,         /* seq: the new number of messages */
};

typedef void (*imap_mailbox_event_fn)(void *ctx, enum imap_mailbox_event ev, uint32_t seq,
                                      uint32_t uid, uint16_t flags);

struct imap_mailbox {
    struct store *store;
    bool logged_in;
    uint32_t mailbox;
    char user[IMAP_MAILBOX_USER_MAX + 1];   /* lower case */

    bool selected, readonly;
    uint16_t folder;
    uint32_t uidvalidity;
    uint64_t seen_programmed;               /* store counter at the last full sync */
    unsigned count;                         /* messages the client knows */
    uint32_t uids[IMAP_MAILBOX_MAX_MSGS];
    uint16_t flags[IMAP_MAILBOX_MAX_MSGS];

    unsigned nkeywords;                     /* slots known to this session (some may be free: "") */
    uint32_t kw_epoch;                      /* of the names cached */
    uint32_t append_epoch;                  /* kw_epoch when the APPEND began */
    char keywords[IMAP_MAILBOX_KEYWORDS][IMAP_MAILBOX_KEYWORD_MAX + 1];

    unsigned txn_ops;                       /* changes in the open batch transaction */
    struct store_txn *append_txn;           /* APPEND in progress */
    uint16_t append_folder;
    uint32_t append_blob;
    uint32_t append_flags, append_date;
};

void imap_mailbox_init(struct imap_mailbox *mb, struct store *store);

/* Check user/pass for a client at peer (with auth_guard).  0; PB_EPERM
 * wrong; PB_EBUSY locked out; other errors are the system's. */
int imap_mailbox_login(struct imap_mailbox *mb, const char *peer, const char *user,
                       const char *pass);
void imap_mailbox_logout(struct imap_mailbox *mb);

/* ---- folders ---- */
/* Folder of that name ("INBOX" in any case). */
int imap_mailbox_find(struct imap_mailbox *mb, const char *name, uint16_t *folder);
/* The next folder after `after` (0: first), as store_folder_next. */
int imap_mailbox_next(struct imap_mailbox *mb, uint16_t after, struct store_folder_info *fi);
int imap_mailbox_create(struct imap_mailbox *mb, const char *name);
int imap_mailbox_delete(struct imap_mailbox *mb, const char *name);
/* Rename a folder and the folders under it.  RENAME INBOX moves INBOX's
 * messages to a new folder `to` (in batches, see imap_mailbox.c) and
 * leaves INBOX empty.  PB_EEXIST: `to` exists (INBOX always does). */
int imap_mailbox_rename(struct imap_mailbox *mb, const char *from, const char *to);
int imap_mailbox_subscribe(struct imap_mailbox *mb, const char *name, bool on);
bool imap_mailbox_subscribed(struct imap_mailbox *mb, const char *name);
/* The RFC 6154 attribute of a folder name ("\\Sent"), or NULL. */
const char *imap_mailbox_special_use(const char *name);
/* What STATUS counts in a folder. */
struct imap_mailbox_counts {
    uint32_t messages, unseen, deleted;     /* all, without \Seen, with \Deleted */
    uint64_t bytes;                         /* sum of the messages' sizes */
};
/* The counts of a folder and its info (one walk of its messages). */
int imap_mailbox_status(struct imap_mailbox *mb, uint16_t folder, struct imap_mailbox_counts *n,
                        struct store_folder_info *fi);
/* The same without a session, for the console: any folder of the store. */
int imap_mailbox_totals(struct store *s, uint16_t folder, uint32_t *messages, uint32_t *unseen,
                        uint64_t *bytes, struct store_folder_info *fi);

/* The HIGHESTMODSEQ of every folder (RFC 7162): the store-wide highest
 * modseq (store_modseq_high).  One number serves all folders because it
 * is >= the modseq of every message in every folder (each message's is
 * the version of a commit, and this is the newest commit's), and it grows
 * with every change in any folder (a flag change, an expunge, an append
 * each commit with a new version), never going down (store.h).  A folder
 * whose neighbours change sees it grow without a change of its own,
 * which RFC 7162 allows; a client then finds nothing with CHANGEDSINCE. */
uint32_t imap_mailbox_highest_modseq(const struct imap_mailbox *mb);

/* ---- keywords ---- */
/* (Re)read the mailbox's keyword names from the store.  0 or PB_E*. */
int imap_mailbox_keywords_load(struct imap_mailbox *mb);
/* The flag bit of keyword name (compared without case).  With create, a
 * new name gets the next free bit, committed before this returns.
 * PB_ENOENT: unknown (and not create); PB_ENOSPC: all names in use;
 * PB_ERANGE: name longer than IMAP_MAILBOX_KEYWORD_MAX or not a keyword;
 * other errors are the store's. */
int imap_mailbox_keyword(struct imap_mailbox *mb, const char *name, bool create, uint16_t *bit);
/* Keyword slots free now (names may still be reclaimed beyond them). */
unsigned imap_mailbox_keywords_free(const struct imap_mailbox *mb);
/* The name of keyword bit (one bit at or above IMAP_MAILBOX_KEYWORD_BIT0),
 * or NULL when none has that bit. */
const char *imap_mailbox_keyword_name(struct imap_mailbox *mb, uint16_t bit);

/* ---- the selected folder ---- */
int imap_mailbox_select(struct imap_mailbox *mb, const char *name, bool readonly);
void imap_mailbox_unselect(struct imap_mailbox *mb);
/* Report up to budget differences with the store (see the top of the
 * file); without allow_expunge, messages gone stay in the snapshot (as
 * during FETCH, STORE and SEARCH, RFC 3501 7.4.1).  Returns 1 when more
 * remain, 0 when the snapshot matches the store, or a negative PB_E*. */
int imap_mailbox_sync(struct imap_mailbox *mb, bool allow_expunge, unsigned budget,
                      imap_mailbox_event_fn fn, void *ctx);
/* Whether the store changed since the last complete sync (cheap). */
bool imap_mailbox_changed(struct imap_mailbox *mb);
/* Message seq (1-based) as stored now: PB_ENOENT when expunged meanwhile. */
int imap_mailbox_msg(struct imap_mailbox *mb, uint32_t seq, struct store_msg_info *mi);
/* Read from a message's body. */
int imap_mailbox_read(struct imap_mailbox *mb, uint32_t blob, uint32_t off, void *buf, size_t len);
/* Set message seq's flags to flags (committed).  The snapshot keeps the
 * old flags until the next sync reports the change; the caller that
 * wants no echo (.SILENT) updates it with imap_mailbox_saw_flags. */
int imap_mailbox_set_flags(struct imap_mailbox *mb, struct store_txn **txn, uint32_t seq,
                           uint16_t flags);
void imap_mailbox_saw_flags(struct imap_mailbox *mb, uint32_t seq, uint16_t flags);
/* Expunge message seq in *txn. */
int imap_mailbox_expunge(struct imap_mailbox *mb, struct store_txn **txn, uint32_t seq);
/* Copy message seq into folder dest; its new UID in *uid. */
int imap_mailbox_copy(struct imap_mailbox *mb, struct store_txn **txn, uint32_t seq,
                      uint16_t dest, uint32_t *uid);
/* Commit *txn if one is open (NULL afterwards); abort when failed. */
int imap_mailbox_commit(struct imap_mailbox *mb, struct store_txn **txn, int failed);

/* ---- APPEND: the literal streams into a blob ---- */
int imap_mailbox_append_begin(struct imap_mailbox *mb, uint16_t folder, uint32_t flags,
                              uint32_t date);
int imap_mailbox_append_write(struct imap_mailbox *mb, const void *data, size_t len);
/* Commit: the message's UID and the folder's UIDVALIDITY.  PB_EAGAIN:
 * its keywords were reassigned meanwhile, nothing stored. */
int imap_mailbox_append_end(struct imap_mailbox *mb, uint32_t *uid, uint32_t *uidvalidity);
void imap_mailbox_append_abort(struct imap_mailbox *mb);

#endif
